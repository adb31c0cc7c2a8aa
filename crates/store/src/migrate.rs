//! Copying an organisation from the embedded store into PostgreSQL
//! (`mailroom migrate --to postgres://…`).
//!
//! **How.** The SQLite file is brought up to date (as any command opening
//! it would), then read in one read transaction — one snapshot, however
//! long the copy takes — by a thread of its own that hands batches of rows
//! (at most [`MigrateOptions::batch_rows`] rows or about
//! [`MigrateOptions::batch_bytes`] bytes) to the writer here. Each batch is
//! written with a binary `COPY` in one PostgreSQL transaction that also
//! records how far its table got in `migrate_progress`; tables go in the
//! order of their foreign keys and each by SQLite's `rowid` (stable: the
//! store never runs VACUUM). An interrupted copy (a lost connection, Ctrl-C)
//! therefore continues after its last committed batch when run again.
//!
//! **What.** Every table of the directory, the mail, the queue and the
//! calendars, with their ids (mail, grants and calendars refer to them).
//! Each identity sequence is then moved past the copied ids and past every
//! id SQLite ever handed out (`sqlite_sequence`: AUTOINCREMENT never reuses
//! a deleted recipient's id, and neither may PostgreSQL). Bodies move from
//! `blob_data` and the `blobs/` files into `blob_chunks`, in the pieces the
//! PostgreSQL store reads. Left behind: the change log (the new store starts
//! its own; nothing listens to the old one), the nodes (the servers that ran
//! on the file), the browser sessions (people sign in again on the new
//! store), the queue's leases, and the text indexes — every body is
//! listed in `text_pending` instead, so the server indexes them again in
//! the background (searches read unindexed bodies meanwhile).
//!
//! **Triggers.** The target's triggers write the change log on insert. The
//! copy disables them per table *inside each batch's transaction* (`ALTER
//! TABLE … DISABLE TRIGGER USER`, enabled again before the commit): no other
//! session ever sees a table without its triggers, and no interruption can
//! leave one so. Foreign keys still hold (they aren't user triggers). This
//! needs the tables' owner — the role of the URL, which created them.
//!
//! **Refusals.** The target must be empty, or hold an interrupted copy of
//! this store as it is now: the source's fingerprint (its change-log
//! sequence, its nodes' last beat, its row counts and body bytes) is
//! recorded with the progress, and a store that changed since can't be
//! continued into (rows copied earlier would be stale). No server may be
//! running on either side.
//!
//! **Verification.** At the end, every table's row count and every body's
//! bytes (the pieces of each add up to its size) are compared; only a copy
//! that matches is marked finished.

use std::path::{Path, PathBuf};

use mailroom_types::BlobId;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use tokio::sync::mpsc;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};

use crate::blobs::FsBlobs;
use crate::postgres::{BODY_CHUNK, dedicated, settings};
use crate::{MigrationError, PgOpenError, PgStore, SqliteStore};

/// How the copy is cut into transactions.
#[derive(Clone, Debug)]
pub struct MigrateOptions {
    /// Rows per transaction at most.
    pub batch_rows: usize,
    /// Bytes per transaction, about: a batch ends after the row that
    /// passes this (a body larger than it is a batch of its own).
    pub batch_bytes: usize,
    /// Tests: stop (as an interruption would) after this many batches.
    #[doc(hidden)]
    pub stop_after_batches: Option<u64>,
}

impl Default for MigrateOptions {
    fn default() -> Self {
        MigrateOptions { batch_rows: 1000, batch_bytes: 16 << 20, stop_after_batches: None }
    }
}

/// How far the copy is: rows of every table together.
#[derive(Clone, Copy, Debug)]
pub struct MigrateProgress<'a> {
    /// The table being copied.
    pub table: &'a str,
    pub done: u64,
    pub total: u64,
}

/// One table's rows in the source and in the target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableCount {
    pub table: &'static str,
    pub source: u64,
    pub target: u64,
}

/// What a run did and found.
#[derive(Clone, Debug, Default)]
pub struct MigrateReport {
    /// The target held this store's copy, finished then: nothing was done.
    pub already_copied_at: Option<chrono::DateTime<chrono::Utc>>,
    /// This run continued an interrupted one.
    pub resumed: bool,
    /// The schema the URL's search path names, created by this run.
    pub created_schema: Option<String>,
    /// Rows per table, in copy order.
    pub tables: Vec<TableCount>,
    /// Bytes of all bodies: their sizes in the source, the bytes of their
    /// pieces in the target.
    pub body_bytes: (u64, u64),
    /// Bodies whose pieces don't add up to their size (or have gaps).
    pub bodies_wrong: u64,
    /// Bodies not listed for the background indexer.
    pub bodies_unlisted: u64,
}

impl MigrateReport {
    /// Whether the target holds exactly what the source does.
    pub fn verified(&self) -> bool {
        self.tables.iter().all(|t| t.source == t.target)
            && self.body_bytes.0 == self.body_bytes.1
            && self.bodies_wrong == 0
            && self.bodies_unlisted == 0
    }
}

/// Why the copy stopped; each says what to do.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("{0}")]
    Refused(String),
    #[error("could not open the store {path}: {source}")]
    Open { path: PathBuf, source: MigrationError },
    #[error("reading the store {path}: {message}")]
    Source { path: PathBuf, message: String },
    #[error("could not open the database {shown}: {source}")]
    Connect { shown: String, source: PgOpenError },
    #[error("writing to the database {shown}: {message}")]
    Target { shown: String, message: String },
    #[error("stopped after {0} batches, as asked")]
    Stopped(u64),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Int,
    Bool,
    Text,
    Bytes,
}

/// A copied table: its columns (the same names on both sides) and the
/// identity column whose sequence must move past the copied values.
#[derive(Debug)]
struct Table {
    name: &'static str,
    columns: &'static [(&'static str, Kind)],
    identity: Option<&'static str>,
}

/// The table whose rows carry bodies.
const BLOBS: &str = "blobs";

/// Every copied table, each after the tables it refers to.
const TABLES: &[Table] = {
    use Kind::{Bool, Bytes, Int, Text};
    &[
        Table {
            name: "accepted_domains",
            columns: &[("name", Text), ("is_default", Bool), ("created_at", Int)],
            identity: None,
        },
        Table {
            name: "recipients",
            columns: &[
                ("id", Int),
                ("kind", Text),
                ("name", Text),
                ("name_key", Text),
                ("display_name", Text),
                ("alias", Text),
                ("alias_key", Text),
                ("created_at", Int),
            ],
            identity: Some("id"),
        },
        Table {
            name: "addresses",
            columns: &[
                ("address_key", Text),
                ("address", Text),
                ("recipient_id", Int),
                ("is_primary", Bool),
                ("position", Int),
            ],
            identity: None,
        },
        Table {
            name: "accounts",
            columns: &[
                ("recipient_id", Int),
                ("password_hash", Text),
                ("sign_in_blocked", Bool),
                ("scram_sha256", Text),
            ],
            identity: None,
        },
        Table { name: "admin_roles", columns: &[("recipient_id", Int), ("role", Text)], identity: None },
        Table {
            name: "mailbox_settings",
            columns: &[
                ("recipient_id", Int),
                ("forwarding_recipient_id", Int),
                ("forwarding_smtp_address", Text),
                ("deliver_to_mailbox_and_forward", Bool),
                ("message_copy_for_sent_as", Bool),
                ("message_copy_for_send_on_behalf", Bool),
                ("issue_warning_quota", Int),
                ("prohibit_send_quota", Int),
                ("prohibit_send_receive_quota", Int),
                ("automap_groups", Bool),
                ("retain_deleted_seconds", Int),
                ("recoverable_items_quota", Int),
                ("audit_enabled", Bool),
                ("audit_log_age_seconds", Int),
                ("per_member_seen", Bool),
            ],
            identity: None,
        },
        Table {
            name: "auto_replies",
            columns: &[
                ("recipient_id", Int),
                ("state", Text),
                ("start_time", Int),
                ("end_time", Int),
                ("internal_message", Text),
                ("external_message", Text),
                ("external_audience", Text),
            ],
            identity: None,
        },
        Table { name: "group_members", columns: &[("group_id", Int), ("member_id", Int)], identity: None },
        Table {
            name: "permissions",
            columns: &[
                ("recipient_id", Int),
                ("trustee_id", Int),
                ("right_name", Text),
                ("automapping", Bool),
                ("no_purge", Bool),
                ("granted_at", Int),
            ],
            identity: None,
        },
        Table {
            name: "api_tokens",
            columns: &[("name", Text), ("secret_hash", Text), ("created_at", Int), ("last_used_at", Int)],
            identity: None,
        },
        Table {
            name: "dkim_keys",
            columns: &[
                ("domain", Text),
                ("selector", Text),
                ("algorithm", Text),
                ("private_key", Bytes),
                ("public_key", Text),
                ("created_at", Int),
                ("signing", Bool),
            ],
            identity: None,
        },
        Table {
            name: "server_secrets",
            columns: &[("name", Text), ("value", Bytes), ("created_at", Int)],
            identity: None,
        },
        Table {
            name: "folders",
            columns: &[
                ("id", Int),
                ("mailbox_id", Int),
                ("name", Text),
                ("name_key", Text),
                ("special_use", Text),
                ("uid_validity", Int),
                ("uid_next", Int),
                ("highest_modseq", Int),
                ("message_count", Int),
                ("total_size", Int),
                ("created_at", Int),
                ("recent_uid", Int),
            ],
            identity: Some("id"),
        },
        Table {
            name: "mailbox_usage",
            columns: &[("mailbox_id", Int), ("bytes", Int), ("messages", Int), ("quota_warning_sent", Bool)],
            identity: None,
        },
        Table { name: "subscriptions", columns: &[("principal_id", Int), ("name", Text)], identity: None },
        Table {
            name: "auto_reply_sent",
            columns: &[("mailbox_id", Int), ("sender", Text), ("period", Text), ("sent_at", Int)],
            identity: None,
        },
        // The body itself comes from `blob_data` or its file ([`read_batch`]).
        Table {
            name: BLOBS,
            columns: &[
                ("id", Bytes),
                ("size", Int),
                ("refcount", Int),
                ("zero_since", Int),
                ("summary", Text),
                ("text_key", Int),
            ],
            identity: Some("text_key"),
        },
        Table {
            name: "messages",
            columns: &[
                ("id", Int),
                ("folder_id", Int),
                ("uid", Int),
                ("modseq", Int),
                ("flags", Int),
                ("keywords", Text),
                ("internal_date", Int),
                ("size", Int),
                ("blob_id", Bytes),
                ("saved_at", Int),
            ],
            identity: Some("id"),
        },
        Table {
            name: "expunged",
            columns: &[("folder_id", Int), ("uid", Int), ("modseq", Int)],
            identity: None,
        },
        Table {
            name: "recoverable_items",
            columns: &[
                ("folder_id", Int),
                ("uid", Int),
                ("deleted_from", Int),
                ("deleted_from_name", Text),
                ("deleted_at", Int),
                ("deleted_by", Int),
            ],
            identity: None,
        },
        Table {
            name: "member_seen",
            columns: &[("folder_id", Int), ("uid", Int), ("principal_id", Int), ("seen", Bool)],
            identity: None,
        },
        Table {
            name: "mailbox_activity",
            columns: &[
                ("id", Int),
                ("mailbox_id", Int),
                ("at", Int),
                ("actor_id", Int),
                ("action", Text),
                ("blob_id", Bytes),
                ("subject", Text),
                ("detail", Text),
            ],
            identity: Some("id"),
        },
        // Without its lease: no node of the new store is sending anything.
        Table {
            name: "outbound",
            columns: &[
                ("id", Int),
                ("blob_id", Bytes),
                ("envelope_from", Text),
                ("recipient", Text),
                ("created", Int),
                ("attempts", Int),
                ("next_attempt", Int),
                ("last_error", Text),
                ("delay_notified", Bool),
            ],
            identity: Some("id"),
        },
        Table {
            name: "calendars",
            columns: &[
                ("id", Int),
                ("mailbox_id", Int),
                ("slug", Text),
                ("display_name", Text),
                ("color", Text),
                ("description", Text),
                ("sync_seq", Int),
                ("created_at", Int),
            ],
            identity: Some("id"),
        },
        Table {
            name: "calendar_objects",
            columns: &[
                ("calendar_id", Int),
                ("name", Text),
                ("uid", Text),
                ("component", Text),
                ("etag", Text),
                ("data", Text),
                ("modseq", Int),
                ("modified", Int),
                ("span_start", Int),
                ("span_end", Int),
            ],
            identity: None,
        },
        Table {
            name: "calendar_activity",
            columns: &[
                ("id", Int),
                ("calendar_id", Int),
                ("name", Text),
                ("uid", Text),
                ("actor_id", Int),
                ("action", Text),
                ("at", Int),
            ],
            identity: Some("id"),
        },
    ]
};

impl Table {
    fn column_list(&self) -> String {
        self.columns.iter().map(|(name, _)| *name).collect::<Vec<_>>().join(", ")
    }
}

/// The session lock a copy holds on its target (two copies into one
/// schema at once would interleave their batches).
const MIGRATE_LOCK: i32 = 0x4d52_4350; // "MRCP"

/// Copies the organisation in the SQLite store at `source` into the
/// PostgreSQL database at `url` (`shown` names it in messages: no
/// password), continuing an interrupted copy of the same store; reports
/// each batch to `progress`, and at the end what the verification found
/// (the caller fails unless [`MigrateReport::verified`]).
pub async fn migrate_to_postgres(
    source: &Path,
    url: &str,
    shown: &str,
    options: &MigrateOptions,
    mut progress: impl FnMut(MigrateProgress<'_>),
) -> Result<MigrateReport, MigrateError> {
    let path = source.to_path_buf();
    let (conn, info) = tokio::task::spawn_blocking(move || open_source(&path)).await.map_err(|e| {
        MigrateError::Source {
            path: source.to_path_buf(),
            message: format!("the reading thread failed: {e}"),
        }
    })??;
    let target = Target { shown: shown.to_string() };

    let connect = |source| MigrateError::Connect { shown: shown.to_string(), source };
    let (config, tls) = settings(url).map_err(connect)?;
    let mut client = dedicated(&config, &tls).await.map_err(connect)?;
    let created_schema = ensure_schema(&client).await.map_err(|e| target.err("creating the schema", &e))?;
    // Brings the target's tables up to date (creating them in an empty
    // database); the copy uses a connection of its own.
    drop(PgStore::connect(url, shown).await.map_err(connect)?);

    let mut report = MigrateReport { created_schema, ..MigrateReport::default() };
    let positions = match prepare_target(&mut client, &info, &target).await? {
        Start::Finished { at } => {
            report.already_copied_at = Some(chrono::DateTime::from_timestamp(at, 0).unwrap_or_default());
            return Ok(report);
        }
        Start::Copy { positions, resumed } => {
            report.resumed = resumed;
            positions
        }
    };
    let copy = TableCopy { client: &mut client, source, info: &info, options, target: &target };
    copy.tables(conn, &positions, &mut progress).await?;

    finish(&mut client, &info, &target).await?;
    verify(&client, &info, &target, &mut report).await?;
    if report.verified() {
        client
            .execute("UPDATE migrate_source SET finished_at = $1", &[&now_unix()])
            .await
            .map_err(|e| target.err("recording the end of the copy", &e))?;
    }
    Ok(report)
}

/// The copy of the tables themselves.
struct TableCopy<'a> {
    client: &'a mut tokio_postgres::Client,
    source: &'a Path,
    info: &'a SourceInfo,
    options: &'a MigrateOptions,
    target: &'a Target,
}

impl TableCopy<'_> {
    /// Copies every table not done yet from where it stands, as the
    /// reading thread hands over its batches; `conn` holds the snapshot.
    async fn tables(
        self,
        conn: Connection,
        positions: &[Position],
        progress: &mut impl FnMut(MigrateProgress<'_>),
    ) -> Result<(), MigrateError> {
        let TableCopy { client, source, info, options, target } = self;
        let total: u64 = info.counts.iter().sum();
        let mut done: u64 = positions.iter().zip(&info.counts).map(|(p, count)| p.copied.min(*count)).sum();
        let first = positions.iter().position(|p| !p.done).unwrap_or(TABLES.len());
        progress(MigrateProgress { table: TABLES.get(first).map_or("", |t| t.name), done, total });

        let types = column_types(client, target).await?;
        let plan: Vec<(usize, i64)> =
            positions.iter().enumerate().filter(|(_, p)| !p.done).map(|(i, p)| (i, p.last_key)).collect();
        let (sender, mut batches) = mpsc::channel(2);
        let reader = {
            let (path, options) = (source.to_path_buf(), options.clone());
            tokio::task::spawn_blocking(move || read_all(conn, &path, &plan, &options, &sender))
        };
        let mut written = 0u64;
        while let Some(read) = batches.recv().await {
            match read {
                Read::Batch(batch) => {
                    let (table, rows) = (TABLES[batch.table].name, batch.rows.len() as u64);
                    write_batch(client, &types[batch.table], batch, target).await?;
                    done += rows;
                    progress(MigrateProgress { table, done, total });
                    written += 1;
                    if options.stop_after_batches.is_some_and(|stop| written >= stop) {
                        return Err(MigrateError::Stopped(written));
                    }
                }
                Read::TableDone(index) => {
                    let name = TABLES[index].name;
                    client
                        .execute("UPDATE migrate_progress SET done = TRUE WHERE table_name = $1", &[&name])
                        .await
                        .map_err(|e| target.err(&format!("recording the end of {name}"), &e))?;
                }
                Read::Failed(err) => return Err(err),
                Read::Finished => return Ok(()),
            }
        }
        // The reader ended without saying so.
        let why = match reader.await {
            Err(join) => format!("the reading thread failed: {join}"),
            Ok(()) => "the reading thread stopped early".to_string(),
        };
        Err(MigrateError::Source { path: source.to_path_buf(), message: why })
    }
}

/// Names the target in errors.
struct Target {
    shown: String,
}

impl Target {
    /// [`Self::err`] as a `map_err` argument.
    fn on<'a>(&'a self, doing: &'a str) -> impl Fn(tokio_postgres::Error) -> MigrateError + 'a {
        move |e| self.err(doing, &e)
    }

    fn err(&self, doing: &str, err: &tokio_postgres::Error) -> MigrateError {
        let mut message = format!("{doing}: {err}");
        if err.code() == Some(&tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE) {
            message.push_str(
                " (the copy switches the tables' triggers off while it writes, which only their owner may: connect as the role that created them)",
            );
        }
        if let Some(db) = err.as_db_error()
            && let Some(detail) = db.detail()
        {
            message.push_str(&format!(" ({detail})"));
        }
        MigrateError::Target { shown: self.shown.clone(), message }
    }
}

// ------------------------------------------------------------------ the source

/// What the snapshot of the source holds, read before the copy.
#[derive(Debug)]
struct SourceInfo {
    /// Where it is, as recorded with the progress.
    shown: String,
    /// Rows per table of [`TABLES`].
    counts: Vec<u64>,
    body_bytes: u64,
    /// The highest id AUTOINCREMENT handed out, by table.
    sequences: Vec<(String, i64)>,
    /// The next body text key the source would hand out.
    next_text_key: i64,
    uid_validity: i64,
    /// What a changed store differs in (see the module documentation).
    fingerprint: String,
}

impl SourceInfo {
    /// The floor of `table`'s identity sequence in the target.
    fn sequence_floor(&self, table: &Table) -> i64 {
        if table.name == BLOBS {
            return self.next_text_key - 1;
        }
        self.sequences.iter().find(|(name, _)| name == table.name).map_or(0, |(_, seq)| *seq)
    }
}

/// Brings the store at `path` up to date, then opens it read-only inside a
/// read transaction (the snapshot the whole copy reads) and takes its
/// measure. Refuses while a server runs on it.
fn open_source(path: &Path) -> Result<(Connection, SourceInfo), MigrateError> {
    let fail = |message: String| MigrateError::Source { path: path.to_path_buf(), message };
    if !path.is_file() {
        return Err(MigrateError::Refused(format!("there is no Mailroom store at {}", path.display())));
    }
    let store =
        SqliteStore::open(path).map_err(|source| MigrateError::Open { path: path.to_path_buf(), source })?;
    drop(store);
    let sql = |e: rusqlite::Error| fail(e.to_string());
    let conn =
        Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .map_err(sql)?;
    conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(sql)?;
    conn.execute_batch("BEGIN").map_err(sql)?;

    let now = now_unix();
    let running: Option<(String, i64)> = conn
        .query_row(
            "SELECT name, heartbeat_at FROM nodes WHERE heartbeat_at >= ?1 ORDER BY heartbeat_at DESC LIMIT 1",
            [now - mailroom_core::cluster::DOWN_AFTER],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(sql)?;
    if let Some((node, beat)) = running {
        return Err(MigrateError::Refused(format!(
            "a Mailroom server is running on {} (node {node}, seen {}s ago): stop it first, so that the store holds still while it is copied (a stopped server counts as running for {}s after its last beat)",
            path.display(),
            (now - beat).max(0),
            mailroom_core::cluster::DOWN_AFTER
        )));
    }

    let mut counts = Vec::with_capacity(TABLES.len());
    for table in TABLES {
        let count: i64 =
            conn.query_row(&format!("SELECT count(*) FROM {}", table.name), [], |r| r.get(0)).map_err(sql)?;
        counts.push(count as u64);
    }
    let body_bytes: i64 =
        conn.query_row("SELECT COALESCE(SUM(size), 0) FROM blobs", [], |r| r.get(0)).map_err(sql)?;
    let sequences: Vec<(String, i64)> = conn
        .prepare("SELECT name, seq FROM sqlite_sequence")
        .and_then(|mut s| s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
        .map_err(sql)?;
    let next_text_key: i64 = conn
        .query_row("SELECT COALESCE((SELECT MAX(next) FROM text_keys), 1)", [], |r| r.get(0))
        .map_err(sql)?;
    let uid_validity: i64 = conn
        .query_row("SELECT COALESCE((SELECT value FROM counters WHERE name = 'uid_validity'), 0)", [], |r| {
            r.get(0)
        })
        .map_err(sql)?;
    let last_beat: i64 =
        conn.query_row("SELECT COALESCE(MAX(heartbeat_at), 0) FROM nodes", [], |r| r.get(0)).map_err(sql)?;
    let changes = sequences.iter().find(|(name, _)| name == "change_log").map_or(0, |(_, seq)| *seq);
    let rows: Vec<String> = counts.iter().map(u64::to_string).collect();
    let fingerprint =
        format!("changes {changes}; last beat {last_beat}; rows {}; body bytes {body_bytes}", rows.join(","));
    let shown = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()).display().to_string();
    let info = SourceInfo {
        shown,
        counts,
        body_bytes: body_bytes as u64,
        sequences,
        next_text_key,
        uid_validity,
        fingerprint,
    };
    Ok((conn, info))
}

/// Rows the reader hands to the writer.
type Value = Box<dyn ToSql + Sync + Send>;

/// A body's piece: (body, piece number, bytes).
type Piece = (Vec<u8>, i32, Vec<u8>);

/// One transaction's worth of a table.
struct Batch {
    table: usize,
    rows: Vec<Vec<Value>>,
    /// `blobs` only: the bodies' pieces and their text keys.
    pieces: Vec<Piece>,
    text_keys: Vec<i64>,
    /// The rowid of the last row.
    last_key: i64,
}

enum Read {
    Batch(Batch),
    TableDone(usize),
    Finished,
    Failed(MigrateError),
}

/// The reading thread: every table of `plan` from its rowid on, in
/// batches, then `Finished`. Stops when the writer is gone.
fn read_all(
    conn: Connection,
    path: &Path,
    plan: &[(usize, i64)],
    options: &MigrateOptions,
    out: &mpsc::Sender<Read>,
) {
    let files = FsBlobs::new(path.with_file_name("blobs"));
    for &(table, mut after) in plan {
        loop {
            match read_batch(&conn, &files, table, after, options) {
                Ok(batch) if batch.rows.is_empty() => {
                    if out.blocking_send(Read::TableDone(table)).is_err() {
                        return;
                    }
                    break;
                }
                Ok(batch) => {
                    after = batch.last_key;
                    if out.blocking_send(Read::Batch(batch)).is_err() {
                        return;
                    }
                }
                Err(message) => {
                    let err = MigrateError::Source {
                        path: path.to_path_buf(),
                        message: format!("{}: {message}", TABLES[table].name),
                    };
                    let _ = out.blocking_send(Read::Failed(err));
                    return;
                }
            }
        }
    }
    let _ = out.blocking_send(Read::Finished);
}

/// The rows of `table` after rowid `after`, up to the batch's limits.
fn read_batch(
    conn: &Connection,
    files: &FsBlobs,
    index: usize,
    after: i64,
    options: &MigrateOptions,
) -> Result<Batch, String> {
    let table = &TABLES[index];
    let bodies = table.name == BLOBS;
    let sql = if bodies {
        "SELECT b.rowid, b.id, b.size, b.refcount, b.zero_since, b.summary, b.text_key, b.on_disk, d.data
         FROM blobs b LEFT JOIN blob_data d ON d.id = b.id WHERE b.rowid > ?1 ORDER BY b.rowid LIMIT ?2"
            .to_string()
    } else {
        format!(
            "SELECT rowid, {} FROM {} WHERE rowid > ?1 ORDER BY rowid LIMIT ?2",
            table.column_list(),
            table.name
        )
    };
    let mut statement = conn.prepare_cached(&sql).map_err(|e| e.to_string())?;
    let mut rows = statement.query(params![after, options.batch_rows as i64]).map_err(|e| e.to_string())?;
    let mut batch =
        Batch { table: index, rows: Vec::new(), pieces: Vec::new(), text_keys: Vec::new(), last_key: after };
    let mut bytes = 0usize;
    while let Some(row) = rows.next().map_err(|e| e.to_string())? {
        batch.last_key = row.get(0).map_err(|e| e.to_string())?;
        let mut values = Vec::with_capacity(table.columns.len());
        for (i, (column, kind)) in table.columns.iter().enumerate() {
            let value = row.get_ref(i + 1).map_err(|e| e.to_string())?;
            bytes += match value {
                ValueRef::Text(t) | ValueRef::Blob(t) => t.len(),
                _ => 8,
            };
            values.push(convert(value, *kind).ok_or_else(|| {
                format!("column {column} holds {:?} where {kind:?} was expected", value.data_type())
            })?);
        }
        if bodies {
            bytes += body_pieces(row, files, &mut batch)?;
        }
        batch.rows.push(values);
        if bytes >= options.batch_bytes {
            break;
        }
    }
    Ok(batch)
}

/// A body row's bytes (inline or from its file) cut into pieces, and its
/// text key, added to `batch`; returns the body's size.
fn body_pieces(row: &rusqlite::Row<'_>, files: &FsBlobs, batch: &mut Batch) -> Result<usize, String> {
    let get = |e: rusqlite::Error| e.to_string();
    let id: Vec<u8> = row.get(1).map_err(get)?;
    let size: i64 = row.get(2).map_err(get)?;
    let text_key: Option<i64> = row.get(6).map_err(get)?;
    let on_disk: bool = row.get(7).map_err(get)?;
    let inline: Option<Vec<u8>> = row.get(8).map_err(get)?;
    let blob = BlobId(id.clone().try_into().map_err(|_| "a body id isn't 32 octets".to_string())?);
    let data = match inline {
        Some(data) => data,
        None if on_disk => files
            .read(&blob)
            .map_err(|e| format!("body {blob} is missing its file {}: {e}", files.path(&blob).display()))?,
        None => return Err(format!("body {blob} is neither inline nor in a file")),
    };
    if data.len() as i64 != size {
        return Err(format!("body {blob} holds {} bytes where its row says {size}", data.len()));
    }
    let text_key = text_key.ok_or_else(|| format!("body {blob} has no text key"))?;
    batch.text_keys.push(text_key);
    for (number, piece) in data.chunks(BODY_CHUNK).enumerate() {
        batch.pieces.push((id.clone(), number as i32, piece.to_vec()));
    }
    Ok(data.len())
}

/// A SQLite value as the PostgreSQL column of `kind` takes it (SQLite's
/// truths are integers); `None` for a value of another type.
fn convert(value: ValueRef<'_>, kind: Kind) -> Option<Value> {
    Some(match (kind, value) {
        (Kind::Int, ValueRef::Null) => Box::new(None::<i64>),
        (Kind::Int, ValueRef::Integer(n)) => Box::new(Some(n)),
        (Kind::Bool, ValueRef::Null) => Box::new(None::<bool>),
        (Kind::Bool, ValueRef::Integer(n)) => Box::new(Some(n != 0)),
        (Kind::Text, ValueRef::Null) => Box::new(None::<String>),
        (Kind::Text, ValueRef::Text(t)) => Box::new(Some(String::from_utf8(t.to_vec()).ok()?)),
        (Kind::Bytes, ValueRef::Null) => Box::new(None::<Vec<u8>>),
        (Kind::Bytes, ValueRef::Blob(b)) => Box::new(Some(b.to_vec())),
        _ => return None,
    })
}

// ------------------------------------------------------------------ the target

/// Makes the schema the URL's search path names first when there is none:
/// PostgreSQL would otherwise create the tables in the next schema of the
/// path (usually `public`), beside whatever is there. Returns its name
/// when it was made.
async fn ensure_schema(client: &tokio_postgres::Client) -> Result<Option<String>, tokio_postgres::Error> {
    let path: String = client.query_one("SELECT current_setting('search_path')", &[]).await?.get(0);
    let Some(first) = path.split(',').map(str::trim).find(|s| !s.is_empty()) else { return Ok(None) };
    if first == "\"$user\"" || first == "$user" {
        return Ok(None);
    }
    // An unquoted name is folded to lower case, a quoted one kept.
    let name = match first.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        Some(quoted) => quoted.replace("\"\"", "\""),
        None => first.to_lowercase(),
    };
    let exists: bool = client
        .query_one("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", &[&name])
        .await?
        .get(0);
    if exists {
        return Ok(None);
    }
    client.batch_execute(&format!("CREATE SCHEMA \"{}\"", name.replace('"', "\"\""))).await?;
    Ok(Some(name))
}

/// Where one table's copy stands.
#[derive(Clone, Copy, Debug, Default)]
struct Position {
    last_key: i64,
    copied: u64,
    done: bool,
}

enum Start {
    /// Copy from these positions (one per table).
    Copy { positions: Vec<Position>, resumed: bool },
    /// This very copy was finished before.
    Finished { at: i64 },
}

/// Checks that the target may receive this copy and where it stands:
/// takes the copy's lock, refuses a target in use or holding another
/// organisation, records the source of a new copy.
async fn prepare_target(
    client: &mut tokio_postgres::Client,
    info: &SourceInfo,
    target: &Target,
) -> Result<Start, MigrateError> {
    let locked: bool = client
        .query_one("SELECT pg_try_advisory_lock($1, hashtext(current_schema()))", &[&MIGRATE_LOCK])
        .await
        .map_err(target.on("taking the copy's lock"))?
        .get(0);
    if !locked {
        return Err(MigrateError::Refused(format!(
            "another `mailroom migrate` is copying into {} now",
            target.shown
        )));
    }
    let now = now_unix();
    let running = client
        .query_opt(
            "SELECT name FROM nodes WHERE heartbeat_at >= $1 ORDER BY heartbeat_at DESC LIMIT 1",
            &[&(now - mailroom_core::cluster::DOWN_AFTER)],
        )
        .await
        .map_err(target.on("looking for running servers"))?;
    if let Some(node) = running {
        let node: String = node.get(0);
        return Err(MigrateError::Refused(format!(
            "a Mailroom server (node {node}) is running on {}: the copy goes into a database no server uses yet",
            target.shown
        )));
    }

    let recorded = client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM information_schema.tables
                 WHERE table_schema = current_schema() AND table_name = 'migrate_source')",
            &[],
        )
        .await
        .map_err(target.on("reading the target"))?
        .get::<_, bool>(0);
    let resumed = if recorded {
        let row = client
            .query_one("SELECT source, fingerprint, started_at, finished_at FROM migrate_source", &[])
            .await
            .map_err(target.on("reading the copy's record"))?;
        let (source, fingerprint, started, finished): (String, String, i64, Option<i64>) =
            (row.get(0), row.get(1), row.get(2), row.get(3));
        if fingerprint != info.fingerprint {
            let what = match finished {
                Some(at) => format!("the organisation copied from {source} (finished {})", time(at)),
                None => format!("an interrupted copy of {source} (started {})", time(started)),
            };
            let why = if source == info.shown {
                "and that store changed since: a copy only continues from the same data".to_string()
            } else {
                format!("not of this store ({})", info.shown)
            };
            return Err(MigrateError::Refused(format!(
                "{} holds {what}, {why}. Copy into a new empty database or schema (or empty this one: DROP SCHEMA … CASCADE; CREATE SCHEMA …)",
                target.shown
            )));
        }
        if let Some(at) = finished {
            return Ok(Start::Finished { at });
        }
        true
    } else {
        let row = client
            .query_one(
                "SELECT (SELECT count(*) FROM accepted_domains), (SELECT count(*) FROM recipients),
                        (SELECT count(*) FROM blobs)",
                &[],
            )
            .await
            .map_err(target.on("reading the target"))?;
        let (domains, recipients, bodies): (i64, i64, i64) = (row.get(0), row.get(1), row.get(2));
        if domains + recipients + bodies > 0 {
            return Err(MigrateError::Refused(format!(
                "{} already holds an organisation ({domains} accepted domains, {recipients} recipients, {bodies} message bodies): migrate copies into an empty database or schema only (pick a schema with options=-csearch_path%3DNAME in the URL)",
                target.shown
            )));
        }
        let tx = client.transaction().await.map_err(target.on("recording the copy"))?;
        tx.batch_execute(
            "CREATE TABLE migrate_source (
                 source       TEXT NOT NULL,
                 fingerprint  TEXT NOT NULL,
                 started_at   BIGINT NOT NULL,
                 finished_at  BIGINT
             );
             CREATE TABLE migrate_progress (
                 table_name  TEXT PRIMARY KEY,
                 last_key    BIGINT NOT NULL DEFAULT 0,
                 copied      BIGINT NOT NULL DEFAULT 0,
                 done        BOOLEAN NOT NULL DEFAULT FALSE
             );",
        )
        .await
        .map_err(target.on("recording the copy"))?;
        tx.execute(
            "INSERT INTO migrate_source (source, fingerprint, started_at) VALUES ($1, $2, $3)",
            &[&info.shown, &info.fingerprint, &now],
        )
        .await
        .map_err(target.on("recording the copy"))?;
        tx.commit().await.map_err(target.on("recording the copy"))?;
        false
    };

    let names: Vec<&str> = TABLES.iter().map(|t| t.name).collect();
    client
        .execute(
            "INSERT INTO migrate_progress (table_name) SELECT unnest($1::TEXT[]) ON CONFLICT DO NOTHING",
            &[&names],
        )
        .await
        .map_err(target.on("recording the copy"))?;
    let rows = client
        .query("SELECT table_name, last_key, copied, done FROM migrate_progress", &[])
        .await
        .map_err(target.on("reading the copy's progress"))?;
    let mut positions = vec![Position::default(); TABLES.len()];
    for row in rows {
        let name: &str = row.get(0);
        if let Some(index) = TABLES.iter().position(|t| t.name == name) {
            positions[index] =
                Position { last_key: row.get(1), copied: row.get::<_, i64>(2) as u64, done: row.get(3) };
        }
    }
    Ok(Start::Copy { positions, resumed })
}

fn now_unix() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// A Unix time for people.
fn time(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0).map_or_else(|| unix.to_string(), |t| t.to_rfc3339())
}

/// The target's types of each table's copied columns, for binary COPY.
async fn column_types(
    client: &tokio_postgres::Client,
    target: &Target,
) -> Result<Vec<Vec<Type>>, MigrateError> {
    let mut types = Vec::with_capacity(TABLES.len());
    for table in TABLES {
        let statement = client
            .prepare(&format!("SELECT {} FROM {} LIMIT 0", table.column_list(), table.name))
            .await
            .map_err(|e| target.err(&format!("reading the columns of {}", table.name), &e))?;
        types.push(statement.columns().iter().map(|c| c.type_().clone()).collect());
    }
    Ok(types)
}

/// Writes one batch and its progress in one transaction, with the
/// table's triggers off inside it only (see the module documentation).
async fn write_batch(
    client: &mut tokio_postgres::Client,
    types: &[Type],
    batch: Batch,
    target: &Target,
) -> Result<(), MigrateError> {
    let table = &TABLES[batch.table];
    let name = table.name;
    let doing = format!("copying {name}");
    let err = |e: tokio_postgres::Error| target.err(&doing, &e);
    let tx = client.transaction().await.map_err(err)?;
    tx.batch_execute(&format!("ALTER TABLE {name} DISABLE TRIGGER USER")).await.map_err(err)?;
    copy_rows(
        &tx,
        &format!("COPY {name} ({}) FROM STDIN (FORMAT binary)", table.column_list()),
        types,
        batch.rows.iter().map(|row| row.iter().map(|v| &**v as &(dyn ToSql + Sync)).collect()),
    )
    .await
    .map_err(err)?;
    if !batch.pieces.is_empty() {
        copy_rows(
            &tx,
            "COPY blob_chunks (blob_id, chunk, data) FROM STDIN (FORMAT binary)",
            &[Type::BYTEA, Type::INT4, Type::BYTEA],
            batch.pieces.iter().map(|(id, number, data)| vec![id as &(dyn ToSql + Sync), number, data]),
        )
        .await
        .map_err(err)?;
    }
    if !batch.text_keys.is_empty() {
        // What the disabled `blobs_text_pending` trigger would have done:
        // the server indexes these bodies in the background.
        tx.execute(
            "INSERT INTO text_pending (text_key) SELECT unnest($1::BIGINT[]) ON CONFLICT DO NOTHING",
            &[&batch.text_keys],
        )
        .await
        .map_err(err)?;
    }
    tx.execute(
        "UPDATE migrate_progress SET last_key = $2, copied = copied + $3 WHERE table_name = $1",
        &[&name, &batch.last_key, &(batch.rows.len() as i64)],
    )
    .await
    .map_err(err)?;
    tx.batch_execute(&format!("ALTER TABLE {name} ENABLE TRIGGER USER")).await.map_err(err)?;
    tx.commit().await.map_err(err)
}

/// Sends `rows` through a binary COPY.
async fn copy_rows<'a>(
    tx: &tokio_postgres::Transaction<'_>,
    sql: &str,
    types: &[Type],
    rows: impl Iterator<Item = Vec<&'a (dyn ToSql + Sync)>>,
) -> Result<u64, tokio_postgres::Error> {
    let sink = tx.copy_in(sql).await?;
    let writer = BinaryCopyInWriter::new(sink, types);
    let mut writer = std::pin::pin!(writer);
    for row in rows {
        writer.as_mut().write(&row).await?;
    }
    writer.finish().await
}

/// Moves every identity sequence past the copied ids (and the ids the
/// source handed out before), and the UIDVALIDITY counter to the source's.
async fn finish(
    client: &mut tokio_postgres::Client,
    info: &SourceInfo,
    target: &Target,
) -> Result<(), MigrateError> {
    let err = |e: tokio_postgres::Error| target.err("moving the id sequences", &e);
    let tx = client.transaction().await.map_err(err)?;
    for table in TABLES {
        let Some(column) = table.identity else { continue };
        // setval(…, n, false): the next id is n; never below 1.
        let sql = format!(
            "SELECT setval(pg_get_serial_sequence('{name}', '{column}'), GREATEST(last, 1), last > 0)
             FROM (SELECT GREATEST((SELECT MAX({column}) FROM {name}), $1) AS last) s",
            name = table.name
        );
        tx.query_one(&sql, &[&info.sequence_floor(table)]).await.map_err(err)?;
    }
    tx.execute(
        "INSERT INTO counters (name, value) VALUES ('uid_validity', $1)
         ON CONFLICT (name) DO UPDATE SET value = GREATEST(counters.value, excluded.value)",
        &[&info.uid_validity],
    )
    .await
    .map_err(err)?;
    tx.commit().await.map_err(err)
}

/// Counts every table and checks every body's pieces, into `report`.
async fn verify(
    client: &tokio_postgres::Client,
    info: &SourceInfo,
    target: &Target,
    report: &mut MigrateReport,
) -> Result<(), MigrateError> {
    let err = |e: tokio_postgres::Error| target.err("verifying the copy", &e);
    for (table, source) in TABLES.iter().zip(&info.counts) {
        let count: i64 =
            client.query_one(&format!("SELECT count(*) FROM {}", table.name), &[]).await.map_err(err)?.get(0);
        report.tables.push(TableCount { table: table.name, source: *source, target: count as u64 });
    }
    let bodies = client
        .query_one(
            "SELECT COALESCE(SUM(c.bytes), 0)::BIGINT,
                    count(*) FILTER (WHERE COALESCE(c.bytes, 0) <> b.size
                                        OR COALESCE(c.pieces, 0) <> COALESCE(c.last + 1, 0)),
                    count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM text_pending p WHERE p.text_key = b.text_key))
             FROM blobs b
             LEFT JOIN (SELECT blob_id, SUM(length(data))::BIGINT AS bytes, count(*) AS pieces, MAX(chunk) AS last
                        FROM blob_chunks GROUP BY blob_id) c ON c.blob_id = b.id",
            &[],
        )
        .await
        .map_err(err)?;
    report.body_bytes = (info.body_bytes, bodies.get::<_, i64>(0) as u64);
    report.bodies_wrong = bodies.get::<_, i64>(1) as u64;
    report.bodies_unlisted = bodies.get::<_, i64>(2) as u64;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// Every column of a copied table is copied, but those the target
    /// keeps otherwise: a column added to the schema must be added here.
    #[test]
    fn every_column_is_copied_or_left_out_on_purpose() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.db");
        drop(SqliteStore::open(&path).unwrap());
        let conn = Connection::open(&path).unwrap();
        // Bodies move to blob_chunks; the headers are read from the summary;
        // no node of the new store holds a lease.
        let left_out = [
            ("blobs", "on_disk"),
            ("blobs", "headers"),
            ("outbound", "lease_node"),
            ("outbound", "leased_at"),
        ];
        for table in TABLES {
            let mut statement =
                conn.prepare(&format!("SELECT name FROM pragma_table_info('{}')", table.name)).unwrap();
            let columns: Vec<String> =
                statement.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
            let copied: Vec<&str> = table.columns.iter().map(|(name, _)| *name).collect();
            for column in &columns {
                assert!(
                    copied.contains(&column.as_str()) || left_out.contains(&(table.name, column.as_str())),
                    "{}.{column} is neither copied nor left out",
                    table.name
                );
            }
            assert!(
                copied.iter().all(|c| columns.iter().any(|s| s == c)),
                "{}: {copied:?} vs {columns:?}",
                table.name
            );
        }
    }

    /// Every table of the target schema is either copied or left out on
    /// purpose: a table added to the schema must be added here too.
    #[test]
    fn every_table_is_copied_or_left_out_on_purpose() {
        let schema = concat!(
            include_str!("postgres/migrations/0001_schema.sql"),
            include_str!("postgres/migrations/0002_nodes.sql"),
            include_str!("postgres/migrations/0003_web_sessions.sql"),
            include_str!("postgres/migrations/0004_sign_in_pressure.sql")
        );
        let left_out = [
            "counters",
            "blob_chunks",
            "message_text",
            "text_pending",
            "change_log",
            "nodes",
            "web_sessions",
            "sign_in_pressure",
        ];
        for line in schema.lines() {
            let Some(rest) = line.strip_prefix("CREATE TABLE ") else { continue };
            let name = rest.split_whitespace().next().unwrap_or_default();
            assert!(
                TABLES.iter().any(|t| t.name == name) || left_out.contains(&name),
                "table {name} is neither copied nor left out"
            );
        }
    }
}
