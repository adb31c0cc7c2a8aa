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
use mail_auth::{
    ArcOutput, AuthenticatedMessage, AuthenticationResults, DkimOutput, DkimResult, DmarcOutput, DmarcResult,
    DnsError, SpfOutput, SpfResult,
};
use mailroom_core::directory::{Directory, DkimAlgorithm};
use mailroom_core::mail::{DmarcOutcome, DmarcPolicy, FilterVerdict, SenderChecks};
use mailroom_types::{DomainName, EmailAddress};
use rustls_pki_types::{PrivateKeyDer, PrivatePkcs1KeyDer};

use crate::Dns;

/// The budget of each SPF check (RFC 7208 §4.6.4 allows 20 s; a sender's
/// own lookups shouldn't hold the session that long).
const SPF_BUDGET: Duration = Duration::from_secs(8);
/// The budget of each DKIM signature (its key's lookup, mostly).
const DKIM_BUDGET: Duration = Duration::from_secs(5);
/// The budget of the ARC chain's checks.
const ARC_BUDGET: Duration = Duration::from_secs(5);
/// The budget of DMARC's lookups (the From: domain's record).
const DMARC_BUDGET: Duration = Duration::from_secs(8);
/// The most DKIM signatures checked: those aligned with `From:` first. A
/// message with more is unusual, and each costs a lookup and a hash.
const MAX_SIGNATURES: usize = 6;

/// `check`'s result, or `otherwise()` when it takes longer than `budget`.
async fn within<T>(
    budget: Duration,
    check: impl std::future::Future<Output = T>,
    otherwise: impl FnOnce() -> T,
) -> T {
    tokio::time::timeout(budget, check).await.unwrap_or_else(|_elapsed| otherwise())
}

/// The error recorded for a check cut short by its budget.
fn no_answer() -> mail_auth::Error {
    mail_auth::Error::Dns(DnsError::Resolver("no answer in time".into()))
}

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
/// fails: what can't be found out in its budget is a `temperror`.
///
/// Every lookup a sender controls has a budget of its own (SPF for HELO
/// and MAIL FROM, each DKIM signature, the ARC chain): a sender can't run
/// the checks out of time to skip the ones that matter. DMARC is always
/// evaluated, with whatever the others found; a signature or SPF check cut
/// short by its budget counts only where it is aligned with `From:`.
pub async fn verify(
    dns: &Dns,
    directory: &Directory,
    message: &[u8],
    arrival: Arrival<'_>,
    seal_as: &[DomainName],
) -> Verified {
    let authenticator = dns.authenticator();
    let Some(mut parsed) = AuthenticatedMessage::parse(message) else {
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
                several_author_domains: false,
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
        let check = authenticator.verify_spf(SpfParameters::verify_ehlo(arrival.ip, helo, arrival.hostname));
        Some(
            within(SPF_BUDGET, check, || SpfOutput::new(helo.to_string()).with_result(SpfResult::TempError))
                .await,
        )
    } else {
        None
    };
    let check = authenticator.verify_spf(SpfParameters::verify_mail_from(
        arrival.ip,
        helo,
        arrival.hostname,
        &sender,
    ));
    let spf =
        within(SPF_BUDGET, check, || SpfOutput::new(sender_domain.clone()).with_result(SpfResult::TempError))
            .await;

    // RFC 7489 §6.6.1: a From: naming several domains can't be judged for
    // one; core decides what becomes of it.
    let mut author_domains: Vec<String> = parsed
        .from
        .iter()
        .filter_map(|a| a.rsplit_once('@').map(|(_, d)| d.trim_end_matches('.').to_ascii_lowercase()))
        .collect();
    author_domains.sort();
    author_domains.dedup();
    let author = author_domains.first().cloned().unwrap_or_default();
    // The signatures that could make DMARC pass first, then the others, at
    // most MAX_SIGNATURES of them.
    let aligned = |d: &str| {
        let d = d.trim_end_matches('.').to_ascii_lowercase();
        !author.is_empty()
            && (d == author || author.ends_with(&format!(".{d}")) || d.ends_with(&format!(".{author}")))
    };
    parsed.dkim_headers.sort_by_key(|h| !aligned(&h.header.d));
    if parsed.dkim_headers.len() > MAX_SIGNATURES {
        tracing::info!(
            signatures = parsed.dkim_headers.len(),
            "DKIM signatures past the first {MAX_SIGNATURES} not checked"
        );
        parsed.dkim_headers.truncate(MAX_SIGNATURES);
    }
    let parsed = parsed;
    let mut dkim = Vec::new();
    for signature in &parsed.dkim_headers {
        // One signature at a time, each with its budget.
        let mut alone = parsed.clone();
        alone.dkim_headers = vec![signature.clone()];
        alone.errors.clear();
        let result = match tokio::time::timeout(DKIM_BUDGET, authenticator.verify_dkim(&alone)).await {
            Ok(outputs) => outputs.first().map(|o| o.result().clone()).unwrap_or(DkimResult::None),
            Err(_elapsed) => DkimResult::TempError(no_answer()),
        };
        let output = match result {
            DkimResult::Pass => DkimOutput::pass(),
            DkimResult::Neutral(err) => DkimOutput::neutral(err),
            DkimResult::Fail(err) => DkimOutput::fail(err),
            DkimResult::PermError(err) => DkimOutput::perm_err(err),
            DkimResult::TempError(err) => DkimOutput::temp_err(err),
            DkimResult::None => continue,
        };
        dkim.push(output.with_signature(&signature.header));
    }
    // Signatures that couldn't even be read (neutral, RFC 8601 §2.7.1).
    for error in &parsed.errors {
        if let mail_auth::Error::Dkim(_) = &error.header {
            dkim.push(DkimOutput::neutral(error.header.clone()));
        }
    }
    let arc_check = tokio::time::timeout(ARC_BUDGET, authenticator.verify_arc(&parsed)).await;
    let (arc, arc_known) = match arc_check {
        Ok(arc) => (arc, true),
        Err(_elapsed) => (ArcOutput::default().with_result(DkimResult::TempError(no_answer())), false),
    };
    let check = authenticator.verify_dmarc(DmarcParameters::new(&parsed, &dkim, &sender_domain, &spf));
    let dmarc = within(DMARC_BUDGET, check, || {
        DmarcOutput::default().with_domain(&author).with_spf_result(DmarcResult::TempError(no_answer()))
    })
    .await;

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
    // A chain that couldn't be checked isn't sealed (a seal would claim
    // what nobody found out).
    if arc_known && arc.can_be_sealed() {
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
            several_author_domains: author_domains.len() > 1,
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
            authserv_id(value).is_some_and(|id| id.trim_end_matches('.').eq_ignore_ascii_case(ours))
        }
    })
}

/// The authserv-id a field's value starts with (RFC 8601 §2.2: a value,
/// token or quoted-string, after optional comments and folding whitespace).
fn authserv_id(value: &str) -> Option<String> {
    let mut chars = value.chars().peekable();
    // CFWS: whitespace and comments, which nest and may escape.
    loop {
        match chars.peek() {
            Some(c) if c.is_whitespace() => {
                chars.next();
            }
            Some('(') => {
                let mut depth = 0usize;
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '(' => depth += 1,
                        ')' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                }
            }
            _ => break,
        }
    }
    let mut id = String::new();
    if chars.peek() == Some(&'"') {
        chars.next();
        while let Some(c) = chars.next() {
            match c {
                '\\' => id.extend(chars.next()),
                '"' => return Some(id),
                c if c == '\r' || c == '\n' => {}
                c => id.push(c),
            }
        }
        return None;
    }
    id.extend(chars.take_while(|c| !c.is_whitespace() && !matches!(c, ';' | '(' | '"')));
    (!id.is_empty()).then_some(id)
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

    #[test]
    fn forgeries_in_every_form_rfc_8601_allows_are_removed() {
        for forged in [
            "Authentication-Results: \"mx.contoso.com\"; dkim=pass\r\n",
            "Authentication-Results: (a comment (nested)) mx.contoso.com; dkim=pass\r\n",
            "Authentication-Results:\r\n\tMX.CONTOSO.COM;\r\n\tdkim=pass\r\n",
            "Authentication-Results: \"mx.contoso\\.com\" (x); dkim=pass\r\n",
            "AUTHENTICATION-RESULTS:mx.contoso.com.(c);dkim=pass\r\n",
        ] {
            let message = format!("{forged}Subject: x\r\n\r\nbody\r\n");
            let stripped = strip_forged_results(message.as_bytes(), "mx.contoso.com")
                .unwrap_or_else(|| panic!("{forged:?} kept"));
            assert_eq!(stripped, b"Subject: x\r\n\r\nbody\r\n", "{forged:?}");
        }
        assert_eq!(super::authserv_id(" (only a comment"), None);
        assert_eq!(super::authserv_id(" \"unterminated"), None);
        assert_eq!(super::authserv_id(" other.example; spf=pass").as_deref(), Some("other.example"));
    }
}
