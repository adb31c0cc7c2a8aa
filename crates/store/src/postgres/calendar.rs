//! [`CalendarStore`] on PostgreSQL: calendars, their resources with
//! tombstones for sync, and the activity log. Each write is one transaction
//! under the store's write lock, so the precondition and UID checks can't be
//! overtaken by another node's write, and a `201 Created` follows the commit.

use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use mailroom_core::calendar::{
    ActivityAction, Calendar, CalendarActivity, CalendarObject, CalendarProps, ComponentKind,
    DEFAULT_CALENDAR, DEFAULT_CALENDAR_NAME, DeleteOutcome, NewCalendarObject, ObjectChange, Precondition,
    PutOutcome, TimeSpan,
};
use mailroom_core::store::{CalendarStore, StoreError, StoreResult};
use mailroom_types::{CalendarId, MailboxId, PrincipalId};
use tokio_postgres::Row;

use super::{PgStore, begin_write, exec, now_unix, row, row_opt, rows};
use crate::calendar_rules::{etag_of, holds};

const CALENDAR_COLUMNS: &str = "id, mailbox_id, slug, display_name, color, description, sync_seq";
const OBJECT_COLUMNS: &str = "name, uid, component, etag, data, modseq, modified, span_start, span_end";

/// Every mailbox has this calendar, made with it.
pub(super) async fn create_default_calendar<C: deadpool_postgres::GenericClient>(
    tx: &C,
    mailbox: i64,
) -> StoreResult<()> {
    exec(
        tx,
        "INSERT INTO calendars (mailbox_id, slug, display_name, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT DO NOTHING",
        &[&mailbox, &DEFAULT_CALENDAR, &DEFAULT_CALENDAR_NAME, &now_unix()],
    )
    .await?;
    Ok(())
}

fn calendar_from_row(r: &Row) -> Calendar {
    Calendar {
        id: CalendarId(r.get(0)),
        mailbox: MailboxId(r.get(1)),
        slug: r.get(2),
        display_name: r.get(3),
        color: r.get(4),
        description: r.get(5),
        sync_seq: r.get::<_, i64>(6) as u64,
    }
}

/// A live object's row (`data` is not NULL: callers select only those).
fn object_from_row(r: &Row) -> CalendarObject {
    let component: String = r.get(2);
    CalendarObject {
        name: r.get(0),
        uid: r.get(1),
        component: ComponentKind::from_ical_name(&component).unwrap_or(ComponentKind::Event),
        etag: r.get(3),
        data: r.get(4),
        modseq: r.get::<_, i64>(5) as u64,
        modified: r.get(6),
        span: TimeSpan { start: r.get(7), end: r.get(8) },
    }
}

async fn calendar_by_id<C: GenericClient>(client: &C, id: CalendarId) -> StoreResult<Calendar> {
    row_opt(client, &format!("SELECT {CALENDAR_COLUMNS} FROM calendars WHERE id = $1"), &[&id.0])
        .await?
        .map(|r| calendar_from_row(&r))
        .ok_or_else(|| StoreError::NotFound(format!("calendar {id}")))
}

/// The current live object's etag, if any.
async fn current_etag<C: GenericClient>(
    client: &C,
    id: CalendarId,
    name: &str,
) -> StoreResult<Option<String>> {
    Ok(row_opt(
        client,
        "SELECT etag FROM calendar_objects WHERE calendar_id = $1 AND name = $2 AND data IS NOT NULL",
        &[&id.0, &name],
    )
    .await?
    .map(|r| r.get(0)))
}

/// Moves the calendar's sync sequence; returns the new value.
async fn bump<C: GenericClient>(client: &C, id: CalendarId) -> StoreResult<i64> {
    row_opt(client, "UPDATE calendars SET sync_seq = sync_seq + 1 WHERE id = $1 RETURNING sync_seq", &[&id.0])
        .await?
        .map(|r| r.get(0))
        .ok_or_else(|| StoreError::NotFound(format!("calendar {id}")))
}

async fn record<C: GenericClient>(
    client: &C,
    id: CalendarId,
    name: &str,
    uid: &str,
    actor: PrincipalId,
    action: ActivityAction,
) -> StoreResult<()> {
    exec(
        client,
        "INSERT INTO calendar_activity (calendar_id, name, uid, actor_id, action, at) VALUES ($1, $2, $3, $4, $5, $6)",
        &[&id.0, &name, &uid, &actor.0, &action.as_str(), &now_unix()],
    )
    .await?;
    Ok(())
}

#[async_trait]
impl CalendarStore for PgStore {
    async fn calendars(&self, mailbox: MailboxId) -> StoreResult<Vec<Calendar>> {
        let client = self.client().await?;
        // FALSE sorts before TRUE: the default calendar first.
        let found = rows(
            &client,
            &format!(
                "SELECT {CALENDAR_COLUMNS} FROM calendars WHERE mailbox_id = $1
                 ORDER BY slug <> '{DEFAULT_CALENDAR}', slug COLLATE \"C\""
            ),
            &[&mailbox.0],
        )
        .await?;
        Ok(found.iter().map(calendar_from_row).collect())
    }

    async fn calendar(&self, mailbox: MailboxId, slug: &str) -> StoreResult<Option<Calendar>> {
        let client = self.client().await?;
        Ok(row_opt(
            &client,
            &format!("SELECT {CALENDAR_COLUMNS} FROM calendars WHERE mailbox_id = $1 AND slug = $2"),
            &[&mailbox.0, &slug],
        )
        .await?
        .map(|r| calendar_from_row(&r)))
    }

    async fn create_calendar(
        &self,
        mailbox: MailboxId,
        slug: &str,
        display_name: &str,
        props: &CalendarProps,
    ) -> StoreResult<Calendar> {
        let color = props.color.clone().flatten();
        let description = props.description.clone().flatten();
        let mut client = self.client().await?;
        let tx = begin_write(&mut client).await?;
        let exists: bool =
            row(&tx, "SELECT EXISTS (SELECT 1 FROM recipients WHERE id = $1)", &[&mailbox.0]).await?.get(0);
        if !exists {
            return Err(StoreError::NotFound(format!("mailbox {}", mailbox.0)));
        }
        // The write lock makes the conflict a taken slug, never a race.
        let inserted = row_opt(
            &tx,
            &format!(
                "INSERT INTO calendars (mailbox_id, slug, display_name, color, description, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING
                 RETURNING {CALENDAR_COLUMNS}"
            ),
            &[&mailbox.0, &slug, &display_name, &color, &description, &now_unix()],
        )
        .await?;
        let Some(inserted) = inserted else {
            return Err(StoreError::NameTaken { name: slug.to_string() });
        };
        let calendar = calendar_from_row(&inserted);
        self.committed(tx).await?;
        Ok(calendar)
    }

    async fn update_calendar(&self, id: CalendarId, props: &CalendarProps) -> StoreResult<Calendar> {
        let mut client = self.client().await?;
        let tx = begin_write(&mut client).await?;
        let mut calendar = calendar_by_id(&tx, id).await?;
        if let Some(name) = &props.display_name {
            calendar.display_name = name.clone();
        }
        if let Some(color) = &props.color {
            calendar.color = color.clone();
        }
        if let Some(description) = &props.description {
            calendar.description = description.clone();
        }
        // Property changes move the sync token too: clients re-read the collection.
        let updated = row(
            &tx,
            &format!(
                "UPDATE calendars SET display_name = $2, color = $3, description = $4, sync_seq = sync_seq + 1
                 WHERE id = $1 RETURNING {CALENDAR_COLUMNS}"
            ),
            &[&id.0, &calendar.display_name, &calendar.color, &calendar.description],
        )
        .await?;
        let calendar = calendar_from_row(&updated);
        self.committed(tx).await?;
        Ok(calendar)
    }

    async fn delete_calendar(&self, id: CalendarId) -> StoreResult<()> {
        let mut client = self.client().await?;
        let tx = begin_write(&mut client).await?;
        // Objects and activity go with it (ON DELETE CASCADE).
        let removed = exec(&tx, "DELETE FROM calendars WHERE id = $1", &[&id.0]).await?;
        if removed == 0 {
            return Err(StoreError::NotFound(format!("calendar {id}")));
        }
        self.committed(tx).await?;
        Ok(())
    }

    async fn calendar_object(&self, id: CalendarId, name: &str) -> StoreResult<Option<CalendarObject>> {
        let client = self.client().await?;
        Ok(row_opt(
            &client,
            &format!(
                "SELECT {OBJECT_COLUMNS} FROM calendar_objects
                 WHERE calendar_id = $1 AND name = $2 AND data IS NOT NULL"
            ),
            &[&id.0, &name],
        )
        .await?
        .map(|r| object_from_row(&r)))
    }

    async fn calendar_objects(&self, id: CalendarId) -> StoreResult<Vec<CalendarObject>> {
        let client = self.client().await?;
        let found = rows(
            &client,
            &format!(
                "SELECT {OBJECT_COLUMNS} FROM calendar_objects
                 WHERE calendar_id = $1 AND data IS NOT NULL ORDER BY name COLLATE \"C\""
            ),
            &[&id.0],
        )
        .await?;
        Ok(found.iter().map(object_from_row).collect())
    }

    async fn calendar_objects_named(
        &self,
        id: CalendarId,
        names: &[String],
    ) -> StoreResult<Vec<CalendarObject>> {
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let client = self.client().await?;
        // One statement: each row matches once however often its name is
        // asked for, so duplicates fall out as in the embedded store.
        let found = rows(
            &client,
            &format!(
                "SELECT {OBJECT_COLUMNS} FROM calendar_objects
                 WHERE calendar_id = $1 AND name = ANY($2) AND data IS NOT NULL ORDER BY name COLLATE \"C\""
            ),
            &[&id.0, &names],
        )
        .await?;
        Ok(found.iter().map(object_from_row).collect())
    }

    async fn calendar_objects_overlapping(
        &self,
        id: CalendarId,
        span: TimeSpan,
    ) -> StoreResult<Vec<CalendarObject>> {
        let client = self.client().await?;
        // span_start < end uses the index; the span_end test filters what it found.
        let found = rows(
            &client,
            &format!(
                "SELECT {OBJECT_COLUMNS} FROM calendar_objects
                 WHERE calendar_id = $1 AND data IS NOT NULL AND span_start < $3 AND span_end > $2
                 ORDER BY name COLLATE \"C\""
            ),
            &[&id.0, &span.start, &span.end],
        )
        .await?;
        Ok(found.iter().map(object_from_row).collect())
    }

    async fn put_calendar_object(
        &self,
        id: CalendarId,
        name: &str,
        object: &NewCalendarObject,
        precondition: &Precondition,
        actor: PrincipalId,
    ) -> StoreResult<PutOutcome> {
        let etag = etag_of(&object.data);
        let component = object.component.ical_name();
        let mut client = self.client().await?;
        let tx = begin_write(&mut client).await?;
        let current = current_etag(&tx, id, name).await?;
        if !holds(precondition, current.as_deref()) {
            return Ok(PutOutcome::PreconditionFailed);
        }
        let holder = row_opt(
            &tx,
            "SELECT name FROM calendar_objects
             WHERE calendar_id = $1 AND uid = $2 AND data IS NOT NULL AND name <> $3",
            &[&id.0, &object.uid, &name],
        )
        .await?;
        if let Some(holder) = holder {
            return Ok(PutOutcome::UidConflict { existing: holder.get(0) });
        }
        let seq = bump(&tx, id).await?;
        exec(
            &tx,
            "INSERT INTO calendar_objects
                 (calendar_id, name, uid, component, etag, data, modseq, modified, span_start, span_end)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
             ON CONFLICT (calendar_id, name) DO UPDATE SET uid = excluded.uid,
                 component = excluded.component, etag = excluded.etag, data = excluded.data,
                 modseq = excluded.modseq, modified = excluded.modified,
                 span_start = excluded.span_start, span_end = excluded.span_end",
            &[
                &id.0,
                &name,
                &object.uid,
                &component,
                &etag,
                &object.data,
                &seq,
                &now_unix(),
                &object.span.start,
                &object.span.end,
            ],
        )
        .await?;
        let action = if current.is_some() { ActivityAction::Changed } else { ActivityAction::Created };
        record(&tx, id, name, &object.uid, actor, action).await?;
        self.committed(tx).await?;
        Ok(if current.is_some() { PutOutcome::Replaced { etag } } else { PutOutcome::Created { etag } })
    }

    async fn delete_calendar_object(
        &self,
        id: CalendarId,
        name: &str,
        precondition: &Precondition,
        actor: PrincipalId,
    ) -> StoreResult<DeleteOutcome> {
        let mut client = self.client().await?;
        let tx = begin_write(&mut client).await?;
        let Some(current) = current_etag(&tx, id, name).await? else {
            return Ok(DeleteOutcome::NotFound);
        };
        if !holds(precondition, Some(&current)) {
            return Ok(DeleteOutcome::PreconditionFailed);
        }
        let seq = bump(&tx, id).await?;
        // The row stays as a tombstone (data NULL) for the change log.
        let uid: String = row(
            &tx,
            "UPDATE calendar_objects SET data = NULL, modseq = $3, modified = $4
             WHERE calendar_id = $1 AND name = $2 RETURNING uid",
            &[&id.0, &name, &seq, &now_unix()],
        )
        .await?
        .get(0);
        record(&tx, id, name, &uid, actor, ActivityAction::Deleted).await?;
        self.committed(tx).await?;
        Ok(DeleteOutcome::Deleted)
    }

    async fn calendar_changes(&self, id: CalendarId, since: u64) -> StoreResult<Vec<ObjectChange>> {
        let since = i64::try_from(since).unwrap_or(i64::MAX);
        let client = self.client().await?;
        let found = rows(
            &client,
            "SELECT name, modseq, data IS NULL FROM calendar_objects
             WHERE calendar_id = $1 AND modseq > $2 ORDER BY modseq",
            &[&id.0, &since],
        )
        .await?;
        Ok(found
            .iter()
            .map(|r| ObjectChange { name: r.get(0), modseq: r.get::<_, i64>(1) as u64, deleted: r.get(2) })
            .collect())
    }

    async fn calendar_activity(&self, id: CalendarId, limit: usize) -> StoreResult<Vec<CalendarActivity>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let client = self.client().await?;
        let found = rows(
            &client,
            "SELECT name, uid, actor_id, action, at FROM calendar_activity
             WHERE calendar_id = $1 ORDER BY id DESC LIMIT $2",
            &[&id.0, &limit],
        )
        .await?;
        Ok(found
            .iter()
            .map(|r| {
                let action: String = r.get(3);
                CalendarActivity {
                    calendar: id,
                    name: r.get(0),
                    uid: r.get(1),
                    actor: PrincipalId(r.get(2)),
                    action: ActivityAction::parse(&action).unwrap_or(ActivityAction::Changed),
                    at: r.get(4),
                }
            })
            .collect())
    }
}
