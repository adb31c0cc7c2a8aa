//! Runs the store conformance suite against PostgreSQL: the database named
//! by `MAILROOM_TEST_PG` (`postgres://user@host:port/database`), each test
//! in a schema of its own, dropped afterwards.
//!
//! Without the variable the tests say so loudly and pass — on a developer's
//! machine only: under CI (`CI` set) a missing database fails them.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod conformance;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use mailroom_core::change::ChangeFeed;
use mailroom_core::store::Store;
use mailroom_store::{PgFeed, PgStore};

/// A schema of its own for one test; dropped with the guard.
struct Schema {
    base_url: String,
    name: String,
}

impl Schema {
    /// The store URL that works in this schema (and finds extensions in `public`).
    fn url(&self) -> String {
        let joiner = if self.base_url.contains('?') { '&' } else { '?' };
        format!("{}{joiner}options=-csearch_path%3D{}%2Cpublic", self.base_url, self.name)
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        let (url, name) = (self.base_url.clone(), self.name.clone());
        // Drop can't await; a thread with a runtime of its own can.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async move {
                let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await?;
                tokio::spawn(connection);
                client.batch_execute(&format!("DROP SCHEMA IF EXISTS {name} CASCADE")).await
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop the test schema {}: {dropped:?}", self.name);
        }
    }
}

/// The test database, or `None` (said loudly) when none is configured
/// outside CI.
fn test_database() -> Option<String> {
    match std::env::var("MAILROOM_TEST_PG") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => {
            panic!(
                "MAILROOM_TEST_PG is not set: CI must test the PostgreSQL store (e.g. postgres://postgres@127.0.0.1:5432/test)"
            )
        }
        _ => {
            eprintln!("SKIPPED: MAILROOM_TEST_PG is not set; the PostgreSQL store was NOT tested");
            None
        }
    }
}

async fn new_schema() -> Option<Schema> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let base_url = test_database()?;
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    let name = format!("mr_test_{}_{}_{nanos}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
    let (client, connection) = tokio_postgres::connect(&base_url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    client.batch_execute(&format!("CREATE SCHEMA {name}")).await.unwrap();
    Some(Schema { base_url, name })
}

async fn open(schema: &Schema) -> PgStore {
    PgStore::connect(&schema.url(), &schema.name).await.expect("connect to the test database")
}

/// A fresh store in a schema of its own (dropped with the guard).
async fn fresh() -> Option<(Schema, Arc<dyn Store>)> {
    let schema = new_schema().await?;
    let store = open(&schema).await;
    Some((schema, Arc::new(store)))
}

/// A fresh store, a second one on the same schema (another node) and the
/// change feed over the first.
async fn fresh_feed() -> Option<(Schema, conformance::changes::Backend)> {
    let schema = new_schema().await?;
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
