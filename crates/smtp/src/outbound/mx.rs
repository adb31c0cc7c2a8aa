//! Where mail for a domain goes (RFC 5321 §5.1): its MX hosts by
//! preference; with no MX records, the domain itself (the implicit MX); a
//! null MX (RFC 7505) or a domain that doesn't exist is a permanent failure.

use std::sync::OnceLock;

use hickory_resolver::TokioResolver;
use hickory_resolver::proto::rr::RData;

use super::client::Failure;

/// The system's resolver (/etc/resolv.conf), made once.
fn resolver() -> Option<&'static TokioResolver> {
    static RESOLVER: OnceLock<Option<TokioResolver>> = OnceLock::new();
    RESOLVER
        .get_or_init(|| match TokioResolver::builder_tokio().and_then(|b| b.build()) {
            Ok(resolver) => Some(resolver),
            Err(err) => {
                tracing::error!(error = %err, "no DNS resolver: mail to other domains needs a smarthost");
                None
            }
        })
        .as_ref()
}

/// MX records as (preference, host) in the order to try them; `None` for a
/// null MX.
pub fn order(mut records: Vec<(u16, String)>) -> Option<Vec<String>> {
    records.iter_mut().for_each(|(_, host)| *host = host.trim_end_matches('.').to_ascii_lowercase());
    if records.len() == 1 && records[0].1.is_empty() {
        return None;
    }
    records.retain(|(_, host)| !host.is_empty());
    records.sort_by_key(|(preference, _)| *preference);
    Some(records.into_iter().map(|(_, host)| host).collect())
}

/// The `host:port` addresses to try for `domain`, best first, asking `dns`
/// (or the system's resolver); `port` is 25 but in tests.
pub async fn targets(
    dns: Option<&mailroom_mailauth::Dns>,
    domain: &str,
    port: u16,
) -> Result<Vec<String>, Failure> {
    let resolver = match dns {
        Some(dns) => Some(dns.resolver()),
        None => resolver(),
    };
    let Some(resolver) = resolver else {
        return Err(Failure { permanent: false, text: "no DNS resolver is available".into() });
    };
    match resolver.mx_lookup(format!("{domain}.")).await {
        Ok(lookup) => {
            let records: Vec<(u16, String)> = lookup
                .answers()
                .iter()
                .filter_map(|r| match &r.data {
                    RData::MX(mx) => Some((mx.preference, mx.exchange.to_string())),
                    _ => None,
                })
                .collect();
            if records.is_empty() {
                return Ok(vec![format!("{domain}:{port}")]);
            }
            match order(records) {
                Some(hosts) => Ok(hosts.into_iter().map(|h| format!("{h}:{port}")).collect()),
                // RFC 7505 §4.2: 556 5.1.10.
                None => Err(Failure {
                    permanent: true,
                    text: format!("556 5.1.10 {domain} accepts no mail (null MX, RFC 7505)"),
                }),
            }
        }
        Err(err) if err.is_nx_domain() => {
            Err(Failure { permanent: true, text: format!("the domain {domain} doesn't exist") })
        }
        // No MX records: the domain's own address is the implicit MX.
        Err(err) if err.is_no_records_found() => Ok(vec![format!("{domain}:{port}")]),
        Err(err) => Err(Failure { permanent: false, text: format!("DNS lookup for {domain} failed: {err}") }),
    }
}

#[cfg(test)]
mod tests {
    use super::order;

    #[test]
    fn mx_hosts_by_preference_and_the_null_mx() {
        let records = vec![(20, "Backup.Example.".into()), (10, "mx.example.".into()), (30, "".into())];
        assert_eq!(order(records), Some(vec!["mx.example".to_string(), "backup.example".to_string()]));
        assert_eq!(order(vec![(0, ".".into())]), None, "RFC 7505 null MX");
    }
}
