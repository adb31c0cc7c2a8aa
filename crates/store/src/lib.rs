//! Storage backends for Mailroom's core store traits.
//!
//! [`SqliteStore`] is the embedded default (SPEC §6: one machine, nothing
//! else to run): rusqlite with the bundled SQLite, WAL and
//! `synchronous=FULL`, hand-written versioned migrations, and a single writer
//! thread that groups concurrent writes into one transaction (one fsync
//! acknowledges many). A PostgreSQL backend for several nodes implements the
//! same traits and passes the same conformance suite (`tests/conformance`).

mod blobs;
mod calendar_rules;
mod feed_window;
mod filters;
mod migrate;
mod open;
mod postgres;
pub mod scratch;
mod sqlite;
mod stored;
mod summary_cache;

pub use migrate::{
    MigrateError, MigrateOptions, MigrateProgress, MigrateReport, TableCount, migrate_to_postgres,
};
pub use open::{Backend, DEFAULT_URL, OpenError, StoreLocation};
pub use postgres::{PgFeed, PgOpenError, PgStore};
pub use sqlite::{MigrationError, SqliteFeed, SqliteStore, WriteStats};

/// The database file name inside a data directory.
pub const SQLITE_FILE: &str = "mailroom.db";
