//! [`CalendarStore`] on SQLite: calendars, their resources with tombstones
//! for sync, and the activity log. Each write is one transaction through the
//! group-commit writer, so a `201 Created` follows durability like an SMTP
//! `250` does.

use async_trait::async_trait;
use mailroom_core::calendar::{
    ActivityAction, Calendar, CalendarActivity, CalendarObject, CalendarProps, ComponentKind,
    DEFAULT_CALENDAR, DEFAULT_CALENDAR_NAME, DeleteOutcome, NewCalendarObject, ObjectChange, Precondition,
    PutOutcome, TimeSpan,
};
use mailroom_core::store::{CalendarStore, StoreError, StoreResult};
use mailroom_types::{CalendarId, MailboxId, PrincipalId};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{CachedSql, SqliteStore, backend, now_unix};
use crate::calendar_rules::{etag_of, holds};

const CALENDAR_COLUMNS: &str = "id, mailbox_id, slug, display_name, color, description, sync_seq";
const OBJECT_COLUMNS: &str = "name, uid, component, etag, data, modseq, modified, span_start, span_end";

/// Every new mailbox gets its default calendar (SPEC §4).
pub(super) fn create_default_calendar(conn: &Connection, mailbox: i64) -> StoreResult<()> {
    conn.exec(
        "INSERT INTO calendars (mailbox_id, slug, display_name, created_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT DO NOTHING",
        params![mailbox, DEFAULT_CALENDAR, DEFAULT_CALENDAR_NAME, now_unix()],
    )
    .map_err(backend)?;
    Ok(())
}

fn calendar_row(row: &Row<'_>) -> rusqlite::Result<Calendar> {
    Ok(Calendar {
        id: CalendarId(row.get(0)?),
        mailbox: MailboxId(row.get(1)?),
        slug: row.get(2)?,
        display_name: row.get(3)?,
        color: row.get(4)?,
        description: row.get(5)?,
        sync_seq: row.get::<_, i64>(6)? as u64,
    })
}

/// A live object's row (`data` is not NULL: callers select only those).
fn object_row(row: &Row<'_>) -> rusqlite::Result<CalendarObject> {
    let component: String = row.get(2)?;
    Ok(CalendarObject {
        name: row.get(0)?,
        uid: row.get(1)?,
        component: ComponentKind::from_ical_name(&component).unwrap_or(ComponentKind::Event),
        etag: row.get(3)?,
        data: row.get(4)?,
        modseq: row.get::<_, i64>(5)? as u64,
        modified: row.get(6)?,
        span: TimeSpan { start: row.get(7)?, end: row.get(8)? },
    })
}

fn query_objects<P: rusqlite::Params>(
    conn: &Connection,
    sql: &str,
    params: P,
) -> StoreResult<Vec<CalendarObject>> {
    let mut stmt = conn.prepare_cached(sql).map_err(backend)?;
    let rows = stmt.query_map(params, object_row).map_err(backend)?;
    rows.collect::<Result<_, _>>().map_err(backend)
}

fn calendar_by_id(conn: &Connection, id: CalendarId) -> StoreResult<Calendar> {
    conn.row(&format!("SELECT {CALENDAR_COLUMNS} FROM calendars WHERE id = ?1"), [id.0], calendar_row)
        .optional()
        .map_err(backend)?
        .ok_or_else(|| StoreError::NotFound(format!("calendar {id}")))
}

/// The current live object's etag, if any.
fn current_etag(conn: &Connection, id: CalendarId, name: &str) -> StoreResult<Option<String>> {
    conn.row(
        "SELECT etag FROM calendar_objects WHERE calendar_id = ?1 AND name = ?2 AND data IS NOT NULL",
        params![id.0, name],
        |r| r.get(0),
    )
    .optional()
    .map_err(backend)
}

/// Moves the calendar's sync sequence; returns the new value.
fn bump(conn: &Connection, id: CalendarId) -> StoreResult<i64> {
    conn.row("UPDATE calendars SET sync_seq = sync_seq + 1 WHERE id = ?1 RETURNING sync_seq", [id.0], |r| {
        r.get(0)
    })
    .optional()
    .map_err(backend)?
    .ok_or_else(|| StoreError::NotFound(format!("calendar {id}")))
}

fn record(
    conn: &Connection,
    id: CalendarId,
    name: &str,
    uid: &str,
    actor: PrincipalId,
    action: ActivityAction,
) -> StoreResult<()> {
    conn.exec(
        "INSERT INTO calendar_activity (calendar_id, name, uid, actor_id, action, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![id.0, name, uid, actor.0, action.as_str(), now_unix()],
    )
    .map_err(backend)?;
    Ok(())
}

#[async_trait]
impl CalendarStore for SqliteStore {
    async fn calendars(&self, mailbox: MailboxId) -> StoreResult<Vec<Calendar>> {
        self.read(move |conn| {
            let mut stmt = conn
                .prepare_cached(&format!(
                    "SELECT {CALENDAR_COLUMNS} FROM calendars WHERE mailbox_id = ?1
                     ORDER BY slug <> '{DEFAULT_CALENDAR}', slug"
                ))
                .map_err(backend)?;
            let rows = stmt.query_map([mailbox.0], calendar_row).map_err(backend)?;
            rows.collect::<Result<_, _>>().map_err(backend)
        })
        .await
    }

    async fn calendar(&self, mailbox: MailboxId, slug: &str) -> StoreResult<Option<Calendar>> {
        let slug = slug.to_string();
        self.read(move |conn| {
            conn.row(
                &format!("SELECT {CALENDAR_COLUMNS} FROM calendars WHERE mailbox_id = ?1 AND slug = ?2"),
                params![mailbox.0, slug],
                calendar_row,
            )
            .optional()
            .map_err(backend)
        })
        .await
    }

    async fn create_calendar(
        &self,
        mailbox: MailboxId,
        slug: &str,
        display_name: &str,
        props: &CalendarProps,
    ) -> StoreResult<Calendar> {
        let (slug, display_name, props) = (slug.to_string(), display_name.to_string(), props.clone());
        self.write(move |conn| {
            let exists: bool = conn
                .row("SELECT EXISTS (SELECT 1 FROM recipients WHERE id = ?1)", [mailbox.0], |r| r.get(0))
                .map_err(backend)?;
            if !exists {
                return Err(StoreError::NotFound(format!("mailbox {}", mailbox.0)));
            }
            let inserted = conn
                .exec(
                    "INSERT INTO calendars (mailbox_id, slug, display_name, color, description, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
                    params![
                        mailbox.0,
                        slug,
                        display_name,
                        props.color.flatten(),
                        props.description.flatten(),
                        now_unix()
                    ],
                )
                .map_err(backend)?;
            if inserted == 0 {
                return Err(StoreError::NameTaken { name: slug });
            }
            calendar_by_id(conn, CalendarId(conn.last_insert_rowid()))
        })
        .await
    }

    async fn update_calendar(&self, id: CalendarId, props: &CalendarProps) -> StoreResult<Calendar> {
        let props = props.clone();
        self.write(move |conn| {
            let mut calendar = calendar_by_id(conn, id)?;
            if let Some(name) = props.display_name {
                calendar.display_name = name;
            }
            if let Some(color) = props.color {
                calendar.color = color;
            }
            if let Some(description) = props.description {
                calendar.description = description;
            }
            // Property changes move the sync token too: clients re-read the collection.
            conn.exec(
                "UPDATE calendars SET display_name = ?2, color = ?3, description = ?4, sync_seq = sync_seq + 1
                 WHERE id = ?1",
                params![id.0, calendar.display_name, calendar.color, calendar.description],
            )
            .map_err(backend)?;
            calendar_by_id(conn, id)
        })
        .await
    }

    async fn delete_calendar(&self, id: CalendarId) -> StoreResult<()> {
        self.write(move |conn| {
            let removed = conn.exec("DELETE FROM calendars WHERE id = ?1", [id.0]).map_err(backend)?;
            if removed == 0 {
                return Err(StoreError::NotFound(format!("calendar {id}")));
            }
            Ok(())
        })
        .await
    }

    async fn calendar_object(&self, id: CalendarId, name: &str) -> StoreResult<Option<CalendarObject>> {
        let name = name.to_string();
        self.read(move |conn| {
            conn.row(
                &format!(
                    "SELECT {OBJECT_COLUMNS} FROM calendar_objects
                     WHERE calendar_id = ?1 AND name = ?2 AND data IS NOT NULL"
                ),
                params![id.0, name],
                object_row,
            )
            .optional()
            .map_err(backend)
        })
        .await
    }

    async fn calendar_objects(&self, id: CalendarId) -> StoreResult<Vec<CalendarObject>> {
        self.read(move |conn| {
            query_objects(
                conn,
                &format!(
                    "SELECT {OBJECT_COLUMNS} FROM calendar_objects
                     WHERE calendar_id = ?1 AND data IS NOT NULL ORDER BY name"
                ),
                [id.0],
            )
        })
        .await
    }

    async fn calendar_objects_named(
        &self,
        id: CalendarId,
        names: &[String],
    ) -> StoreResult<Vec<CalendarObject>> {
        let names = names.to_vec();
        self.read(move |conn| {
            let mut out = Vec::with_capacity(names.len());
            let sql = format!(
                "SELECT {OBJECT_COLUMNS} FROM calendar_objects
                 WHERE calendar_id = ?1 AND name = ?2 AND data IS NOT NULL"
            );
            for name in &names {
                if let Some(object) =
                    conn.row(&sql, params![id.0, name], object_row).optional().map_err(backend)?
                {
                    out.push(object);
                }
            }
            out.sort_by(|a, b| a.name.cmp(&b.name));
            out.dedup_by(|a, b| a.name == b.name);
            Ok(out)
        })
        .await
    }

    async fn calendar_objects_overlapping(
        &self,
        id: CalendarId,
        span: TimeSpan,
    ) -> StoreResult<Vec<CalendarObject>> {
        self.read(move |conn| {
            // span_start < end uses the index; the span_end test filters what it found.
            query_objects(
                conn,
                &format!(
                    "SELECT {OBJECT_COLUMNS} FROM calendar_objects
                     WHERE calendar_id = ?1 AND data IS NOT NULL AND span_start < ?3 AND span_end > ?2
                     ORDER BY name"
                ),
                params![id.0, span.start, span.end],
            )
        })
        .await
    }

    async fn put_calendar_object(
        &self,
        id: CalendarId,
        name: &str,
        object: &NewCalendarObject,
        precondition: &Precondition,
        actor: PrincipalId,
    ) -> StoreResult<PutOutcome> {
        let (name, object, precondition) = (name.to_string(), object.clone(), precondition.clone());
        let etag = etag_of(&object.data);
        self.write(move |conn| {
            let current = current_etag(conn, id, &name)?;
            if !holds(&precondition, current.as_deref()) {
                return Ok(PutOutcome::PreconditionFailed);
            }
            let holder: Option<String> = conn
                .row(
                    "SELECT name FROM calendar_objects
                     WHERE calendar_id = ?1 AND uid = ?2 AND data IS NOT NULL AND name <> ?3",
                    params![id.0, object.uid, name],
                    |r| r.get(0),
                )
                .optional()
                .map_err(backend)?;
            if let Some(existing) = holder {
                return Ok(PutOutcome::UidConflict { existing });
            }
            let seq = bump(conn, id)?;
            conn.exec(
                "INSERT INTO calendar_objects
                     (calendar_id, name, uid, component, etag, data, modseq, modified, span_start, span_end)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                 ON CONFLICT (calendar_id, name) DO UPDATE SET uid = excluded.uid,
                     component = excluded.component, etag = excluded.etag, data = excluded.data,
                     modseq = excluded.modseq, modified = excluded.modified,
                     span_start = excluded.span_start, span_end = excluded.span_end",
                params![
                    id.0,
                    name,
                    object.uid,
                    object.component.ical_name(),
                    etag,
                    object.data,
                    seq,
                    now_unix(),
                    object.span.start,
                    object.span.end
                ],
            )
            .map_err(backend)?;
            let action = if current.is_some() { ActivityAction::Changed } else { ActivityAction::Created };
            record(conn, id, &name, &object.uid, actor, action)?;
            Ok(if current.is_some() { PutOutcome::Replaced { etag } } else { PutOutcome::Created { etag } })
        })
        .await
    }

    async fn delete_calendar_object(
        &self,
        id: CalendarId,
        name: &str,
        precondition: &Precondition,
        actor: PrincipalId,
    ) -> StoreResult<DeleteOutcome> {
        let (name, precondition) = (name.to_string(), precondition.clone());
        self.write(move |conn| {
            let Some(current) = current_etag(conn, id, &name)? else {
                return Ok(DeleteOutcome::NotFound);
            };
            if !holds(&precondition, Some(&current)) {
                return Ok(DeleteOutcome::PreconditionFailed);
            }
            let seq = bump(conn, id)?;
            let uid: String = conn
                .row(
                    "UPDATE calendar_objects SET data = NULL, modseq = ?3, modified = ?4
                     WHERE calendar_id = ?1 AND name = ?2 RETURNING uid",
                    params![id.0, name, seq, now_unix()],
                    |r| r.get(0),
                )
                .map_err(backend)?;
            record(conn, id, &name, &uid, actor, ActivityAction::Deleted)?;
            Ok(DeleteOutcome::Deleted)
        })
        .await
    }

    async fn calendar_changes(&self, id: CalendarId, since: u64) -> StoreResult<Vec<ObjectChange>> {
        self.read(move |conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT name, modseq, data IS NULL FROM calendar_objects
                     WHERE calendar_id = ?1 AND modseq > ?2 ORDER BY modseq",
                )
                .map_err(backend)?;
            let since = i64::try_from(since).unwrap_or(i64::MAX);
            let rows = stmt
                .query_map(params![id.0, since], |r| {
                    Ok(ObjectChange {
                        name: r.get(0)?,
                        modseq: r.get::<_, i64>(1)? as u64,
                        deleted: r.get(2)?,
                    })
                })
                .map_err(backend)?;
            rows.collect::<Result<_, _>>().map_err(backend)
        })
        .await
    }

    async fn calendar_activity(&self, id: CalendarId, limit: usize) -> StoreResult<Vec<CalendarActivity>> {
        self.read(move |conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT name, uid, actor_id, action, at FROM calendar_activity
                     WHERE calendar_id = ?1 ORDER BY id DESC LIMIT ?2",
                )
                .map_err(backend)?;
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            let rows = stmt
                .query_map(params![id.0, limit], |r| {
                    let action: String = r.get(3)?;
                    Ok(CalendarActivity {
                        calendar: id,
                        name: r.get(0)?,
                        uid: r.get(1)?,
                        actor: PrincipalId(r.get(2)?),
                        action: ActivityAction::parse(&action).unwrap_or(ActivityAction::Changed),
                        at: r.get(4)?,
                    })
                })
                .map_err(backend)?;
            rows.collect::<Result<_, _>>().map_err(backend)
        })
        .await
    }
}
