//! Runs the store conformance suite against PostgreSQL: the database named
//! by `MAILROOM_TEST_PG` (`postgres://user@host:port/database`), each test
//! in a schema of its own, dropped afterwards.
//!
//! Without the variable the tests say so loudly and pass — on a developer's
//! machine only: under CI (`CI` set) a missing database fails them.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod conformance;

use std::sync::Arc;

use mailroom_core::change::ChangeFeed;
use mailroom_core::store::Store;
use mailroom_store::scratch::ScratchSchema;
use mailroom_store::{PgFeed, PgStore};

async fn open(schema: &ScratchSchema) -> PgStore {
    PgStore::connect(&schema.url(), schema.name()).await.expect("connect to the test database")
}

/// A fresh store in a schema of its own (dropped with the guard).
async fn fresh() -> Option<(ScratchSchema, Arc<dyn Store>)> {
    let schema = ScratchSchema::create()?;
    let store = open(&schema).await;
    Some((schema, Arc::new(store)))
}

/// A fresh store, a second one on the same schema (another node) and the
/// change feed over the first.
async fn fresh_feed() -> Option<(ScratchSchema, conformance::changes::Backend)> {
    let schema = ScratchSchema::create()?;
    let store = open(&schema).await;
    let other_node = open(&schema).await;
    let feed = PgFeed::start(&store).await.expect("feed");
    let for_new = store.clone();
    let backend = conformance::changes::Backend {
        store: Arc::new(store),
        other_process: Arc::new(other_node),
        feed: Arc::new(feed),
        new_feed: Box::new(move || {
            let store = for_new.clone();
            let feed = tokio::task::block_in_place(|| {
                tokio::runtime::Handle::current().block_on(async move { PgFeed::start(&store).await })
            });
            Arc::new(feed.expect("feed")) as Arc<dyn ChangeFeed>
        }),
    };
    Some((schema, backend))
}

conformance::suite!(fresh, fresh_feed);

/// IMAP SEARCH BODY/TEXT get their trigram index where pg_trgm can be had
/// (it can on the test server); opening the store again finds it made.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn body_searches_get_a_trigram_index() {
    let Some(schema) = ScratchSchema::create() else { return };
    let _first = open(&schema).await;
    let _again = open(&schema).await;
    let (client, connection) = tokio_postgres::connect(&schema.url(), tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    let found: Option<String> =
        client.query_one("SELECT to_regclass('message_text_body')::TEXT", &[]).await.unwrap().get(0);
    assert_eq!(found.as_deref(), Some("message_text_body"));
}
