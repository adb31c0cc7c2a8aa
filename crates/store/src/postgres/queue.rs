//! The outbound queue on PostgreSQL, and the claims of messages that go out once.
//!
//! Every change here is a write transaction ([`begin_write`]) even when it
//! is one statement: a trigger may log it (`outbound_queued`), and the
//! change log commits in order only under the store's write lock.
//! [`dequeue`] and [`take_claim`] work inside a caller's transaction, so a
//! delivery and the queue entry or claim it settles commit together.

use deadpool_postgres::GenericClient;
use mailroom_core::store::{Claim, QueueEntry, StoreResult};
use mailroom_types::EmailAddress;
use tokio_postgres::Row;

use super::mail::{blob_id, corrupt};
use super::{PgStore, begin_write, exec, now_unix, row, row_opt, rows};

pub(super) async fn queued(store: &PgStore, due_by: Option<i64>) -> StoreResult<Vec<QueueEntry>> {
    let client = store.client().await?;
    rows(
        &client,
        "SELECT id, blob_id, envelope_from, recipient, created, attempts, next_attempt,
                last_error, delay_notified, lease_node
         FROM outbound WHERE $1::BIGINT IS NULL OR next_attempt <= $1 ORDER BY id",
        &[&due_by],
    )
    .await?
    .iter()
    .map(queue_entry)
    .collect()
}

/// Claims due entries for `node` ([`mailroom_core::store::MailStore::claim_due`]).
/// Row locks, not the store's write lock: a claim logs no change, and two
/// nodes claiming at once each skip the rows the other is taking.
///
/// Whether the lease holder is alive is asked by `NOT EXISTS`, not by a
/// join: a row another node claimed (and committed) after this statement's
/// snapshot is re-checked when locked, on its new version, and a LEFT JOIN
/// would keep the null-extended `nodes` row found for the old version
/// (lease NULL), so the entry would pass as "holder unknown" and be taken
/// from a live node: both would send it.
pub(super) async fn claim_due(
    store: &PgStore,
    node: &str,
    now: i64,
    stale_before: i64,
    limit: usize,
) -> StoreResult<Vec<QueueEntry>> {
    let client = store.client().await?;
    let mut claimed: Vec<QueueEntry> = rows(
        &client,
        "UPDATE outbound SET lease_node = $1, leased_at = $2
         WHERE id IN (
             SELECT o.id FROM outbound o
             WHERE o.next_attempt <= $2
               AND (o.lease_node IS NULL OR o.lease_node = $1
                    OR NOT EXISTS (SELECT 1 FROM nodes n
                                   WHERE n.name = o.lease_node AND n.heartbeat_at >= $3))
             ORDER BY o.id LIMIT $4
             FOR UPDATE OF o SKIP LOCKED)
         RETURNING id, blob_id, envelope_from, recipient, created, attempts, next_attempt,
                   last_error, delay_notified, lease_node",
        &[&node, &now, &stale_before, &i64::try_from(limit).unwrap_or(i64::MAX)],
    )
    .await?
    .iter()
    .map(queue_entry)
    .collect::<StoreResult<_>>()?;
    claimed.sort_by_key(|e| e.id);
    Ok(claimed)
}

/// A row of `outbound`, in the column order of [`queued`].
fn queue_entry(r: &Row) -> StoreResult<QueueEntry> {
    let address =
        |text: &str| EmailAddress::parse(text).map_err(|e| corrupt(format!("queued address {text:?}: {e}")));
    let from: Option<String> = r.get(2);
    let recipient: String = r.get(3);
    Ok(QueueEntry {
        id: r.get(0),
        blob: blob_id(r.get(1))?,
        envelope_from: from.as_deref().map(address).transpose()?,
        recipient: address(&recipient)?,
        created: r.get(4),
        attempts: r.get::<_, i64>(5) as u32,
        next_attempt: r.get(6),
        last_error: r.get(7),
        delay_notified: r.get(8),
        lease_node: r.get(9),
    })
}

pub(super) async fn queue_retry(
    store: &PgStore,
    id: i64,
    next_attempt: i64,
    error: &str,
    delay_notified: bool,
) -> StoreResult<()> {
    let mut client = store.client().await?;
    let tx = begin_write(&mut client).await?;
    exec(
        &tx,
        "UPDATE outbound SET attempts = attempts + 1, next_attempt = $2, last_error = $3,
            delay_notified = $4, lease_node = NULL, leased_at = NULL WHERE id = $1",
        &[&id, &next_attempt, &error, &delay_notified],
    )
    .await?;
    store.committed(tx).await?;
    Ok(())
}

pub(super) async fn queue_due_now(store: &PgStore, id: i64) -> StoreResult<bool> {
    let mut client = store.client().await?;
    let tx = begin_write(&mut client).await?;
    // Now by this node's clock, or by the database's if that is earlier:
    // due for every node that reads the queue, and not in the future for
    // the trigger that logs the change (which wakes the queue runners) —
    // the same expression it compares with, so a clock a second ahead of
    // the database's doesn't go unlogged.
    let n = exec(
        &tx,
        "UPDATE outbound SET next_attempt = LEAST($2, EXTRACT(EPOCH FROM now())::BIGINT) WHERE id = $1",
        &[&id, &now_unix()],
    )
    .await?;
    store.committed(tx).await?;
    Ok(n == 1)
}

pub(super) async fn queue_remove(store: &PgStore, id: i64) -> StoreResult<bool> {
    let mut client = store.client().await?;
    let tx = begin_write(&mut client).await?;
    let removed = dequeue(&tx, id).await?;
    store.committed(tx).await?;
    Ok(removed)
}

/// Removes a queue entry and releases its body, inside the caller's write
/// transaction; `false` if it was gone.
pub(super) async fn dequeue<C: GenericClient>(tx: &C, id: i64) -> StoreResult<bool> {
    let Some(removed) = row_opt(tx, "DELETE FROM outbound WHERE id = $1 RETURNING blob_id", &[&id]).await?
    else {
        return Ok(false);
    };
    super::message_ops::release_blob(tx, removed.get::<_, &[u8]>(0)).await?;
    Ok(true)
}

pub(super) async fn claimed(store: &PgStore, claim: &Claim) -> StoreResult<bool> {
    let client = store.client().await?;
    let taken = match claim {
        Claim::AutoReply { mailbox, sender, period } => row(
            &client,
            "SELECT EXISTS (SELECT 1 FROM auto_reply_sent WHERE mailbox_id = $1 AND sender = $2 AND period = $3)",
            &[&mailbox.0, &sender.to_ascii_lowercase(), period],
        )
        .await?
        .get(0),
        Claim::QuotaWarning(mailbox) => row(
            &client,
            "SELECT EXISTS (SELECT 1 FROM mailbox_usage WHERE mailbox_id = $1 AND quota_warning_sent)",
            &[&mailbox.0],
        )
        .await?
        .get(0),
    };
    Ok(taken)
}

/// Takes a claim inside the caller's write transaction; `false` if it was
/// taken before (the write lock makes the check and the take one step).
pub(super) async fn take_claim<C: GenericClient>(tx: &C, claim: &Claim) -> StoreResult<bool> {
    let changed =
        match claim {
            Claim::AutoReply { mailbox, sender, period } => exec(
                tx,
                "INSERT INTO auto_reply_sent (mailbox_id, sender, period, sent_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT DO NOTHING",
                &[&mailbox.0, &sender.to_ascii_lowercase(), period, &now_unix()],
            )
            .await?,
            Claim::QuotaWarning(mailbox) => {
                exec(
                    tx,
                    "UPDATE mailbox_usage SET quota_warning_sent = TRUE
                 WHERE mailbox_id = $1 AND NOT quota_warning_sent",
                    &[&mailbox.0],
                )
                .await?
            }
        };
    Ok(changed == 1)
}
