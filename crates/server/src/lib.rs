//! The composition root (DESIGN.md): reads the configuration, opens the
//! store and its change feed, builds TLS, binds the listeners and runs the
//! protocol services until shutdown.
//!
//! Shutdown is graceful (DESIGN.md rule 6): listeners stop accepting, every
//! session is told (`421` in SMTP) at its next command, and sessions get a
//! grace period to finish a transfer in progress. Nothing acknowledged can be
//! lost by cutting them off after it: acknowledgement follows durability.

pub mod config;
mod heartbeat;
pub mod http;
mod indexer;

pub use indexer::reindex_all;
pub mod tls;

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use mailroom_core::Directory;
use mailroom_core::change::ChangeFeed;
use mailroom_core::mail::Mail;
use mailroom_core::store::Store;
use mailroom_dav::{Dav, DavConfig};
use mailroom_imap::Imap;
use mailroom_smtp::{Inbound, InboundConfig, Role as SmtpRole};
use mailroom_store::{Backend, SqliteStore};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;

pub use config::{CONFIG_FILE, Config, ListenOverrides, Listener};
pub use mailroom_store::{MigrateOptions, MigrateReport, StoreLocation, migrate_to_postgres};

/// How long orphaned message bodies are kept before the sweep removes them,
/// and how often it runs.
const BLOB_GRACE: Duration = Duration::from_secs(3600);
const SWEEP_EVERY: Duration = Duration::from_secs(3600);
/// How long the change log keeps a change: far longer than any session or
/// process needs to catch up (one that is further behind resynchronises).
const CHANGES_KEPT: Duration = Duration::from_secs(24 * 3600);

/// A started server: its bound addresses and the handles to stop it.
#[derive(Debug)]
pub struct Running {
    /// Every bound listener, in [`Listener::ALL`] order.
    pub listeners: Vec<(Listener, SocketAddr)>,
    shutdown: watch::Sender<bool>,
    accept_loops: Vec<JoinHandle<()>>,
    limits: Vec<(Arc<Semaphore>, u32)>,
    background: Vec<JoinHandle<()>>,
    feed: Arc<dyn ChangeFeed>,
    backend: Backend,
}

/// Opens the store `config` names for `data_dir` (creating and migrating
/// it if needed) and the mail service over it: the one factory behind
/// `serve`, the admin CLI and the tests.
pub fn open_mail(data_dir: &Path, config: &Config) -> Result<Mail> {
    Ok(open_services(data_dir, config)?.0)
}

/// [`open_mail`], and the calendar service over the same store.
pub fn open_services(data_dir: &Path, config: &Config) -> Result<(Mail, mailroom_core::calendar::Calendars)> {
    let location = config.store_location(data_dir)?;
    let store = Backend::open(&location)
        .with_context(|| format!("could not open the store of {}", data_dir.display()))?
        .store();
    let directory = Directory::new(store.clone()).with_credential_memory(config.sign_in.remember());
    let calendars = mailroom_core::calendar::Calendars::new(directory.clone(), store.clone());
    Ok((Mail::new(directory, store), calendars))
}

/// Where clients reach this server by its configuration: `[server]
/// hostname` and the configured port of each listener that is on (what
/// `mailroom domain dns` publishes).
pub fn client_settings(config: &Config) -> Result<mailroom_http::ClientSettings> {
    let port = |which: Listener| -> Result<Option<u16>> { Ok(config.listen_addr(which)?.map(|a| a.port())) };
    Ok(mailroom_http::ClientSettings {
        hostname: config.hostname(),
        imap: port(Listener::Imap)?,
        imaps: port(Listener::Imaps)?,
        submission: port(Listener::Submission)?,
        submissions: port(Listener::Submissions)?,
        http: port(Listener::Http)?,
        https: port(Listener::Https)?,
    })
}

/// The nodes on the store `config` names for `data_dir` (`mailroom status`).
pub fn open_cluster(data_dir: &Path, config: &Config) -> Result<mailroom_core::cluster::Cluster> {
    let location = config.store_location(data_dir)?;
    let store = Backend::open(&location)
        .with_context(|| format!("could not open the store of {}", data_dir.display()))?
        .store();
    Ok(mailroom_core::cluster::Cluster::new(store))
}

/// Whether the store `config` names for `data_dir` holds data (was initialized).
pub fn store_exists(data_dir: &Path, config: &Config) -> Result<bool> {
    Ok(config.store_location(data_dir)?.exists()?)
}

/// Opens the data directory and binds every configured listener. Returns
/// once all of them accept connections.
pub async fn start(data_dir: &Path, config: Config) -> Result<Running> {
    let location = config.store_location(data_dir)?;
    if !location.exists()? {
        bail!(
            "there is no Mailroom data in {}: run 'mailroom init --domain example.com' (or 'mailroom quickstart') first, or point --data / MAILROOM_DATA at your data directory",
            data_dir.display()
        );
    }
    // Validate every listener address before binding any.
    let mut wanted = Vec::new();
    for listener in Listener::ALL {
        if let Some(addr) = config.listen_addr(listener)? {
            wanted.push((listener, addr));
        }
    }
    if wanted.is_empty() {
        bail!("every listener is off: enable at least one (e.g. --smtp-listen 127.0.0.1:2525)");
    }
    let mut inbound_config = config.inbound()?;
    // One budget for message data in transfer, every SMTP and IMAP listener's.
    let budget = mailroom_core::budget::MemoryBudget::new(config.message_memory());
    let backend = Backend::open(&location)?;
    let store = backend.store();
    inbound_config.srs_secret = mailroom_types::Secret::new(srs_secret(&*store, data_dir).await?);
    // One resolver (and its cache) for everything that looks names up.
    let dns = Arc::new(config.dns()?);
    inbound_config.authentication = config.authentication(dns.clone())?;
    let mut outbound_config = config.outbound()?;
    outbound_config.dns = Some(dns.clone());
    let hostname = config.hostname();
    // Every process's changes (the admin CLI's too), as they commit.
    let feed = backend.feed().await.context("could not read the change log")?;
    let directory = Directory::new(store.clone())
        .with_credential_memory(config.sign_in.remember())
        .with_scram_decoy_key(inbound_config.srs_secret.expose());
    let calendars = mailroom_core::calendar::Calendars::new(directory.clone(), store.clone());
    let mail = Mail::new(directory, store.clone());
    let dav =
        Dav::new(calendars.clone(), DavConfig { allow_plaintext_auth: config.http.allow_plaintext_auth });
    let tls = tls::acceptor(&config.tls, data_dir, &hostname)?;
    let imap_config = config.imap_config()?;
    let mut imap_service: Option<Arc<Imap>> = None;
    let (shutdown, shutdown_rx) = watch::channel(false);

    let mut running = Running {
        listeners: Vec::new(),
        shutdown,
        accept_loops: Vec::new(),
        limits: Vec::new(),
        background: Vec::new(),
        feed: feed.clone(),
        backend: backend.clone(),
    };
    // Bind every listener first: the self-configuration answers name the
    // ports actually bound (`:0` in tests), whichever listener serves them.
    let mut bound = Vec::new();
    for (listener, addr) in wanted {
        let tcp = TcpListener::bind(addr).await.map_err(|err| bind_error(listener, addr, err))?;
        let local = tcp.local_addr()?;
        let (total, per_ip) = match listener {
            Listener::Imap | Listener::Imaps => {
                (config.imap.max_connections, config.imap.max_connections_per_ip)
            }
            Listener::Http | Listener::Https => {
                (config.http.max_connections, config.http.max_connections_per_ip)
            }
            _ => (config.smtp.max_connections, config.smtp.max_connections_per_ip),
        };
        let max = u32::try_from(total.max(1)).unwrap_or(u32::MAX);
        let limit = ConnectionLimit::new(max as usize, per_ip.max(1));
        bound.push((listener, tcp, local, limit, max));
    }
    let port = |which: Listener| bound.iter().find(|b| b.0 == which).map(|b| b.2.port());
    let client = mailroom_http::ClientSettings {
        hostname: hostname.clone(),
        imap: port(Listener::Imap),
        imaps: port(Listener::Imaps),
        submission: port(Listener::Submission),
        submissions: port(Listener::Submissions),
        http: port(Listener::Http),
        https: port(Listener::Https),
    };
    let search = Arc::new(indexer::IndexerStats::default());
    let metrics = Arc::new(ServerMetrics {
        mail: mail.clone(),
        search: search.clone(),
        listeners: bound.iter().map(|b| (b.0, b.3.total.clone(), b.4)).collect(),
    });
    let web = mailroom_http::Web::new(
        mail.clone(),
        mailroom_http::WebConfig {
            client,
            allow_plaintext_auth: config.http.allow_plaintext_auth,
            srs_secret: Some(inbound_config.srs_secret.clone()),
            max_recipients: inbound_config.max_recipients,
            max_message_size: inbound_config.max_message_size,
            dns: Some(dns.clone()),
        },
        metrics,
    )
    .with_changes(feed.clone(), shutdown_rx.clone())
    .with_calendars(calendars);
    let http_services = http::Services { dav, web, budget: budget.clone() };
    for (listener, tcp, local, limit, max) in bound {
        let handle = match listener {
            Listener::Smtp | Listener::Submission | Listener::Submissions => {
                let role = if listener == Listener::Smtp { SmtpRole::Inbound } else { SmtpRole::Submission };
                let implicit = listener == Listener::Submissions;
                let inbound = Inbound::new(
                    mail.clone(),
                    InboundConfig { role, ..inbound_config.clone() },
                    budget.clone(),
                    // STARTTLS needs the acceptor; a connection already in TLS doesn't.
                    (!implicit).then(|| tls.clone()),
                    shutdown_rx.clone(),
                );
                let (busy, acceptor) = (inbound.clone(), tls.clone());
                let handshake = Duration::from_secs(30);
                spawn_accept_loop(
                    listener,
                    tcp,
                    limit.clone(),
                    shutdown_rx.clone(),
                    move |stream, peer| {
                        let (inbound, acceptor) = (inbound.clone(), acceptor.clone());
                        async move {
                            if !implicit {
                                return inbound.serve(Box::new(stream), peer).await;
                            }
                            if let Some(tls) = implicit_tls(&acceptor, stream, peer, handshake).await {
                                inbound.serve_tls(Box::new(tls), peer).await
                            }
                        }
                    },
                    move |stream| {
                        let busy = busy.clone();
                        async move {
                            // Behind implicit TLS a plain reply would be noise.
                            if !implicit {
                                busy.refuse_busy(Box::new(stream)).await
                            }
                        }
                    },
                )
            }
            Listener::Imap | Listener::Imaps => {
                let imap = imap_service.get_or_insert_with(|| {
                    Imap::new(
                        mail.clone(),
                        imap_config.clone(),
                        budget.clone(),
                        Some(tls.clone()),
                        shutdown_rx.clone(),
                        feed.clone(),
                    )
                });
                let implicit = listener == Listener::Imaps;
                let (serving, acceptor) = (imap.clone(), tls.clone());
                let handshake = Duration::from_secs(30);
                spawn_accept_loop(
                    listener,
                    tcp,
                    limit.clone(),
                    shutdown_rx.clone(),
                    move |stream, peer| {
                        let (imap, acceptor) = (serving.clone(), acceptor.clone());
                        async move {
                            if !implicit {
                                return imap.serve(Box::new(stream), peer, false).await;
                            }
                            if let Some(tls) = implicit_tls(&acceptor, stream, peer, handshake).await {
                                imap.serve(Box::new(tls), peer, true).await
                            }
                        }
                    },
                    move |mut stream: TcpStream| async move {
                        // RFC 9051 §7.1.5: BYE tells the client why it was turned away.
                        use tokio::io::AsyncWriteExt;
                        if !implicit {
                            let _ =
                                stream.write_all(b"* BYE Too many connections, try again later\r\n").await;
                        }
                    },
                )
            }
            Listener::Http | Listener::Https => {
                let implicit = listener == Listener::Https;
                let (services, acceptor, stop) = (http_services.clone(), tls.clone(), shutdown_rx.clone());
                let handshake = Duration::from_secs(30);
                spawn_accept_loop(
                    listener,
                    tcp,
                    limit.clone(),
                    shutdown_rx.clone(),
                    move |stream, peer| {
                        let (services, acceptor, stop) = (services.clone(), acceptor.clone(), stop.clone());
                        async move {
                            if !implicit {
                                return http::serve(services, stream, peer, false, stop).await;
                            }
                            if let Some(tls) = implicit_tls(&acceptor, stream, peer, handshake).await {
                                http::serve(services, tls, peer, true, stop).await
                            }
                        }
                    },
                    move |mut stream: TcpStream| async move {
                        use tokio::io::AsyncWriteExt;
                        if !implicit {
                            let _ = stream
                                .write_all(b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                                .await;
                        }
                    },
                )
            }
        };
        tracing::info!(listener = listener.name(), addr = %local, "listening");
        running.listeners.push((listener, local));
        running.accept_loops.push(handle);
        running.limits.push((limit.total.clone(), max));
    }
    // This node on the store's list, beating while it runs.
    let cluster = mailroom_core::cluster::Cluster::new(store.clone());
    let node = mailroom_core::cluster::NodeBeat {
        name: config.node_name(),
        started_at: heartbeat::now(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        details: running
            .listeners
            .iter()
            .map(|(listener, addr)| format!("{} {addr}", listener.name()))
            .collect::<Vec<_>>()
            .join(", "),
    };
    heartbeat::first_beat(&cluster, &node).await.context("could not record this node in the store")?;
    tracing::info!(node = node.name, "node recorded");
    running.background.push(heartbeat::spawn(cluster, node, shutdown_rx.clone()));
    running.background.push(spawn_sweeps(store, mail.clone(), feed.clone(), shutdown_rx.clone()));
    running.background.push(indexer::spawn(mail.clone(), feed.clone(), search.clone(), shutdown_rx.clone()));
    // The outbound queue's sender: runs whatever listeners are on, so mail
    // queued before a restart is sent.
    let sender = mailroom_smtp::outbound::Sender::new(mail.clone(), outbound_config);
    running.background.push(tokio::spawn(sender.run(feed, shutdown_rx)));
    Ok(running)
}

/// The SRS key (forwarding to other domains): made once and kept in the
/// store, so addresses signed by any node — or before a restart — stay
/// valid on every node. A key an earlier version kept in the data directory
/// (`srs.key`) is what this node offers, so those addresses stay valid too;
/// the store keeps whichever offer came first.
async fn srs_secret(store: &dyn mailroom_core::store::Store, data_dir: &Path) -> Result<Vec<u8>> {
    let offered = match std::fs::read(data_dir.join(SRS_KEY_FILE)) {
        Ok(existing) if existing.len() >= 16 => existing,
        _ => mailroom_core::auth::random_bytes(32),
    };
    store.server_secret("srs", offered).await.context("could not read or store the SRS key")
}

/// Where versions before the key moved into the store kept it.
const SRS_KEY_FILE: &str = "srs.key";

/// The TLS handshake of an implicit-TLS listener (IMAPS, submissions),
/// bounded in time; a failure only ends that connection.
async fn implicit_tls(
    acceptor: &tokio_rustls::TlsAcceptor,
    stream: TcpStream,
    peer: SocketAddr,
    limit: Duration,
) -> Option<tokio_rustls::server::TlsStream<TcpStream>> {
    match tokio::time::timeout(limit, acceptor.accept(stream)).await {
        Ok(Ok(tls)) => Some(tls),
        Ok(Err(err)) => {
            tracing::debug!(%peer, error = %err, "TLS handshake failed");
            None
        }
        Err(_) => {
            tracing::debug!(%peer, "TLS handshake timed out");
            None
        }
    }
}

fn bind_error(listener: Listener, addr: SocketAddr, err: std::io::Error) -> anyhow::Error {
    let name = listener.name();
    let hint = match err.kind() {
        std::io::ErrorKind::PermissionDenied => {
            " (ports below 1024 need root or CAP_NET_BIND_SERVICE; choose another port with --"
        }
        std::io::ErrorKind::AddrInUse => " (another program uses it; stop it or choose another port with --",
        _ => " (choose another address with --",
    };
    anyhow::anyhow!("could not listen for {name} on {addr}: {err}{hint}{name}-listen)")
}

/// What the server itself counts, for `/metrics`: open connections per
/// listener (the slots taken from its limit) and deliveries.
#[derive(Debug)]
struct ServerMetrics {
    mail: Mail,
    search: Arc<indexer::IndexerStats>,
    listeners: Vec<(Listener, Arc<Semaphore>, u32)>,
}

impl mailroom_http::MetricsSource for ServerMetrics {
    fn render(&self, out: &mut String) {
        use std::fmt::Write as _;
        let _ = writeln!(out, "# HELP mailroom_connections Open connections per listener.");
        let _ = writeln!(out, "# TYPE mailroom_connections gauge");
        for (listener, slots, max) in &self.listeners {
            let open = (*max as usize).saturating_sub(slots.available_permits());
            let _ = writeln!(out, "mailroom_connections{{listener=\"{}\"}} {open}", listener.name());
        }
        mailroom_http::metric_family(
            out,
            "mailroom_imap_compressed_sessions_total",
            "counter",
            "IMAP sessions that turned COMPRESS=DEFLATE on since start.",
            mailroom_imap::compressed_sessions(),
        );
        mailroom_http::metric_family(
            out,
            "mailroom_deliveries_total",
            "counter",
            "Copies delivered into mailboxes since start.",
            self.mail.deliveries(),
        );
        mailroom_http::metric_family(
            out,
            "mailroom_search_indexed_total",
            "counter",
            "Message bodies added to the search index since start.",
            self.search.indexed.load(std::sync::atomic::Ordering::Relaxed),
        );
        mailroom_http::metric_family(
            out,
            "mailroom_search_backlog",
            "gauge",
            "Message bodies waiting for the search indexer (as of its last look).",
            self.search.backlog.load(std::sync::atomic::Ordering::Relaxed),
        );
    }
}

/// A listener's connection limits: in total and per client address (so one
/// host can't take every slot).
#[derive(Clone, Debug)]
struct ConnectionLimit {
    total: Arc<Semaphore>,
    per_ip: Arc<std::sync::Mutex<HashMap<IpAddr, usize>>>,
    max_per_ip: usize,
}

/// Held by a connection's task; gives its slots back when dropped.
#[derive(Debug)]
struct Slot {
    _total: tokio::sync::OwnedSemaphorePermit,
    per_ip: Arc<std::sync::Mutex<HashMap<IpAddr, usize>>>,
    ip: IpAddr,
}

impl ConnectionLimit {
    fn new(total: usize, max_per_ip: usize) -> Self {
        ConnectionLimit { total: Arc::new(Semaphore::new(total)), per_ip: Arc::default(), max_per_ip }
    }

    /// A slot for a connection from `ip`, counted under its IPv4 address or
    /// IPv6 /64 (one host usually holds a whole /64), as sign-ins are.
    fn try_take(&self, ip: IpAddr) -> Option<Slot> {
        let ip = mailroom_core::throttle::source_key(ip);
        let total = self.total.clone().try_acquire_owned().ok()?;
        let mut per_ip = self.per_ip.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let count = per_ip.entry(ip).or_insert(0);
        if *count >= self.max_per_ip {
            return None;
        }
        *count += 1;
        Some(Slot { _total: total, per_ip: self.per_ip.clone(), ip })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut per_ip = self.per_ip.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(count) = per_ip.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                per_ip.remove(&self.ip);
            }
        }
    }
}

/// Accepts connections until shutdown; each runs in its own task holding a
/// slot of the listener's connection limits. Past a limit a connection gets
/// `refuse` (a protocol "too busy") and is closed.
fn spawn_accept_loop<S, SF, R, RF>(
    listener: Listener,
    tcp: TcpListener,
    limit: ConnectionLimit,
    mut shutdown: watch::Receiver<bool>,
    serve: S,
    refuse: R,
) -> JoinHandle<()>
where
    S: Fn(TcpStream, SocketAddr) -> SF + Send + 'static,
    SF: Future<Output = ()> + Send + 'static,
    R: Fn(TcpStream) -> RF + Send + 'static,
    RF: Future<Output = ()> + Send + 'static,
{
    tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                biased;
                _ = stopped(&mut shutdown) => break,
                accepted = tcp.accept() => accepted,
            };
            let (stream, peer) = match accepted {
                Ok(pair) => pair,
                Err(err) => {
                    // Out of file descriptors and the like: pause, don't spin.
                    tracing::warn!(listener = listener.name(), error = %err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            match limit.try_take(peer.ip()) {
                Some(slot) => {
                    let session = serve(stream, peer);
                    tokio::spawn(async move {
                        session.await;
                        drop(slot);
                    });
                }
                None => {
                    tracing::warn!(listener = listener.name(), %peer, "connection limit reached");
                    tokio::spawn(refuse(stream));
                }
            }
        }
    })
}

fn spawn_sweeps(
    store: Arc<dyn Store>,
    mail: Mail,
    feed: Arc<dyn ChangeFeed>,
    mut shutdown: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(SWEEP_EVERY);
        loop {
            tokio::select! {
                biased;
                _ = stopped(&mut shutdown) => break,
                _ = every.tick() => {
                    // Recoverable Items past their mailbox's retention, first:
                    // their bodies may then go in the same sweep's next step
                    // once the grace period has passed.
                    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
                    match mail.purge_expired(now.as_secs() as i64).await {
                        Ok(0) => {}
                        Ok(purged) => tracing::info!(purged, "purged messages past their retention period"),
                        Err(err) => tracing::warn!(error = %err, "purging Recoverable Items failed"),
                    }
                    match mail.sweep_activity(now.as_secs() as i64).await {
                        Ok(0) => {}
                        Ok(removed) => tracing::info!(removed, "removed activity trail entries past their age limit"),
                        Err(err) => tracing::warn!(error = %err, "sweeping the activity trail failed"),
                    }
                    let grace = i64::try_from(BLOB_GRACE.as_secs()).unwrap_or(i64::MAX);
                    match store.sweep_blobs(grace).await {
                        Ok(0) => {}
                        Ok(removed) => tracing::info!(removed, "swept unreferenced message bodies"),
                        Err(err) => tracing::warn!(error = %err, "message body sweep failed"),
                    }
                    // Failed sign-ins the nodes share, once quiet for the throttle's window.
                    if let Some(pressure) = store.shared_sign_in_pressure() {
                        match pressure.prune_sign_in_pressure().await {
                            Ok(0) => {}
                            Ok(removed) => tracing::debug!(removed, "forgot quiet sign-in failures"),
                            Err(err) => tracing::warn!(error = %err, "pruning the shared sign-in throttle failed"),
                        }
                    }
                    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
                    let before = now.saturating_sub(CHANGES_KEPT).as_secs() as i64;
                    // In parts, each its own write, until none are left.
                    loop {
                        match feed.prune(before).await {
                            Ok(0) => break,
                            Ok(removed) => tracing::debug!(removed, "pruned the change log"),
                            Err(err) => {
                                tracing::warn!(error = %err, "change log pruning failed");
                                break;
                            }
                        }
                    }
                }
            }
        }
    })
}

impl Running {
    /// The change feed, for services started beside the listeners.
    pub fn changes(&self) -> &Arc<dyn ChangeFeed> {
        &self.feed
    }

    /// The store this server runs on (benchmarks and tools).
    pub fn store(&self) -> Arc<dyn Store> {
        self.backend.store()
    }

    /// The embedded store, for statistics (group-commit factor) and tools.
    pub fn sqlite(&self) -> Option<&SqliteStore> {
        self.backend.sqlite()
    }

    /// Stops accepting, tells open sessions to finish, and waits up to
    /// `grace` for them.
    pub async fn shutdown(self, grace: Duration) {
        let _ = self.shutdown.send(true);
        for handle in self.accept_loops.into_iter().chain(self.background) {
            let _ = handle.await;
        }
        let drained = tokio::time::timeout(grace, async {
            for (limit, max) in &self.limits {
                let _ = limit.acquire_many(*max).await;
            }
        })
        .await;
        if drained.is_err() {
            tracing::warn!(grace = ?grace, "sessions still open after the grace period; closing them");
        }
    }
}

/// Resolves once shutdown is signalled (or its sender is gone). Returns
/// nothing: the guard `wait_for` yields must not live across an await.
pub(crate) async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// The signals that stop the server. Watched from `watch()` on, so a signal
/// that arrives after the listeners are announced is never the default
/// action (which would kill the process without the graceful shutdown).
#[derive(Debug)]
pub struct StopSignals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
}

impl StopSignals {
    /// Installs the handlers; call before telling anyone the server is up.
    pub fn watch() -> Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(StopSignals {
                term: signal(SignalKind::terminate()).context("could not watch for SIGTERM")?,
                int: signal(SignalKind::interrupt()).context("could not watch for SIGINT")?,
            })
        }
        #[cfg(not(unix))]
        Ok(StopSignals {})
    }

    /// Resolves on SIGTERM or SIGINT, naming which.
    pub async fn recv(&mut self) -> Result<&'static str> {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.term.recv() => Ok("SIGTERM"),
                _ = self.int.recv() => Ok("SIGINT"),
            }
        }
        #[cfg(not(unix))]
        {
            tokio::signal::ctrl_c().await.context("could not watch for Ctrl-C")?;
            Ok("Ctrl-C")
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The SRS key lives in the store: a key an earlier version kept in the
    /// data directory is taken over, and once stored it wins over any file;
    /// another node's data directory on the same store gets the same key.
    #[tokio::test]
    async fn the_srs_key_lives_in_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let store = mailroom_store::SqliteStore::open(&dir.path().join("m.db")).unwrap();
        std::fs::write(dir.path().join(SRS_KEY_FILE), [7u8; 32]).unwrap();
        assert_eq!(srs_secret(&store, dir.path()).await.unwrap(), vec![7; 32], "the old file's key is kept");
        std::fs::write(dir.path().join(SRS_KEY_FILE), [8u8; 32]).unwrap();
        assert_eq!(srs_secret(&store, dir.path()).await.unwrap(), vec![7; 32], "the stored key wins");
        let second_node = tempfile::tempdir().unwrap();
        assert_eq!(srs_secret(&store, second_node.path()).await.unwrap(), vec![7; 32]);

        let fresh_dir = tempfile::tempdir().unwrap();
        let fresh = mailroom_store::SqliteStore::open(&fresh_dir.path().join("m.db")).unwrap();
        let made = srs_secret(&fresh, fresh_dir.path()).await.unwrap();
        assert!(made.len() == 32 && made != vec![0; 32], "a new random key");
        assert!(!fresh_dir.path().join(SRS_KEY_FILE).exists(), "no key file is written");
        assert_eq!(srs_secret(&fresh, fresh_dir.path()).await.unwrap(), made);
    }

    #[test]
    fn connection_caps_count_an_ipv6_slash_64_as_one_client() {
        let limit = ConnectionLimit::new(100, 2);
        let ip = |text: &str| text.parse::<IpAddr>().unwrap();
        let a = limit.try_take(ip("2001:db8:1:2::1")).unwrap();
        let b = limit.try_take(ip("2001:db8:1:2::ffff")).unwrap();
        assert!(limit.try_take(ip("2001:db8:1:2:abcd::9")).is_none(), "a third from the same /64");
        let other = limit.try_take(ip("2001:db8:1:3::1")).unwrap();
        // IPv4 over a dual-stack socket counts as the IPv4 address.
        let v4 = limit.try_take(ip("::ffff:192.0.2.1")).unwrap();
        let v4_again = limit.try_take(ip("192.0.2.1")).unwrap();
        assert!(limit.try_take(ip("::ffff:192.0.2.1")).is_none());
        drop(a);
        assert!(limit.try_take(ip("2001:db8:1:2::7")).is_some(), "a slot comes back when a connection ends");
        drop((b, other, v4, v4_again));
    }
}
