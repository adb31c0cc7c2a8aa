//! Runs the store conformance suite against the embedded SQLite store, plus
//! the checks that only make sense for a file on disk.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod conformance;

use std::sync::Arc;

use mailroom_core::store::{DirectoryStore, Store};
use mailroom_store::SqliteStore;
use tempfile::TempDir;

/// A fresh store in its own temporary directory (kept alive by the guard).
async fn fresh() -> (TempDir, Arc<dyn Store>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(&dir.path().join("mailroom.db")).expect("open store");
    (dir, Arc::new(store))
}

conformance::suite!(fresh);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_survives_reopening_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mailroom.db");
    {
        let store = SqliteStore::open(&path).unwrap();
        conformance::seed_domain(&store).await;
        conformance::create(&store, "Sales", "sales@contoso.com").await;
    }
    let store = SqliteStore::open(&path).unwrap();
    let found = store.recipient_by_address(&conformance::addr("SALES@contoso.com")).await.unwrap();
    assert_eq!(found.map(|r| r.name), Some("Sales".to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_uses_wal_journal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mailroom.db");
    let _store = SqliteStore::open(&path).unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
}
