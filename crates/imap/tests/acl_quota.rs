//! ACL (RFC 4314) and QUOTA (RFC 9208) report the real rights and usage:
//! Full Access is every right, directly or through a group; a non-member
//! finds nothing; changing rights is the administrator's.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use common::{Client, listen, world};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rights_and_quota_as_member_group_member_and_non_member() {
    let world = world().await;
    world.deliver("info@contoso.com", "Subject: one\r\n\r\n0123456789\r\n").await;
    let addr = listen(world.imap.clone()).await;
    let shared = "\"Shared/info@contoso.com/INBOX\"";

    let mut alice = Client::login(addr, "alice@contoso.com", "Alice-pass-123").await;
    assert_eq!(
        alice.cmd("a1", &format!("MYRIGHTS {shared}")).await,
        [format!("* MYRIGHTS {shared} lrswipkxtea"), "a1 OK MYRIGHTS completed".into()]
    );
    assert_eq!(
        alice.cmd("a2", &format!("GETACL {shared}")).await,
        [
            format!("* ACL {shared} \"alice@contoso.com\" lrswipkxtea \"Helpers\" lrswipkxtea"),
            "a2 OK GETACL completed".into()
        ]
    );
    assert_eq!(
        alice.cmd("a3", "GETACL INBOX").await,
        ["* ACL \"INBOX\" \"alice@contoso.com\" lrswipkxtea", "a3 OK GETACL completed"]
    );
    assert_eq!(
        alice.cmd("a4", &format!("LISTRIGHTS {shared} dave@contoso.com")).await,
        [
            format!("* LISTRIGHTS {shared} \"dave@contoso.com\" \"\" lrswipkxtea"),
            "a4 OK LISTRIGHTS completed".into()
        ]
    );
    assert_eq!(
        alice.cmd("a5", &format!("SETACL {shared} dave@contoso.com +lr")).await,
        ["a5 NO [NOPERM] Permissions are managed by the administrator (Full Access in the admin tools)"]
    );
    assert_eq!(alice.cmd("a6", "GETACL").await, ["a6 BAD Missing arguments"]);
    let quota = alice.cmd("a7", &format!("GETQUOTAROOT {shared}")).await;
    // 50 GB is the shared-mailbox default for ProhibitSendReceive (SPEC §3).
    assert_eq!(
        quota,
        [
            format!("* QUOTAROOT {shared} \"info@contoso.com\""),
            format!("* QUOTA \"info@contoso.com\" (STORAGE 1 {})", 50u64 * 1024 * 1024),
            "a7 OK GETQUOTAROOT completed".into()
        ]
    );
    let own = alice.cmd("a8", "GETQUOTA alice@contoso.com").await;
    assert!(own[0].starts_with("* QUOTA \"alice@contoso.com\" (STORAGE 0 "), "{own:?}");
    assert_eq!(
        alice.cmd("a9", "SETQUOTA info@contoso.com (STORAGE 1)").await,
        ["a9 NO [NOPERM] Quotas are set by the administrator"]
    );

    // Through the group: the same rights.
    let mut carol = Client::login(addr, "carol@contoso.com", "Carol-pass-123").await;
    assert_eq!(
        carol.cmd("c1", &format!("MYRIGHTS {shared}")).await[0],
        format!("* MYRIGHTS {shared} lrswipkxtea")
    );

    // No access: the mailbox doesn't exist for Dave, for ACL and QUOTA alike.
    let mut dave = Client::login(addr, "dave@contoso.com", "Dave-pass-123").await;
    for (tag, command) in [("d1", "MYRIGHTS"), ("d2", "GETACL"), ("d3", "GETQUOTAROOT")] {
        assert_eq!(
            dave.cmd(tag, &format!("{command} {shared}")).await,
            [format!("{tag} NO [NONEXISTENT] No such mailbox: Shared/info@contoso.com/INBOX")]
        );
    }
    assert_eq!(
        dave.cmd("d4", "GETQUOTA info@contoso.com").await,
        ["d4 NO [NONEXISTENT] No such quota root: info@contoso.com"]
    );
}
