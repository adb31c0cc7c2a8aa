//! The server's one DNS resolver: MX routing, SPF, DKIM keys, DMARC, ARC
//! and MTA-STS all ask it. `[dns] nameservers` names the servers to ask
//! (tests point it at a DNS server on loopback); without it, the system's
//! (`/etc/resolv.conf`). Answers are cached by their TTL.

use std::net::SocketAddr;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::proto::rr::RData;
use mail_auth::MessageAuthenticator;

/// A resolver, shared by everything that looks names up.
pub struct Dns {
    authenticator: MessageAuthenticator,
}

impl std::fmt::Debug for Dns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Dns")
    }
}

/// Why no resolver could be made.
#[derive(Debug, thiserror::Error)]
#[error("no DNS resolver: {0} (set [dns] nameservers in mailroom.toml)")]
pub struct DnsError(String);

impl Dns {
    /// A resolver asking `nameservers` (over UDP, and TCP for long
    /// answers), or the system's when the list is empty.
    pub fn new(nameservers: &[SocketAddr]) -> Result<Dns, DnsError> {
        let authenticator = if nameservers.is_empty() {
            MessageAuthenticator::new_system_conf()
        } else {
            let servers = nameservers
                .iter()
                .map(|server| {
                    let mut udp = ConnectionConfig::udp();
                    udp.port = server.port();
                    let mut tcp = ConnectionConfig::tcp();
                    tcp.port = server.port();
                    NameServerConfig::new(server.ip(), true, vec![udp, tcp])
                })
                .collect();
            MessageAuthenticator::new(ResolverConfig::from_name_servers(servers), ResolverOpts::default())
        }
        .map_err(|e| DnsError(e.to_string()))?;
        Ok(Dns { authenticator })
    }

    /// The resolver itself (MX, A and AAAA lookups).
    pub fn resolver(&self) -> &TokioResolver {
        self.authenticator.resolver()
    }

    /// The one TXT record at `name` whose text starts with `version`
    /// (`v=STSv1`, `v=TLSRPTv1`), its strings joined; `None` when there is
    /// none, the lookup fails, or there are several (RFC 8461 §3.1 and RFC
    /// 8460 §3: then none counts).
    pub async fn versioned_txt(&self, name: &str, version: &str) -> Option<String> {
        let lookup = self.resolver().txt_lookup(format!("{}.", name.trim_end_matches('.'))).await.ok()?;
        let mut records = lookup.answers().iter().filter_map(|r| match &r.data {
            RData::TXT(txt) => {
                let text: String =
                    txt.txt_data.iter().map(|p| String::from_utf8_lossy(p).into_owned()).collect();
                text.trim_start().starts_with(version).then_some(text)
            }
            _ => None,
        });
        let first = records.next()?;
        records.next().is_none().then_some(first)
    }

    pub(crate) fn authenticator(&self) -> &MessageAuthenticator {
        &self.authenticator
    }
}
