//! Assignment keywords over IMAP (SPEC §5): the server keeps `$Assigned`,
//! `$AssignedTo_<alias>` and `$Handled` consistent, and tells a client
//! what it made of a STORE that touched them — even a `.SILENT` one, since
//! the result may hold more than the client asked for.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use common::{Client, listen, world};

const INBOX: &str = "\"Shared/info@contoso.com/INBOX\"";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn naming_an_assignee_assigns_and_replaces_the_last_one() {
    let world = world().await;
    world.deliver("info@contoso.com", "Subject: order\r\n\r\nwhere is it?\r\n").await;
    let addr = listen(world.imap.clone()).await;
    let mut alice = Client::login(addr, "alice@contoso.com", "Alice-pass-123").await;
    alice.cmd("s", &format!("SELECT {INBOX}")).await;

    // Silent, yet told: the server added $Assigned.
    let named = alice.cmd("a", "STORE 1 +FLAGS.SILENT ($AssignedTo_bob)").await;
    assert!(
        named.contains(&"* 1 FETCH (FLAGS (\\Recent $Assigned $AssignedTo_bob))".to_string()),
        "{named:?}"
    );
    assert!(
        named[0].starts_with("* FLAGS (") && named[0].ends_with(" $Assigned $AssignedTo_bob)"),
        "{named:?}"
    );
    assert_eq!(named.last().unwrap(), "a OK STORE completed");
    // A new name replaces the old one.
    let renamed = alice.cmd("b", "STORE 1 +FLAGS ($AssignedTo_alice)").await;
    assert!(
        renamed.iter().any(|l| l.ends_with("FETCH (FLAGS (\\Recent $Assigned $AssignedTo_alice))")),
        "{renamed:?}"
    );
    let found = alice.cmd("k", "SEARCH KEYWORD $AssignedTo_alice").await;
    assert_eq!(found[0], "* SEARCH 1");
    // Unassigning takes the name off too.
    let off = alice.cmd("c", "STORE 1 -FLAGS ($Assigned)").await;
    assert!(off.iter().any(|l| l.ends_with("FETCH (FLAGS (\\Recent))")), "{off:?}");
    // Other keywords stay as silent as ever.
    let handled = alice.cmd("h", "STORE 1 +FLAGS.SILENT ($Handled)").await;
    assert!(!handled.iter().any(|l| l.contains("FETCH")), "{handled:?}");
    let flags = alice.cmd("f", "FETCH 1 (FLAGS)").await;
    assert!(flags.contains(&"* 1 FETCH (FLAGS (\\Recent $Handled))".to_string()), "{flags:?}");
}
