//! The world the IMAP tests share: a real store — SQLite in a temporary
//! directory, or a PostgreSQL schema of its own when the tests run there
//! (`MAILROOM_TEST_BACKEND=postgres`) — with contoso.com, users, a shared
//! mailbox with members, and a server.

#![allow(dead_code, clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;

use mailroom_core::Directory;
use mailroom_core::directory::{Actor, NewMailbox, NewMailboxKind};
use mailroom_core::mail::Mail;
use mailroom_core::store::Store;
use mailroom_imap::{Imap, ImapConfig};
use mailroom_store::scratch::{ScratchSchema, tests_on_postgres};
use mailroom_store::{Backend, StoreLocation};
use mailroom_types::{DomainName, EmailAddress, MailboxId, Secret};

pub struct World {
    pub _tmp: tempfile::TempDir,
    /// The PostgreSQL schema, when the world is there (dropped last).
    pub _schema: Option<ScratchSchema>,
    pub imap: Arc<Imap>,
    pub mail: Mail,
    /// The store under it, for what the tests set up directly.
    pub store: Arc<dyn Store>,
    /// The opened store, for its statistics.
    pub backend: Backend,
    /// Where it is: another process (or node) opens it there.
    pub location: StoreLocation,
    pub _shutdown: tokio::sync::watch::Sender<bool>,
}

/// contoso.com: Alice (Full Access on Info, direct, automapped), Bob
/// (blocked), Carol (Full Access on Info through the security group
/// Helpers), Dave (no access); Info (shared).
pub async fn world() -> World {
    let tmp = tempfile::tempdir().unwrap();
    let schema = tests_on_postgres()
        .then(|| ScratchSchema::create().expect("MAILROOM_TEST_BACKEND=postgres needs MAILROOM_TEST_PG"));
    let location = match &schema {
        Some(schema) => StoreLocation::Postgres(schema.url()),
        None => StoreLocation::Sqlite(tmp.path().join("m.db")),
    };
    let backend = Backend::open(&location).unwrap();
    let store = backend.store();
    let dir = Directory::new(store.clone());
    let domain = DomainName::parse("contoso.com").unwrap();
    dir.add_domain(&Actor::System, &domain, true).await.unwrap();
    let user = |name: &str| NewMailbox {
        name: name.into(),
        display_name: None,
        alias: None,
        primary_address: Some(EmailAddress::from_parts(&name.to_lowercase(), domain.clone())),
        kind: NewMailboxKind::User {
            password: Secret::new(format!("{name}-pass-123")),
            roles: BTreeSet::new(),
        },
    };
    for name in ["Alice", "Bob", "Carol", "Dave"] {
        dir.create_mailbox(&Actor::System, user(name)).await.unwrap();
    }
    let bob = dir.resolve("bob@contoso.com").await.unwrap();
    dir.set_sign_in_blocked(&Actor::System, bob.id, true).await.unwrap();
    let info = NewMailbox {
        name: "Info".into(),
        display_name: None,
        alias: None,
        primary_address: Some(EmailAddress::from_parts("info", domain.clone())),
        kind: NewMailboxKind::Shared,
    };
    let info = dir.create_mailbox(&Actor::System, info).await.unwrap();
    let info_mailbox = info.mailbox_id().unwrap();
    let alice = dir.resolve("alice@contoso.com").await.unwrap();
    dir.add_member(&Actor::System, info_mailbox, alice.id, true).await.unwrap();
    let carol = dir.resolve("carol@contoso.com").await.unwrap();
    let helpers = dir
        .create_group(
            &Actor::System,
            mailroom_core::directory::NewGroup {
                name: "Helpers".into(),
                display_name: None,
                alias: None,
                primary_address: None,
                security: true,
                members: vec![carol.id],
            },
        )
        .await
        .unwrap();
    dir.grant(&Actor::System, info.id, helpers.id, mailroom_core::permissions::Right::FullAccess, true)
        .await
        .unwrap();
    let feed = backend.feed().await.unwrap();
    let mail = Mail::new(dir, store.clone());
    let (shutdown, rx) = tokio::sync::watch::channel(false);
    let config = ImapConfig { max_command_size: 1 << 20, ..ImapConfig::default() };
    World {
        _tmp: tmp,
        imap: Imap::new(
            mail.clone(),
            config,
            mailroom_core::budget::MemoryBudget::new(512 << 20),
            None,
            rx,
            feed,
        ),
        mail,
        store,
        backend,
        location,
        _schema: schema,
        _shutdown: shutdown,
    }
}

impl World {
    pub async fn mailbox(&self, address: &str) -> MailboxId {
        let address = EmailAddress::parse(address).unwrap();
        self.mail.directory().resolve_address(&address).await.unwrap().unwrap().mailbox_id().unwrap()
    }

    /// Delivers a message to an Inbox as SMTP would.
    pub async fn deliver(&self, address: &str, message: &str) {
        let mailbox = self.mailbox(address).await;
        let summary = mailroom_mime::summarize(message.as_bytes());
        self.mail.deliver(message.as_bytes().to_vec(), &summary, &[mailbox]).await.unwrap();
    }
}

pub async fn listen(imap: Arc<Imap>) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, peer)) = listener.accept().await {
            tokio::spawn(imap.clone().serve(Box::new(stream), peer, false));
        }
    });
    addr
}

/// Runs a Python script with the port as its argument; returns its JSON output.
pub async fn python(script: &str, addr: SocketAddr) -> serde_json::Value {
    let output = tokio::process::Command::new("python3")
        .args(["-c", script, &addr.port().to_string()])
        .output()
        .await
        .unwrap();
    assert!(output.status.success(), "python failed:\n{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stdout)))
}

use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

pub struct Client {
    pub read: BufReader<OwnedReadHalf>,
    pub write: OwnedWriteHalf,
}

impl Client {
    pub async fn signed_in(addr: std::net::SocketAddr, login: &str, password: &str) -> Client {
        let (read, write) = tokio::net::TcpStream::connect(addr).await.unwrap().into_split();
        let mut c = Client { read: BufReader::new(read), write };
        c.line().await;
        c.cmd("l", &format!("LOGIN {login} {password}")).await;
        c.cmd("s", "SELECT \"Shared/info@contoso.com/INBOX\"").await;
        c
    }

    /// Signed in, nothing selected.
    pub async fn login(addr: std::net::SocketAddr, login: &str, password: &str) -> Client {
        let (read, write) = tokio::net::TcpStream::connect(addr).await.unwrap().into_split();
        let mut c = Client { read: BufReader::new(read), write };
        c.line().await;
        c.cmd("l", &format!("LOGIN {login} {password}")).await;
        c
    }

    pub async fn line(&mut self) -> String {
        let mut line = String::new();
        let n = tokio::time::timeout(Duration::from_secs(10), self.read.read_line(&mut line))
            .await
            .unwrap()
            .unwrap();
        assert!(n > 0, "closed");
        line.trim_end().to_string()
    }

    pub async fn cmd(&mut self, tag: &str, command: &str) -> Vec<String> {
        self.write.write_all(format!("{tag} {command}\r\n").as_bytes()).await.unwrap();
        let mut lines = Vec::new();
        loop {
            let line = self.line().await;
            let done = line.starts_with(&format!("{tag} "));
            lines.push(line);
            if done {
                return lines;
            }
        }
    }

    /// Sends raw bytes and returns everything up to and including the
    /// tagged completion, as bytes (for literals in responses).
    pub async fn raw(&mut self, tag: &str, command: &[u8]) -> Vec<u8> {
        use tokio::io::AsyncReadExt;
        self.write.write_all(command).await.unwrap();
        let mut out = Vec::new();
        let end = format!("\r\n{tag} ");
        loop {
            let mut chunk = [0u8; 4096];
            let n = tokio::time::timeout(Duration::from_secs(10), self.read.read(&mut chunk))
                .await
                .unwrap()
                .unwrap();
            assert!(n > 0, "closed: {}", String::from_utf8_lossy(&out));
            out.extend_from_slice(&chunk[..n]);
            let text = String::from_utf8_lossy(&out);
            if let Some(at) = text.rfind(&end).map(|i| i + 2).or(text.starts_with(&end[2..]).then_some(0))
                && text[at..].contains("\r\n")
            {
                return out;
            }
        }
    }

    pub async fn idle(&mut self) {
        self.write.write_all(b"i IDLE\r\n").await.unwrap();
        assert_eq!(self.line().await, "+ idling");
    }
}

/// A CREATE's answer: OK with the new folder's MAILBOXID (RFC 8474 §4.1).
pub fn assert_created(answer: &[String], tag: &str) {
    assert_eq!(answer.len(), 1, "{answer:?}");
    let rest =
        answer[0].strip_prefix(&format!("{tag} OK [MAILBOXID (F")).unwrap_or_else(|| panic!("{answer:?}"));
    assert!(rest.ends_with(")] CREATE completed"), "{answer:?}");
}
