//! A whole IMAP session aimed at the extensions: signed in, the shared
//! INBOX selected (a small conversation in it: replies by References and
//! In-Reply-To, a missing parent, a loop, encoded bodies), then each line of
//! the fuzzer's input becomes a command whose keyword its first byte picks —
//! SORT, THREAD, LIST-EXTENDED, LSUB, SUBSCRIBE, SEARCH (BODY, TEXT, WITHIN,
//! RECENT, SAVED*, EMAILID), STATUS (MAILBOXID), FETCH PREVIEW/EMAILID/
//! SAVEDATE, ESORT, PARTIAL, MULTIAPPEND, CATENATE, live searches (UPDATE,
//! CANCELUPDATE, with flag changes to report), NOTIFY (with folder changes
//! for it to report), UNAUTHENTICATE,
//! COMPRESS (after which the rest of the
//! input is read as a deflate stream) — and the rest of the line is the
//! fuzzer's. The server never panics or hangs, and every byte of the memory
//! budget comes back.
#![no_main]

mod common;
mod imap_world;

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

const BUDGET: usize = 4 * 1024 * 1024;

const CONVERSATION: [&str; 6] = [
    "From: Zed <zed@x.example>\r\nSubject: Lunch\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <1@x>\r\n\r\nZ=C3=BCrich\r\n",
    "From: a@x.example\r\nSubject: Re: Lunch\r\nDate: Mon, 23 Nov 2026 11:00:00 +0000\r\nMessage-ID: <2@x>\r\nReferences: <1@x>\r\n\r\n2\r\n",
    "From: b@x.example\r\nSubject: [l] Re: Budget\r\nMessage-ID: <3@x>\r\nReferences: <gone@x>\r\n\r\n3\r\n",
    "Subject: Loop\r\nMessage-ID: <4@x>\r\nReferences: <5@x>\r\n\r\n4\r\n",
    "Subject: Re: Loop\r\nMessage-ID: <5@x>\r\nIn-Reply-To: <4@x>\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: base64\r\n\r\nWvxyaWNo\r\n",
    "Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\nMessage-ID: <1@x>\r\n\r\nduplicate id\r\n",
];

fn world() -> &'static imap_world::World {
    static WORLD: OnceLock<imap_world::World> = OnceLock::new();
    WORLD.get_or_init(|| imap_world::World::new("imap-extensions", &CONVERSATION))
}

const PREFIX: &str = "a LOGIN alice@contoso.com Alice-pass-123\r\nb SELECT \"Shared/info@contoso.com/INBOX\"\r\n";

/// The keywords a line may start with, by its first byte.
const KEYWORDS: [&str; 42] = [
    "SORT (",
    "UID SORT (",
    "THREAD REFERENCES UTF-8 ",
    "THREAD ORDEREDSUBJECT ",
    "THREAD ",
    "LIST (",
    "LIST \"\" ",
    "LSUB \"\" ",
    "SUBSCRIBE ",
    "UNSUBSCRIBE ",
    "SEARCH CHARSET UTF-8 BODY ",
    "SEARCH TEXT ",
    "SEARCH ",
    "STATUS ",
    "FETCH 1:* ",
    "FETCH 1:* (FLAGS PREVIEW",
    "STORE 1:* +FLAGS ",
    "UNAUTHENTICATE",
    "COMPRESS DEFLATE",
    "ENABLE ",
    "NOTIFY SET ",
    "NOTIFY SET STATUS (selected (MessageNew (",
    "NOTIFY SET (subtree Shared (MessageNew MessageExpunge FlagChange MailboxName",
    "NOTIFY NONE",
    "CREATE ",
    "RENAME INBOX ",
    "SEARCH SAVEDSINCE ",
    "UID SEARCH OR EMAILID ",
    "STATUS INBOX (MAILBOXID ",
    "FETCH 1:* (EMAILID THREADID SAVEDATE ",
    "SORT RETURN (",
    "UID SEARCH RETURN (PARTIAL ",
    "UID FETCH 1:* (FLAGS) (PARTIAL ",
    "APPEND INBOX {1+}\r\nx ",
    "APPEND INBOX CATENATE (URL \";UID=1",
    "APPEND INBOX CATENATE (URL \"/Shared/info@contoso.com/INBOX/;UID=",
    "APPEND INBOX CATENATE (TEXT {1+}\r\nx ",
    "SEARCH RETURN (UPDATE ",
    "UID SORT RETURN (UPDATE) (",
    "CANCELUPDATE ",
    "STORE 1:* -FLAGS.SILENT (\\Seen ",
    "",
];

/// Read the subscriptions back (the LSUB path with what the run left), then log out.
const SUFFIX: &[u8] = b"\r\nz1 LSUB \"\" *\r\nz2 LOGOUT\r\n";

fuzz_target!(|data: &[u8]| {
    let mut input = PREFIX.as_bytes().to_vec();
    for (n, line) in data.split(|&b| b == b'\n').enumerate() {
        let Some((&selector, rest)) = line.split_first() else { continue };
        input.extend_from_slice(format!("t{n} {}", KEYWORDS[selector as usize % KEYWORDS.len()]).as_bytes());
        input.extend_from_slice(rest);
        input.extend_from_slice(b"\r\n");
    }
    input.extend_from_slice(SUFFIX);
    world().session(&input, BUDGET);
});
