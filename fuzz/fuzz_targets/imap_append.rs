//! A whole IMAP session on arbitrary client bytes, aimed at APPEND: a
//! prefix chosen by the first byte signs in and opens an APPEND (plain
//! literal, LITERAL+, literal8, with flags and a date, into the shared
//! mailbox) whose length and content are the fuzzer's; a fixed suffix then
//! reads back and expunges what was appended. Against a real store (on
//! /dev/shm when it exists) and a small memory budget, so refusals of
//! literals it can't hold are reached too. The server never panics or
//! hangs, and once the session ends every byte of the budget is returned.
#![no_main]

mod common;
mod imap_world;

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

/// Small enough that a literal of a few hundred KiB is refused.
const BUDGET: usize = 2 * 1024 * 1024;

fn world() -> &'static imap_world::World {
    static WORLD: OnceLock<imap_world::World> = OnceLock::new();
    WORLD.get_or_init(|| imap_world::World::new("imap", &[]))
}

const LOGIN: &str = "a LOGIN alice@contoso.com Alice-pass-123\r\n";

/// Where the fuzzed bytes start: before sign-in, signed in, or inside an
/// APPEND's literal announcement (the length comes next).
fn prefix(selector: u8) -> String {
    match selector % 6 {
        0 => String::new(),
        1 => LOGIN.to_string(),
        2 => format!("{LOGIN}b APPEND INBOX {{"),
        3 => format!("{LOGIN}b APPEND \"Shared/info@contoso.com/INBOX\" (\\Seen $Handled) \"05-Dec-2026 10:00:00 +0100\" {{"),
        4 => format!("{LOGIN}b APPEND INBOX ~{{"),
        _ => format!("{LOGIN}b APPEND INBOX (\\Draft) {{"),
    }
}

/// Read back what was appended, then expunge it, so the store stays small.
const SUFFIX: &[u8] = b"\r\nz1 SELECT INBOX\r\nz2 FETCH 1:* (FLAGS BODYSTRUCTURE ENVELOPE BODY.PEEK[] BINARY.PEEK[1])\r\n\
z3 STORE 1:* +FLAGS.SILENT (\\Deleted)\r\nz4 EXPUNGE\r\nz5 SELECT \"Shared/info@contoso.com/INBOX\"\r\n\
z6 STORE 1:* +FLAGS.SILENT (\\Deleted)\r\nz7 EXPUNGE\r\nz8 LOGOUT\r\n";

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let mut input = prefix(selector).into_bytes();
    input.extend_from_slice(rest);
    input.extend_from_slice(SUFFIX);
    world().session(&input, BUDGET);
});
