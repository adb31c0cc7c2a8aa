//! IDLE on a shared folder (SPEC §4): one delivery reaches every member's
//! session at once, and so does a flag change made by another member. The
//! delay is measured and printed (a figure, not a timed assertion).

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use std::time::Instant;

use common::{Client, listen, world};
use tokio::io::AsyncWriteExt;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_delivery_reaches_every_idling_member() {
    let world = world().await;
    let addr = listen(world.imap.clone()).await;
    let mut alice = Client::signed_in(addr, "alice@contoso.com", "Alice-pass-123").await;
    let mut carol = Client::signed_in(addr, "carol@contoso.com", "Carol-pass-123").await;
    alice.idle().await;
    carol.idle().await;

    let sent = Instant::now();
    world.deliver("info@contoso.com", "Subject: urgent\r\n\r\nplease call\r\n").await;
    assert_eq!(alice.line().await, "* 1 EXISTS");
    let to_alice = sent.elapsed();
    assert_eq!(carol.line().await, "* 1 EXISTS");
    let to_carol = sent.elapsed();
    eprintln!(
        "IDLE notification, from the start of the delivery (durable commit included): alice {to_alice:?}, carol {to_carol:?}"
    );

    // The first session to hear of it has it as \Recent (RFC 3501 §2.3.2).
    let recent = [alice.line().await, carol.line().await];
    assert!(
        recent.contains(&"* 1 RECENT".to_string()) && recent.contains(&"* 0 RECENT".to_string()),
        "{recent:?}"
    );
    let (alice_recent, carol_recent) =
        if recent[0] == "* 1 RECENT" { ("\\Recent ", "") } else { ("", "\\Recent ") };

    // Alice ends IDLE and marks it read; Carol, still idling, sees the flag.
    alice.write.write_all(b"DONE\r\n").await.unwrap();
    assert_eq!(alice.line().await, "i OK IDLE terminated");
    let stored = alice.cmd("f", "STORE 1 +FLAGS (\\Seen)").await;
    assert_eq!(stored, [format!("* 1 FETCH (FLAGS ({alice_recent}\\Seen))"), "f OK STORE completed".into()]);
    assert_eq!(carol.line().await, format!("* 1 FETCH (FLAGS ({carol_recent}\\Seen))"));
    // And an expunge by Alice.
    alice.cmd("d", "STORE 1 +FLAGS.SILENT (\\Deleted)").await;
    assert_eq!(carol.line().await, format!("* 1 FETCH (FLAGS ({carol_recent}\\Seen \\Deleted))"));
    alice.cmd("e", "EXPUNGE").await;
    assert_eq!(carol.line().await, "* 1 EXPUNGE");
    carol.write.write_all(b"DONE\r\n").await.unwrap();
    assert_eq!(carol.line().await, "i OK IDLE terminated");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_removed_while_idling_is_told_at_once() {
    let world = world().await;
    let addr = listen(world.imap.clone()).await;
    let mut alice = Client::signed_in(addr, "alice@contoso.com", "Alice-pass-123").await;
    alice.idle().await;
    let info = world.mailbox("info@contoso.com").await;
    let id = world.mail.directory().resolve("alice@contoso.com").await.unwrap().id;
    world.mail.directory().remove_member(&mailroom_core::directory::Actor::System, info, id).await.unwrap();
    assert_eq!(alice.line().await, "* BYE Access to Shared/info@contoso.com/INBOX was removed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_removed_by_another_process_is_told_at_once() {
    let world = world().await;
    let addr = listen(world.imap.clone()).await;
    let mut alice = Client::signed_in(addr, "alice@contoso.com", "Alice-pass-123").await;
    alice.idle().await;
    // The admin CLI changes the store from its own process: its own
    // connections and writer, nothing shared with this server but the store.
    let elsewhere = mailroom_store::Backend::open(&world.location).unwrap().store();
    let elsewhere = mailroom_core::Directory::new(elsewhere);
    let info = world.mailbox("info@contoso.com").await;
    let id = elsewhere.resolve("alice@contoso.com").await.unwrap().id;
    elsewhere.remove_member(&mailroom_core::directory::Actor::System, info, id).await.unwrap();
    // No delivery, no command: the change log reaches the idling session.
    assert_eq!(alice.line().await, "* BYE Access to Shared/info@contoso.com/INBOX was removed");
}

/// Polling costs nothing while nothing changes: a NOOP reads the store only
/// after the change feed said the selected folder changed, and then reports
/// what another member did.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_noop_reads_the_store_only_after_a_change() {
    let world = world().await;
    world.deliver("info@contoso.com", "Subject: one\r\n\r\nx\r\n").await;
    let addr = listen(world.imap.clone()).await;
    let mut alice = Client::signed_in(addr, "alice@contoso.com", "Alice-pass-123").await;
    let mut carol = Client::signed_in(addr, "carol@contoso.com", "Carol-pass-123").await;
    // The first report after SELECT reads; from then on the feed decides.
    alice.cmd("a", "NOOP").await;
    let before = world.backend.calls();
    for _ in 0..5 {
        assert_eq!(alice.cmd("n", "NOOP").await, ["n OK NOOP completed"]);
    }
    assert_eq!(world.backend.calls(), before, "NOOPs with nothing new read nothing");

    carol.cmd("s", "STORE 1 +FLAGS.SILENT (\\Flagged)").await;
    let after_store = world.backend.calls();
    let answer = alice.cmd("n", "NOOP").await;
    assert_eq!(answer.len(), 2, "{answer:?}");
    assert!(answer[0].starts_with("* 1 FETCH (FLAGS (") && answer[0].contains("\\Flagged"), "{answer:?}");
    assert_eq!(answer[1], "n OK NOOP completed");
    assert!(world.backend.calls() > after_store, "the change was read from the store");
    // Reported once: quiet again.
    assert_eq!(alice.cmd("n", "NOOP").await, ["n OK NOOP completed"]);
}
