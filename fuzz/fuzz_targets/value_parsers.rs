//! Size (`49GB`, `Unlimited`, ...) and date parsing on arbitrary text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailroom_exo::value::{parse_datetime, parse_size};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = parse_size(text);
        let _ = parse_datetime(text);
    }
});
