//! The SQLite store: one writer thread with group commit, pooled readers.
//!
//! Why one writer: SQLite allows one write transaction at a time, and with
//! `synchronous=FULL` each commit costs an fsync. Funnelling every write
//! through one thread lets it take whatever jobs are waiting, run them in one
//! transaction (each inside its own savepoint, so one failing job doesn't undo
//! the others) and commit once. A caller's future resolves only after that
//! commit is durable (DESIGN.md, durability rule).
//!
//! Reads run on tokio's blocking pool with connections of their own; WAL
//! lets them proceed while the writer writes, and they see every commit that
//! completed before they started.

mod activity;
mod calendar;
mod cluster;
mod directory;
mod feed;
mod folder_views;
mod mail;
mod message_ops;
mod migrations;

mod web_sessions;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mailroom_core::store::{StoreError, StoreResult};
use rusqlite::Connection;

use crate::blobs::FsBlobs;

pub use feed::SqliteFeed;
pub use migrations::MigrationError;
pub use writer::WriteStats;
use writer::Writer;

/// How long a connection waits for another process's write lock (the admin
/// CLI writing while the server runs) before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Mailroom's embedded store. Cheap to clone; all clones share the writer.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: Writer,
    readers: Mutex<Vec<Connection>>,
    /// Reads running at once, at most: each holds a thread and a reader
    /// connection while it runs, so without a bound a burst of sessions made
    /// hundreds of threads and kept as many open connections (the pool never
    /// shrank). Waiting for a turn is asynchronous and holds neither.
    read_turns: tokio::sync::Semaphore,
    /// Bodies too large for the database.
    blobs: FsBlobs,
    /// Read transactions run (each store call that reads is one).
    reads: std::sync::atomic::AtomicU64,
    /// Deliveries hold it shared from writing a body file until their
    /// transaction commits; the sweep holds it exclusively, so it never
    /// deletes a file that a delivery is about to reference.
    blob_files: tokio::sync::RwLock<()>,
    /// Parsed summaries by body ([`crate::summary_cache`]).
    summaries: crate::summary_cache::SummaryCache,
    /// Folders' message lists ([`folder_views`]).
    folder_views: folder_views::FolderViews,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").field("path", &self.inner.path).finish()
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and migrates it.
    /// Large message bodies go to a `blobs` directory beside the file.
    pub fn open(path: &Path) -> Result<Self, MigrationError> {
        create_private_file(path).map_err(|e| MigrationError::Io(path.to_path_buf(), e))?;
        let mut setup = open_connection(path)?;
        migrations::migrate(&mut setup)?;
        drop(setup);
        let writer_conn = open_connection(path)?;
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                path: path.to_path_buf(),
                writer: Writer::start(writer_conn),
                readers: Mutex::new(Vec::new()),
                read_turns: tokio::sync::Semaphore::new(max_concurrent_reads()),
                blobs: FsBlobs::new(path.with_file_name("blobs")),
                blob_files: tokio::sync::RwLock::new(()),
                reads: std::sync::atomic::AtomicU64::new(0),
                summaries: crate::summary_cache::SummaryCache::default(),
                folder_views: folder_views::FolderViews::default(),
            }),
        })
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Transactions committed and writes carried since the store was opened.
    pub fn write_stats(&self) -> WriteStats {
        self.inner.writer.stats()
    }

    /// Folders with more messages than `rows` are not kept in memory
    /// (default 100,000, at most 400,000): each read of one that needs a
    /// few of its messages reads those, STATUS counts in SQL.
    pub fn set_folder_view_limit(&self, rows: usize) {
        self.inner.folder_views.set_largest(rows);
    }

    /// Store calls so far: read transactions and writes (each a round trip
    /// to a connection), for the benchmarks' "store calls per command".
    pub fn calls(&self) -> u64 {
        self.inner.reads.load(std::sync::atomic::Ordering::Relaxed) + self.inner.writer.stats().writes
    }

    /// Runs `job` inside the next group-commit transaction; resolves after commit.
    async fn write<T, F>(&self, job: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        self.inner.writer.submit(job).await
    }

    /// Runs `query` on a pooled reader connection. On a multi-threaded
    /// runtime it runs in place (`block_in_place`): these are short indexed
    /// lookups, and handing each to the blocking pool cost more in thread
    /// switches than the query itself (delivery benchmark, bench/README.md).
    /// Elsewhere it goes to the blocking pool.
    async fn read<T, F>(&self, query: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        self.inner.reads.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // The semaphore is never closed.
        let _turn = self
            .inner
            .read_turns
            .acquire()
            .await
            .map_err(|_| StoreError::Backend("the store is closing".into()))?;
        let inner = Arc::clone(&self.inner);
        let run = move || {
            let pooled = inner.readers.lock().unwrap_or_else(|p| p.into_inner()).pop();
            let conn = match pooled {
                Some(conn) => conn,
                None => open_connection(&inner.path).map_err(backend)?,
            };
            // One read transaction per query: a write committing between two
            // of its statements can't make it see half a change.
            let result = match conn.unchecked_transaction() {
                Ok(snapshot) => {
                    let result = query(&snapshot);
                    drop(snapshot);
                    result
                }
                Err(err) => Err(backend(err)),
            };
            inner.readers.lock().unwrap_or_else(|p| p.into_inner()).push(conn);
            result
        };
        let multi_thread = tokio::runtime::Handle::try_current()
            .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
        if multi_thread {
            return tokio::task::block_in_place(run);
        }
        tokio::task::spawn_blocking(run)
            .await
            .map_err(|join| StoreError::Backend(format!("read task failed: {join}").into()))?
    }
}

impl Inner {
    /// The folder's messages as `conn`'s transaction sees them ([`folder_views`]).
    fn view(
        &self,
        conn: &Connection,
        folder: mailroom_types::FolderId,
    ) -> StoreResult<Arc<folder_views::FolderView>> {
        self.folder_views.current(conn, folder, &self.summaries)
    }

    /// [`Self::view`], or `None` for a folder too large to keep in memory.
    fn small_view(
        &self,
        conn: &Connection,
        folder: mailroom_types::FolderId,
    ) -> StoreResult<Option<Arc<folder_views::FolderView>>> {
        self.folder_views.current_unless_large(conn, folder, &self.summaries)
    }
}

/// Reads at once: twice the cores (SQLite readers in WAL mode run in
/// parallel, and a read may wait on the disk), at least 4, at most 32. The
/// reader pool never holds more connections than this.
fn max_concurrent_reads() -> usize {
    std::thread::available_parallelism().map_or(4, |n| n.get() * 2).clamp(4, 32)
}

/// Creates the database file readable by its owner only (it holds password
/// hashes and mail); SQLite gives its WAL and shared-memory files the same
/// permissions.
fn create_private_file(path: &Path) -> std::io::Result<()> {
    if path.exists() {
        return Ok(());
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(err) => Err(err),
    }
}

/// How much of the database file each connection maps (bytes).
const MMAP_SIZE: i64 = 1 << 30;

fn open_connection(path: &Path) -> Result<Connection, rusqlite::Error> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // WAL: readers don't block the writer. FULL: a commit is on disk when it
    // returns, which is what lets SMTP say 250 (DESIGN.md, durability rule).
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Pages read through a memory map rather than a pread() and a copy each
    // (which showed in profiles of busy IMAP sessions): address space only,
    // the OS page cache holds the data either way.
    conn.pragma_update(None, "mmap_size", MMAP_SIZE)?;
    conn.set_prepared_statement_cache_capacity(128);
    // The same plan whatever values are bound. Without this, SQLite marks
    // a statement whose parameter meets a LIMIT, or an equality it might
    // weigh, to be prepared again when that parameter is bound anew (for
    // `folder_id = ?1`, whenever the old value was 0 or 1: every read of
    // the first folder); that parsing showed in profiles of busy IMAP
    // sessions. No plan here depends on the values (no ANALYZE data, and
    // the partial indexes' conditions are literals in the queries).
    conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    // SQLite's own lower() folds ASCII only; keys are folded in Rust
    // (`str::to_lowercase`), and searches must fold text the same way.
    conn.create_scalar_function(
        "mailroom_lower",
        1,
        rusqlite::functions::FunctionFlags::SQLITE_UTF8
            | rusqlite::functions::FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| Ok(ctx.get::<String>(0)?.to_lowercase()),
    )?;
    Ok(conn)
}

/// `execute` and `query_row` through the connection's statement cache: the
/// same few statements run for every message, and parsing SQL each time
/// showed in profiles of the delivery benchmark.
pub(crate) trait CachedSql {
    fn exec<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize>;
    fn row<T, P, F>(&self, sql: &str, params: P, f: F) -> rusqlite::Result<T>
    where
        P: rusqlite::Params,
        F: FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>;
}

impl CachedSql for Connection {
    fn exec<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }

    fn row<T, P, F>(&self, sql: &str, params: P, f: F) -> rusqlite::Result<T>
    where
        P: rusqlite::Params,
        F: FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    {
        self.prepare_cached(sql)?.query_row(params, f)
    }
}

pub(crate) fn backend(err: rusqlite::Error) -> StoreError {
    StoreError::Backend(Box::new(err))
}

pub(crate) fn now_unix() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// A burst of reads far past the bound shares a few connections: the
    /// pool never holds more than [`max_concurrent_reads`].
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_burst_of_reads_shares_a_bounded_pool() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("m.db")).unwrap();
        let mut reads = tokio::task::JoinSet::new();
        for _ in 0..300 {
            let store = store.clone();
            reads.spawn(async move {
                store
                    .read(|conn| {
                        // Long enough that the reads overlap.
                        std::thread::sleep(std::time::Duration::from_millis(2));
                        conn.row("SELECT COUNT(*) FROM folders", [], |r| r.get::<_, i64>(0)).map_err(backend)
                    })
                    .await
            });
        }
        while let Some(result) = reads.join_next().await {
            assert_eq!(result.unwrap().unwrap(), 0);
        }
        let pooled = store.inner.readers.lock().unwrap().len();
        assert!((1..=max_concurrent_reads()).contains(&pooled), "{pooled} reader connections");
    }
}
