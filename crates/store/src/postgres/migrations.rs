//! Versioned, hand-written schema migrations for PostgreSQL.
//!
//! Each runs once, in its own transaction, recorded in `schema_migrations`
//! of the schema the connection works in. Nodes starting together take a
//! session advisory lock first, so each migration is applied by one of
//! them; a schema written by a newer Mailroom is refused.

use super::now_unix;

/// (version, name, SQL). Append only; never edit a released migration.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "schema", include_str!("migrations/0001_schema.sql")),
    (2, "nodes", include_str!("migrations/0002_nodes.sql")),
    (3, "web_sessions", include_str!("migrations/0003_web_sessions.sql")),
    (4, "sign_in_pressure", include_str!("migrations/0004_sign_in_pressure.sql")),
    (5, "recoverable_items", include_str!("migrations/0005_recoverable_items.sql")),
    (6, "activity", include_str!("migrations/0006_activity.sql")),
];

/// The advisory lock migrations take (any constant; the schema's hash is
/// mixed in so two organisations in two schemas migrate independently).
const MIGRATION_LOCK: i32 = 0x4d52_4d47; // "MRMG"

#[derive(Debug, thiserror::Error)]
pub enum PgMigrationError {
    #[error(
        "the database is at schema version {found}, newer than this Mailroom knows ({known}); run a newer mailroom binary"
    )]
    TooNew { found: i64, known: i64 },
    #[error("migration {version} ({name}) failed: {}", super::describe(source))]
    Failed { version: i64, name: &'static str, source: tokio_postgres::Error },
    #[error("{}", super::describe(.0))]
    Postgres(#[from] tokio_postgres::Error),
}

/// Whether Mailroom's tables are in the schema `client` works in (a
/// second node finds the first node's; an empty database has none).
pub(super) async fn initialized(client: &tokio_postgres::Client) -> Result<bool, tokio_postgres::Error> {
    let found: Option<String> =
        client.query_one("SELECT to_regclass('schema_migrations')::TEXT", &[]).await?.get(0);
    Ok(found.is_some())
}

/// Brings the schema up to date; returns how many migrations ran.
pub(super) async fn migrate(client: &mut tokio_postgres::Client) -> Result<usize, PgMigrationError> {
    client.execute("SELECT pg_advisory_lock($1, hashtext(current_schema()))", &[&MIGRATION_LOCK]).await?;
    let result = migrate_locked(client).await;
    // Unlocked whatever happened: the connection goes back to the pool.
    client.execute("SELECT pg_advisory_unlock($1, hashtext(current_schema()))", &[&MIGRATION_LOCK]).await?;
    let applied = result?;
    trigram_index(client).await;
    Ok(applied)
}

async fn migrate_locked(client: &mut tokio_postgres::Client) -> Result<usize, PgMigrationError> {
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                version BIGINT PRIMARY KEY,
                name TEXT NOT NULL,
                applied_at BIGINT NOT NULL
            )",
        )
        .await?;
    let known = MIGRATIONS.last().map_or(0, |m| m.0);
    let current: i64 =
        client.query_one("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", &[]).await?.get(0);
    if current > known {
        return Err(PgMigrationError::TooNew { found: current, known });
    }
    let mut applied = 0;
    for &(version, name, sql) in MIGRATIONS {
        if current >= version {
            continue;
        }
        let tx = client.transaction().await?;
        tx.batch_execute(sql).await.map_err(|source| PgMigrationError::Failed { version, name, source })?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
            &[&version, &name, &now_unix()],
        )
        .await?;
        tx.commit().await?;
        tracing::info!(version, name, "schema migration applied");
        applied += 1;
    }
    Ok(applied)
}

/// The trigram index that lets IMAP SEARCH BODY/TEXT find substrings
/// without reading every text: made when the `pg_trgm` extension is there
/// or may be created (a trusted extension: the database's owner may);
/// otherwise those searches scan, and the log says how to speed them up.
async fn trigram_index(client: &mut tokio_postgres::Client) {
    // Made once: every later open (each admin command) only looks, and
    // takes no lock on the table.
    let made: Result<Option<String>, _> =
        client.query_one("SELECT to_regclass('message_text_body')::TEXT", &[]).await.map(|r| r.get(0));
    if matches!(made, Ok(Some(_))) {
        return;
    }
    // The extension is the database's, not the schema's: one creator at a
    // time (two creating it at once collide).
    let made = async {
        let tx = client.transaction().await?;
        tx.batch_execute(&format!(
            "SELECT pg_advisory_xact_lock({MIGRATION_LOCK});
             CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
             CREATE INDEX IF NOT EXISTS message_text_body ON message_text
                 USING GIN (search_body public.gin_trgm_ops);"
        ))
        .await?;
        tx.commit().await
    }
    .await;
    if let Err(err) = made {
        tracing::warn!(
            error = %err,
            "no trigram index for body searches: run `CREATE EXTENSION pg_trgm` in the database as its owner"
        );
    }
}
