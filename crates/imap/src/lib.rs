//! IMAP for Mailroom (RFC 3501 IMAP4rev1, RFC 9051 IMAP4rev2) over the
//! shared-mailbox model of SPEC §2 and §4.
//!
//! imap-codec's fragmentizer frames lines and literals (synchronizing
//! literals get a continuation or a refusal, LITERAL+ is bounded) and its
//! codec parses commands; what it lacks is read here before it: the RFC
//! 4314 ACL commands (`acl`), LIST-EXTENDED (`list_extended`), SEARCH
//! RETURN options (`esearch`), the saved result `$` (`searchres`), the
//! FETCH items PREVIEW, EMAILID, THREADID and SAVEDATE (`fetch_items`),
//! the search keys of OBJECTID and SAVEDATE (`search_keys`), STATUS
//! MAILBOXID (`status_items`), NOTIFY (`notify`), an APPEND of several
//! messages (`multiappend`) and UNAUTHENTICATE.
//! One file per command in `cmd/`; sessions listen to `core`'s change feed
//! (IDLE for its folder, every session for its access).
//!
//! Rights come from `core` on every command (DESIGN.md rule 1); a shared
//! mailbox's own account cannot sign in and gets the same
//! `NO [AUTHENTICATIONFAILED]` as a wrong password.

pub mod acl;
mod base_subject;
mod cmd;
pub mod conn;
pub mod esearch;
pub mod fetch_items;
pub mod list_extended;
pub mod multiappend;
mod mutf7;
mod names;
pub mod notify;
mod recent;
mod render;
mod respond;
pub mod search_keys;
pub mod searchres;
mod sequence;
mod session;
pub mod status_items;
pub mod uidmap;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use mailroom_core::budget::MemoryBudget;
use mailroom_core::change::ChangeFeed;
use mailroom_core::mail::Mail;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

pub use conn::Io;

/// Sessions of this process that turned COMPRESS=DEFLATE on (`/metrics`).
static COMPRESSED_SESSIONS: AtomicU64 = AtomicU64::new(0);

/// How many sessions of this process have turned COMPRESS=DEFLATE on.
pub fn compressed_sessions() -> u64 {
    COMPRESSED_SESSIONS.load(Ordering::Relaxed)
}

/// The shared namespace prefix (SPEC §4): `Shared/<address>/<folder>`.
pub const SHARED_PREFIX: &str = "Shared/";
/// The hierarchy delimiter of every namespace.
pub const DELIMITER: char = '/';

#[derive(Clone, Debug)]
pub struct ImapConfig {
    pub hostname: String,
    /// Largest command, literals included (an APPEND carries a message).
    pub max_command_size: u32,
    /// RFC 9051 §5.4: at least 30 minutes of inactivity before autologout.
    pub idle_timeout: Duration,
    /// Before sign-in, a shorter limit: an unauthenticated connection costs
    /// a slot and nothing else.
    pub login_timeout: Duration,
    /// Whether LOGIN/AUTHENTICATE work without TLS from non-loopback peers.
    /// Off by default: passwords do not cross the network in the clear.
    pub allow_plaintext_auth: bool,
    /// Failed commands before the connection is closed.
    pub max_errors: u32,
}

impl Default for ImapConfig {
    fn default() -> Self {
        ImapConfig {
            hostname: "localhost".into(),
            max_command_size: 64 * 1024 * 1024,
            idle_timeout: Duration::from_secs(30 * 60),
            login_timeout: Duration::from_secs(60),
            allow_plaintext_auth: false,
            max_errors: 50,
        }
    }
}

/// How many times over an APPEND's message is held while it is received
/// and parsed (the framing buffer as it grows, the command, the literal
/// handed to the store): what its reservation of the memory budget covers.
pub const APPEND_MEMORY_FACTOR: usize = 4;

/// The IMAP service: one per listener, shared by its connections.
pub struct Imap {
    mail: Mail,
    config: ImapConfig,
    /// The server's budget for message data in transfer (APPEND literals).
    budget: MemoryBudget,
    tls: Option<TlsAcceptor>,
    shutdown: watch::Receiver<bool>,
    /// The changes of every process: IDLE reports its folder's, every
    /// signed-in session re-checks its access on the ones that touch it.
    feed: Arc<dyn ChangeFeed>,
    sessions: AtomicU64,
    /// How far sessions of this process know `\Recent` was claimed.
    recent_marks: recent::RecentMarks,
    /// Folder counters NOTIFY sessions of this process share.
    notify_counts: cmd::notify::SharedCounts,
}

impl std::fmt::Debug for Imap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Imap").field("config", &self.config).field("tls", &self.tls.is_some()).finish()
    }
}

impl Imap {
    /// The largest message APPEND takes (RFC 7889 APPENDLIMIT): a command is
    /// at most `max_command_size` octets, and 64 KiB of it are left for the
    /// command around the literal (a folder name, flags and keywords, a
    /// date), so any sensible APPEND of that size fits.
    pub fn append_limit(&self) -> u32 {
        self.config.max_command_size.saturating_sub(64 * 1024)
    }

    pub fn new(
        mail: Mail,
        config: ImapConfig,
        budget: MemoryBudget,
        tls: Option<TlsAcceptor>,
        shutdown: watch::Receiver<bool>,
        feed: Arc<dyn ChangeFeed>,
    ) -> Arc<Self> {
        Arc::new(Imap {
            mail,
            config,
            budget,
            tls,
            shutdown,
            feed,
            sessions: AtomicU64::new(0),
            recent_marks: Default::default(),
            notify_counts: Default::default(),
        })
    }

    /// Runs one session on `io` to its end. `implicit_tls` says the stream
    /// is already TLS (port 993).
    pub async fn serve(self: Arc<Self>, io: Box<dyn Io>, peer: SocketAddr, implicit_tls: bool) {
        let id = self.sessions.fetch_add(1, Ordering::Relaxed);
        session::Session::new(self, io, peer, implicit_tls, id).run().await;
    }
}
