//! A password that passed the full argon2id check is remembered for a few
//! minutes (core's `verified` module), and that memory never outlives what
//! it vouches for: a new password or a blocked sign-in applies to the very
//! next LOGIN. Through a raw client.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use common::{Client, listen, world};
use mailroom_core::directory::Actor;
use mailroom_types::Secret;
use tokio::io::AsyncWriteExt;

/// The tagged answer to a LOGIN on a new connection.
async fn login(addr: std::net::SocketAddr, password: &str) -> String {
    let (read, write) = tokio::net::TcpStream::connect(addr).await.unwrap().into_split();
    let mut c = Client { read: tokio::io::BufReader::new(read), write };
    c.line().await;
    let answer = c.cmd("l", &format!("LOGIN alice@contoso.com {password}")).await;
    c.write.write_all(b"z LOGOUT\r\n").await.unwrap();
    answer.last().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remembered_password_ends_with_a_new_password_or_a_block() {
    let world = world().await;
    let addr = listen(world.imap.clone()).await;
    let ok = "l OK [CAPABILITY";
    let refused = "l NO [AUTHENTICATIONFAILED]";
    assert!(login(addr, "Alice-pass-123").await.starts_with(ok));
    assert!(login(addr, "Alice-pass-123").await.starts_with(ok), "remembered, and still right");
    assert!(login(addr, "Alice-pass-124").await.starts_with(refused), "a wrong one is checked in full");

    // Changed by another process (a second Directory on the same store, as
    // the admin CLI is): the server's memory isn't told, and still the old
    // password is over — what it remembered covers the old stored hash only.
    let elsewhere = mailroom_core::Directory::new(world.store.clone());
    let alice = elsewhere.resolve("alice@contoso.com").await.unwrap().id;
    elsewhere.set_password(&Actor::System, alice, &Secret::new("Alice-new-456".to_string())).await.unwrap();
    assert!(login(addr, "Alice-pass-123").await.starts_with(refused), "the old password is over");
    assert!(login(addr, "Alice-new-456").await.starts_with(ok));

    let directory = world.mail.directory();
    directory.set_sign_in_blocked(&Actor::System, alice, true).await.unwrap();
    assert!(login(addr, "Alice-new-456").await.starts_with(refused), "blocked, remembered or not");
    directory.set_sign_in_blocked(&Actor::System, alice, false).await.unwrap();
    assert!(login(addr, "Alice-new-456").await.starts_with(ok));
}
