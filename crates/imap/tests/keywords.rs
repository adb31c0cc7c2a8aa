//! New keywords are announced before they are used (RFC 3501 §7.2.6): a
//! client tracking the folder's FLAGS never meets a keyword it wasn't told
//! of — whether this session set it, or another session did meanwhile.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use common::{Client, listen, world};

/// The index of the first line starting with `prefix`.
fn at(lines: &[String], prefix: &str) -> usize {
    lines.iter().position(|l| l.starts_with(prefix)).unwrap_or_else(|| panic!("no {prefix:?} in {lines:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keyword_comes_after_the_flags_that_name_it() {
    let world = world().await;
    world.deliver("info@contoso.com", "Subject: one\r\n\r\n1\r\n").await;
    let addr = listen(world.imap.clone()).await;
    let mut alice = Client::signed_in(addr, "alice@contoso.com", "Alice-pass-123").await;
    let mut carol = Client::signed_in(addr, "carol@contoso.com", "Carol-pass-123").await;

    // Alice's own STORE: FLAGS and PERMANENTFLAGS with the keyword, then the FETCH.
    let reply = alice.cmd("a", "STORE 1 +FLAGS ($Important)").await;
    let flags = at(&reply, "* FLAGS (");
    assert!(reply[flags].contains("$Important"), "{reply:?}");
    let permanent = at(&reply, "* OK [PERMANENTFLAGS (");
    assert!(reply[permanent].contains("$Important") && reply[permanent].contains("\\*"), "{reply:?}");
    assert!(flags < at(&reply, "* 1 FETCH"), "{reply:?}");

    // Set by Carol meanwhile: Alice hears of it at her next NOOP, FLAGS first.
    let reply = carol.cmd("b", "STORE 1 +FLAGS ($Handled)").await;
    assert!(reply.last().unwrap().starts_with("b OK"), "{reply:?}");
    let reply = alice.cmd("n", "NOOP").await;
    let flags = at(&reply, "* FLAGS (");
    assert!(reply[flags].contains("$Handled") && reply[flags].contains("$Important"), "{reply:?}");
    assert!(flags < at(&reply, "* 1 FETCH"), "{reply:?}");

    // Known keywords aren't announced again.
    let reply = alice.cmd("f", "FETCH 1 (FLAGS)").await;
    assert!(!reply.iter().any(|l| l.starts_with("* FLAGS")), "{reply:?}");
    assert!(reply.iter().any(|l| l.contains("$Handled")), "{reply:?}");
}
