//! Versioned, hand-written schema migrations for SQLite.
//!
//! Each migration runs once, in its own transaction, and is recorded in
//! `schema_migrations`. A database written by a newer Mailroom (a version this
//! binary doesn't know) is refused rather than guessed at.

use rusqlite::{Connection, TransactionBehavior, params};

use super::now_unix;

/// (version, name, SQL). Append only; never edit a released migration.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "directory", include_str!("migrations/0001_directory.sql")),
    (2, "mail", include_str!("migrations/0002_mail.sql")),
    (3, "imap", include_str!("migrations/0003_imap.sql")),
    (4, "search", include_str!("migrations/0004_search.sql")),
    (5, "outbound", include_str!("migrations/0005_outbound.sql")),
    (6, "auto_reply_sent", include_str!("migrations/0006_auto_reply_sent.sql")),
    (7, "calendars", include_str!("migrations/0007_calendars.sql")),
    (8, "change_log", include_str!("migrations/0008_change_log.sql")),
    (9, "api_tokens", include_str!("migrations/0009_api_tokens.sql")),
    (10, "message_lists", include_str!("migrations/0010_message_lists.sql")),
    (11, "text_search", include_str!("migrations/0011_text_search.sql")),
    (12, "dkim_keys", include_str!("migrations/0012_dkim_keys.sql")),
    (13, "recent", include_str!("migrations/0013_recent.sql")),
    (14, "subscription_changes", include_str!("migrations/0014_subscription_changes.sql")),
    (15, "saved_at", include_str!("migrations/0015_saved_at.sql")),
    (16, "body_substrings", include_str!("migrations/0016_body_substrings.sql")),
    (17, "scram", include_str!("migrations/0017_scram.sql")),
    (18, "server_secrets", include_str!("migrations/0018_server_secrets.sql")),
    (19, "nodes", include_str!("migrations/0019_nodes.sql")),
    (20, "web_sessions", include_str!("migrations/0020_web_sessions.sql")),
    (21, "recoverable_items", include_str!("migrations/0021_recoverable_items.sql")),
    (22, "activity", include_str!("migrations/0022_activity.sql")),
];

#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    #[error(
        "the database is at schema version {found}, newer than this Mailroom knows ({known}); run a newer mailroom binary"
    )]
    TooNew { found: i64, known: i64 },
    #[error("migration {version} ({name}) failed: {source}")]
    Failed { version: i64, name: &'static str, source: rusqlite::Error },
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error("could not create {0}: {1}")]
    Io(std::path::PathBuf, std::io::Error),
}

/// Brings the schema up to date; returns how many migrations ran. Each runs
/// in an IMMEDIATE transaction that re-reads the version, so two processes
/// opening a new database at once (server and CLI) apply each migration once.
pub fn migrate(conn: &mut Connection) -> Result<usize, MigrationError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            applied_at INTEGER NOT NULL
        )",
    )?;
    let known = MIGRATIONS.last().map_or(0, |m| m.0);
    let mut applied = 0;
    for &(version, name, sql) in MIGRATIONS {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let current: i64 =
            tx.query_row("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", [], |r| r.get(0))?;
        if current > known {
            return Err(MigrationError::TooNew { found: current, known });
        }
        if current >= version {
            continue;
        }
        tx.execute_batch(sql).map_err(|source| MigrationError::Failed { version, name, source })?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
            params![version, name, now_unix()],
        )?;
        tx.commit()?;
        tracing::info!(version, name, "schema migration applied");
        applied += 1;
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrates_once_and_refuses_newer_schema() {
        let mut conn = Connection::open_in_memory().unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), MIGRATIONS.len());
        assert_eq!(migrate(&mut conn).unwrap(), 0);
        conn.execute("INSERT INTO schema_migrations VALUES (999, 'future', 0)", []).unwrap();
        assert!(matches!(migrate(&mut conn), Err(MigrationError::TooNew { found: 999, .. })));
    }
}
