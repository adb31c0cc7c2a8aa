//! What the IMAP session fuzz targets share: a store holding contoso.com,
//! Alice and the shared mailbox info@ she has Full Access on (with what a
//! target delivers there first), the change feed, and one whole session run
//! on the target's bytes. Each run comes from an address of its own, with a
//! server of its own (sign-in throttling starts afresh), so failed guesses of
//! one run don't slow the next. The server must never panic or hang, and
//! every byte of the memory budget must come back.

use std::sync::Arc;

use mailroom_core::Directory;
use mailroom_core::budget::MemoryBudget;
use mailroom_core::directory::{Actor, NewMailbox, NewMailboxKind};
use mailroom_core::mail::Mail;
use mailroom_core::permissions::Right;
use mailroom_imap::{Imap, ImapConfig};
use mailroom_store::SqliteStore;
use mailroom_types::{DomainName, EmailAddress};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub struct World {
    pub runtime: tokio::runtime::Runtime,
    store: Arc<SqliteStore>,
    /// The change feed every run's sessions listen to.
    feed: Arc<dyn mailroom_core::change::ChangeFeed>,
    runs: std::sync::atomic::AtomicU32,
    _dir: std::path::PathBuf,
}

impl World {
    /// The world in a data directory named for `name`, with `messages`
    /// delivered to info@'s INBOX.
    pub fn new(name: &str, messages: &[&str]) -> World {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().expect("runtime");
        let dir = crate::common::data_dir(name);
        let store = runtime.block_on(async {
            let (store, directory, alice) = crate::common::contoso_with_alice(&dir).await;
            let info = NewMailbox {
                name: "Info".into(),
                display_name: None,
                alias: Some("info".into()),
                primary_address: Some(EmailAddress::from_parts("info", DomainName::parse("contoso.com").expect("domain"))),
                kind: NewMailboxKind::Shared,
            };
            let info = directory.create_mailbox(&Actor::System, info).await.expect("shared");
            directory.grant(&Actor::System, info.id, alice.id, Right::FullAccess, true).await.expect("grant");
            let mail = Mail::new(directory, store.clone());
            let mailbox = info.mailbox_id().expect("a mailbox");
            for message in messages {
                let summary = mailroom_mime::summarize(message.as_bytes());
                mail.deliver(message.as_bytes().to_vec(), &summary, &[mailbox]).await.expect("deliver");
            }
            store
        });
        let feed = Arc::new(mailroom_store::SqliteFeed::start(&store).expect("change feed"));
        World { runtime, store, feed, runs: Default::default(), _dir: dir }
    }

    /// One session on `input` (then end of input), under a memory budget of
    /// `budget` octets; returns what the server wrote.
    pub fn session(&self, input: &[u8], budget: usize) -> Vec<u8> {
        let run = self.runs.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let peer = std::net::SocketAddr::from(([10, (run >> 16) as u8, (run >> 8) as u8, run as u8], 143));
        let mail = Mail::new(Directory::new(self.store.clone()), self.store.clone());
        let budget = MemoryBudget::new(budget);
        let config = ImapConfig {
            max_command_size: 1 << 20,
            login_timeout: std::time::Duration::from_secs(5),
            idle_timeout: std::time::Duration::from_secs(5),
            ..ImapConfig::default()
        };
        let (_shutdown, shutdown_rx) = tokio::sync::watch::channel(false);
        let responses = self.runtime.block_on(async {
            let imap = Imap::new(mail, config, budget.clone(), None, shutdown_rx, self.feed.clone());
            let (client, server) = tokio::io::duplex(1 << 16);
            let session = tokio::spawn(imap.serve(Box::new(server), peer, false));
            let mut responses = Vec::new();
            let (mut read, mut write) = tokio::io::split(client);
            let send = async {
                let _ = write.write_all(input).await;
                let _ = write.shutdown().await;
            };
            let receive = read.read_to_end(&mut responses);
            let (_, received) = tokio::join!(send, receive);
            received.expect("read responses");
            session.await.expect("session task ended without panicking");
            responses
        });
        assert!(
            responses.starts_with(b"* OK "),
            "greeting: {:?}",
            String::from_utf8_lossy(&responses[..responses.len().min(80)])
        );
        assert_eq!(budget.available(), budget.total(), "every reservation was returned");
        responses
    }
}
