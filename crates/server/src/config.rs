//! `mailroom.toml`: one file, every setting optional (SPEC §6: sensible
//! defaults). Unknown keys are errors, so a typo is reported, not ignored.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use mailroom_types::Secret;

use anyhow::{Context, Result, bail};
use mailroom_smtp::InboundConfig;
use serde::Deserialize;

/// The configuration file's name inside the data directory.
pub const CONFIG_FILE: &str = "mailroom.toml";

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The server's host name (greetings, `Received:`, the TLS certificate).
    /// Default: the machine's host name.
    pub hostname: Option<String>,
    pub listen: ListenConfig,
    pub tls: TlsConfig,
    pub smtp: SmtpConfig,
    pub imap: ImapSettings,
    pub outbound: OutboundSettings,
    pub http: HttpSettings,
    /// Octets of message data that every SMTP and IMAP session together may
    /// hold in memory while receiving (default 512 MiB).
    pub message_memory: Option<usize>,
    pub store: StoreSettings,
    pub cluster: ClusterSettings,
    pub dns: DnsSettings,
    pub authentication: AuthenticationSettings,
    pub filter: FilterSettings,
    pub sign_in: SignInSettings,
}

/// Signing in (`[sign_in]`).
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SignInSettings {
    /// How long a password that passed the full argon2id check is
    /// remembered (as a keyed hash, in memory) so that a client's next
    /// sign-in is answered at once; 0: every sign-in is checked in full.
    pub remember_seconds: u64,
}

impl Default for SignInSettings {
    fn default() -> Self {
        SignInSettings { remember_seconds: mailroom_core::verified::DEFAULT_TTL.as_secs() }
    }
}

impl SignInSettings {
    pub fn remember(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.remember_seconds)
    }
}

/// Which DNS servers to ask (`[dns]`).
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DnsSettings {
    /// `IP` or `IP:PORT` of resolvers to ask; empty: the system's
    /// (`/etc/resolv.conf`).
    pub nameservers: Vec<String>,
}

/// Inbound mail's sender authentication (`[authentication]`).
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthenticationSettings {
    /// Whether SPF, DKIM, DMARC and ARC are checked on port 25.
    pub check: bool,
    /// How much of a sender's DMARC policy our domains honour: `enforce`
    /// (reject and quarantine as asked), `quarantine` (both to Junk Email)
    /// or `monitor` (only recorded).
    pub dmarc: String,
    /// The same, per domain of ours: `"contoso.com" = "monitor"`.
    pub domains: std::collections::BTreeMap<String, String>,
}

impl Default for AuthenticationSettings {
    fn default() -> Self {
        AuthenticationSettings { check: true, dmarc: "enforce".into(), domains: Default::default() }
    }
}

/// The spam filter (`[filter]`).
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FilterSettings {
    /// rspamd's normal worker, e.g. `http://127.0.0.1:11333`; empty: none.
    pub rspamd: String,
    /// How long rspamd may take over one message; past it, the message is
    /// accepted unfiltered.
    pub timeout_seconds: u64,
}

impl Default for FilterSettings {
    fn default() -> Self {
        FilterSettings { rspamd: String::new(), timeout_seconds: 20 }
    }
}

/// The machine's host name, when it has one.
fn machine_name() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// This node among several on one store (`[cluster]`).
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClusterSettings {
    /// This node's name in `mailroom status` and on the outbound entries it
    /// is sending; unique among the nodes of a store. Default: the
    /// machine's host name.
    pub node_name: Option<String>,
}

/// Where the data is (`[store]`).
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreSettings {
    /// `sqlite:FILE` (default `sqlite:mailroom.db`, in the data directory).
    pub url: Option<String>,
}

/// The default of `message_memory`.
pub const DEFAULT_MESSAGE_MEMORY: usize = 512 * 1024 * 1024;

/// HTTP settings (`[http]`): the admin center, the admin API and CalDAV.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpSettings {
    /// Accept passwords over plain HTTP from other hosts (loopback always may).
    pub allow_plaintext_auth: bool,
    pub max_connections: usize,
    pub max_connections_per_ip: usize,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings { allow_plaintext_auth: false, max_connections: 2000, max_connections_per_ip: 100 }
    }
}

/// Where each listener binds: `"ADDR:PORT"` (port 0 picks a free port) or `"off"`.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ListenConfig {
    pub smtp: String,
    /// Submission with STARTTLS (587).
    pub submission: String,
    /// Submission over implicit TLS (465, RFC 8314).
    pub submissions: String,
    /// IMAP with STARTTLS (143).
    pub imap: String,
    /// IMAP over implicit TLS (993).
    pub imaps: String,
    /// The admin center, API and CalDAV over plain HTTP (80; passwords only from loopback unless allowed).
    pub http: String,
    /// The admin center, API and CalDAV over HTTPS (443).
    pub https: String,
}

/// Where listeners bind unless told otherwise: this machine only. Opening a
/// mail server to the network is a decision (`init --listen-address`, or the
/// `[listen]` section), never a default.
pub const DEFAULT_LISTEN_IP: &str = "127.0.0.1";

impl Default for ListenConfig {
    fn default() -> Self {
        let on = |port: u16| format!("{DEFAULT_LISTEN_IP}:{port}");
        ListenConfig {
            smtp: on(25),
            // Opt-in: a server that only receives needs no submission port.
            submission: "off".into(),
            submissions: "off".into(),
            imap: on(143),
            imaps: on(993),
            // Opt-in, like submission: a mail-only server needs no web port.
            http: "off".into(),
            https: "off".into(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM certificate chain; with `key`. Without both, a self-signed
    /// certificate is generated in the data directory on first start.
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmtpConfig {
    pub max_message_size: usize,
    pub max_recipients: usize,
    pub max_line_length: usize,
    pub idle_timeout_seconds: u64,
    pub max_connections: usize,
    /// Connections from one IP address at once.
    pub max_connections_per_ip: usize,
    /// Hosts (`ADDRESS` or `ADDRESS/PREFIX`) trusted to send mail as the
    /// organisation's addresses on port 25: scanners, applications, web
    /// forms. Anyone else must sign in on submission to do so.
    pub trusted_relays: Vec<String>,
    /// Where `message_memory` was before it covered IMAP too; still read,
    /// the top-level setting wins.
    pub message_memory: Option<usize>,
}

impl Default for SmtpConfig {
    fn default() -> Self {
        let inbound = InboundConfig::default();
        SmtpConfig {
            max_message_size: inbound.max_message_size,
            max_recipients: inbound.max_recipients,
            max_line_length: inbound.max_line_length,
            idle_timeout_seconds: inbound.idle_timeout.as_secs(),
            max_connections: 1000,
            max_connections_per_ip: 50,
            trusted_relays: Vec::new(),
            message_memory: None,
        }
    }
}

/// IMAP settings (`[imap]`).
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ImapSettings {
    /// Let LOGIN/AUTHENTICATE work without TLS from other hosts (loopback
    /// always may). Off: passwords don't cross the network in the clear.
    pub allow_plaintext_auth: bool,
    /// Autologout after this much inactivity (RFC 9051 §5.4: at least 30 minutes).
    pub idle_timeout_seconds: u64,
    pub max_connections: usize,
    pub max_connections_per_ip: usize,
}

impl Default for ImapSettings {
    fn default() -> Self {
        ImapSettings {
            allow_plaintext_auth: false,
            idle_timeout_seconds: 30 * 60,
            max_connections: 10_000,
            max_connections_per_ip: 50,
        }
    }
}

/// Sending to other domains (`[outbound]`).
/// Debug hides the smarthost password (written by hand below).
#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutboundSettings {
    /// `host:port` all outbound mail goes through; empty: each domain's
    /// own server (port 25).
    pub smarthost: String,
    /// The smarthost's account (AUTH PLAIN), if it wants one. The password
    /// is never logged; keep this file readable by the server only.
    pub smarthost_user: String,
    pub smarthost_password: String,
    /// PEM certificates to trust for the smarthost besides the public roots
    /// (a private CA, or its own self-signed certificate).
    pub smarthost_ca_file: String,
    /// Waits after the 1st, 2nd, ... failed attempt; the last repeats.
    pub retry_seconds: Vec<u64>,
    /// Give up (and bounce) after this long.
    pub expire_seconds: u64,
    /// Tell the sender once that a message is delayed after this long.
    pub delay_notice_seconds: u64,
    /// Look at the queue at least this often.
    pub poll_seconds: u64,
    /// PEM certificates to trust, besides the public roots, when another
    /// domain's MTA-STS policy asks for verified TLS (and for fetching it).
    pub ca_file: String,
    /// The port of other domains' mail servers (25); another only for
    /// tests and lab networks.
    pub remote_port: u16,
    /// The port MTA-STS policies are fetched from (443); likewise.
    pub mta_sts_port: u16,
    /// How often TLS reports (RFC 8460) go to the domains that ask for
    /// them: a day.
    pub tls_report_seconds: u64,
}

impl std::fmt::Debug for OutboundSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboundSettings")
            .field("smarthost", &self.smarthost)
            .field("smarthost_user", &self.smarthost_user)
            .field("smarthost_password", &"[hidden]")
            .field("smarthost_ca_file", &self.smarthost_ca_file)
            .field("retry_seconds", &self.retry_seconds)
            .field("expire_seconds", &self.expire_seconds)
            .field("delay_notice_seconds", &self.delay_notice_seconds)
            .field("poll_seconds", &self.poll_seconds)
            .field("ca_file", &self.ca_file)
            .field("remote_port", &self.remote_port)
            .field("mta_sts_port", &self.mta_sts_port)
            .field("tls_report_seconds", &self.tls_report_seconds)
            .finish()
    }
}

impl Default for OutboundSettings {
    fn default() -> Self {
        let policy = mailroom_core::mail::RetryPolicy::default();
        OutboundSettings {
            smarthost: String::new(),
            smarthost_user: String::new(),
            smarthost_password: String::new(),
            smarthost_ca_file: String::new(),
            retry_seconds: policy.waits.iter().map(Duration::as_secs).collect(),
            expire_seconds: policy.expire_after.as_secs(),
            delay_notice_seconds: policy.delay_notice_after.as_secs(),
            poll_seconds: 30,
            ca_file: String::new(),
            remote_port: 25,
            mta_sts_port: 443,
            tls_report_seconds: 86_400,
        }
    }
}

/// The listeners Mailroom knows, by their printed names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Listener {
    Smtp,
    Submission,
    Submissions,
    Imap,
    Imaps,
    Http,
    Https,
}

impl Listener {
    pub const ALL: [Listener; 7] = [
        Listener::Smtp,
        Listener::Submission,
        Listener::Submissions,
        Listener::Imap,
        Listener::Imaps,
        Listener::Http,
        Listener::Https,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Listener::Smtp => "smtp",
            Listener::Submission => "submission",
            Listener::Submissions => "submissions",
            Listener::Imap => "imap",
            Listener::Imaps => "imaps",
            Listener::Http => "http",
            Listener::Https => "https",
        }
    }

    /// Whether this version serves the protocol. The others can only be `off`
    /// until their issue lands; saying so beats a port that answers nothing.
    pub fn implemented(self) -> bool {
        true
    }
}

/// Listener addresses given on the command line; they win over the file.
#[derive(Debug, Default, Clone)]
pub struct ListenOverrides {
    /// `--smarthost HOST:PORT` (not a listener, but given the same way).
    pub smarthost: Option<String>,
    pub smtp: Option<String>,
    pub submission: Option<String>,
    pub submissions: Option<String>,
    pub imap: Option<String>,
    pub imaps: Option<String>,
    pub http: Option<String>,
    pub https: Option<String>,
}

impl Config {
    /// Reads `explicit`, else `DATA/mailroom.toml` if it exists, else defaults.
    pub fn load(data_dir: &Path, explicit: Option<&Path>) -> Result<Config> {
        let path = match explicit {
            Some(path) => path.to_path_buf(),
            None => {
                let path = data_dir.join(CONFIG_FILE);
                if !path.exists() {
                    return Ok(Config::default());
                }
                path
            }
        };
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("could not read the configuration file {}", path.display()))?;
        Config::parse(&text).with_context(|| format!("in the configuration file {}", path.display()))
    }

    /// The store this configuration names, for a data directory.
    pub fn store_location(&self, data_dir: &Path) -> Result<mailroom_store::StoreLocation> {
        let url = self.store.url.as_deref().unwrap_or(mailroom_store::DEFAULT_URL);
        Ok(mailroom_store::StoreLocation::parse(url, data_dir)?)
    }

    pub fn parse(text: &str) -> Result<Config> {
        let config: Config = toml::from_str(text)?;
        if config.smtp.message_memory.is_some() {
            tracing::warn!(
                "[smtp] message_memory is read as the top-level message_memory, which now covers SMTP and IMAP together; move it above the first [section]"
            );
        }
        Ok(config)
    }

    pub fn apply(&mut self, overrides: &ListenOverrides) {
        let pairs = [
            (&mut self.listen.smtp, &overrides.smtp),
            (&mut self.listen.submission, &overrides.submission),
            (&mut self.listen.submissions, &overrides.submissions),
            (&mut self.listen.imap, &overrides.imap),
            (&mut self.listen.imaps, &overrides.imaps),
            (&mut self.listen.http, &overrides.http),
            (&mut self.listen.https, &overrides.https),
        ];
        for (slot, value) in pairs {
            if let Some(value) = value {
                slot.clone_from(value);
            }
        }
        if let Some(smarthost) = &overrides.smarthost {
            self.outbound.smarthost.clone_from(smarthost);
        }
    }

    /// The address each listener binds, `None` for `off`.
    pub fn listen_addr(&self, listener: Listener) -> Result<Option<SocketAddr>> {
        let value = match listener {
            Listener::Smtp => &self.listen.smtp,
            Listener::Submission => &self.listen.submission,
            Listener::Submissions => &self.listen.submissions,
            Listener::Imap => &self.listen.imap,
            Listener::Imaps => &self.listen.imaps,
            Listener::Http => &self.listen.http,
            Listener::Https => &self.listen.https,
        };
        let name = listener.name();
        let value = value.trim();
        if value.is_empty() || value.eq_ignore_ascii_case("off") {
            return Ok(None);
        }
        let addr: SocketAddr = value.parse().map_err(|_| {
            anyhow::anyhow!(
                "the {name} listener address {value:?} isn't valid: write IP:PORT (e.g. 127.0.0.1:2525 or [::]:25), or off"
            )
        })?;
        if !listener.implemented() {
            bail!(
                "this version of Mailroom doesn't serve {name} yet: set the {name} listener to off (--{name}-listen off)"
            );
        }
        Ok(Some(addr))
    }

    pub fn hostname(&self) -> String {
        if let Some(name) = &self.hostname {
            return name.clone();
        }
        machine_name().unwrap_or_else(|| "localhost".into())
    }

    /// This node's name (`[cluster] node_name`, else the machine's host name).
    pub fn node_name(&self) -> String {
        match self.cluster.node_name.as_deref().map(str::trim) {
            Some(name) if !name.is_empty() => name.to_string(),
            _ => machine_name().unwrap_or_else(|| "mailroom".into()),
        }
    }

    /// The server-wide budget for message data in transfer (SMTP and IMAP).
    pub fn message_memory(&self) -> usize {
        self.message_memory.or(self.smtp.message_memory).unwrap_or(DEFAULT_MESSAGE_MEMORY)
    }

    pub fn imap_config(&self) -> Result<mailroom_imap::ImapConfig> {
        let imap = &self.imap;
        if imap.idle_timeout_seconds < 30 * 60 {
            bail!("imap.idle_timeout_seconds must be at least 1800 (RFC 9051 §5.4: 30 minutes)");
        }
        // One client may hold half the budget; that half must hold the
        // largest APPEND, counted as many times over as it is held.
        let largest_append = mailroom_imap::ImapConfig::default().max_command_size as usize;
        let needed = largest_append.saturating_mul(mailroom_imap::APPEND_MEMORY_FACTOR).saturating_mul(2);
        if self.message_memory() < needed {
            bail!(
                "message_memory must be at least {needed} octets: an IMAP APPEND of the largest message ({largest_append} octets) is held {} times over while it is parsed, and one client may use half of message_memory",
                mailroom_imap::APPEND_MEMORY_FACTOR
            );
        }
        Ok(mailroom_imap::ImapConfig {
            hostname: self.hostname(),
            idle_timeout: Duration::from_secs(imap.idle_timeout_seconds),
            allow_plaintext_auth: imap.allow_plaintext_auth,
            ..mailroom_imap::ImapConfig::default()
        })
    }

    pub fn outbound(&self) -> Result<mailroom_smtp::outbound::OutboundConfig> {
        let o = &self.outbound;
        if o.retry_seconds.is_empty() || o.retry_seconds.contains(&0) {
            bail!(
                "outbound.retry_seconds must list at least one wait, each at least 1 second (e.g. [60, 300, 900])"
            );
        }
        let smarthost = o.smarthost.trim();
        if !smarthost.is_empty()
            && smarthost
                .rsplit_once(':')
                .is_none_or(|(host, port)| host.is_empty() || port.parse::<u16>().is_err())
        {
            bail!(
                "outbound.smarthost {smarthost:?} isn't valid: write HOST:PORT (e.g. smtp.example.com:587), or leave it empty"
            );
        }
        let user = o.smarthost_user.trim();
        let smarthost_auth =
            (!user.is_empty()).then(|| (user.to_string(), Secret::new(o.smarthost_password.clone())));
        if smarthost_auth.is_some() && smarthost.is_empty() {
            bail!(
                "outbound.smarthost_user is set but outbound.smarthost isn't: name the server the account is for"
            );
        }
        // Credentials travel only inside verified TLS, except to loopback.
        let loopback = smarthost
            .rsplit_once(':')
            .and_then(|(host, _)| host.trim_matches(['[', ']']).parse::<std::net::IpAddr>().ok())
            .is_some_and(|ip| ip.is_loopback())
            || smarthost.starts_with("localhost:");
        let smarthost_tls = if smarthost_auth.is_some() && !loopback {
            let extra = match o.smarthost_ca_file.trim() {
                "" => Vec::new(),
                path => std::fs::read(path)
                    .with_context(|| format!("could not read outbound.smarthost_ca_file {path}"))?,
            };
            Some(
                mailroom_smtp::outbound::client::verified_tls(&extra)
                    .map_err(|e| anyhow::anyhow!("outbound.smarthost_ca_file: {e}"))?,
            )
        } else {
            None
        };
        let remote_tls = if o.ca_file.is_empty() {
            None
        } else {
            let pem = std::fs::read(&o.ca_file)
                .with_context(|| format!("could not read outbound.ca_file {}", o.ca_file))?;
            Some(
                mailroom_smtp::outbound::client::verified_tls(&pem)
                    .map_err(|e| anyhow::anyhow!("outbound.ca_file: {e}"))?,
            )
        };
        if o.remote_port == 0 || o.mta_sts_port == 0 {
            bail!("outbound.remote_port and outbound.mta_sts_port must be ports (1-65535)");
        }
        Ok(mailroom_smtp::outbound::OutboundConfig {
            hostname: self.hostname(),
            node: self.node_name(),
            remote_tls,
            remote_port: o.remote_port,
            mta_sts_port: o.mta_sts_port,
            tls_report_interval: Duration::from_secs(o.tls_report_seconds.max(1)),
            smarthost_auth,
            smarthost_tls,
            smarthost: (!smarthost.is_empty()).then(|| smarthost.to_string()),
            policy: mailroom_core::mail::RetryPolicy {
                waits: o.retry_seconds.iter().map(|s| Duration::from_secs(*s)).collect(),
                expire_after: Duration::from_secs(o.expire_seconds),
                delay_notice_after: Duration::from_secs(o.delay_notice_seconds),
            },
            poll: Duration::from_secs(o.poll_seconds.max(1)),
            ..Default::default()
        })
    }

    /// `[filter]`, if a filter is set.
    fn filter(&self) -> Result<Option<mailroom_smtp::filter::FilterConfig>> {
        let url = self.filter.rspamd.trim();
        if url.is_empty() {
            return Ok(None);
        }
        let timeout = Duration::from_secs(self.filter.timeout_seconds.max(1));
        mailroom_smtp::filter::FilterConfig::from_url(url, timeout).map(Some).with_context(|| {
            format!("filter.rspamd: {url:?} isn't http://HOST:PORT (e.g. \"http://127.0.0.1:11333\")")
        })
    }

    /// The resolver `[dns]` names.
    pub fn dns(&self) -> Result<mailroom_mailauth::Dns> {
        let mut servers = Vec::new();
        for text in &self.dns.nameservers {
            let text = text.trim();
            let server = text
                .parse::<SocketAddr>()
                .or_else(|_| text.parse::<std::net::IpAddr>().map(|ip| SocketAddr::new(ip, 53)))
                .with_context(|| {
                    format!("dns.nameservers: {text:?} isn't IP or IP:PORT (e.g. \"192.0.2.53\")")
                })?;
            servers.push(server);
        }
        Ok(mailroom_mailauth::Dns::new(&servers)?)
    }

    /// `[authentication]` with the resolver it uses; `None` when checks are off.
    pub fn authentication(
        &self,
        dns: std::sync::Arc<mailroom_mailauth::Dns>,
    ) -> Result<Option<std::sync::Arc<mailroom_smtp::SenderAuthentication>>> {
        use mailroom_core::mail::DmarcEnforcement;
        let a = &self.authentication;
        let read = |what: &str, text: &str| {
            DmarcEnforcement::parse(text).with_context(|| {
                format!("{what}: {text:?} isn't one of \"enforce\", \"quarantine\" or \"monitor\"")
            })
        };
        let dmarc = read("authentication.dmarc", &a.dmarc)?;
        let mut domains = std::collections::BTreeMap::new();
        for (domain, text) in &a.domains {
            let name = domain.trim().trim_end_matches('.').to_ascii_lowercase();
            domains.insert(name, read(&format!("authentication.domains.{domain}"), text)?);
        }
        Ok(a.check.then(|| std::sync::Arc::new(mailroom_smtp::SenderAuthentication { dns, dmarc, domains })))
    }

    pub fn inbound(&self) -> Result<InboundConfig> {
        let smtp = &self.smtp;
        if smtp.max_message_size < 65536 {
            bail!("smtp.max_message_size must be at least 65536 octets (RFC 5321 §4.5.3.1.7)");
        }
        if self.message_memory() < smtp.max_message_size.saturating_mul(4) {
            bail!(
                "message_memory must be at least four times smtp.max_message_size (a message is held up to twice over while received, and one client may use half of message_memory), or no message of the maximum size could be received"
            );
        }
        if smtp.max_connections == 0 || smtp.max_connections_per_ip == 0 {
            bail!("smtp.max_connections and smtp.max_connections_per_ip must be more than 0");
        }
        if smtp.max_line_length < 1000 {
            bail!("smtp.max_line_length must be at least 1000 (RFC 5321 §4.5.3.1.6)");
        }
        if smtp.max_recipients < 100 {
            bail!("smtp.max_recipients must be at least 100 (RFC 5321 §4.5.3.1.8)");
        }
        if smtp.idle_timeout_seconds == 0 {
            bail!("smtp.idle_timeout_seconds must be more than 0");
        }
        let mut trusted_relays = Vec::new();
        for text in &smtp.trusted_relays {
            let network = mailroom_smtp::Network::parse(text).with_context(|| {
                format!("smtp.trusted_relays: {text:?} isn't an IP address or network (e.g. \"192.0.2.10\" or \"10.1.0.0/16\")")
            })?;
            if network.prefix() < 8 {
                bail!(
                    "smtp.trusted_relays: {text:?} would trust most of the internet to send as this organisation; list the relays' own addresses or networks"
                );
            }
            trusted_relays.push(network);
        }
        Ok(InboundConfig {
            hostname: self.hostname(),
            trusted_relays,
            max_message_size: smtp.max_message_size,
            max_recipients: smtp.max_recipients,
            max_line_length: smtp.max_line_length,
            idle_timeout: Duration::from_secs(smtp.idle_timeout_seconds),
            filter: self.filter()?,
            ..InboundConfig::default()
        })
    }
}

/// The commented file `init` and `quickstart` write, so every setting is
/// discoverable where it is changed.
pub fn default_file(
    smtp_listen: &str,
    submission_listen: &str,
    imap_listen: &str,
    imaps_listen: &str,
    http_listen: &str,
) -> String {
    let defaults = SmtpConfig::default();
    let message_memory = DEFAULT_MESSAGE_MEMORY;
    format!(
        r#"# Mailroom configuration. Every setting is optional; the values shown are the defaults
# unless noted. Command-line flags (--smtp-listen ...) override this file.

# The server's host name, used in greetings, Received: headers and the TLS certificate.
# Default: the machine's host name.
# hostname = "mail.example.com"

# Octets of message data all SMTP and IMAP sessions together may hold in memory while
# receiving; past it, new transfers are refused for now (SMTP 452, IMAP NO [LIMIT]).
message_memory = {}

[listen]
# "ADDR:PORT" (port 0 picks a free port) or "off". 127.0.0.1 is this machine only;
# 0.0.0.0 (IPv4) or [::] (IPv6 and IPv4) listens on every interface.
smtp = "{smtp_listen}"
# Submission (587, STARTTLS, AUTH required), e.g. "0.0.0.0:587": users send from here,
# to this server's mailboxes and (see the outbound section) to other domains.
submission = "{submission_listen}"
submissions = "off"   # submission over implicit TLS, e.g. "0.0.0.0:465"
imap = "{imap_listen}"      # STARTTLS
imaps = "{imaps_listen}"    # implicit TLS
# The admin center (/admin), the admin API (/api) and CalDAV (/dav). Plain HTTP
# takes passwords from loopback only (see [http]);
# use https, e.g. "0.0.0.0:443", for other hosts.
http = "{http_listen}"
https = "off"

[tls]
# PEM files. Without them a self-signed certificate is generated in the data directory.
# cert = "/etc/mailroom/fullchain.pem"
# key = "/etc/mailroom/privkey.pem"

[smtp]
max_message_size = {}      # octets
max_recipients = {}
max_line_length = {}        # octets per line, with CRLF
idle_timeout_seconds = {}
max_connections = {}
max_connections_per_ip = {}
# Hosts that may send as this organisation's addresses on port 25 without signing in
# (scanners, applications), e.g. ["192.0.2.10", "10.1.0.0/16"]. Nobody else may.
trusted_relays = []

[imap]
allow_plaintext_auth = false   # passwords without TLS only from loopback
idle_timeout_seconds = 1800
max_connections = 10000
max_connections_per_ip = 50

[http]
allow_plaintext_auth = false   # passwords over plain HTTP only from loopback
max_connections = 2000
max_connections_per_ip = 100

[outbound]
# Mail to other domains: through this HOST:PORT if set, else to each domain's own
# MX hosts on port 25.
smarthost = ""
# Its account, if it wants one (AUTH PLAIN; sent only inside verified TLS unless the
# smarthost is on loopback), and extra PEM certificates to trust for it.
smarthost_user = ""
smarthost_password = ""
smarthost_ca_file = ""
retry_seconds = [60, 300, 900, 1800, 3600, 7200, 14400]   # the last wait repeats
expire_seconds = 172800        # then bounce (a delivery status notification)
delay_notice_seconds = 14400   # tell the sender once it's delayed
poll_seconds = 30
# Mail to a domain with an MTA-STS policy in "enforce" mode (RFC 8461) goes only to the
# MX hosts it names, over TLS with a certificate valid for the host: the public roots,
# and these PEM certificates besides.
ca_file = ""
# What happened to TLS with those domains is reported to them (TLS-RPT, RFC 8460) this often.
tls_report_seconds = 86400
# Other domains' mail servers listen on port 25 and serve MTA-STS policies on 443;
# change these only for tests and lab networks.
remote_port = 25
mta_sts_port = 443

[dns]
# Resolvers to ask, "IP" or "IP:PORT"; empty: the system's (/etc/resolv.conf).
nameservers = []

[authentication]
# SPF, DKIM, DMARC and ARC checks of mail arriving on port 25, recorded in an
# Authentication-Results: field.
check = true
# How much of a sender's DMARC policy to honour: "enforce" (p=reject refused,
# p=quarantine to Junk Email), "quarantine" (both to Junk Email) or "monitor" (only
# recorded). Per domain of ours in [authentication.domains], e.g. "contoso.com" = "monitor".
dmarc = "enforce"

[filter]
# rspamd's normal worker, e.g. "http://127.0.0.1:11333": each inbound message is checked
# before it is accepted (reject: refused; add header: Junk Email; greylist: try later).
# If rspamd is unreachable, mail is accepted and the fact logged.
rspamd = ""
timeout_seconds = 20

[cluster]
# This node's name in 'mailroom status' and on the outbound mail it is sending; give
# each node on one store its own. Default: the machine's host name.
# node_name = "mail1"
"#,
        message_memory,
        defaults.max_message_size,
        defaults.max_recipients,
        defaults.max_line_length,
        defaults.idle_timeout_seconds,
        defaults.max_connections,
        defaults.max_connections_per_ip,
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_written_default_file_parses_to_the_defaults() {
        let config =
            Config::parse(&default_file("127.0.0.1:2525", "off", "127.0.0.1:1143", "off", "127.0.0.1:8080"))
                .unwrap();
        assert_eq!(config.listen.smtp, "127.0.0.1:2525");
        assert_eq!(config.smtp.max_message_size, SmtpConfig::default().max_message_size);
        assert!(config.listen_addr(Listener::Imaps).unwrap().is_none());
        assert_eq!(config.listen_addr(Listener::Imap).unwrap().unwrap().port(), 1143);
    }

    #[test]
    fn typos_and_bad_addresses_are_reported() {
        let err = Config::parse("[smtp]\nmax_mesage_size = 1\n").unwrap_err();
        assert!(format!("{err:#}").contains("max_mesage_size"), "{err:#}");
        let mut config = Config::default();
        config.apply(&ListenOverrides { smtp: Some("localhost".into()), ..Default::default() });
        let err = config.listen_addr(Listener::Smtp).unwrap_err();
        assert!(err.to_string().contains("IP:PORT"), "{err}");
        config.apply(&ListenOverrides { https: Some("127.0.0.1".into()), ..Default::default() });
        assert!(config.listen_addr(Listener::Https).unwrap_err().to_string().contains("https listener"));
    }

    #[test]
    fn message_memory_moved_but_the_old_place_is_read() {
        assert_eq!(Config::default().message_memory(), DEFAULT_MESSAGE_MEMORY);
        let old = Config::parse("[smtp]\nmessage_memory = 600000000\n").unwrap();
        assert_eq!(old.message_memory(), 600_000_000);
        let both = Config::parse("message_memory = 700000000\n[smtp]\nmessage_memory = 600000000\n").unwrap();
        assert_eq!(both.message_memory(), 700_000_000);
        let small = Config::parse("message_memory = 100000000\n").unwrap();
        assert!(small.imap_config().unwrap_err().to_string().contains("message_memory must be at least"));
        let relays = Config::parse("[smtp]\ntrusted_relays = [\"192.0.2.10\", \"10.1.0.0/16\"]\n").unwrap();
        assert_eq!(relays.inbound().unwrap().trusted_relays.len(), 2);
        let bad = Config::parse("[smtp]\ntrusted_relays = [\"scanner.local\"]\n").unwrap();
        assert!(format!("{:#}", bad.inbound().unwrap_err()).contains("trusted_relays"));
        let everyone = Config::parse("[smtp]\ntrusted_relays = [\"0.0.0.0/0\"]\n").unwrap();
        assert!(everyone.inbound().unwrap_err().to_string().contains("most of the internet"));
    }

    #[test]
    fn every_default_listener_is_on_loopback_or_off() {
        let config = Config::default();
        for listener in Listener::ALL {
            if let Some(addr) = config.listen_addr(listener).unwrap() {
                assert!(addr.ip().is_loopback(), "{} defaults to {addr}", listener.name());
            }
        }
    }
}
