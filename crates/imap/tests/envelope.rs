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

/// A message that is itself a message/rfc822 (RFC 3501 §6.4.5): part 1 is
/// the whole encapsulated message, `1.HEADER` and `1.TEXT` its header and
/// text, `1.1` and `1.2` the parts inside it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_that_is_a_message_numbers_the_inner_one() {
    let world = world().await;
    let inner = "From: b@fabrikam.example\r\nSubject: inner\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nfirst\r\n--b\r\nContent-Type: text/plain\r\n\r\nsecond\r\n--b--\r\n";
    let outer =
        format!("From: a@fabrikam.example\r\nSubject: outer\r\nContent-Type: message/rfc822\r\n\r\n{inner}");
    world.deliver("info@contoso.com", &outer).await;
    let addr = listen(world.imap.clone()).await;
    let mut alice = Client::signed_in(addr, "alice@contoso.com", "Alice-pass-123").await;
    let fetch = |tag: &str, section: &str| format!("{tag} FETCH 1 (BODY.PEEK[{section}])\r\n");
    let body = |reply: &[u8]| String::from_utf8_lossy(reply).into_owned();

    let whole = body(&alice.raw("a", fetch("a", "1").as_bytes()).await);
    assert!(
        whole.contains(&format!("{{{}}}\r\n{inner}", inner.len())),
        "part 1 is the encapsulated message: {whole}"
    );
    let header = body(&alice.raw("b", fetch("b", "1.HEADER").as_bytes()).await);
    assert!(header.contains("Subject: inner") && !header.contains("Subject: outer"), "{header}");
    assert!(!header.contains("first"), "{header}");
    let first = body(&alice.raw("c", fetch("c", "1.1").as_bytes()).await);
    assert!(first.contains("{5}\r\nfirst)"), "{first}");
    let second = body(&alice.raw("d", fetch("d", "1.2").as_bytes()).await);
    assert!(second.contains("{6}\r\nsecond)"), "{second}");
    let text = body(&alice.raw("e", fetch("e", "1.TEXT").as_bytes()).await);
    assert!(
        text.contains("--b\r\nContent-Type: text/plain\r\n\r\nfirst") && !text.contains("Subject: inner"),
        "{text}"
    );
}
