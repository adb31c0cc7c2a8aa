//! The PostgreSQL store: several Mailroom nodes on one database.
//!
//! The same tables as the embedded store (`migrations/`), the same change
//! log written by triggers in the transaction of each change, and message
//! bodies in the database too (`blob_chunks`), so a node keeps nothing of
//! its own that another node needs.
//!
//! **Writes are serialized per store.** Every write transaction first takes
//! one transaction-scoped advisory lock (keyed by the schema, so two
//! organisations in two schemas of one database don't wait for each other).
//! That is what makes the change log's sequence numbers commit in order —
//! a feed that has read `seq` has seen every change before it, on every
//! node — and it makes UIDs and MODSEQs strictly increasing per folder
//! whichever node writes. Uniqueness is still the database's: the unique
//! constraints of the schema are the last word (a write that breaks one
//! fails whole, as any error does). The cost is that writes don't overlap,
//! as with the SQLite store's one writer — a large body's chunks are
//! written under the lock too, for now.
//!
//! Reads that take several statements run in one `REPEATABLE READ`
//! transaction, so they never see half of a change.

mod activity;
mod calendar;
mod cluster;
mod directory;
mod feed;
mod mail;
mod message_ops;
mod migrations;
mod queue;
mod sign_in_pressure;
mod text;
mod web_sessions;

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use deadpool_postgres::{GenericClient, Manager, ManagerConfig, Pool, RecyclingMethod};
use mailroom_core::store::{StoreError, StoreResult};
use tokio_postgres::types::ToSql;
use tokio_postgres::{IsolationLevel, Row};

pub use feed::PgFeed;

/// The size of the pieces bodies are kept in (`blob_chunks`), for the
/// copy from the embedded store (`crate::migrate`).
pub(crate) const BODY_CHUNK: usize = mail::CHUNK;

/// Connections a node keeps to the database at most (its feed and its
/// heartbeat have one more each, and the feed's LISTEN one more).
const POOL_SIZE: usize = 16;
/// How long a call waits for a pooled connection before failing.
const POOL_WAIT: std::time::Duration = std::time::Duration::from_secs(30);
/// How long a transaction may sit idle (its client silent) before the
/// server ends it, in milliseconds.
const IDLE_IN_TRANSACTION_MS: u32 = 60_000;
/// How long connecting to the database may take.
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Why the PostgreSQL store couldn't be opened.
#[derive(Debug, thiserror::Error)]
pub enum PgOpenError {
    #[error("the store URL isn't a PostgreSQL connection string: {0}")]
    Url(String),
    #[error("could not reach the database: {0}")]
    Connect(String),
    #[error("could not migrate the database: {0}")]
    Migrate(String),
}

/// Mailroom's store on PostgreSQL. Cheap to clone; clones share the pool.
#[derive(Clone)]
pub struct PgStore {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Pool,
    /// Where the database is, for messages (no password).
    shown: String,
    /// How to connect, for the change feed's own listening connection.
    config: tokio_postgres::Config,
    tls: tokio_postgres_rustls::MakeRustlsConnect,
    /// Store calls so far (each a round trip or a transaction).
    calls: AtomicU64,
    /// Parsed summaries by body ([`crate::summary_cache`]).
    summaries: crate::summary_cache::SummaryCache,
    /// This process's change feeds over the store, told of each commit
    /// ([`PgStore::committed`]).
    feeds: std::sync::Mutex<Vec<std::sync::Weak<feed::State>>>,
    /// The heartbeat's own connection (a pool of one): a node whose writers
    /// hold every pooled connection must still beat, or the other nodes
    /// take it for dead and send what it is sending.
    beats: Pool,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore").field("database", &self.inner.shown).finish()
    }
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://user:password@host/db`,
    /// with `sslmode=require` for TLS; `options=-c search_path=…` picks a
    /// schema) and migrates it. `shown` names it in messages (no password).
    pub async fn connect(url: &str, shown: &str) -> Result<PgStore, PgOpenError> {
        let (config, tls) = settings(url)?;
        let mut client = dedicated(&config, &tls).await?;
        migrations::migrate(&mut client).await.map_err(|e| PgOpenError::Migrate(e.to_string()))?;
        PgStore::with_pool(config, tls, shown)
    }

    /// [`Self::connect`] for callers that aren't asynchronous (opening the
    /// store for the admin CLI): the migration runs on a thread of its own,
    /// and no connection outlives it — the pool connects when first used.
    pub fn connect_blocking(url: &str, shown: &str) -> Result<PgStore, PgOpenError> {
        let (config, tls) = settings(url)?;
        let (for_thread, tls_for_thread) = (config.clone(), tls.clone());
        on_own_runtime(async move {
            let mut client = dedicated(&for_thread, &tls_for_thread).await?;
            migrations::migrate(&mut client).await.map_err(|e| PgOpenError::Migrate(e.to_string()))?;
            Ok(())
        })?;
        PgStore::with_pool(config, tls, shown)
    }

    /// Whether the database at `url` holds Mailroom's tables (was
    /// initialized by some node), without changing it.
    pub fn initialized_blocking(url: &str) -> Result<bool, PgOpenError> {
        let (config, tls) = settings(url)?;
        on_own_runtime(async move {
            let client = dedicated(&config, &tls).await?;
            migrations::initialized(&client).await.map_err(|e| PgOpenError::Connect(e.to_string()))
        })
    }

    fn with_pool(
        config: tokio_postgres::Config,
        tls: tokio_postgres_rustls::MakeRustlsConnect,
        shown: &str,
    ) -> Result<PgStore, PgOpenError> {
        let pool = pool(&config, &tls, POOL_SIZE).map_err(|e| PgOpenError::Connect(e.to_string()))?;
        let beats = pool_of_one(&config, &tls)?;
        Ok(PgStore {
            inner: Arc::new(Inner {
                pool,
                shown: shown.to_string(),
                config,
                tls,
                calls: AtomicU64::new(0),
                summaries: crate::summary_cache::SummaryCache::default(),
                feeds: std::sync::Mutex::new(Vec::new()),
                beats,
            }),
        })
    }

    /// Commits a write transaction, then has this process's feeds read what
    /// it logged before the writer is answered: whoever wrote finds the
    /// change in the feed when its write returns, as on SQLite (a session's
    /// next command reports its own APPEND). Other nodes hear it by
    /// notification.
    async fn committed(&self, tx: deadpool_postgres::Transaction<'_>) -> StoreResult<()> {
        tx.commit().await.map_err(backend)?;
        let feeds: Vec<Arc<feed::State>> = {
            let mut feeds = self.inner.feeds.lock().unwrap_or_else(|p| p.into_inner());
            feeds.retain(|feed| feed.strong_count() > 0);
            feeds.iter().filter_map(std::sync::Weak::upgrade).collect()
        };
        for feed in feeds {
            // The write stands whatever happens here; the feed's listener
            // reads the change at its notification.
            if let Err(err) = feed.load_new().await {
                tracing::warn!(error = %err, "change feed: a commit's changes could not be read at once");
            }
            feed.wake();
        }
        Ok(())
    }

    /// Store calls so far, for the benchmarks' "store calls per command".
    pub fn calls(&self) -> u64 {
        self.inner.calls.load(Ordering::Relaxed)
    }

    /// A pooled connection.
    async fn client(&self) -> StoreResult<deadpool_postgres::Object> {
        self.inner.calls.fetch_add(1, Ordering::Relaxed);
        self.inner.pool.get().await.map_err(|e| StoreError::Backend(Box::new(e)))
    }
}

/// A pool of at most `size` connections to the database.
fn pool(
    config: &tokio_postgres::Config,
    tls: &tokio_postgres_rustls::MakeRustlsConnect,
    size: usize,
) -> Result<Pool, deadpool_postgres::BuildError> {
    let manager = Manager::from_config(
        config.clone(),
        tls.clone(),
        ManagerConfig { recycling_method: RecyclingMethod::Fast },
    );
    Pool::builder(manager)
        .max_size(size)
        .runtime(deadpool_postgres::Runtime::Tokio1)
        // A caller waits this long for a connection, or is told the store
        // is unavailable, instead of hanging with whatever it holds.
        .wait_timeout(Some(POOL_WAIT))
        .create_timeout(Some(CONNECT_TIMEOUT))
        .build()
}

/// A pool of one connection, for a task that must not wait for the others.
fn pool_of_one(
    config: &tokio_postgres::Config,
    tls: &tokio_postgres_rustls::MakeRustlsConnect,
) -> Result<Pool, PgOpenError> {
    pool(config, tls, 1).map_err(|e| PgOpenError::Connect(e.to_string()))
}

/// How to reach the database `url` names.
pub(crate) fn settings(
    url: &str,
) -> Result<(tokio_postgres::Config, tokio_postgres_rustls::MakeRustlsConnect), PgOpenError> {
    let mut config = tokio_postgres::Config::from_str(url).map_err(|e| PgOpenError::Url(e.to_string()))?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    // A node that stops mid-transaction (frozen, cut off) would otherwise
    // hold the write lock, and every node's writes, until TCP gives up on
    // it: the server ends such a transaction after a minute of silence.
    let options = match config.get_options() {
        Some(given) if given.contains("idle_in_transaction_session_timeout") => given.to_string(),
        Some(given) => format!("{given} -c idle_in_transaction_session_timeout={IDLE_IN_TRANSACTION_MS}"),
        None => format!("-c idle_in_transaction_session_timeout={IDLE_IN_TRANSACTION_MS}"),
    };
    config.options(&options);
    if !url.contains("sslmode=") && only_loopback(&config) {
        // Nothing on the wire to protect, and a local server's certificate
        // is usually self-signed (Debian's snakeoil).
        config.ssl_mode(tokio_postgres::config::SslMode::Disable);
    }
    Ok((config, tls_connector()))
}

/// A connection outside the pool (migrations, the feed's LISTEN), its
/// connection task spawned on the current runtime.
pub(crate) async fn dedicated(
    config: &tokio_postgres::Config,
    tls: &tokio_postgres_rustls::MakeRustlsConnect,
) -> Result<tokio_postgres::Client, PgOpenError> {
    let (client, connection) = config.connect(tls.clone()).await.map_err(|e| {
        let mut text = describe(&e);
        if text.contains("TLS") || text.contains("certificate") {
            text.push_str(
                " (the server's certificate must chain to a public root; on a trusted network add sslmode=disable to the URL)",
            );
        }
        PgOpenError::Connect(text)
    })?;
    tokio::spawn(async move {
        if let Err(err) = connection.await {
            tracing::debug!(error = %err, "a connection to the database ended");
        }
    });
    Ok(client)
}

/// Runs `work` to its end on a thread with a runtime of its own (a caller
/// inside a runtime can't block on one).
fn on_own_runtime<T: Send + 'static>(
    work: impl std::future::Future<Output = Result<T, PgOpenError>> + Send + 'static,
) -> Result<T, PgOpenError> {
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| PgOpenError::Connect(e.to_string()))?;
        runtime.block_on(work)
    })
    .join()
    .unwrap_or_else(|_| Err(PgOpenError::Connect("the connecting thread failed".into())))
}

/// Whether every host of `config` is this machine (a loopback address,
/// `localhost` or a Unix socket).
fn only_loopback(config: &tokio_postgres::Config) -> bool {
    use tokio_postgres::config::Host;
    !config.get_hosts().is_empty()
        && config.get_hosts().iter().all(|host| match host {
            Host::Tcp(name) => {
                name == "localhost" || name.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
            }
            Host::Unix(_) => true,
        })
}

/// TLS to the database with the web's root certificates (`sslmode=require`
/// or `prefer` in the URL decides whether it is used).
fn tls_connector() -> tokio_postgres_rustls::MakeRustlsConnect {
    let roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    let config =
        rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map(|builder| builder.with_root_certificates(roots).with_no_client_auth());
    match config {
        Ok(config) => tokio_postgres_rustls::MakeRustlsConnect::new(config),
        // ring supports the default versions; this is unreachable in practice.
        Err(err) => panic!("TLS configuration: {err}"),
    }
}

/// Starts a write transaction: takes the store's write lock (see the module
/// documentation) before anything else, so writers never deadlock on it.
async fn begin_write(
    client: &mut deadpool_postgres::Object,
) -> StoreResult<deadpool_postgres::Transaction<'_>> {
    let tx = client.transaction().await.map_err(backend)?;
    let lock = tx
        .prepare_cached("SELECT pg_advisory_xact_lock(hashtext(current_schema()))")
        .await
        .map_err(backend)?;
    tx.execute(&lock, &[]).await.map_err(backend)?;
    Ok(tx)
}

/// Starts a read of several statements that sees one snapshot.
async fn begin_read(
    client: &mut deadpool_postgres::Object,
) -> StoreResult<deadpool_postgres::Transaction<'_>> {
    client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await
        .map_err(backend)
}

/// Parameters of a statement.
type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// The rows of a statement, prepared once per connection.
async fn rows<C: GenericClient>(client: &C, sql: &str, params: Params<'_>) -> StoreResult<Vec<Row>> {
    let statement = client.prepare_cached(sql).await.map_err(backend)?;
    client.query(&statement, params).await.map_err(backend)
}

/// The one row of a statement, or `None`.
async fn row_opt<C: GenericClient>(client: &C, sql: &str, params: Params<'_>) -> StoreResult<Option<Row>> {
    let statement = client.prepare_cached(sql).await.map_err(backend)?;
    client.query_opt(&statement, params).await.map_err(backend)
}

/// The one row of a statement (an error when there is none).
async fn row<C: GenericClient>(client: &C, sql: &str, params: Params<'_>) -> StoreResult<Row> {
    let statement = client.prepare_cached(sql).await.map_err(backend)?;
    client.query_one(&statement, params).await.map_err(backend)
}

/// Runs a statement; how many rows it touched.
async fn exec<C: GenericClient>(client: &C, sql: &str, params: Params<'_>) -> StoreResult<u64> {
    let statement = client.prepare_cached(sql).await.map_err(backend)?;
    client.execute(&statement, params).await.map_err(backend)
}

fn backend(err: tokio_postgres::Error) -> StoreError {
    StoreError::Backend(describe(&err).into())
}

/// An error as people need it: tokio-postgres says only "db error" for
/// what the server refused; the server's own message and code say why.
pub(crate) fn describe(err: &tokio_postgres::Error) -> String {
    match err.as_db_error() {
        Some(db) => format!("{} ({}: {})", db.message(), db.severity(), db.code().code()),
        None => err.to_string(),
    }
}

fn now_unix() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use tokio_postgres::config::SslMode;

    /// The URL's own options stay, idle transactions are bounded, and only
    /// a loopback URL without `sslmode` goes without TLS.
    #[test]
    fn settings_keep_the_url_and_add_the_safeguards() {
        let (config, _) = settings("postgres://mail@db.example/mail?options=-csearch_path%3Dorg").unwrap();
        let options = config.get_options().unwrap();
        assert!(options.contains("search_path=org"), "{options}");
        assert!(options.contains("idle_in_transaction_session_timeout=60000"), "{options}");
        assert_eq!(config.get_ssl_mode(), SslMode::Prefer);
        assert_eq!(config.get_connect_timeout(), Some(&CONNECT_TIMEOUT));
        let (local, _) = settings("postgres://mail@127.0.0.1/mail").unwrap();
        assert_eq!(local.get_ssl_mode(), SslMode::Disable);
        let (asked, _) = settings("postgres://mail@127.0.0.1/mail?sslmode=require").unwrap();
        assert_eq!(asked.get_ssl_mode(), SslMode::Require);
        assert!(matches!(settings("mysql://x"), Err(PgOpenError::Url(_))));
    }
}
