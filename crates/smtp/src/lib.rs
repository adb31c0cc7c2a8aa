//! SMTP for Mailroom: the inbound MX session (port 25), which receives mail
//! for the organisation's mailboxes, and submission (port 587, RFC 6409),
//! where signed-in users send as the addresses `core` allows (SPEC §2, §3).
//!
//! Commands are parsed by `smtp-proto`; the framing (bounded lines, DATA
//! dot-unstuffing, BDAT chunks) is ours so every limit is enforced before
//! anything is buffered. Policy comes from `core`: [`Mail::route_inbound`]
//! decides each RCPT (unknown, relay, mailbox full), [`Mail::deliver`] stores
//! the message and returns only once it is durable — the `250` after DATA is
//! sent after that and never before (DESIGN.md, durability rule).
//!
//! Layout: [`conn`] (I/O, STARTTLS), [`body`] (message assembly),
//! [`received`] (trace header), [`reply`] (every reply), `session` (state and
//! dispatch) and `cmd/` (one file per command).

pub mod body;
mod cmd;
pub mod conn;
pub mod filter;
mod http_answer;
pub mod outbound;
pub mod received;
pub mod reply;
mod session;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use mailroom_core::budget::MemoryBudget;
use mailroom_core::mail::Mail;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

pub use conn::Io;
pub use reply::Reply;

/// Per-connection limits and the name the server gives itself.
#[derive(Clone, Debug)]
pub struct InboundConfig {
    /// Used in the greeting, EHLO and `Received:`.
    pub hostname: String,
    /// Largest message accepted, in octets (advertised as `SIZE`).
    pub max_message_size: usize,
    /// Recipients per transaction.
    pub max_recipients: usize,
    /// Longest line inside a message, with its CRLF. RFC 5321 §4.5.3.1.6
    /// sets 1000 as the minimum a server must accept; real mail exceeds it.
    pub max_line_length: usize,
    /// Longest command line (RFC 5321 §4.5.3.1.4 sets 512 as the minimum).
    pub max_command_length: usize,
    /// Time allowed between two reads (RFC 5321 §4.5.3.2.7: at least 5 minutes).
    pub idle_timeout: Duration,
    /// Failed commands before the connection is closed.
    pub max_errors: u32,
    /// Which service this listener gives: the MX (port 25) or submission.
    pub role: Role,
    /// Whether AUTH works without TLS from non-loopback peers (submission).
    /// Off by default: passwords do not cross the network in the clear.
    pub allow_plaintext_auth: bool,
    /// The key of the Sender Rewriting Scheme for mail forwarded to other
    /// domains ([`srs`]); kept by the server in its data directory.
    pub srs_secret: mailroom_types::Secret<Vec<u8>>,
    /// Hosts trusted to send as the organisation's addresses on port 25
    /// (scanners, applications, web forms): nothing else may.
    pub trusted_relays: Vec<Network>,
    /// Inbound mail's sender authentication (SPF, DKIM, DMARC, ARC) and
    /// what our domains do with its result; `None`: not checked.
    pub authentication: Option<Arc<SenderAuthentication>>,
    /// The spam filter asked about each inbound message, if any.
    pub filter: Option<filter::FilterConfig>,
}

/// The resolver the checks use, and how much of a sender's DMARC policy
/// each of our domains honours.
#[derive(Debug)]
pub struct SenderAuthentication {
    pub dns: Arc<mailroom_mailauth::Dns>,
    /// For domains not named in `domains`.
    pub dmarc: mailroom_core::mail::DmarcEnforcement,
    /// Per domain (lower case, no final dot).
    pub domains: std::collections::BTreeMap<String, mailroom_core::mail::DmarcEnforcement>,
}

impl SenderAuthentication {
    /// How much of DMARC mail to `recipients` is held to: the strictest of
    /// their domains' choices.
    pub fn enforcement_for<'a>(
        &self,
        recipients: impl IntoIterator<Item = &'a mailroom_types::EmailAddress>,
    ) -> mailroom_core::mail::DmarcEnforcement {
        recipients
            .into_iter()
            .map(|r| {
                let domain = r.domain().as_str().trim_end_matches('.').to_ascii_lowercase();
                self.domains.get(&domain).copied().unwrap_or(self.dmarc)
            })
            .reduce(|a, b| a.stricter(b))
            .unwrap_or(self.dmarc)
    }
}

/// An IP network (`192.0.2.10`, `10.1.0.0/16`, `2001:db8::/48`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Network {
    address: std::net::IpAddr,
    prefix: u8,
}

impl Network {
    /// Parses `ADDRESS` or `ADDRESS/PREFIX`; an IPv4-mapped IPv6 network
    /// (`::ffff:10.0.0.0/104`) is read as the IPv4 one it names.
    pub fn parse(text: &str) -> Option<Network> {
        let (address, prefix): (std::net::IpAddr, Option<u8>) = match text.trim().split_once('/') {
            Some((address, prefix)) => (address.parse().ok()?, Some(prefix.parse::<u8>().ok()?)),
            None => (text.trim().parse().ok()?, None),
        };
        let bits = match address {
            std::net::IpAddr::V4(_) => 32,
            std::net::IpAddr::V6(_) => 128,
        };
        let prefix = prefix.unwrap_or(bits);
        if prefix > bits {
            return None;
        }
        match address.to_canonical() {
            std::net::IpAddr::V4(v4) if address.is_ipv6() => {
                (prefix >= 96).then(|| Network { address: std::net::IpAddr::V4(v4), prefix: prefix - 96 })
            }
            address => Some(Network { address, prefix }),
        }
    }

    /// The prefix length (0: every address).
    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// Whether `ip` (an IPv4-mapped address as IPv4) is in the network.
    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        let keep = |bits: u32, value: u128| {
            if self.prefix == 0 { 0 } else { value >> (bits - u32::from(self.prefix)) }
        };
        match (self.address, ip.to_canonical()) {
            (std::net::IpAddr::V4(net), std::net::IpAddr::V4(ip)) => {
                keep(32, u128::from(u32::from(net))) == keep(32, u128::from(u32::from(ip)))
            }
            (std::net::IpAddr::V6(net), std::net::IpAddr::V6(ip)) => {
                keep(128, u128::from(net)) == keep(128, u128::from(ip))
            }
            _ => false,
        }
    }
}

/// The two SMTP services (SPEC §3).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Role {
    /// Port 25: mail for the organisation's addresses, from anyone; no AUTH,
    /// no relaying.
    #[default]
    Inbound,
    /// Ports 587/465 (RFC 6409): signed-in users send to anyone, as the
    /// addresses `core` allows them (own, Send As, Send on Behalf).
    Submission,
}

impl Default for InboundConfig {
    fn default() -> Self {
        InboundConfig {
            hostname: "localhost".into(),
            // Exchange Online's default receive limit is 36 MB.
            max_message_size: 36 * 1024 * 1024,
            max_recipients: 500,
            max_line_length: 64 * 1024,
            max_command_length: 4096,
            idle_timeout: Duration::from_secs(300),
            max_errors: 20,
            role: Role::Inbound,
            allow_plaintext_auth: false,
            srs_secret: mailroom_types::Secret::new(Vec::new()),
            trusted_relays: Vec::new(),
            authentication: None,
            filter: None,
        }
    }
}

/// The inbound SMTP service: one per listener, shared by its connections.
pub struct Inbound {
    mail: Mail,
    config: InboundConfig,
    /// Message bytes in transfer, shared with every listener of the server.
    budget: MemoryBudget,
    tls: Option<TlsAcceptor>,
    shutdown: watch::Receiver<bool>,
    sessions: AtomicU64,
}

impl std::fmt::Debug for Inbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inbound").field("config", &self.config).field("tls", &self.tls.is_some()).finish()
    }
}

impl Inbound {
    /// `shutdown` turning `true` ends every session with `421` at its next
    /// command; `budget` is the server's, for message data in transfer.
    pub fn new(
        mail: Mail,
        config: InboundConfig,
        budget: MemoryBudget,
        tls: Option<TlsAcceptor>,
        shutdown: watch::Receiver<bool>,
    ) -> Arc<Self> {
        Arc::new(Inbound { mail, config, budget, tls, shutdown, sessions: AtomicU64::new(0) })
    }

    /// Runs one SMTP session to its end.
    pub async fn serve(self: Arc<Self>, io: Box<dyn Io>, peer: SocketAddr) {
        let id = session_id(self.sessions.fetch_add(1, Ordering::Relaxed));
        session::Session::new(self, io, peer, id, false).run().await;
    }

    /// Runs one session on a connection already inside TLS (submission on
    /// port 465, RFC 8314): no STARTTLS, and credentials are welcome.
    pub async fn serve_tls(self: Arc<Self>, io: Box<dyn Io>, peer: SocketAddr) {
        let id = session_id(self.sessions.fetch_add(1, Ordering::Relaxed));
        session::Session::new(self, io, peer, id, true).run().await;
    }

    /// Tells a client the server is at its connection limit (RFC 5321 §3.8).
    pub async fn refuse_busy(&self, io: Box<dyn Io>) {
        let mut conn = conn::Conn::new(io, false, self.config.idle_timeout);
        conn.reply(&Reply::too_busy(&self.config.hostname));
        conn.close().await;
    }
}

/// Short, unique per process start: seconds since the epoch and a counter.
fn session_id(counter: u64) -> String {
    let start = chrono::Utc::now().timestamp().max(0) as u64;
    format!("{start:x}{counter:05x}")
}

#[cfg(test)]
mod tests {
    use super::Network;

    #[test]
    fn networks_contain_their_addresses() {
        let ip = |t: &str| t.parse::<std::net::IpAddr>().unwrap();
        let one = Network::parse("192.0.2.10").unwrap();
        assert!(one.contains(ip("192.0.2.10")) && !one.contains(ip("192.0.2.11")));
        assert!(one.contains(ip("::ffff:192.0.2.10")), "IPv4 on a dual-stack socket");
        let net = Network::parse("10.1.0.0/16").unwrap();
        assert!(net.contains(ip("10.1.255.3")) && !net.contains(ip("10.2.0.1")));
        let v6 = Network::parse("2001:db8::/48").unwrap();
        assert!(v6.contains(ip("2001:db8:0:ffff::1")) && !v6.contains(ip("2001:db8:1::1")));
        assert!(Network::parse("0.0.0.0/0").unwrap().contains(ip("203.0.113.9")));
        let host6 = Network::parse("2001:db8::7/128").unwrap();
        assert!(host6.contains(ip("2001:db8::7")) && !host6.contains(ip("2001:db8::8")));
        let mapped = Network::parse("::ffff:10.0.0.0/104").unwrap();
        assert!(mapped.contains(ip("10.9.8.7")) && mapped.contains(ip("::ffff:10.9.8.7")));
        assert!(!mapped.contains(ip("11.0.0.1")));
        for bad in ["10.0.0.0/33", "host.example", "10.0.0/8", ""] {
            assert_eq!(Network::parse(bad), None, "{bad}");
        }
    }
}
