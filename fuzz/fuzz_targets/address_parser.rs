//! Email address and domain validation on arbitrary text. An accepted address
//! must survive printing and parsing again unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailroom_types::{DomainName, EmailAddress};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(address) = EmailAddress::parse(text) {
            let again = EmailAddress::parse(&address.to_string()).expect("a printed address parses");
            assert_eq!(address, again);
        }
        let _ = DomainName::parse(text);
    }
});
