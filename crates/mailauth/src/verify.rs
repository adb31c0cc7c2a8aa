//! Inbound mail's sender authentication: SPF on the client's address for
//! its HELO name and envelope sender (RFC 7208), every DKIM signature (RFC
//! 6376), DMARC alignment with the `From:` domain (RFC 7489) and the ARC
//! chain (RFC 8617) — recorded in an `Authentication-Results:` field (RFC
//! 8601) under our host name, and reported to `core` (which decides where
//! the message goes: [`mailroom_core::mail::disposition`]).
//!
//! The same work seals the copies the message's mailboxes forward to other
//! domains: an ARC set per forwarding domain (RFC 8617 §5.1), so the final
//! receiver can trust what we found although SPF no longer matches (the
//! copy leaves from our address, by SRS) — DKIM survives a forward, SPF
//! doesn't.

use std::net::IpAddr;
use std::time::Duration;

use mail_auth::arc::ArcSealer;
use mail_auth::common::crypto::{RsaKey, Sha256};
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dmarc::Policy;
use mail_auth::dmarc::verify::DmarcParameters;
use mail_auth::spf::verify::SpfParameters;
use mail_auth::{AuthenticatedMessage, AuthenticationResults, DkimResult, DmarcResult, SpfResult};
use mailroom_core::directory::{Directory, DkimAlgorithm};
use mailroom_core::mail::{DmarcOutcome, DmarcPolicy, FilterVerdict, SenderChecks};
use mailroom_types::{DomainName, EmailAddress};
use rustls_pki_types::{PrivateKeyDer, PrivatePkcs1KeyDer};

use crate::Dns;

/// How long the checks of one message may take in all (DNS included):
/// past it, they are recorded as temporary errors and the message goes on.
pub const CHECK_DEADLINE: Duration = Duration::from_secs(30);

/// The header fields an ARC-Message-Signature covers (RFC 8617 §4.1.2:
/// as a DKIM signature would).
const SEALED: [&str; 10] = [
    "From",
    "To",
    "Cc",
    "Subject",
    "Date",
    "Message-ID",
    "MIME-Version",
    "Content-Type",
    "DKIM-Signature",
    "Reply-To",
];

/// How a message arrived.
#[derive(Clone, Copy, Debug)]
pub struct Arrival<'a> {
    /// The client's address.
    pub ip: IpAddr,
    /// The name it gave in HELO/EHLO.
    pub helo: &'a str,
    /// The envelope sender; `None` for `MAIL FROM:<>`.
    pub mail_from: Option<&'a EmailAddress>,
    /// Our host name: the `authserv-id` of the field we write.
    pub hostname: &'a str,
}

/// What the checks found.
#[derive(Clone, Debug)]
pub struct Verified {
    /// The `Authentication-Results:` field (with its CRLF) to put on top of
    /// the message.
    pub header: String,
    /// What `core` decides on (the filter's verdict still to be filled in).
    pub checks: SenderChecks,
    /// Each result in a word, for the log: `spf=pass dkim=fail …`.
    pub summary: String,
    /// An ARC set (its three fields, with CRLFs) for each domain asked to
    /// seal, to put on top of the copies its mailboxes forward.
    pub seals: Vec<(DomainName, String)>,
}

/// Checks `message` (as received, our `Received:` on top, forged results
/// removed — [`strip_forged_results`]) and seals it for `seal_as`. Never
/// fails: what can't be found out is a `temperror`.
pub async fn verify(
    dns: &Dns,
    directory: &Directory,
    message: &[u8],
    arrival: Arrival<'_>,
    seal_as: &[DomainName],
) -> Verified {
    match tokio::time::timeout(CHECK_DEADLINE, verify_now(dns, directory, message, arrival, seal_as)).await {
        Ok(verified) => verified,
        Err(_elapsed) => {
            tracing::warn!(ip = %arrival.ip, "sender authentication took too long; recorded as temporary errors");
            Verified {
                header: format!(
                    "Authentication-Results: {};\r\n\tspf=temperror;\r\n\tdkim=temperror;\r\n\tdmarc=temperror\r\n",
                    arrival.hostname
                ),
                checks: SenderChecks {
                    dmarc: DmarcOutcome::TempError,
                    policy: DmarcPolicy::None,
                    from_domain: None,
                    filter: FilterVerdict::Clean,
                },
                summary: "spf=temperror dkim=temperror dmarc=temperror".into(),
                seals: Vec::new(),
            }
        }
    }
}

async fn verify_now(
    dns: &Dns,
    directory: &Directory,
    message: &[u8],
    arrival: Arrival<'_>,
    seal_as: &[DomainName],
) -> Verified {
    let authenticator = dns.authenticator();
    let Some(parsed) = AuthenticatedMessage::parse(message) else {
        // No header to speak of: nothing is authenticated.
        return Verified {
            header: format!(
                "Authentication-Results: {};\r\n\tdkim=permerror (unreadable header)\r\n",
                arrival.hostname
            ),
            checks: SenderChecks {
                dmarc: DmarcOutcome::PermError,
                policy: DmarcPolicy::None,
                from_domain: None,
                filter: FilterVerdict::Clean,
            },
            summary: "unreadable".into(),
            seals: Vec::new(),
        };
    };
    let helo = arrival.helo.trim_end_matches('.');
    // RFC 7208 §2.4: with a null sender, the HELO identity stands for it.
    let sender = match arrival.mail_from {
        Some(from) => from.to_string(),
        None => format!("postmaster@{helo}"),
    };
    let sender_domain = sender.rsplit_once('@').map(|(_, d)| d.to_string()).unwrap_or_default();
    let helo_is_name = helo.contains('.') && helo.parse::<IpAddr>().is_err() && !helo.starts_with('[');
    let spf_helo = if helo_is_name {
        Some(authenticator.verify_spf(SpfParameters::verify_ehlo(arrival.ip, helo, arrival.hostname)).await)
    } else {
        None
    };
    let spf = authenticator
        .verify_spf(SpfParameters::verify_mail_from(arrival.ip, helo, arrival.hostname, &sender))
        .await;
    let dkim = authenticator.verify_dkim(&parsed).await;
    let arc = authenticator.verify_arc(&parsed).await;
    let dmarc = authenticator.verify_dmarc(DmarcParameters::new(&parsed, &dkim, &sender_domain, &spf)).await;

    let header_from = parsed.from.first().cloned().unwrap_or_default();
    let mut results = AuthenticationResults::new(arrival.hostname);
    if let Some(spf_helo) = &spf_helo {
        results = results.with_spf_ehlo_result(spf_helo, arrival.ip, helo);
    }
    results = results
        .with_spf_mailfrom_result(
            &spf,
            arrival.ip,
            arrival.mail_from.map(|f| f.to_string()).as_deref().unwrap_or(""),
            helo,
        )
        .with_dkim_results(&dkim, &header_from)
        .with_arc_result(&arc, arrival.ip);
    if !dmarc.domain().is_empty() {
        results = results.with_dmarc_result(&dmarc);
    }
    let mut header = results.to_header();
    // RFC 8601 §2.7.1: "none" says there was nothing to check; mail-auth
    // writes nothing for a message without signatures.
    if dkim.is_empty() {
        let end = header.len() - 2;
        header.insert_str(end, ";\r\n\tdkim=none");
    }

    let dmarc_outcome = match dmarc.result() {
        DmarcResult::Pass => DmarcOutcome::Pass,
        DmarcResult::Fail(_) => DmarcOutcome::Fail,
        DmarcResult::TempError(_) => DmarcOutcome::TempError,
        DmarcResult::PermError(_) => DmarcOutcome::PermError,
        DmarcResult::None => DmarcOutcome::None,
    };
    let policy = match dmarc.policy() {
        Policy::Reject => DmarcPolicy::Reject,
        Policy::Quarantine => DmarcPolicy::Quarantine,
        Policy::None | Policy::Unspecified => DmarcPolicy::None,
    };
    let dkim_word = if dkim.is_empty() {
        "none"
    } else if dkim.iter().any(|d| *d.result() == DkimResult::Pass) {
        "pass"
    } else {
        word_dkim(dkim[0].result())
    };
    let summary = format!(
        "spf={} dkim={} dmarc={} arc={}",
        word_spf(spf.result()),
        dkim_word,
        word_dmarc(&dmarc.result()),
        word_dkim(arc.result())
    );

    let mut seals = Vec::new();
    if arc.can_be_sealed() {
        for domain in seal_as {
            match seal(directory, domain, &parsed, &results, &arc).await {
                Some(set) => seals.push((domain.clone(), set)),
                None => tracing::warn!(domain = %domain, "no ARC seal: the domain has no RSA key that signs"),
            }
        }
    }
    Verified {
        header,
        checks: SenderChecks {
            dmarc: dmarc_outcome,
            policy,
            from_domain: (!dmarc.domain().is_empty()).then(|| dmarc.domain().to_string()),
            filter: FilterVerdict::Clean,
        },
        summary,
        seals,
    }
}

/// An ARC set by `domain`'s RSA key (RFC 8617 §4.1.3 allows only
/// rsa-sha256 for ARC today).
async fn seal(
    directory: &Directory,
    domain: &DomainName,
    message: &AuthenticatedMessage<'_>,
    results: &AuthenticationResults<'_>,
    arc: &mail_auth::ArcOutput<'_>,
) -> Option<String> {
    let keys = crate::ensure_keys(directory, domain).await.ok()?;
    let key = keys.iter().find(|k| k.signing && k.algorithm == DkimAlgorithm::Rsa)?;
    let der = PrivateKeyDer::Pkcs1(PrivatePkcs1KeyDer::from(key.private_key.expose().clone()));
    let rsa = RsaKey::<Sha256>::from_key_der(der).ok()?;
    // Only the fields the message has: a name listed but absent signs its
    // absence, and the DKIM signature the copy gets as it leaves would then
    // break the seal.
    let present: Vec<&str> = SEALED
        .into_iter()
        .filter(|name| message.headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes())))
        .collect();
    let sealer = ArcSealer::from_key(rsa)
        .domain(domain.as_str().trim_end_matches('.'))
        .selector(&key.selector)
        .headers(present);
    match sealer.seal(message, results, arc) {
        Ok(set) => Some(set.to_header()),
        Err(err) => {
            tracing::warn!(domain = %domain, error = %err, "the ARC seal couldn't be made");
            None
        }
    }
}

fn word_spf(result: SpfResult) -> &'static str {
    match result {
        SpfResult::Pass => "pass",
        SpfResult::Fail => "fail",
        SpfResult::SoftFail => "softfail",
        SpfResult::Neutral => "neutral",
        SpfResult::TempError => "temperror",
        SpfResult::PermError => "permerror",
        SpfResult::None => "none",
    }
}

fn word_dkim(result: &DkimResult) -> &'static str {
    match result {
        DkimResult::Pass => "pass",
        DkimResult::Neutral(_) => "neutral",
        DkimResult::Fail(_) => "fail",
        DkimResult::PermError(_) => "permerror",
        DkimResult::TempError(_) => "temperror",
        DkimResult::None => "none",
    }
}

fn word_dmarc(result: &DmarcResult) -> &'static str {
    match result {
        DmarcResult::Pass => "pass",
        DmarcResult::Fail(_) => "fail",
        DmarcResult::TempError(_) => "temperror",
        DmarcResult::PermError(_) => "permerror",
        DmarcResult::None => "none",
    }
}

/// `message` without the `Authentication-Results:` fields that claim to be
/// ours (their authserv-id is our host name): from outside, such a field
/// is a forgery (RFC 8601 §5). `None` when there are none (the message
/// stays as it is, uncopied).
pub fn strip_forged_results(message: &[u8], hostname: &str) -> Option<Vec<u8>> {
    let ours = hostname.trim_end_matches('.');
    mailroom_mime::without_fields(message, |name, field| {
        name == "authentication-results" && {
            let value = String::from_utf8_lossy(field);
            let value = value.split_once(':').map_or("", |(_, v)| v);
            let id = value.trim_start().split([';', ' ', '\t', '\r', '\n', '(']).next().unwrap_or("");
            id.trim_end_matches('.').eq_ignore_ascii_case(ours)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::strip_forged_results;

    #[test]
    fn only_our_own_results_are_removed() {
        let message = b"Received: by mx\r\nAuthentication-Results: MX.contoso.com.;\r\n\tdkim=pass header.d=contoso.com\r\nauthentication-results: other.example; spf=pass\r\nAuthentication-Results:mx.contoso.com; dmarc=pass\r\nSubject: hi\r\n\r\nAuthentication-Results: mx.contoso.com; in the body\r\n";
        let stripped = strip_forged_results(message, "mx.contoso.com").expect("forged fields");
        assert_eq!(
            String::from_utf8(stripped).expect("ascii"),
            "Received: by mx\r\nauthentication-results: other.example; spf=pass\r\nSubject: hi\r\n\r\nAuthentication-Results: mx.contoso.com; in the body\r\n"
        );
        assert!(strip_forged_results(b"Subject: x\r\n\r\nbody", "mx.contoso.com").is_none());
        assert!(
            strip_forged_results(
                b"Authentication-Results: mx.contoso.com.evil; spf=pass\r\n\r\n",
                "mx.contoso.com"
            )
            .is_none(),
            "a longer name isn't ours"
        );
    }
}
