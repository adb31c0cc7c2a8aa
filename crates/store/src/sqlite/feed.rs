//! The change feed over SQLite's change log, for every process on the machine.
//!
//! The log's rows are written by triggers in the transaction of each change
//! (migration 8), so the server hears the admin CLI's changes as well as its
//! own. This process's writer hands each commit's changes to the feed before
//! it answers the writes' callers, so whoever wrote finds the change in the
//! feed when its write returns. Other processes' commits are found by one
//! thread per feed that checks `PRAGMA data_version` — which moves when any
//! other connection, in any process, commits — every [`POLL`]. What it reads goes into a window in memory that subscribers
//! read without touching the database; one that fell out of the window
//! catches up from the table, and one whose changes were pruned is told to
//! resynchronise.

use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use async_trait::async_trait;
use mailroom_core::change::{ChangeFeed, ChangeRecord, FeedRead};
use mailroom_core::store::StoreResult;
use rusqlite::{Connection, OptionalExtension, params};

use super::{CachedSql, SqliteStore, backend, open_connection};
use crate::feed_window::{FeedWindow, Lookup, PRUNE_PART, READ_LIMIT, WINDOW};

/// How often another process's commits are looked for. A check is one
/// `PRAGMA data_version`: shared memory, no disk.
pub const POLL: Duration = Duration::from_millis(20);

/// The change feed of one [`SqliteStore`]. Cheap to clone; the watching
/// thread stops when the last clone is dropped.
#[derive(Clone)]
pub struct SqliteFeed {
    state: Arc<State>,
}

struct State {
    store: SqliteStore,
    /// Keeps the writer's commit listener alive as long as the feed.
    _hook: Arc<super::writer::CommitHook>,
    /// The changes subscribers read ([`crate::feed_window`]).
    window: FeedWindow,
    /// Held while new rows are read and added, so the watching thread and
    /// a `refresh` never add the same rows twice.
    loading: Mutex<()>,
}

impl std::fmt::Debug for SqliteFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteFeed").field("head", &self.state.head()).finish()
    }
}

impl SqliteFeed {
    /// Starts watching `store`'s change log from its newest change.
    pub fn start(store: &SqliteStore) -> StoreResult<Self> {
        Self::start_with_window(store, WINDOW)
    }

    fn start_with_window(store: &SqliteStore, window_limit: usize) -> StoreResult<Self> {
        let conn = open_connection(store.path()).map_err(backend)?;
        // The version first: a commit between the two reads is read again.
        let version = data_version(&conn).map_err(backend)?;
        let head = last_seq(&conn)?;
        let state = Arc::new_cyclic(|weak: &Weak<State>| {
            // Runs on the writer thread after each commit of this process.
            let hook: Arc<super::writer::CommitHook> = Arc::new(WriterHook(weak.clone()));
            State {
                store: store.clone(),
                _hook: hook,
                window: FeedWindow::new(head, window_limit),
                loading: Mutex::new(()),
            }
        });
        store.inner.writer.commits().add(&state._hook);
        let weak = Arc::downgrade(&state);
        std::thread::Builder::new()
            .name("mailroom-change-feed".into())
            .spawn(move || watch_log(conn, weak, version))
            .map_err(|e| mailroom_core::store::StoreError::Backend(Box::new(e)))?;
        Ok(SqliteFeed { state })
    }
}

/// The watching thread: reads other processes' new rows into the window
/// and moves the head.
fn watch_log(conn: Connection, state: Weak<State>, mut version: i64) {
    // Logged once per run of failures, not every poll.
    let mut failing = false;
    loop {
        std::thread::sleep(POLL);
        let Some(state) = state.upgrade() else { return };
        let now = match data_version(&conn) {
            Ok(v) => v,
            Err(err) => {
                tracing::error!(error = %err, "change feed: the database can't be read");
                continue;
            }
        };
        if now == version {
            continue;
        }
        // The version is taken as seen only once its rows are read: a read
        // that fails is tried again at the next poll, not at the next commit
        // (which on a quiet server may never come).
        match state.load_new(&conn) {
            Ok(()) => {
                version = now;
                failing = false;
            }
            Err(err) if !failing => {
                failing = true;
                tracing::error!(error = %err, "change feed: new changes could not be read; trying again every poll");
            }
            Err(_) => {}
        }
        state.wake();
    }
}

/// This process's writer's listener: reads a commit's changes before its
/// writers are answered, wakes subscribers after.
struct WriterHook(Weak<State>);

impl super::writer::CommitListener for WriterHook {
    fn committed(&self, conn: &Connection) {
        if let Some(state) = self.0.upgrade()
            && let Err(err) = state.load_new(conn)
        {
            tracing::error!(error = %err, "change feed: new changes could not be read");
        }
    }

    fn answered(&self) {
        if let Some(state) = self.0.upgrade() {
            state.wake();
        }
    }
}

impl State {
    fn head(&self) -> u64 {
        self.window.head()
    }

    /// Wakes the subscribers waiting for what is in the window now.
    fn wake(&self) {
        self.window.wake();
    }

    /// Reads the rows after the head into the window and moves the head;
    /// subscribers are woken by [`Self::wake`]. More new rows than the
    /// window holds (one command that flagged a whole folder) aren't read
    /// at all: the window jumps to the newest, and whoever was behind it is
    /// told to resynchronise — cheaper for every session than reading them.
    fn load_new(&self, conn: &Connection) -> StoreResult<()> {
        let _loading = self.loading.lock().unwrap_or_else(|p| p.into_inner());
        let newest = last_seq(conn)?;
        if self.window.too_far_behind(newest) {
            self.window.jump(newest);
            return Ok(());
        }
        loop {
            let after = self.head();
            let (rows, read_through) = rows_after(conn, after, READ_LIMIT)?;
            let Some(last) = read_through else { return Ok(()) };
            let full = last - after >= READ_LIMIT as u64;
            self.window.extend(rows, last);
            if !full {
                return Ok(());
            }
        }
    }
}

#[async_trait]
impl ChangeFeed for SqliteFeed {
    fn head(&self) -> u64 {
        self.state.head()
    }

    async fn read_after(&self, after: u64) -> StoreResult<FeedRead> {
        let head = match self.state.window.read(after) {
            Lookup::Read(read) => return Ok(read),
            Lookup::FromLog { head } => head,
        };
        // A little behind the window: from the table, unless those rows are pruned.
        self.state
            .store
            .read(move |conn| {
                if after < pruned_through(conn)? {
                    return Ok(FeedRead::Resync { head });
                }
                let (mut records, _) = rows_after(conn, after, READ_LIMIT)?;
                records.retain(|r| r.seq <= head);
                Ok(FeedRead::Changes(records))
            })
            .await
    }

    async fn refresh(&self) -> StoreResult<u64> {
        let state = Arc::clone(&self.state);
        self.state.store.read(move |conn| state.load_new(conn)).await?;
        self.state.wake();
        Ok(self.head())
    }

    async fn prune(&self, before: i64) -> StoreResult<usize> {
        self.state
            .store
            .write(move |conn| {
                // In parts: one write holds every other write up.
                let last: Option<i64> = conn
                    .row(
                        "SELECT MAX(seq) FROM (SELECT seq FROM change_log WHERE at < ?1 ORDER BY seq LIMIT ?2)",
                        params![before, PRUNE_PART as i64],
                        |r| r.get(0),
                    )
                    .map_err(backend)?;
                let Some(last) = last else { return Ok(0) };
                let removed = conn.exec("DELETE FROM change_log WHERE seq <= ?1", [last]).map_err(backend)?;
                conn.exec(
                    "INSERT INTO counters (name, value) VALUES ('change_log_pruned', ?1)
                     ON CONFLICT (name) DO UPDATE SET value = MAX(value, excluded.value)",
                    [last],
                )
                .map_err(backend)?;
                Ok(removed)
            })
            .await
    }

    async fn wait_after(&self, after: u64) {
        self.state.window.wait_after(after).await;
    }
}

fn data_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA data_version", [], |r| r.get(0))
}

fn last_seq(conn: &Connection) -> StoreResult<u64> {
    let seq: Option<i64> = conn.row("SELECT MAX(seq) FROM change_log", [], |r| r.get(0)).map_err(backend)?;
    // Pruning may have emptied the log; the sequence never goes back.
    Ok(seq.unwrap_or(0).max(pruned_through(conn)? as i64) as u64)
}

/// The newest sequence pruning removed (0 if none).
fn pruned_through(conn: &Connection) -> StoreResult<u64> {
    let pruned: Option<i64> = conn
        .row("SELECT value FROM counters WHERE name = 'change_log_pruned'", [], |r| r.get(0))
        .optional()
        .map_err(backend)?;
    Ok(pruned.unwrap_or(0) as u64)
}

/// Up to `limit` rows after `after`, decoded (a kind from a newer Mailroom
/// as [`Change::Unknown`]), and the sequence of the last.
fn rows_after(conn: &Connection, after: u64, limit: usize) -> StoreResult<(Vec<ChangeRecord>, Option<u64>)> {
    let mut statement = conn
        .prepare_cached(
            "SELECT seq, kind, subject, object, uid, modseq FROM change_log WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )
        .map_err(backend)?;
    let rows = statement
        .query_map(params![after as i64, limit as i64], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<i64>>(2)?.unwrap_or(0),
                r.get::<_, Option<i64>>(3)?.unwrap_or(0),
                r.get::<_, Option<i64>>(4)?.unwrap_or(0),
                r.get::<_, Option<i64>>(5)?.unwrap_or(0),
            ))
        })
        .map_err(backend)?;
    let mut records = Vec::new();
    let mut read_through = None;
    for row in rows {
        let (seq, kind, subject, object, uid, modseq) = row.map_err(backend)?;
        read_through = Some(seq as u64);
        records.push(crate::feed_window::record(seq, &kind, subject, object, uid, modseq));
    }
    Ok((records, read_through))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use mailroom_core::change::Change;
    use mailroom_core::mail::{Flags, MessageSummary, SpecialUse};
    use mailroom_core::store::{DeliveryTarget, DirectoryStore, FolderRef, MailStore, NewMessage};

    /// One command that changes more than the window holds doesn't make
    /// every subscriber read it all: the window jumps, those behind it
    /// resynchronise, and those caught up go on from the new head.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_burst_larger_than_the_window_asks_for_a_resync() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("m.db")).unwrap();
        store
            .add_accepted_domain(&mailroom_types::DomainName::parse("contoso.com").unwrap(), true)
            .await
            .unwrap();
        let info = store
            .create_recipient(mailroom_core::store::NewRecipient {
                kind: mailroom_core::directory::model::RecipientKind::SharedMailbox,
                name: "Info".into(),
                display_name: "Info".into(),
                alias: "info".into(),
                primary_address: mailroom_types::EmailAddress::parse("info@contoso.com").unwrap(),
                secondary_addresses: Vec::new(),
                account: None,
                mailbox: Some(Default::default()),
                members: Vec::new(),
            })
            .await
            .unwrap();
        let mailbox = info.mailbox_id().unwrap();
        let feed = SqliteFeed::start_with_window(&store, 8).unwrap();
        let message = |n: usize| NewMessage {
            bytes: format!("Subject: {n}\r\n\r\nx").into_bytes(),
            summary: MessageSummary::default(),
            internal_date: 0,
            targets: vec![DeliveryTarget {
                mailbox,
                folder: FolderRef::Special(SpecialUse::Inbox),
                flags: Flags::default(),
            }],
            queue: Vec::new(),
            claim: None,
            activity: Vec::new(),
        };
        // Within the window: read change by change.
        let start = feed.head();
        store.deliver_batch((0..3).map(message).collect(), &[]).await.unwrap();
        let FeedRead::Changes(small) = feed.read_after(start).await.unwrap() else { panic!("changes") };
        assert_eq!(small.len(), 3);
        // Twenty in one commit, more than the eight kept.
        let before = feed.head();
        store.deliver_batch((3..23).map(message).collect(), &[]).await.unwrap();
        let head = feed.head();
        assert_eq!(head, before + 20, "the head moved past all of them");
        assert_eq!(feed.read_after(before).await.unwrap(), FeedRead::Resync { head });
        assert_eq!(feed.read_after(start).await.unwrap(), FeedRead::Resync { head });
        // Caught up: the next change is read as usual.
        store.deliver_batch(vec![message(23)], &[]).await.unwrap();
        let FeedRead::Changes(next) = feed.read_after(head).await.unwrap() else { panic!("changes") };
        assert_eq!(next.len(), 1);
        assert!(next[0].seq > head);
    }

    /// A change of a kind a newer Mailroom wrote keeps its place: the feed
    /// hands it out as `Unknown`, so a subscriber moves past it instead of
    /// waking for it again and again.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_change_from_a_newer_mailroom_is_passed_over() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("m.db")).unwrap();
        let feed = SqliteFeed::start(&store).unwrap();
        let start = feed.head();
        store
            .write(|conn| {
                conn.execute_batch("INSERT INTO change_log (kind) VALUES ('from_the_future')")
                    .map_err(backend)
            })
            .await
            .unwrap();
        assert_eq!(feed.head(), start + 1);
        let FeedRead::Changes(records) = feed.read_after(start).await.unwrap() else { panic!("changes") };
        assert_eq!(records, [ChangeRecord { seq: start + 1, change: Change::Unknown }]);
        // A subscriber past it reads on from the next change.
        store
            .add_accepted_domain(&mailroom_types::DomainName::parse("contoso.com").unwrap(), true)
            .await
            .unwrap();
        feed.wait_after(start + 1).await;
        let FeedRead::Changes(next) = feed.read_after(start + 1).await.unwrap() else { panic!("changes") };
        assert_eq!(next, [ChangeRecord { seq: start + 2, change: Change::DomainsChanged }]);
    }

    /// Pruning goes in parts, each its own write, so a day of changes
    /// doesn't hold every other write up while it is removed.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn pruning_goes_in_parts() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("m.db")).unwrap();
        let feed = SqliteFeed::start(&store).unwrap();
        let rows = PRUNE_PART + 7;
        store
            .write(move |conn| {
                conn.execute(
                    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
                     INSERT INTO change_log (kind, at) SELECT 'domains_changed', 1 FROM n",
                    [rows as i64],
                )
                .map_err(backend)
            })
            .await
            .unwrap();
        assert_eq!(feed.prune(2).await.unwrap(), PRUNE_PART);
        assert_eq!(feed.prune(2).await.unwrap(), 7);
        assert_eq!(feed.prune(2).await.unwrap(), 0, "none left");
    }
}
