//! A directory over a real embedded store in a temporary directory.

#![allow(dead_code)]

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use mailroom_core::directory::{Actor, NewGroup, NewMailbox, NewMailboxKind, Recipient};
use mailroom_core::{Change, ChangeSink, Directory};
use mailroom_store::SqliteStore;
use mailroom_types::{DomainName, EmailAddress, Secret};
use tempfile::TempDir;

/// Records published changes so tests can check them.
#[derive(Default)]
pub struct Recorder(pub Mutex<Vec<Change>>);

impl ChangeSink for Recorder {
    fn publish(&self, changes: &[Change]) {
        self.0.lock().unwrap().extend_from_slice(changes);
    }
}

impl Recorder {
    pub fn take(&self) -> Vec<Change> {
        std::mem::take(&mut *self.0.lock().unwrap())
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
    let changes = Arc::new(Recorder::default());
    let dir = Directory::new(Arc::new(store), changes.clone());
    dir.add_domain(&SYSTEM, &DomainName::parse("contoso.com").unwrap(), true).await.unwrap();
    changes.take();
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
