//! The cmdlet-mode parser on arbitrary text: it must return a syntax tree or
//! an error with a position, never panic or hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(source) = std::str::from_utf8(data) {
        if let Err(err) = mailroom_exo::parse::parse_script(source) {
            assert!(err.line >= 1 && err.column >= 1);
        }
    }
});
