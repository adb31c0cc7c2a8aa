//! Recoverable Items over IMAP (SPEC §5): an EXPUNGE keeps the message
//! there; the folder is read-only; its RFC 4314 rights (MYRIGHTS, GETACL,
//! PERMANENTFLAGS, READ-ONLY) follow each grant's NoPurge switch — and a
//! grant made NoPurge stops a session already in the folder from purging,
//! at its next command; a NoPurge member can't move mail out of reach of
//! the mailbox's Recoverable Items; and a full Recoverable Items refuses
//! deletes.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use common::{Client, listen, world};
use mailroom_core::directory::Actor;
use mailroom_core::permissions::Right;

const BIN: &str = "\"Shared/info@contoso.com/Recoverable Items\"";
const INBOX: &str = "\"Shared/info@contoso.com/INBOX\"";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grant_made_no_purge_stops_purging_at_once() {
    let world = world().await;
    world.deliver("info@contoso.com", "Subject: one\r\n\r\nfirst\r\n").await;
    world.deliver("info@contoso.com", "Subject: two\r\n\r\nsecond\r\n").await;
    let addr = listen(world.imap.clone()).await;
    let mut alice = Client::login(addr, "alice@contoso.com", "Alice-pass-123").await;

    alice.cmd("s", &format!("SELECT {INBOX}")).await;
    alice.cmd("d", "STORE 1:2 +FLAGS.SILENT (\\Deleted)").await;
    assert_eq!(alice.cmd("e", "EXPUNGE").await, ["* 2 EXPUNGE", "* 1 EXPUNGE", "e OK EXPUNGE completed"]);
    assert_eq!(
        alice.cmd("r", &format!("MYRIGHTS {BIN}")).await,
        [format!("* MYRIGHTS {BIN} lrtea"), "r OK MYRIGHTS completed".into()]
    );
    let selected = alice.cmd("b", &format!("SELECT {BIN}")).await;
    assert!(selected.contains(&"* 2 EXISTS".to_string()), "{selected:?}");
    assert!(
        selected.contains(&"* OK [PERMANENTFLAGS (\\Deleted)] Flags permitted".to_string()),
        "{selected:?}"
    );
    assert!(selected.last().unwrap().starts_with("b OK [READ-WRITE]"), "{selected:?}");
    // Read-only: no other flag, nothing added.
    let refused = alice.cmd("f", "STORE 1 +FLAGS (\\Flagged)").await;
    assert!(refused.last().unwrap().starts_with("f NO [CANNOT]"), "{refused:?}");
    let refused = alice.cmd("c", &format!("COPY 1 {BIN}")).await;
    assert!(refused.last().unwrap().starts_with("c NO [CANNOT]"), "{refused:?}");

    // The administrator makes Alice's grant NoPurge while she is there.
    let directory = world.mail.directory();
    let info = directory.resolve("info@contoso.com").await.unwrap();
    let alice_id = directory.resolve("alice@contoso.com").await.unwrap().id;
    assert!(
        directory
            .grant_with_purge(&Actor::System, info.id, alice_id, Right::FullAccess, true, true)
            .await
            .unwrap()
    );
    // Her next command hears that the folder is now read-only for her
    // (RFC 4314 §5.2), and is refused.
    let refused = alice.cmd("p", "STORE 1 +FLAGS (\\Deleted)").await;
    assert_eq!(
        refused,
        [
            "* OK [PERMANENTFLAGS ()] Flags permitted",
            "* OK [READ-ONLY] Your rights here changed",
            "p NO [READ-ONLY] Your rights here allow no changes (a NoPurge grant can't purge Recoverable Items)"
        ]
    );
    let refused = alice.cmd("x", "EXPUNGE").await;
    assert!(refused.last().unwrap().starts_with("x NO [READ-ONLY]"), "{refused:?}");
    assert_eq!(
        alice.cmd("r2", &format!("MYRIGHTS {BIN}")).await,
        [format!("* MYRIGHTS {BIN} lra"), "r2 OK MYRIGHTS completed".into()]
    );
    let acl = alice.cmd("g", &format!("GETACL {BIN}")).await;
    assert_eq!(acl[0], format!("* ACL {BIN} \"alice@contoso.com\" lra \"Helpers\" lrtea"), "{acl:?}");
    // Elsewhere she keeps every right: her deletes still land here.
    assert_eq!(
        alice.cmd("r3", &format!("MYRIGHTS {INBOX}")).await,
        [format!("* MYRIGHTS {INBOX} lrswipkxtea"), "r3 OK MYRIGHTS completed".into()]
    );

    // Out of the mailbox is out of reach of its Recoverable Items: not a
    // restore she may make.
    let refused = alice.cmd("o", "UID MOVE 2 INBOX").await;
    assert!(refused.last().unwrap().starts_with("o NO [NOPERM]"), "{refused:?}");
    // Restoring needs no more than reading.
    let moved = alice.cmd("m", &format!("UID MOVE 1 {INBOX}")).await;
    assert_eq!(moved.last().unwrap(), "m OK UID MOVE completed", "{moved:?}");
    let status = alice.cmd("st", &format!("STATUS {INBOX} (MESSAGES)")).await;
    assert_eq!(status[0], format!("* STATUS {INBOX} (MESSAGES 1)"));
    // Her move to her own mailbox leaves the original recoverable here.
    alice.cmd("s2", &format!("SELECT {INBOX}")).await;
    let moved = alice.cmd("m2", "MOVE 1 INBOX").await;
    assert_eq!(moved.last().unwrap(), "m2 OK MOVE completed", "{moved:?}");
    assert!(moved.contains(&"* 1 EXPUNGE".to_string()), "{moved:?}");
    let status = alice.cmd("st3", "STATUS INBOX (MESSAGES)").await;
    assert_eq!(status[0], "* STATUS \"INBOX\" (MESSAGES 1)");
    let status = alice.cmd("st4", &format!("STATUS {BIN} (MESSAGES)")).await;
    assert_eq!(status[0], format!("* STATUS {BIN} (MESSAGES 2)"));
    let examined = alice.cmd("b2", &format!("SELECT {BIN}")).await;
    assert!(examined.last().unwrap().starts_with("b2 OK [READ-ONLY]"), "RFC 4314 §5.2: {examined:?}");

    // Lifted: purging works again, in the same session.
    assert!(
        directory
            .grant_with_purge(&Actor::System, info.id, alice_id, Right::FullAccess, true, false)
            .await
            .unwrap()
    );
    // Told at her next command, without selecting again.
    let told = alice.cmd("n", "NOOP").await;
    assert!(told.contains(&"* OK [READ-WRITE] Your rights here changed".to_string()), "{told:?}");
    assert!(told.contains(&"* OK [PERMANENTFLAGS (\\Deleted)] Flags permitted".to_string()), "{told:?}");
    let flagged = alice.cmd("p2", "STORE 1:* +FLAGS.SILENT (\\Deleted)").await;
    assert_eq!(flagged.last().unwrap(), "p2 OK STORE completed", "{flagged:?}");
    assert_eq!(alice.cmd("x2", "EXPUNGE").await, ["* 2 EXPUNGE", "* 1 EXPUNGE", "x2 OK EXPUNGE completed"]);
    let status = alice.cmd("st2", &format!("STATUS {BIN} (MESSAGES)")).await;
    assert_eq!(status[0], format!("* STATUS {BIN} (MESSAGES 0)"));
}

/// Recoverable Items has a quota of its own (RecoverableItemsQuota): a
/// delete that would take it past that is refused whole, `NO [OVERQUOTA]`,
/// and nothing moves; once there is room, the same delete goes through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_recoverable_items_refuses_deletes() {
    use mailroom_core::directory::{Quota, SettingsChange};
    let world = world().await;
    world.deliver("info@contoso.com", "Subject: one\r\n\r\nfirst\r\n").await;
    world.deliver("info@contoso.com", "Subject: two\r\n\r\nsecond\r\n").await;
    let addr = listen(world.imap.clone()).await;
    let mut alice = Client::login(addr, "alice@contoso.com", "Alice-pass-123").await;
    let directory = world.mail.directory();
    let info = world.mailbox("info@contoso.com").await;
    let quota =
        |bytes| SettingsChange { recoverable_items_quota: Some(Quota::Bytes(bytes)), ..Default::default() };
    // Room for one of the two messages (23 and 24 bytes).
    directory.update_mailbox_settings(&Actor::System, info, quota(40)).await.unwrap();

    alice.cmd("s", &format!("SELECT {INBOX}")).await;
    alice.cmd("d", "STORE 1:2 +FLAGS.SILENT (\\Deleted)").await;
    let refused = alice.cmd("e", "EXPUNGE").await;
    assert!(
        refused.last().unwrap().starts_with("e NO [OVERQUOTA] Recoverable Items of the mailbox"),
        "{refused:?}"
    );
    assert!(!refused.iter().any(|l| l.ends_with("EXPUNGE")), "nothing went: {refused:?}");
    assert_eq!(alice.cmd("u", "UID EXPUNGE 1").await.last().unwrap(), "u OK UID EXPUNGE completed");
    let status = alice.cmd("st", &format!("STATUS {BIN} (MESSAGES)")).await;
    assert_eq!(status[0], format!("* STATUS {BIN} (MESSAGES 1)"));
    // Full now: the second refused, until the quota is raised — by EXPUNGE,
    // by CLOSE (which closes all the same, and says why nothing went) and by
    // deleting a folder that holds it (which stays, selected).
    let refused = alice.cmd("e2", "EXPUNGE").await;
    assert!(refused.last().unwrap().starts_with("e2 NO [OVERQUOTA]"), "{refused:?}");
    let closed = alice.cmd("c", "CLOSE").await;
    assert!(closed[0].starts_with("* NO [OVERQUOTA] Recoverable Items"), "{closed:?}");
    assert_eq!(closed.last().unwrap(), "c OK CLOSE completed");
    alice.cmd("k", "CREATE \"Shared/info@contoso.com/Old\"").await;
    alice.cmd("s2", &format!("SELECT {INBOX}")).await;
    let moved = alice.cmd("m", "MOVE 1 \"Shared/info@contoso.com/Old\"").await;
    assert_eq!(moved.last().unwrap(), "m OK MOVE completed", "{moved:?}");
    alice.cmd("s3", "SELECT \"Shared/info@contoso.com/Old\"").await;
    let refused = alice.cmd("x", "DELETE \"Shared/info@contoso.com/Old\"").await;
    assert!(refused.last().unwrap().starts_with("x NO [OVERQUOTA]"), "{refused:?}");
    let still = alice.cmd("f", "FETCH 1 (FLAGS)").await;
    assert!(still.last().unwrap().starts_with("f OK"), "still selected: {still:?}");
    alice.cmd("s4", &format!("SELECT {INBOX}")).await;
    directory.update_mailbox_settings(&Actor::System, info, quota(1 << 20)).await.unwrap();
    alice.cmd("d2", "STORE 1:* +FLAGS.SILENT (\\Deleted)").await;
    let freed = alice.cmd("e3", "EXPUNGE").await;
    assert_eq!(freed.last().unwrap(), "e3 OK EXPUNGE completed", "{freed:?}");
    assert_eq!(alice.cmd("x2", "DELETE \"Shared/info@contoso.com/Old\"").await, ["x2 OK DELETE completed"]);
    let status = alice.cmd("st2", &format!("STATUS {BIN} (MESSAGES)")).await;
    assert_eq!(status[0], format!("* STATUS {BIN} (MESSAGES 2)"));
}
