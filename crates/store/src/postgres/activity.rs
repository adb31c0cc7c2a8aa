//! The activity trail on PostgreSQL (SPEC §5): entries written by
//! `message_ops` and the delivery inside their transactions, and read
//! newest first.

use std::collections::{HashMap, HashSet};

use deadpool_postgres::GenericClient;
use mailroom_core::mail::activity::{ActivityAction, ActivityEntry, ActivityQuery};
use mailroom_core::store::StoreResult;
use mailroom_types::{BlobId, MailboxId, PrincipalId};

use super::{exec, now_unix, row_opt, rows};

/// One action's entries in one mailbox: who, when, and whether the mailbox
/// records at all (`AuditEnabled`), read once per transaction.
pub(super) struct Trail {
    mailbox: i64,
    actor: Option<i64>,
    at: i64,
    enabled: bool,
}

impl Trail {
    pub(super) async fn open<C: GenericClient>(
        c: &C,
        mailbox: MailboxId,
        actor: Option<PrincipalId>,
    ) -> StoreResult<Trail> {
        let enabled =
            row_opt(c, "SELECT audit_enabled FROM mailbox_settings WHERE recipient_id = $1", &[&mailbox.0])
                .await?
                .is_none_or(|r| r.get::<_, bool>(0));
        Ok(Trail { mailbox: mailbox.0, actor: actor.map(|p| p.0), at: now_unix(), enabled })
    }

    pub(super) fn enabled(&self) -> bool {
        self.enabled
    }

    /// Writes one entry per body in `blobs`, in one statement; each
    /// subject comes from its body's stored summary.
    pub(super) async fn record<C: GenericClient>(
        &self,
        c: &C,
        action: ActivityAction,
        blobs: &[Vec<u8>],
        detail: &str,
    ) -> StoreResult<()> {
        if !self.enabled || blobs.is_empty() {
            return Ok(());
        }
        let found = rows(c, "SELECT id, summary FROM blobs WHERE id = ANY($1)", &[&blobs]).await?;
        let by_blob: HashMap<Vec<u8>, String> = found
            .iter()
            .map(|r| (r.get::<_, Vec<u8>>(0), crate::stored::subject_of_summary(r.get::<_, &str>(1))))
            .collect();
        let subjects: Vec<String> =
            blobs.iter().map(|b| by_blob.get(b).cloned().unwrap_or_default()).collect();
        exec(
            c,
            "INSERT INTO mailbox_activity (mailbox_id, at, actor_id, action, blob_id, subject, detail)
             SELECT $1, $2, $3, $4, x.blob, x.subject, $7
             FROM unnest($5::BYTEA[], $6::TEXT[]) WITH ORDINALITY AS x(blob, subject, n) ORDER BY x.n",
            &[
                &self.mailbox,
                &self.at,
                &self.actor,
                &action.name(),
                &blobs,
                &subjects,
                &crate::stored::text(detail),
            ],
        )
        .await?;
        Ok(())
    }

    /// Which of `blobs` this trail's actor has read before (a read is on
    /// the trail once per member).
    pub(super) async fn read_before<C: GenericClient>(
        &self,
        c: &C,
        blobs: &[Vec<u8>],
    ) -> StoreResult<HashSet<Vec<u8>>> {
        let found = rows(
            c,
            "SELECT DISTINCT blob_id FROM mailbox_activity
             WHERE mailbox_id = $1 AND blob_id = ANY($2) AND actor_id IS NOT DISTINCT FROM $3 AND action = 'Read'",
            &[&self.mailbox, &blobs, &self.actor],
        )
        .await?;
        Ok(found.iter().map(|r| r.get::<_, Vec<u8>>(0)).collect())
    }
}

pub(super) async fn activity<C: GenericClient>(
    c: &C,
    mailbox: MailboxId,
    query: &ActivityQuery,
) -> StoreResult<Vec<ActivityEntry>> {
    let actions: Vec<&str> = query.actions.iter().map(|a| a.name()).collect();
    let blob = query.blob.map(|b| b.0.to_vec());
    let found = rows(
        c,
        "SELECT id, at, actor_id, action, blob_id, subject, detail FROM mailbox_activity
         WHERE mailbox_id = $1 AND ($2::BYTEA IS NULL OR blob_id = $2) AND ($3::BIGINT IS NULL OR at >= $3)
           AND ($4::BIGINT IS NULL OR at <= $4) AND ($5::BIGINT IS NULL OR id < $5)
           AND (cardinality($6::TEXT[]) = 0 OR action = ANY($6))
         ORDER BY id DESC LIMIT $7",
        &[
            &mailbox.0,
            &blob,
            &query.since,
            &query.until,
            &query.before_id,
            &actions,
            &(query.limit.max(1) as i64),
        ],
    )
    .await?;
    Ok(found
        .iter()
        .filter_map(|r| {
            // An action this binary doesn't know (written by a newer one) is skipped.
            let action = ActivityAction::from_name(r.get::<_, &str>(3))?;
            Some(ActivityEntry {
                id: r.get(0),
                mailbox,
                at: r.get(1),
                actor: r.get::<_, Option<i64>>(2).map(PrincipalId),
                action,
                blob: r
                    .get::<_, Option<Vec<u8>>>(4)
                    .and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok())
                    .map(BlobId),
                subject: r.get(5),
                detail: r.get(6),
            })
        })
        .collect())
}

pub(super) async fn sweep<C: GenericClient>(c: &C, now: i64, limit: usize) -> StoreResult<usize> {
    let default = mailroom_core::directory::Retention::AUDIT_LOG_DEFAULT.seconds() as i64;
    let removed = exec(
        c,
        "DELETE FROM mailbox_activity WHERE id IN (
             SELECT a.id FROM mailbox_activity a
             LEFT JOIN mailbox_settings s ON s.recipient_id = a.mailbox_id
             WHERE a.at + COALESCE(s.audit_log_age_seconds, $3) <= $1
             ORDER BY a.at LIMIT $2)",
        &[&now, &(limit as i64), &default],
    )
    .await?;
    Ok(removed as usize)
}
