//! The change feed on PostgreSQL: the change log table, woken by LISTEN/NOTIFY.

use async_trait::async_trait;
use mailroom_core::change::{ChangeFeed, FeedRead};
use mailroom_core::store::StoreResult;

/// The change feed of a [`super::PgStore`].
#[derive(Debug)]
pub struct PgFeed {}

impl PgFeed {
    /// Starts listening over `store`.
    pub async fn start(_store: &super::PgStore) -> StoreResult<PgFeed> {
        todo!()
    }
}

#[async_trait]
impl ChangeFeed for PgFeed {
    fn head(&self) -> u64 {
        todo!()
    }
    async fn read_after(&self, _after: u64) -> StoreResult<FeedRead> {
        todo!()
    }
    async fn wait_after(&self, _after: u64) {
        todo!()
    }
    async fn refresh(&self) -> StoreResult<u64> {
        todo!()
    }
    async fn prune(&self, _before: i64) -> StoreResult<usize> {
        todo!()
    }
}
