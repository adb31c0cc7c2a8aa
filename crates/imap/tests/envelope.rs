//! FETCH ENVELOPE through a raw client, byte for byte where RFC 3501
//! §7.4.2 is exact: address groups as start and end markers, and nothing
//! else inside them — a comment alone in a group is not an address.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use common::{Client, listen, world};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_in_an_envelope_are_markers_around_their_members() {
    let world = world().await;
    world
        .deliver(
            "info@contoso.com",
            "From: a@fabrikam.example\r\nTo: info@contoso.com\r\nCc: group:;, group2: (foo) ;, team: x@fabrikam.example;\r\nSubject: groups\r\n\r\nbody\r\n",
        )
        .await;
    let addr = listen(world.imap.clone()).await;
    let mut alice = Client::signed_in(addr, "alice@contoso.com", "Alice-pass-123").await;
    let reply = alice.cmd("f", "FETCH 1 (ENVELOPE)").await;
    let fetch = reply.iter().find(|l| l.starts_with("* 1 FETCH")).expect("the FETCH response");
    // cc: group (empty), group2 (only a comment: empty), team (one member).
    let cc = r#"((NIL NIL "group" NIL)(NIL NIL NIL NIL)(NIL NIL "group2" NIL)(NIL NIL NIL NIL)(NIL NIL "team" NIL)(NIL NIL "x" "fabrikam.example")(NIL NIL NIL NIL))"#;
    assert!(fetch.contains(cc), "{fetch}");
    assert!(!fetch.contains("\"foo\""), "the comment isn't an address: {fetch}");
    assert!(reply.last().unwrap().starts_with("f OK"), "{reply:?}");
}
