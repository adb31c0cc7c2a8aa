//! MTA-STS (RFC 8461): a receiving domain that publishes a policy says
//! which of its MX hosts are genuine and whether mail to it must travel over
//! TLS with a certificate valid for the host. The sender looks up
//! `_mta-sts.<domain>` (TXT `v=STSv1; id=…`), fetches the policy from
//! `https://mta-sts.<domain>/.well-known/mta-sts.txt` over verified TLS (no
//! redirects, at most 64 KiB, §3.3) and keeps it for its `max_age`, fetching
//! again only when the record's id changes (§5.1).
//!
//! In `enforce` mode only MX hosts the policy names are used, and each must
//! present a certificate valid for its name; a failure keeps the mail
//! queued with the reason (§5.2: "MUST NOT deliver"). In `testing` mode the
//! mail goes as before and the failure is only logged. A domain whose
//! policy can't be fetched, with none cached, is treated as having none
//! (§5).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::rustls;

/// RFC 8461 §3.3: a policy is at most 64 KiB.
const MAX_POLICY: usize = 64 * 1024;
/// §3.3: fetching may take a minute; less keeps the queue moving.
const FETCH_TIMEOUT: Duration = Duration::from_secs(30);
/// A policy that couldn't be fetched is tried again after this long (or
/// at once when the domain's record changes).
const RETRY_FAILED_FETCH: Duration = Duration::from_secs(300);
/// §3.2: `max_age` is at most a year.
const MAX_AGE_LIMIT: u64 = 31_557_600;

/// What a policy asks of senders.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Enforce,
    Testing,
    None,
}

/// A domain's policy (RFC 8461 §3.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    pub mode: Mode,
    /// MX host patterns: a name, or `*.` and a name (one label).
    pub mx: Vec<String>,
    pub max_age: u64,
}

impl Policy {
    /// Reads a policy body (`key: value` lines, CRLF or LF).
    pub fn parse(text: &str) -> Result<Policy, String> {
        let mut version = None;
        let (mut mode, mut mx, mut max_age) = (None, Vec::new(), None);
        for line in text.lines() {
            let Some((key, value)) = line.split_once(':') else { continue };
            let value = value.trim();
            match key.trim() {
                "version" => version = Some(value.to_string()),
                "mode" => {
                    mode = Some(match value {
                        "enforce" => Mode::Enforce,
                        "testing" => Mode::Testing,
                        "none" => Mode::None,
                        other => return Err(format!("mode {other:?} is unknown")),
                    })
                }
                "mx" => mx.push(value.trim_end_matches('.').to_ascii_lowercase()),
                "max_age" => max_age = value.parse::<u64>().ok(),
                // §3.2: other keys are ignored.
                _ => {}
            }
        }
        if version.as_deref() != Some("STSv1") {
            return Err("it isn't an STSv1 policy".into());
        }
        let mode = mode.ok_or("it has no mode")?;
        let max_age = max_age.ok_or("it has no max_age")?.min(MAX_AGE_LIMIT);
        if mode != Mode::None && mx.is_empty() {
            return Err("it names no mx".into());
        }
        Ok(Policy { mode, mx, max_age })
    }

    /// Whether `host` is one of the policy's MX hosts (§4.1: a wildcard
    /// stands for one leftmost label).
    pub fn allows(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.mx.iter().any(|pattern| match pattern.strip_prefix("*.") {
            Some(parent) => {
                host.split_once('.').is_some_and(|(label, rest)| !label.is_empty() && rest == parent)
            }
            None => *pattern == host,
        })
    }
}

struct Cached {
    id: String,
    policy: Policy,
    expires: Instant,
}

/// Policies looked up and kept, per domain.
pub struct MtaSts {
    dns: Option<Arc<mailroom_mailauth::Dns>>,
    tls: Option<Arc<rustls::ClientConfig>>,
    /// 443, or another for tests (`[outbound] mta_sts_port`).
    port: u16,
    cache: Mutex<HashMap<String, Cached>>,
    /// Fetches that failed, by domain: the record's id and until when not
    /// to try again (a policy host that doesn't answer mustn't cost every
    /// delivery attempt its timeout).
    failed: Mutex<HashMap<String, (String, Instant)>>,
}

impl std::fmt::Debug for MtaSts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MtaSts").field("port", &self.port).finish()
    }
}

impl MtaSts {
    pub fn new(
        dns: Option<Arc<mailroom_mailauth::Dns>>,
        tls: Option<Arc<rustls::ClientConfig>>,
        port: u16,
    ) -> MtaSts {
        MtaSts { dns, tls, port, cache: Mutex::new(HashMap::new()), failed: Mutex::new(HashMap::new()) }
    }

    /// `domain`'s policy, if it has one in force.
    pub async fn policy(&self, domain: &str) -> Option<Policy> {
        let dns = self.dns.as_deref()?;
        let domain = domain.trim_end_matches('.').to_ascii_lowercase();
        let cached = self.cached(&domain);
        let id = match txt_id(dns, &domain).await {
            Some(id) => id,
            // §5.1: a cached policy outlives its record.
            None => return cached.map(|(_, policy)| policy),
        };
        if let Some((cached_id, policy)) = &cached
            && *cached_id == id
        {
            return Some(policy.clone());
        }
        let recently_failed = {
            let failed = self.failed.lock().unwrap_or_else(|e| e.into_inner());
            failed.get(&domain).is_some_and(|(failed_id, until)| *failed_id == id && *until > Instant::now())
        };
        if recently_failed {
            return cached.map(|(_, policy)| policy);
        }
        match self.fetch(dns, &domain).await {
            Ok(policy) => {
                self.failed.lock().unwrap_or_else(|e| e.into_inner()).remove(&domain);
                let expires = Instant::now() + Duration::from_secs(policy.max_age);
                let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
                cache.insert(domain, Cached { id, policy: policy.clone(), expires });
                Some(policy)
            }
            Err(err) => {
                tracing::warn!(domain, error = %err, "MTA-STS policy not fetched; using the cached one, if any");
                let now = Instant::now();
                let mut failed = self.failed.lock().unwrap_or_else(|e| e.into_inner());
                failed.retain(|_, (_, until)| *until > now);
                failed.insert(domain.clone(), (id, now + RETRY_FAILED_FETCH));
                cached.map(|(_, policy)| policy)
            }
        }
    }

    fn cached(&self, domain: &str) -> Option<(String, Policy)> {
        let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache.get(domain).filter(|c| c.expires > Instant::now()).map(|c| (c.id.clone(), c.policy.clone()))
    }

    async fn fetch(&self, dns: &mailroom_mailauth::Dns, domain: &str) -> Result<Policy, String> {
        let host = format!("mta-sts.{domain}");
        let addresses = resolve(dns, &host, self.port).await?;
        let body = tokio::time::timeout(FETCH_TIMEOUT, self.get(&host, &addresses))
            .await
            .map_err(|_| format!("https://{host}/ didn't answer in time"))??;
        Policy::parse(&body).map_err(|e| format!("the policy of {domain} can't be read: {e}"))
    }

    async fn get(&self, host: &str, addresses: &[SocketAddr]) -> Result<String, String> {
        let name = rustls::pki_types::ServerName::try_from(host.to_string()).map_err(|e| e.to_string())?;
        let tls = self.tls.clone().ok_or("no TLS verification is available")?;
        let mut last = format!("{host} has no address");
        // Each address in turn, until one gives a verified connection.
        for address in addresses {
            let stream = match TcpStream::connect(address).await {
                Ok(stream) => stream,
                Err(err) => {
                    last = format!("could not connect to {host}: {err}");
                    continue;
                }
            };
            let connector = tokio_rustls::TlsConnector::from(tls.clone());
            let mut stream = match connector.connect(name.clone(), stream).await {
                Ok(stream) => stream,
                Err(err) => {
                    last = format!("TLS with {host} failed: {err}");
                    continue;
                }
            };
            let request = format!(
                "GET /.well-known/mta-sts.txt HTTP/1.1\r\nHost: {host}\r\nUser-Agent: Mailroom\r\nConnection: close\r\n\r\n"
            );
            stream.write_all(request.as_bytes()).await.map_err(|e| e.to_string())?;
            let mut answer = Vec::new();
            // Headers and a policy at most 64 KiB: more is not a policy.
            let limit = (MAX_POLICY + 16 * 1024) as u64;
            let read = (&mut stream).take(limit + 1).read_to_end(&mut answer).await;
            if answer.len() as u64 > limit {
                return Err(format!("the policy at {host} is longer than 64 KiB"));
            }
            return body_of(&answer, host, read.is_ok());
        }
        Err(last)
    }
}

/// The body of a `200` answer (§3.3: redirects are not followed), whole:
/// a policy cut short (a connection cut at a record boundary) could name
/// other hosts than the domain does.
/// `closed_cleanly`: TLS ended with its close_notify, so a body without a
/// declared length is whole.
fn body_of(answer: &[u8], host: &str, closed_cleanly: bool) -> Result<String, String> {
    let answer = crate::http_answer::parse(answer)?;
    if !answer.framed && !closed_cleanly {
        return Err(format!("the answer of {host} ended without its length or a clean close"));
    }
    if answer.status != 200 {
        return Err(format!("https://{host}/.well-known/mta-sts.txt answered {}", answer.status));
    }
    if answer.body.len() > MAX_POLICY {
        return Err(format!("the policy at {host} is longer than 64 KiB"));
    }
    String::from_utf8(answer.body).map_err(|_| "the policy isn't UTF-8".into())
}

/// The id of `_mta-sts.<domain>`'s `v=STSv1` record (§3.1).
async fn txt_id(dns: &mailroom_mailauth::Dns, domain: &str) -> Option<String> {
    let record = dns.versioned_txt(&format!("_mta-sts.{domain}"), "v=STSv1").await?;
    mailroom_mailauth::records::tag(&record, "id").map(str::to_string)
}

/// `host`'s addresses (A and AAAA) with `port`.
pub async fn resolve(dns: &mailroom_mailauth::Dns, host: &str, port: u16) -> Result<Vec<SocketAddr>, String> {
    let lookup = dns
        .resolver()
        .lookup_ip(format!("{}.", host.trim_end_matches('.')))
        .await
        .map_err(|e| format!("{host} has no address: {e}"))?;
    Ok(lookup.iter().map(|ip| SocketAddr::new(ip, port)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_read_and_match() {
        let policy = Policy::parse(
            "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmax_age: 86400\r\n",
        )
        .expect("a policy");
        assert_eq!(policy.mode, Mode::Enforce);
        assert!(policy.allows("Mail.Example.com."));
        assert!(policy.allows("mx1.example.net"));
        assert!(!policy.allows("a.b.example.net"), "one label only");
        assert!(!policy.allows("example.net"));
        assert!(!policy.allows("evil.example.com"));
        assert!(Policy::parse("version: STSv1\nmode: enforce\nmax_age: 1\n").is_err(), "no mx");
        assert!(Policy::parse("version: STSv2\nmode: enforce\nmx: a\nmax_age: 1\n").is_err());
        assert!(Policy::parse("version: STSv1\nmode: strict\nmx: a\nmax_age: 1\n").is_err());
        assert_eq!(
            Policy::parse("version: STSv1\nmode: testing\nmx: a\nmax_age: 99999999999\n").map(|p| p.max_age),
            Ok(MAX_AGE_LIMIT)
        );
    }

    #[test]
    fn answers() {
        let ok = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nversion: STSv1\r\n";
        assert_eq!(body_of(ok, "h", true).as_deref(), Ok("version: STSv1\r\n"));
        assert!(body_of(ok, "h", false).is_err(), "no length, no clean close: maybe cut");
        assert!(
            body_of(b"HTTP/1.1 301 Moved\r\nLocation: x\r\n\r\n", "h", true).unwrap_err().contains("301")
        );
        let cut = b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\nversion: STSv1\r\n";
        assert!(body_of(cut, "h", true).is_err(), "shorter than its length");
    }
}
