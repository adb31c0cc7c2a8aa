//! Text search on PostgreSQL: the web app's word-prefix search and IMAP's
//! substring search of bodies, and the indexer's queue of bodies to index.

#[allow(unused_imports)]
use mailroom_core::mail::*;
#[allow(unused_imports)]
use mailroom_core::store::*;
#[allow(unused_imports)]
use mailroom_types::*;

use super::PgStore;

pub(super) async fn search_text(store: &PgStore, folder: FolderId, query: &TextQuery, max_hits: usize, max_unindexed: usize) -> StoreResult<TextHits> {
    todo!()
}

pub(super) async fn search_body(store: &PgStore, folder: FolderId, needle: &str) -> StoreResult<BodyHits> {
    todo!()
}

pub(super) async fn requeue_text(store: &PgStore) -> StoreResult<u64> {
    todo!()
}

pub(super) async fn pending_text(store: &PgStore, limit: usize, max_bytes: usize) -> StoreResult<Vec<PendingText>> {
    todo!()
}

pub(super) async fn store_text(store: &PgStore, texts: Vec<(i64, MessageText)>) -> StoreResult<()> {
    todo!()
}

pub(super) async fn text_backlog(store: &PgStore) -> StoreResult<u64> {
    todo!()
}
