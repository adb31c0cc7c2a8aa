//! Where passwords may come from (a remote peer can't be made in the
//! integration tests, which bind loopback only): `Dav::handle` on a real
//! store with a request from another host, over plain HTTP and over TLS.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method};
use mailroom_core::Directory;
use mailroom_core::calendar::Calendars;
use mailroom_core::directory::{Actor, NewMailbox, NewMailboxKind};
use mailroom_dav::{Dav, DavConfig, Request};
use mailroom_store::{SQLITE_FILE, SqliteStore};
use mailroom_types::{DomainName, EmailAddress, Secret};

async fn calendars(dir: &std::path::Path) -> Calendars {
    let store = Arc::new(SqliteStore::open(&dir.join(SQLITE_FILE)).unwrap());
    let directory = Directory::new(store.clone());
    let domain = DomainName::parse("contoso.com").unwrap();
    directory.add_domain(&Actor::System, &domain, true).await.unwrap();
    let alice = NewMailbox {
        name: "Alice".into(),
        display_name: None,
        alias: Some("alice".into()),
        primary_address: Some(EmailAddress::from_parts("alice", domain)),
        kind: NewMailboxKind::User {
            password: Secret::new("Alice-pass-123".into()),
            roles: Default::default(),
        },
    };
    directory.create_mailbox(&Actor::System, alice).await.unwrap();
    Calendars::new(directory, store)
}

fn propfind(peer: &str, secure: bool) -> Request {
    let mut headers = HeaderMap::new();
    let credentials = mailroom_mime::encode_base64(b"alice@contoso.com:Alice-pass-123");
    headers
        .insert(http::header::AUTHORIZATION, HeaderValue::from_str(&format!("Basic {credentials}")).unwrap());
    headers.insert("Depth", HeaderValue::from_static("0"));
    Request {
        method: Method::from_bytes(b"PROPFIND").unwrap(),
        path: "/dav/calendars/alice@contoso.com/".into(),
        headers,
        body: Bytes::new(),
        peer: peer.parse().unwrap(),
        secure,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn passwords_over_plain_http_only_from_loopback_unless_allowed() {
    let tmp = tempfile::tempdir().unwrap();
    let calendars = calendars(tmp.path()).await;
    let strict = Dav::new(calendars.clone(), DavConfig::default());
    let refused = strict.handle(propfind("192.0.2.10:50000", false)).await;
    assert_eq!(refused.status(), 403);
    assert!(String::from_utf8_lossy(refused.body()).contains("Sign in over HTTPS"));
    assert_eq!(strict.handle(propfind("192.0.2.10:50000", true)).await.status(), 207);
    assert_eq!(strict.handle(propfind("127.0.0.1:50000", false)).await.status(), 207);
    assert_eq!(strict.handle(propfind("[::1]:50000", false)).await.status(), 207);
    let allowed = Dav::new(calendars, DavConfig { allow_plaintext_auth: true });
    assert_eq!(allowed.handle(propfind("192.0.2.10:50000", false)).await.status(), 207);
}
