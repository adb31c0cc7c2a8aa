//! The activity trail on SQLite (SPEC §5): entries written by the jobs of
//! `message_ops` and the delivery, inside their transactions, and read
//! newest first.

use mailroom_core::mail::activity::{ActivityAction, ActivityEntry, ActivityQuery};
use mailroom_core::store::StoreResult;
use mailroom_types::{BlobId, MailboxId, PrincipalId};
use rusqlite::{Connection, OptionalExtension, params};

use super::{CachedSql, backend, now_unix};

/// One action's entries in one mailbox: who, when, and whether the mailbox
/// records at all (`AuditEnabled`), read once per transaction.
pub(super) struct Trail {
    mailbox: i64,
    actor: Option<i64>,
    at: i64,
    enabled: bool,
}

impl Trail {
    pub(super) fn open(
        conn: &Connection,
        mailbox: MailboxId,
        actor: Option<PrincipalId>,
    ) -> StoreResult<Trail> {
        let enabled: Option<bool> = conn
            .row("SELECT audit_enabled FROM mailbox_settings WHERE recipient_id = ?1", [mailbox.0], |r| {
                r.get(0)
            })
            .optional()
            .map_err(backend)?;
        Ok(Trail {
            mailbox: mailbox.0,
            actor: actor.map(|p| p.0),
            at: now_unix(),
            enabled: enabled.unwrap_or(true),
        })
    }

    pub(super) fn enabled(&self) -> bool {
        self.enabled
    }

    /// Writes an entry about the message whose body is `blob`; its subject
    /// comes from the body's stored header fields.
    pub(super) fn record(
        &self,
        conn: &Connection,
        action: ActivityAction,
        blob: &[u8],
        detail: &str,
    ) -> StoreResult<()> {
        if !self.enabled {
            return Ok(());
        }
        let headers: Option<String> = conn
            .row("SELECT headers FROM blobs WHERE id = ?1", [blob], |r| r.get(0))
            .optional()
            .map_err(backend)?;
        let subject = headers.as_deref().map(crate::stored::subject_of_headers).unwrap_or_default();
        conn.exec(
            "INSERT INTO mailbox_activity (mailbox_id, at, actor_id, action, blob_id, subject, detail)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                self.mailbox,
                self.at,
                self.actor,
                action.name(),
                blob,
                subject,
                crate::stored::text(detail)
            ],
        )
        .map_err(backend)?;
        Ok(())
    }

    /// Whether this trail's actor has no read of the message on record
    /// (a read is on the trail once per member).
    pub(super) fn first_read(&self, conn: &Connection, blob: &[u8]) -> StoreResult<bool> {
        let found: Option<i64> = conn
            .row(
                "SELECT 1 FROM mailbox_activity
                 WHERE mailbox_id = ?1 AND blob_id = ?2 AND actor_id IS ?3 AND action = 'Read' LIMIT 1",
                params![self.mailbox, blob, self.actor],
                |r| r.get(0),
            )
            .optional()
            .map_err(backend)?;
        Ok(found.is_none())
    }
}

pub(super) fn activity(
    conn: &Connection,
    mailbox: MailboxId,
    query: &ActivityQuery,
) -> StoreResult<Vec<ActivityEntry>> {
    // Names from the enum only, so they can stand in the SQL as literals.
    let actions = query.actions.iter().map(|a| format!("'{}'", a.name())).collect::<Vec<_>>().join(", ");
    let action_filter = if actions.is_empty() { String::new() } else { format!("AND action IN ({actions})") };
    let sql = format!(
        "SELECT id, at, actor_id, action, blob_id, subject, detail FROM mailbox_activity
         WHERE mailbox_id = ?1 AND (?2 IS NULL OR blob_id = ?2) AND (?3 IS NULL OR at >= ?3)
           AND (?4 IS NULL OR at <= ?4) AND (?5 IS NULL OR id < ?5) {action_filter}
         ORDER BY id DESC LIMIT ?6"
    );
    let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
    let blob = query.blob.map(|b| b.0.to_vec());
    let rows = stmt
        .query_map(
            params![mailbox.0, blob, query.since, query.until, query.before_id, query.limit.max(1) as i64],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, Option<i64>>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<Vec<u8>>>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, String>(6)?,
                ))
            },
        )
        .map_err(backend)?;
    let mut out = Vec::new();
    for row in rows {
        let (id, at, actor, action, blob, subject, detail) = row.map_err(backend)?;
        // An action this binary doesn't know (written by a newer one) is skipped.
        let Some(action) = ActivityAction::from_name(&action) else { continue };
        out.push(ActivityEntry {
            id,
            mailbox,
            at,
            actor: actor.map(PrincipalId),
            action,
            blob: blob.and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok()).map(BlobId),
            subject,
            detail,
        });
    }
    Ok(out)
}

pub(super) fn sweep(conn: &Connection, now: i64, limit: usize) -> StoreResult<usize> {
    let default = mailroom_core::directory::Retention::AUDIT_LOG_DEFAULT.seconds() as i64;
    conn.exec(
        "DELETE FROM mailbox_activity WHERE id IN (
             SELECT a.id FROM mailbox_activity a
             LEFT JOIN mailbox_settings s ON s.recipient_id = a.mailbox_id
             WHERE a.at + COALESCE(s.audit_log_age_seconds, ?3) <= ?1
             ORDER BY a.at LIMIT ?2)",
        params![now, limit as i64, default],
    )
    .map_err(backend)
}
