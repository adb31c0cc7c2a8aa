//! The DNS records an accepted domain needs so mail to it arrives and mail
//! from it is trusted — MX (RFC 5321 §5.1), SPF (RFC 7208), DKIM (RFC
//! 6376), DMARC (RFC 7489), MTA-STS (RFC 8461) and TLS-RPT (RFC 8460) —
//! written as zone-file lines, and [`check`]ed against what DNS answers.
//!
//! The check reads the lines it is given (these and the client-discovery
//! ones of the web crate alike: `NAME TTL IN TYPE DATA`, `;` comments) and
//! says for each whether DNS has it, lacks it, has something else that
//! breaks it (another DKIM key, a second SPF record), or has a different
//! but possibly deliberate value (an SPF or DMARC policy of the admin's).

use hickory_resolver::proto::rr::{RData, RecordType};
use mailroom_core::directory::DkimKey;
use sha2::{Digest, Sha256};

use crate::Dns;

/// How long resolvers may keep these records: an hour.
pub const RECORD_TTL: u32 = 3600;

/// How long a sending server may keep our MTA-STS policy (RFC 8461 §3.2
/// suggests weeks; a week lets a change be seen soon enough).
const MTA_STS_MAX_AGE: u32 = 604_800;

/// The MTA-STS policy this server publishes at
/// `https://mta-sts.<domain>/.well-known/mta-sts.txt` (RFC 8461 §3.2):
/// mail for our domains goes to `hostname`. `testing` mode: senders report
/// TLS failures (TLS-RPT) but still deliver — `enforce` needs a certificate
/// every sender trusts, which only the admin can vouch for.
pub fn mta_sts_policy(hostname: &str) -> String {
    let host = hostname.trim_end_matches('.');
    format!("version: STSv1\r\nmode: testing\r\nmx: {host}\r\nmax_age: {MTA_STS_MAX_AGE}\r\n")
}

/// The policy's id (RFC 8461 §3.1): changes whenever the policy does.
fn mta_sts_id(policy: &str) -> String {
    let digest = Sha256::digest(policy.as_bytes());
    digest.iter().take(10).map(|b| format!("{b:02x}")).collect()
}

/// Zone-file lines for `domain`'s mail records, its DKIM `keys` included,
/// for a server named `hostname`. Comment lines (`;`) say what each is for.
pub fn mail_records(domain: &str, hostname: &str, keys: &[DkimKey]) -> Vec<String> {
    let domain = domain.trim_end_matches('.');
    let host = hostname.trim_end_matches('.');
    let ttl = RECORD_TTL;
    let policy_id = mta_sts_id(&mta_sts_policy(hostname));
    let mut lines = vec![
        "; Mail for the domain comes to this server (RFC 5321 §5.1)".to_string(),
        format!("{domain}. {ttl} IN MX 10 {host}."),
        "; SPF (RFC 7208): the domain's MX hosts send its mail, nothing else does".to_string(),
        format!("{domain}. {ttl} IN TXT \"v=spf1 mx -all\""),
        format!(
            "; DKIM (RFC 6376, RFC 8463): the keys {domain}'s outgoing mail is signed with, and any rotated out but still published"
        ),
    ];
    lines.extend(crate::zone_lines(keys, ttl));
    lines.extend([
        "; DMARC (RFC 7489): receivers junk mail that fails SPF and DKIM for the domain; reports to postmaster"
            .to_string(),
        format!("_dmarc.{domain}. {ttl} IN TXT \"v=DMARC1; p=quarantine; rua=mailto:postmaster@{domain}\""),
        "; MTA-STS (RFC 8461): senders use TLS to this server; the policy is served by its HTTPS listener"
            .to_string(),
        format!("_mta-sts.{domain}. {ttl} IN TXT \"v=STSv1; id={policy_id}\""),
        format!("mta-sts.{domain}. {ttl} IN CNAME {host}."),
        "; TLS-RPT (RFC 8460): where senders report TLS failures".to_string(),
        format!("_smtp._tls.{domain}. {ttl} IN TXT \"v=TLSRPTv1; rua=mailto:postmaster@{domain}\""),
    ]);
    lines
}

/// What DNS says about one record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// DNS has it as it should be.
    Ok,
    /// DNS has nothing of its kind there.
    Missing,
    /// DNS has something that breaks it: another value where only ours
    /// works, or more than one where only one may be.
    Wrong,
    /// DNS has a different value that may be the admin's own choice (an
    /// SPF, DMARC or TLS-RPT policy).
    Differs,
    /// DNS couldn't be asked (the resolver's error).
    Unanswered(String),
}

impl Status {
    /// A word for people and JSON.
    pub fn as_str(&self) -> &str {
        match self {
            Status::Ok => "ok",
            Status::Missing => "missing",
            Status::Wrong => "wrong",
            Status::Differs => "differs",
            Status::Unanswered(_) => "unanswered",
        }
    }

    /// Whether mail suffers until it is fixed.
    pub fn is_problem(&self) -> bool {
        matches!(self, Status::Missing | Status::Wrong)
    }
}

/// One record checked.
#[derive(Clone, Debug)]
pub struct Checked {
    /// Which of the lines given to [`check`] it is.
    pub line: usize,
    pub name: String,
    pub kind: String,
    pub expected: String,
    pub status: Status,
    /// What DNS has of that kind at that name.
    pub found: Vec<String>,
}

/// One zone-file line read back: (name, type, data), TXT data unquoted.
fn parse_line(line: &str) -> Option<(String, String, String)> {
    let line = line.trim();
    if line.is_empty() || line.starts_with(';') {
        return None;
    }
    let mut words = line.split_whitespace();
    let name = words.next()?.trim_end_matches('.').to_ascii_lowercase();
    let _ttl = words.next()?;
    let class = words.next()?;
    if !class.eq_ignore_ascii_case("IN") {
        return None;
    }
    let kind = words.next()?.to_ascii_uppercase();
    let rest: Vec<&str> = words.collect();
    let data = if kind == "TXT" {
        let joined = rest.join(" ");
        joined.split('"').skip(1).step_by(2).collect::<String>()
    } else {
        rest.join(" ")
    };
    Some((name, kind, data))
}

/// How long a whole check may take: past it, the records not yet looked
/// up are "unanswered" (a resolver that doesn't answer mustn't hang a page).
pub const CHECK_DEADLINE: std::time::Duration = std::time::Duration::from_secs(15);

/// Checks each record of `lines` (comments skipped) against DNS.
pub async fn check(dns: &Dns, lines: &[String]) -> Vec<Checked> {
    let until = tokio::time::Instant::now() + CHECK_DEADLINE;
    let mut out = Vec::new();
    for (line, (name, kind, expected)) in
        lines.iter().enumerate().filter_map(|(i, l)| Some((i, parse_line(l)?)))
    {
        let answer = tokio::time::timeout_at(until, lookup(dns, &name, &kind)).await;
        let (found, status) = match answer {
            Err(_elapsed) => (Vec::new(), Status::Unanswered("no answer in time".into())),
            Ok(Err(err)) => (Vec::new(), Status::Unanswered(err)),
            Ok(Ok(found)) => {
                let status = judge(&name, &kind, &expected, &found);
                (found, status)
            }
        };
        out.push(Checked { line, name, kind, expected, status, found });
    }
    out
}

/// What DNS has at `name` of `kind`, in the zone-file form [`parse_line`]
/// reads (TXT as its text). Nothing there is an empty list.
async fn lookup(dns: &Dns, name: &str, kind: &str) -> Result<Vec<String>, String> {
    let record_type: RecordType = kind.parse().map_err(|_| format!("{kind} isn't a record type"))?;
    let lookup = match dns.resolver().lookup(format!("{name}."), record_type).await {
        Ok(lookup) => lookup,
        Err(err) if err.is_nx_domain() || err.is_no_records_found() => return Ok(Vec::new()),
        Err(err) => return Err(err.to_string()),
    };
    Ok(lookup
        .answers()
        .iter()
        .filter_map(|record| match &record.data {
            RData::TXT(txt) => {
                Some(txt.txt_data.iter().map(|part| String::from_utf8_lossy(part).into_owned()).collect())
            }
            RData::MX(mx) => Some(format!("{} {}", mx.preference, mx.exchange.to_ascii())),
            RData::SRV(srv) => {
                Some(format!("{} {} {} {}", srv.priority, srv.weight, srv.port, srv.target.to_ascii()))
            }
            RData::CNAME(cname) => Some(cname.0.to_ascii()),
            _ => None,
        })
        .collect())
}

/// Host names compared as DNS does: any case, final dot or not.
fn same_host(a: &str, b: &str) -> bool {
    a.trim_end_matches('.').eq_ignore_ascii_case(b.trim_end_matches('.'))
}

/// A TXT record's version tag (`v=spf1`, `v=DKIM1`…), which says what it is.
fn version_tag(text: &str) -> Option<String> {
    let first = text.split(';').next()?.split_whitespace().next()?;
    first.to_ascii_lowercase().starts_with("v=").then(|| first.to_ascii_lowercase())
}

/// The value of tag `name` in a `k=v; k=v` record (DKIM, MTA-STS,
/// TLS-RPT), trimmed.
pub fn tag<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    text.split(';')
        .filter_map(|t| t.trim().split_once('='))
        .find(|(k, _)| k.trim() == name)
        .map(|(_, v)| v.trim())
}

fn judge(name: &str, kind: &str, expected: &str, found: &[String]) -> Status {
    let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    match kind {
        "MX" => {
            let host = expected.split_whitespace().nth(1).unwrap_or("");
            if found.is_empty() {
                Status::Missing
            } else if found.iter().any(|f| same_host(f.split_whitespace().nth(1).unwrap_or(""), host)) {
                Status::Ok
            } else {
                Status::Wrong
            }
        }
        "CNAME" => match found.first() {
            None => Status::Missing,
            Some(target) if same_host(target, expected) => Status::Ok,
            Some(_) => Status::Wrong,
        },
        "SRV" => {
            let want: Vec<&str> = expected.split_whitespace().collect();
            let (port, target) = (want.get(2).copied().unwrap_or(""), want.get(3).copied().unwrap_or(""));
            if target == "." {
                // "Not offered": nothing there is as good as saying so.
                return if found.iter().all(|f| f.ends_with(" .")) { Status::Ok } else { Status::Differs };
            }
            let matches = |f: &String| {
                let have: Vec<&str> = f.split_whitespace().collect();
                have.get(2).copied() == Some(port) && same_host(have.get(3).copied().unwrap_or(""), target)
            };
            if found.is_empty() {
                Status::Missing
            } else if found.iter().any(matches) {
                Status::Ok
            } else {
                Status::Wrong
            }
        }
        "TXT" => match version_tag(expected) {
            Some(tag_wanted) => {
                let same_kind: Vec<&String> =
                    found.iter().filter(|f| version_tag(f).as_deref() == Some(tag_wanted.as_str())).collect();
                let is_dkim = name.contains("._domainkey.");
                match same_kind.as_slice() {
                    [] => Status::Missing,
                    // A DKIM key must be ours exactly: its p= is what verifies.
                    [one] if is_dkim => {
                        if tag(one, "p").map(|p| p.replace(' ', "")) == tag(expected, "p").map(str::to_string)
                        {
                            Status::Ok
                        } else {
                            Status::Wrong
                        }
                    }
                    [one] if words(one) == words(expected) => Status::Ok,
                    // An MTA-STS id that isn't ours: senders keep a policy
                    // they fetched until the id changes.
                    [_] if tag_wanted == "v=stsv1" => Status::Wrong,
                    [_] => Status::Differs,
                    // RFC 7208 §4.5: two SPF records are a permanent error;
                    // RFC 7489 §6.6.3 and RFC 8460 §3 likewise.
                    _ => Status::Wrong,
                }
            }
            None if found.iter().any(|f| words(f) == words(expected)) => Status::Ok,
            None if found.is_empty() => Status::Missing,
            None => Status::Differs,
        },
        _ if found.iter().any(|f| words(f) == words(expected)) => Status::Ok,
        _ if found.is_empty() => Status::Missing,
        _ => Status::Wrong,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_read_back() {
        assert_eq!(
            parse_line("sel._domainkey.contoso.com. 3600 IN TXT \"v=DKIM1; k=rsa; p=AB\" \"CD\""),
            Some(("sel._domainkey.contoso.com".into(), "TXT".into(), "v=DKIM1; k=rsa; p=ABCD".into()))
        );
        assert_eq!(parse_line("; a comment"), None);
        assert_eq!(
            parse_line("contoso.com. 3600 IN MX 10 mail.contoso.com."),
            Some(("contoso.com".into(), "MX".into(), "10 mail.contoso.com.".into()))
        );
    }

    #[test]
    fn judgements() {
        let mx = "10 mail.contoso.com.";
        assert_eq!(judge("contoso.com", "MX", mx, &[]), Status::Missing);
        assert_eq!(judge("contoso.com", "MX", mx, &["20 MAIL.contoso.com".into()]), Status::Ok);
        assert_eq!(judge("contoso.com", "MX", mx, &["10 other.example.".into()]), Status::Wrong);
        let spf = "v=spf1 mx -all";
        assert_eq!(judge("contoso.com", "TXT", spf, &["google-site-verification=x".into()]), Status::Missing);
        assert_eq!(judge("contoso.com", "TXT", spf, &["v=spf1  mx -all".into()]), Status::Ok);
        assert_eq!(
            judge("contoso.com", "TXT", spf, &["v=spf1 include:other.example -all".into()]),
            Status::Differs
        );
        assert_eq!(judge("contoso.com", "TXT", spf, &[spf.into(), "v=spf1 -all".into()]), Status::Wrong);
        let dkim = "v=DKIM1; k=ed25519; p=AAAA";
        assert_eq!(
            judge("s._domainkey.contoso.com", "TXT", dkim, &["v=DKIM1; k=ed25519; p=AAAA".into()]),
            Status::Ok
        );
        assert_eq!(
            judge("s._domainkey.contoso.com", "TXT", dkim, &["v=DKIM1; k=ed25519; p=BBBB".into()]),
            Status::Wrong
        );
        assert_eq!(
            judge("x", "SRV", "0 1 993 mail.contoso.com.", &["0 1 993 mail.contoso.com.".into()]),
            Status::Ok
        );
        assert_eq!(
            judge("x", "SRV", "0 1 993 mail.contoso.com.", &["0 1 143 mail.contoso.com.".into()]),
            Status::Wrong
        );
        assert_eq!(judge("x", "SRV", "0 0 0 .", &[]), Status::Ok);
        assert_eq!(judge("x", "CNAME", "mail.contoso.com.", &["Mail.Contoso.com.".into()]), Status::Ok);
        assert_eq!(
            judge("_mta-sts.contoso.com", "TXT", "v=STSv1; id=1", &["v=STSv1; id=2".into()]),
            Status::Wrong
        );
    }

    #[test]
    fn the_policy_and_its_id() {
        let policy = mta_sts_policy("mail.contoso.com.");
        assert_eq!(policy, "version: STSv1\r\nmode: testing\r\nmx: mail.contoso.com\r\nmax_age: 604800\r\n");
        assert_eq!(mta_sts_id(&policy).len(), 20);
        assert_ne!(mta_sts_id(&policy), mta_sts_id(&mta_sts_policy("other.example")));
    }
}
