//! A directory over a real embedded store in a temporary directory.

#![allow(dead_code)]

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use mailroom_core::change::{ChangeFeed, FeedRead};

use mailroom_core::directory::{Actor, NewGroup, NewMailbox, NewMailboxKind, Recipient};
use mailroom_core::{Change, Directory};
use mailroom_store::{SqliteFeed, SqliteStore};
use mailroom_types::{DomainName, EmailAddress, Secret};
use tempfile::TempDir;

/// Reads the store's change feed so tests can check what operations recorded.
pub struct Recorder {
    feed: SqliteFeed,
    seen: Mutex<u64>,
}

impl Recorder {
    /// The changes committed since the last call, each once, in order.
    pub async fn take(&self) -> Vec<Change> {
        self.feed.refresh().await.unwrap();
        let mut seen = *self.seen.lock().unwrap();
        let mut changes: Vec<Change> = Vec::new();
        loop {
            match self.feed.read_after(seen).await.unwrap() {
                FeedRead::Changes(records) if records.is_empty() => break,
                FeedRead::Changes(records) => {
                    seen = records.last().unwrap().seq;
                    for record in records {
                        if !changes.contains(&record.change) {
                            changes.push(record.change);
                        }
                    }
                }
                FeedRead::Resync { .. } => panic!("nothing is pruned in these tests"),
            }
        }
        *self.seen.lock().unwrap() = seen;
        changes
    }
}

pub struct World {
    _dir: TempDir,
    pub dir: Directory,
    pub changes: Arc<Recorder>,
}

pub const SYSTEM: Actor = Actor::System;
pub const PASSWORD: &str = "Correct-Horse-7";

pub fn addr(s: &str) -> EmailAddress {
    EmailAddress::parse(s).unwrap()
}

pub fn secret(s: &str) -> Secret<String> {
    Secret::new(s.to_string())
}

/// An organisation with the accepted domain contoso.com.
pub async fn world() -> World {
    let tmp = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&tmp.path().join("mailroom.db")).unwrap();
    let feed = SqliteFeed::start(&store).unwrap();
    let changes = Arc::new(Recorder { seen: Mutex::new(feed.head()), feed });
    let dir = Directory::new(Arc::new(store));
    dir.add_domain(&SYSTEM, &DomainName::parse("contoso.com").unwrap(), true).await.unwrap();
    changes.take().await;
    World { _dir: tmp, dir, changes }
}

impl World {
    pub async fn user(&self, name: &str) -> Recipient {
        self.dir
            .create_mailbox(
                &SYSTEM,
                NewMailbox {
                    name: name.to_string(),
                    display_name: None,
                    alias: None,
                    primary_address: None,
                    kind: NewMailboxKind::User { password: secret(PASSWORD), roles: BTreeSet::new() },
                },
            )
            .await
            .unwrap()
    }

    pub async fn shared(&self, name: &str) -> Recipient {
        self.dir
            .create_mailbox(
                &SYSTEM,
                NewMailbox {
                    name: name.to_string(),
                    display_name: None,
                    alias: None,
                    primary_address: None,
                    kind: NewMailboxKind::Shared,
                },
            )
            .await
            .unwrap()
    }

    pub async fn group(&self, name: &str, security: bool) -> Recipient {
        self.dir
            .create_group(
                &SYSTEM,
                NewGroup {
                    name: name.to_string(),
                    display_name: None,
                    alias: None,
                    primary_address: None,
                    security,
                    members: vec![],
                },
            )
            .await
            .unwrap()
    }
}
