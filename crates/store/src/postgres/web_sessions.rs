//! Browser sessions on PostgreSQL ([`DirectoryStore`]'s session methods,
//! called from `directory.rs`). No change is logged for them, so they take
//! row locks, not the store's write lock.

use mailroom_core::store::{SessionLimits, StoreResult, StoredWebSession};
use mailroom_types::PrincipalId;

use super::{PgStore, backend, exec, row, row_opt};

const COLUMNS: &str = "id_hash, principal_id, fingerprint, is_admin, created_at, last_seen";

pub(super) async fn start(
    store: &PgStore,
    session: &StoredWebSession,
    limits: &SessionLimits,
) -> StoreResult<bool> {
    let mut client = store.client().await?;
    let tx = client.transaction().await.map_err(backend)?;
    // One sign-in at a time per store: the count and the insert below must
    // agree, whichever node signs someone in.
    exec(&tx, "SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.web_sessions'))", &[]).await?;
    exec(
        &tx,
        "DELETE FROM web_sessions WHERE last_seen < $1 OR created_at < $2",
        &[&limits.idle_before, &limits.created_before],
    )
    .await?;
    let keep = i64::try_from(limits.per_principal.saturating_sub(1)).unwrap_or(i64::MAX);
    exec(
        &tx,
        "DELETE FROM web_sessions WHERE principal_id = $1 AND id_hash NOT IN (
             SELECT id_hash FROM web_sessions WHERE principal_id = $1
             ORDER BY last_seen DESC, created_at DESC LIMIT $2)",
        &[&session.principal.0, &keep],
    )
    .await?;
    let live: i64 = row(&tx, "SELECT COUNT(*) FROM web_sessions", &[]).await?.get(0);
    if live >= i64::try_from(limits.total).unwrap_or(i64::MAX) {
        tx.commit().await.map_err(backend)?;
        return Ok(false);
    }
    exec(
        &tx,
        &format!("INSERT INTO web_sessions ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"),
        &[
            &session.id_hash,
            &session.principal.0,
            &session.fingerprint,
            &session.admin,
            &session.created_at,
            &session.last_seen,
        ],
    )
    .await?;
    tx.commit().await.map_err(backend)?;
    Ok(true)
}

pub(super) async fn find(store: &PgStore, id_hash: &str) -> StoreResult<Option<StoredWebSession>> {
    let client = store.client().await?;
    let found =
        row_opt(&client, &format!("SELECT {COLUMNS} FROM web_sessions WHERE id_hash = $1"), &[&id_hash])
            .await?;
    Ok(found.map(|r| StoredWebSession {
        id_hash: r.get(0),
        principal: PrincipalId(r.get(1)),
        fingerprint: r.get(2),
        admin: r.get(3),
        created_at: r.get(4),
        last_seen: r.get(5),
    }))
}

pub(super) async fn touch(store: &PgStore, id_hash: &str, at: i64) -> StoreResult<()> {
    let client = store.client().await?;
    exec(
        &client,
        "UPDATE web_sessions SET last_seen = GREATEST(last_seen, $2) WHERE id_hash = $1",
        &[&id_hash, &at],
    )
    .await?;
    Ok(())
}

pub(super) async fn end(store: &PgStore, id_hash: &str) -> StoreResult<()> {
    let client = store.client().await?;
    exec(&client, "DELETE FROM web_sessions WHERE id_hash = $1", &[&id_hash]).await?;
    Ok(())
}

pub(super) async fn end_all_of(store: &PgStore, principal: PrincipalId) -> StoreResult<()> {
    let client = store.client().await?;
    exec(&client, "DELETE FROM web_sessions WHERE principal_id = $1", &[&principal.0]).await?;
    Ok(())
}

pub(super) async fn count(store: &PgStore, limits: &SessionLimits) -> StoreResult<usize> {
    let client = store.client().await?;
    let n: i64 = row(
        &client,
        "SELECT COUNT(*) FROM web_sessions WHERE last_seen >= $1 AND created_at >= $2",
        &[&limits.idle_before, &limits.created_before],
    )
    .await?
    .get(0);
    Ok(n.max(0) as usize)
}
