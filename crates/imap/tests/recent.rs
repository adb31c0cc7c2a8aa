//! IMAP4rev1's `\Recent` (RFC 3501 §2.3.2) through raw clients: a message
//! is recent in exactly one session — the first to open its folder
//! read-write after it arrived, or the one idling when it arrives — and
//! nowhere else; EXAMINE and STATUS look without taking; SEARCH RECENT,
//! NEW and OLD follow; an IMAP4rev2 session neither sees nor takes it.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use common::{Client, listen, world};
use tokio::io::AsyncWriteExt;

const INBOX: &str = "\"Shared/info@contoso.com/INBOX\"";

fn has(lines: &[String], wanted: &str) -> bool {
    lines.iter().any(|l| l == wanted)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_message_is_recent_in_one_session_only() {
    let world = world().await;
    world.deliver("info@contoso.com", "Subject: one\r\n\r\n1\r\n").await;
    world.deliver("info@contoso.com", "Subject: two\r\n\r\n2\r\n").await;
    let addr = listen(world.imap.clone()).await;
    let mut alice = Client::login(addr, "alice@contoso.com", "Alice-pass-123").await;
    let mut carol = Client::login(addr, "carol@contoso.com", "Carol-pass-123").await;
    let mut watcher = Client::login(addr, "alice@contoso.com", "Alice-pass-123").await;

    // STATUS and EXAMINE look without taking.
    let status = watcher.cmd("s1", &format!("STATUS {INBOX} (RECENT MESSAGES)")).await;
    assert!(has(&status, &format!("* STATUS {INBOX} (RECENT 2 MESSAGES 2)")), "{status:?}");
    let examined = watcher.cmd("e1", &format!("EXAMINE {INBOX}")).await;
    assert!(has(&examined, "* 2 RECENT"), "{examined:?}");
    let fetched = watcher.cmd("f1", "FETCH 1 FLAGS").await;
    assert!(has(&fetched, "* 1 FETCH (FLAGS (\\Recent))"), "{fetched:?}");
    watcher.cmd("c1", "CLOSE").await;

    // Alice's SELECT takes both; Carol's, after it, has none.
    let selected = alice.cmd("a1", &format!("SELECT {INBOX}")).await;
    assert!(has(&selected, "* 2 RECENT"), "{selected:?}");
    let selected = carol.cmd("b1", &format!("SELECT {INBOX}")).await;
    assert!(has(&selected, "* 0 RECENT"), "{selected:?}");
    let fetched = carol.cmd("b2", "FETCH 1:* FLAGS").await;
    assert!(fetched.iter().all(|l| !l.contains("Recent")), "{fetched:?}");
    let fetched = alice.cmd("a2", "FETCH 1:* FLAGS").await;
    assert!(has(&fetched, "* 2 FETCH (FLAGS (\\Recent))"), "{fetched:?}");
    let status = watcher.cmd("s2", &format!("STATUS {INBOX} (RECENT)")).await;
    assert!(has(&status, &format!("* STATUS {INBOX} (RECENT 0)")), "{status:?}");

    // A message arriving while Alice idles is hers: EXISTS then RECENT.
    alice.idle().await;
    world.deliver("info@contoso.com", "Subject: three\r\n\r\n3\r\n").await;
    assert_eq!(alice.line().await, "* 3 EXISTS");
    assert_eq!(alice.line().await, "* 3 RECENT");
    alice.write.write_all(b"DONE\r\n").await.unwrap();
    assert_eq!(alice.line().await, "i OK IDLE terminated");
    let noop = carol.cmd("b3", "NOOP").await;
    assert_eq!(noop, ["* 3 EXISTS", "* 0 RECENT", "b3 OK NOOP completed"]);

    // SEARCH: NEW is RECENT UNSEEN, OLD is NOT RECENT.
    alice.cmd("a3", "STORE 1 +FLAGS.SILENT (\\Seen)").await;
    assert!(has(&alice.cmd("a4", "SEARCH RECENT").await, "* SEARCH 1 2 3"));
    assert!(has(&alice.cmd("a5", "SEARCH NEW").await, "* SEARCH 2 3"));
    assert!(has(&alice.cmd("a6", "SEARCH OLD").await, "* SEARCH"));
    assert!(has(&carol.cmd("b4", "SEARCH OLD").await, "* SEARCH 1 2 3"));
    assert!(has(&carol.cmd("b5", "SEARCH RECENT").await, "* SEARCH"));
    // An expunged recent message leaves the count.
    alice.cmd("a7", "STORE 1 +FLAGS.SILENT (\\Deleted)").await;
    assert_eq!(alice.cmd("a8", "EXPUNGE").await, ["* 1 EXPUNGE", "a8 OK EXPUNGE completed"]);
    assert!(has(&alice.cmd("a9", "SEARCH RECENT").await, "* SEARCH 1 2"));

    // Recent lasts for the session: a new one finds nothing recent.
    alice.cmd("z", "LOGOUT").await;
    let mut again = Client::login(addr, "alice@contoso.com", "Alice-pass-123").await;
    assert!(has(&again.cmd("g1", &format!("SELECT {INBOX}")).await, "* 0 RECENT"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imap4rev2_sessions_neither_see_nor_take_recent() {
    let world = world().await;
    world.deliver("info@contoso.com", "Subject: one\r\n\r\n1\r\n").await;
    let addr = listen(world.imap.clone()).await;
    let mut rev2 = Client::login(addr, "alice@contoso.com", "Alice-pass-123").await;
    assert_eq!(rev2.cmd("e", "ENABLE IMAP4rev2").await, ["* ENABLED IMAP4rev2", "e OK ENABLE completed"]);
    let selected = rev2.cmd("s", &format!("SELECT {INBOX}")).await;
    assert!(selected.iter().all(|l| !l.contains("RECENT")), "{selected:?}");
    let fetched = rev2.cmd("f", "FETCH 1 FLAGS").await;
    assert_eq!(fetched, ["* 1 FETCH (FLAGS ())", "f OK FETCH completed"]);

    // The message is still recent for the next IMAP4rev1 session.
    let mut rev1 = Client::login(addr, "carol@contoso.com", "Carol-pass-123").await;
    assert!(has(&rev1.cmd("s", &format!("SELECT {INBOX}")).await, "* 1 RECENT"));
}
