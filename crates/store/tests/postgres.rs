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

/// The shared sign-in throttle's record: attempts on a key under pressure
/// get slots a gap apart however many ask at once, from two nodes; a
/// refusal creates no record; quiet records are pruned.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_pressure_queues_attempts_from_every_node() {
    use mailroom_core::store::SignInPressureStore;
    use std::time::Duration;
    let Some(schema) = ScratchSchema::create() else { return };
    let (a, b) = (open(&schema).await, open(&schema).await);
    let key = vec!["ip:198.51.100.1".to_string()];
    for _ in 0..5 {
        a.record_sign_in(&key, &[], &[]).await.unwrap();
    }
    // Twelve attempts at once, half through each node.
    let mut tasks = Vec::new();
    for n in 0..12 {
        let (node, key) = (if n % 2 == 0 { a.clone() } else { b.clone() }, key.clone());
        tasks.push(tokio::spawn(async move { node.admit_sign_in(&key).await.unwrap() }));
    }
    let mut waits = Vec::new();
    for task in tasks {
        let placed = task.await.unwrap();
        assert!(placed.recorded);
        waits.push(placed.wait.expect("a slot within the queue"));
    }
    waits.sort();
    assert!(waits[0] < Duration::from_millis(500), "{waits:?}");
    for pair in waits.windows(2) {
        assert!(pair[1] - pair[0] >= Duration::from_millis(900), "slots a second apart: {waits:?}");
    }

    // A refusal counts only where there is a record already.
    let stranger = vec!["ip:203.0.113.9".to_string()];
    a.record_sign_in(&[], &stranger, &[]).await.unwrap();
    assert!(!b.admit_sign_in(&stranger).await.unwrap().recorded);

    // Quiet for the window: pruned, and the key is free again.
    let (client, connection) = tokio_postgres::connect(&schema.url(), tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    client
        .execute(
            "UPDATE sign_in_pressure SET last_failure = last_failure - 3600000, last_start = last_start - 3600000",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(a.prune_sign_in_pressure().await.unwrap(), 1);
    let again = b.admit_sign_in(&key).await.unwrap();
    assert_eq!((again.wait, again.recorded), (Some(Duration::ZERO), false));
}
