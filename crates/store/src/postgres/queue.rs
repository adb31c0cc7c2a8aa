//! The outbound queue on PostgreSQL, and the claims of messages that go out once.

#[allow(unused_imports)]
use mailroom_core::mail::*;
#[allow(unused_imports)]
use mailroom_core::store::*;
#[allow(unused_imports)]
use mailroom_types::*;

use super::PgStore;

pub(super) async fn queued(store: &PgStore, due_by: Option<i64>) -> StoreResult<Vec<QueueEntry>> {
    todo!()
}

pub(super) async fn queue_retry(store: &PgStore, id: i64, next_attempt: i64, error: &str, delay_notified: bool) -> StoreResult<()> {
    todo!()
}

pub(super) async fn queue_due_now(store: &PgStore, id: i64) -> StoreResult<bool> {
    todo!()
}

pub(super) async fn queue_remove(store: &PgStore, id: i64) -> StoreResult<bool> {
    todo!()
}

pub(super) async fn claimed(store: &PgStore, claim: &Claim) -> StoreResult<bool> {
    todo!()
}
