//! The server's change feed: a delivery over SMTP reaches subscribers (what
//! IMAP IDLE listens to), in the order it committed.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::sync::Arc;
use std::time::Duration;

use mailroom_core::Directory;
use mailroom_core::change::{Change, FeedRead};
use mailroom_core::directory::{Actor, NewMailbox, NewMailboxKind};
use mailroom_server::{Config, ListenOverrides};
use mailroom_store::{SQLITE_FILE, SqliteStore};
use mailroom_types::{DomainName, EmailAddress};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_smtp_delivery_reaches_the_feed() {
    let tmp = tempfile::tempdir().unwrap();
    let info = {
        let store = Arc::new(SqliteStore::open(&tmp.path().join(SQLITE_FILE)).unwrap());
        let dir = Directory::new(store);
        let domain = DomainName::parse("contoso.com").unwrap();
        dir.add_domain(&Actor::System, &domain, true).await.unwrap();
        let spec = NewMailbox {
            name: "Info".into(),
            display_name: None,
            alias: None,
            primary_address: Some(EmailAddress::from_parts("info", domain)),
            kind: NewMailboxKind::Shared,
        };
        dir.create_mailbox(&Actor::System, spec).await.unwrap().mailbox_id().unwrap()
    };
    let mut config = Config::default();
    config.apply(&ListenOverrides { smtp: Some("127.0.0.1:0".into()), ..Default::default() });
    let running = mailroom_server::start(tmp.path(), config).await.unwrap();
    let feed = running.changes().clone();
    let before = feed.head();
    let addr = running.listeners[0].1;

    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    write
        .write_all(b"EHLO t\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<info@contoso.com>\r\nDATA\r\nSubject: bus\r\n\r\nx\r\n.\r\nQUIT\r\n")
        .await
        .unwrap();
    let mut transcript = String::new();
    while read.read_line(&mut transcript).await.unwrap() > 0 {}
    assert!(transcript.contains("250 2.0.0 OK, stored as"), "{transcript}");

    tokio::time::timeout(Duration::from_secs(10), feed.wait_after(before)).await.unwrap();
    let FeedRead::Changes(records) = feed.read_after(before).await.unwrap() else { panic!("resync") };
    let added: Vec<&Change> =
        records.iter().map(|r| &r.change).filter(|c| matches!(c, Change::MessageAdded { .. })).collect();
    match added.as_slice() {
        [Change::MessageAdded { mailbox, uid, .. }] => {
            assert_eq!(*mailbox, info);
            assert_eq!(uid.0, 1, "the first message of the Inbox");
        }
        other => panic!("expected one MessageAdded, got {other:?}"),
    }
    running.shutdown(Duration::from_secs(5)).await;
}
