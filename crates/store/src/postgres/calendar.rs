//! [`CalendarStore`] on PostgreSQL.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
#[allow(unused_imports)]
use mailroom_core::calendar::*;
#[allow(unused_imports)]
use mailroom_core::directory::model::*;
#[allow(unused_imports)]
use mailroom_core::directory::{DkimKey, NewDkimKey};
#[allow(unused_imports)]
use mailroom_core::mail::*;
#[allow(unused_imports)]
use mailroom_core::permissions::{PermissionEntry, Right};
#[allow(unused_imports)]
use mailroom_core::store::*;
#[allow(unused_imports)]
use mailroom_types::*;
use std::collections::BTreeSet;

use super::{PgStore, exec, now_unix};

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

#[async_trait]
impl CalendarStore for PgStore {
    async fn calendars(&self, mailbox: MailboxId) -> StoreResult<Vec<Calendar>> {
        todo!()
    }
    async fn calendar(&self, mailbox: MailboxId, slug: &str) -> StoreResult<Option<Calendar>> {
        todo!()
    }
    async fn create_calendar(&self, mailbox: MailboxId, slug: &str, display_name: &str, props: &CalendarProps) -> StoreResult<Calendar> {
        todo!()
    }
    async fn update_calendar(&self, id: CalendarId, props: &CalendarProps) -> StoreResult<Calendar> {
        todo!()
    }
    async fn delete_calendar(&self, id: CalendarId) -> StoreResult<()> {
        todo!()
    }
    async fn calendar_object(&self, id: CalendarId, name: &str) -> StoreResult<Option<CalendarObject>> {
        todo!()
    }
    async fn calendar_objects(&self, id: CalendarId) -> StoreResult<Vec<CalendarObject>> {
        todo!()
    }
    async fn calendar_objects_named(&self, id: CalendarId, names: &[String]) -> StoreResult<Vec<CalendarObject>> {
        todo!()
    }
    async fn calendar_objects_overlapping(&self, id: CalendarId, span: TimeSpan) -> StoreResult<Vec<CalendarObject>> {
        todo!()
    }
    async fn put_calendar_object(&self, id: CalendarId, name: &str, object: &NewCalendarObject, precondition: &Precondition, actor: PrincipalId) -> StoreResult<PutOutcome> {
        todo!()
    }
    async fn delete_calendar_object(&self, id: CalendarId, name: &str, precondition: &Precondition, actor: PrincipalId) -> StoreResult<DeleteOutcome> {
        todo!()
    }
    async fn calendar_changes(&self, id: CalendarId, since: u64) -> StoreResult<Vec<ObjectChange>> {
        todo!()
    }
    async fn calendar_activity(&self, id: CalendarId, limit: usize) -> StoreResult<Vec<CalendarActivity>> {
        todo!()
    }
}
