//! Browser sessions on SQLite ([`DirectoryStore`]'s session methods,
//! called from `directory.rs`).

use mailroom_core::store::{SessionLimits, StoreResult, StoredWebSession};
use mailroom_types::PrincipalId;
use rusqlite::{OptionalExtension, params};

use super::{CachedSql, SqliteStore, backend};

const COLUMNS: &str = "id_hash, principal_id, fingerprint, is_admin, created_at, last_seen";

fn session_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredWebSession> {
    Ok(StoredWebSession {
        id_hash: r.get(0)?,
        principal: PrincipalId(r.get(1)?),
        fingerprint: r.get(2)?,
        admin: r.get(3)?,
        created_at: r.get(4)?,
        last_seen: r.get(5)?,
    })
}

pub(super) async fn start(
    store: &SqliteStore,
    session: &StoredWebSession,
    limits: &SessionLimits,
) -> StoreResult<bool> {
    let (session, limits) = (session.clone(), limits.clone());
    store
        .write(move |conn| {
            conn.exec(
                "DELETE FROM web_sessions WHERE last_seen < ?1 OR created_at < ?2",
                params![limits.idle_before, limits.created_before],
            )
            .map_err(backend)?;
            // The principal's least recently used make way for this one.
            let keep = i64::try_from(limits.per_principal.saturating_sub(1)).unwrap_or(i64::MAX);
            conn.exec(
                "DELETE FROM web_sessions WHERE principal_id = ?1 AND id_hash NOT IN (
                     SELECT id_hash FROM web_sessions WHERE principal_id = ?1
                     ORDER BY last_seen DESC, created_at DESC LIMIT ?2)",
                params![session.principal.0, keep],
            )
            .map_err(backend)?;
            let live: i64 =
                conn.row("SELECT COUNT(*) FROM web_sessions", [], |r| r.get(0)).map_err(backend)?;
            if live >= i64::try_from(limits.total).unwrap_or(i64::MAX) {
                return Ok(false);
            }
            conn.exec(
                &format!("INSERT INTO web_sessions ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
                params![
                    session.id_hash,
                    session.principal.0,
                    session.fingerprint,
                    session.admin,
                    session.created_at,
                    session.last_seen
                ],
            )
            .map_err(backend)?;
            Ok(true)
        })
        .await
}

pub(super) async fn find(store: &SqliteStore, id_hash: &str) -> StoreResult<Option<StoredWebSession>> {
    let id_hash = id_hash.to_string();
    store
        .read(move |conn| {
            conn.row(
                &format!("SELECT {COLUMNS} FROM web_sessions WHERE id_hash = ?1"),
                [&id_hash],
                session_row,
            )
            .optional()
            .map_err(backend)
        })
        .await
}

pub(super) async fn touch(store: &SqliteStore, id_hash: &str, at: i64) -> StoreResult<()> {
    let id_hash = id_hash.to_string();
    store
        .write(move |conn| {
            conn.exec("UPDATE web_sessions SET last_seen = ?2 WHERE id_hash = ?1", params![id_hash, at])
                .map_err(backend)?;
            Ok(())
        })
        .await
}

pub(super) async fn end(store: &SqliteStore, id_hash: &str) -> StoreResult<()> {
    let id_hash = id_hash.to_string();
    store
        .write(move |conn| {
            conn.exec("DELETE FROM web_sessions WHERE id_hash = ?1", [&id_hash]).map_err(backend)?;
            Ok(())
        })
        .await
}

pub(super) async fn end_all_of(store: &SqliteStore, principal: PrincipalId) -> StoreResult<()> {
    store
        .write(move |conn| {
            conn.exec("DELETE FROM web_sessions WHERE principal_id = ?1", [principal.0]).map_err(backend)?;
            Ok(())
        })
        .await
}

pub(super) async fn count(store: &SqliteStore, limits: &SessionLimits) -> StoreResult<usize> {
    let limits = limits.clone();
    store
        .read(move |conn| {
            conn.row(
                "SELECT COUNT(*) FROM web_sessions WHERE last_seen >= ?1 AND created_at >= ?2",
                params![limits.idle_before, limits.created_before],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n.max(0) as usize)
            .map_err(backend)
        })
        .await
}
