//! TLS-RPT (RFC 8460): what happened to the TLS sessions this server tried
//! with the MX hosts of domains that publish an MTA-STS policy — counted per
//! domain while the sender runs, and reported once a period (a day by
//! default) to the addresses the domain's `_smtp._tls` record names, as the
//! JSON report of §4 in a `multipart/report` message (§5.3), sent from the
//! null sender like any notification (signed by our domain as it leaves).
//!
//! The counts live in the sender's memory: a restart loses the period's
//! (reports are a help to the receiving domain, not a record).

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::mta_sts::{Mode, Policy};

/// How one session with a policy domain's MX host went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Session {
    /// TLS verified as the policy asks.
    Success,
    /// TLS couldn't be had as the policy asks: RFC 8460 §4.3's result type
    /// and the host.
    Failure { result_type: &'static str, mx: String },
}

/// RFC 8460 §4.3's result type for a failed delivery's text, when the
/// failure was TLS's (`None`: the host couldn't be reached at all, which
/// isn't reported).
pub fn result_type(failure: &str) -> Option<&'static str> {
    let text = failure.to_ascii_lowercase();
    if text.contains("doesn't offer starttls") {
        Some("starttls-not-supported")
    } else if text.contains("notvalidforname") || text.contains("not valid for name") {
        Some("certificate-host-mismatch")
    } else if text.contains("expired") {
        Some("certificate-expired")
    } else if text.contains("tls with") || text.contains("certificate") {
        Some("validation-failure")
    } else {
        None
    }
}

#[derive(Debug, Default)]
struct Tally {
    policy: Vec<String>,
    mx: Vec<String>,
    successes: u64,
    failures: BTreeMap<(&'static str, String), u64>,
}

/// The period's counts, per policy domain.
#[derive(Debug)]
pub struct TlsReports {
    state: Mutex<(i64, BTreeMap<String, Tally>)>,
}

/// One domain's report, ready to send.
#[derive(Debug)]
pub struct Report {
    pub domain: String,
    pub json: String,
}

impl TlsReports {
    /// Counting from `now` (Unix seconds).
    pub fn new(now: i64) -> TlsReports {
        TlsReports { state: Mutex::new((now, BTreeMap::new())) }
    }

    /// Counts a session with `domain`'s MX host under `policy`.
    pub fn record(&self, domain: &str, policy: &Policy, session: Session) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let tally = state.1.entry(domain.to_ascii_lowercase()).or_default();
        let mode = match policy.mode {
            Mode::Enforce => "enforce",
            Mode::Testing => "testing",
            Mode::None => "none",
        };
        tally.policy = ["version: STSv1".to_string(), format!("mode: {mode}")]
            .into_iter()
            .chain(policy.mx.iter().map(|mx| format!("mx: {mx}")))
            .chain([format!("max_age: {}", policy.max_age)])
            .collect();
        tally.mx = policy.mx.clone();
        match session {
            Session::Success => tally.successes += 1,
            Session::Failure { result_type, mx } => {
                *tally.failures.entry((result_type, mx)).or_default() += 1
            }
        }
    }

    /// When the current period started.
    pub fn period_start(&self) -> i64 {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).0
    }

    /// The period's reports (one per domain with sessions), the counts
    /// starting again from `now`. `submitter` is our organisation's name
    /// (its default domain), `contact` an address of it.
    pub fn take(&self, now: i64, submitter: &str, contact: &str) -> Vec<Report> {
        let (start, tallies) = {
            let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            std::mem::replace(&mut *state, (now, BTreeMap::new()))
        };
        let range = |t: i64| {
            chrono::DateTime::from_timestamp(t, 0)
                .unwrap_or_default()
                .format("%Y-%m-%dT%H:%M:%SZ")
                .to_string()
        };
        tallies
            .into_iter()
            .map(|(domain, tally)| {
                let failed: u64 = tally.failures.values().sum();
                let details: Vec<serde_json::Value> = tally
                    .failures
                    .iter()
                    .map(|((result_type, mx), count)| {
                        serde_json::json!({
                            "result-type": result_type,
                            "receiving-mx-hostname": mx,
                            "failed-session-count": count,
                        })
                    })
                    .collect();
                // RFC 8460 §4.4.
                let report = serde_json::json!({
                    "organization-name": submitter,
                    "date-range": { "start-datetime": range(start), "end-datetime": range(now) },
                    "contact-info": contact,
                    "report-id": format!("{start}.{domain}@{submitter}"),
                    "policies": [{
                        "policy": {
                            "policy-type": "sts",
                            "policy-string": tally.policy,
                            "policy-domain": domain,
                            "mx-host": tally.mx,
                        },
                        "summary": {
                            "total-successful-session-count": tally.successes,
                            "total-failure-session-count": failed,
                        },
                        "failure-details": details,
                    }],
                });
                Report { domain, json: report.to_string() }
            })
            .collect()
    }
}

/// The report as a message (RFC 8460 §5.3): `multipart/report` with a
/// line for people and the JSON as `application/tlsrpt+json`.
pub fn report_message(report: &Report, submitter: &str, from: &str, to: &str, now: i64) -> Vec<u8> {
    let date = chrono::DateTime::from_timestamp(now, 0).unwrap_or_default().to_rfc2822();
    let id = format!("{now}.{}@{submitter}", report.domain);
    let boundary = format!("tlsrpt-{now}");
    format!(
        "From: {from}\r\nTo: {to}\r\nDate: {date}\r\nMessage-ID: <{id}>\r\n\
         Subject: Report Domain: {domain} Submitter: {submitter} Report-ID: <{id}>\r\n\
         TLS-Report-Domain: {domain}\r\nTLS-Report-Submitter: {submitter}\r\n\
         Auto-Submitted: auto-generated\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=\"tlsrpt\"; boundary=\"{boundary}\"\r\n\r\n\
         --{boundary}\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n\
         This is the TLS report (RFC 8460) of {submitter} for mail to {domain}.\r\n\r\n\
         --{boundary}\r\nContent-Type: application/tlsrpt+json\r\n\
         Content-Disposition: attachment; filename=\"{submitter}!{domain}!{now}.json\"\r\n\r\n\
         {json}\r\n--{boundary}--\r\n",
        domain = report.domain,
        json = report.json,
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_counted_and_reported() {
        let reports = TlsReports::new(1_796_515_200);
        let policy = Policy { mode: Mode::Enforce, mx: vec!["*.fabrikam.example".into()], max_age: 86400 };
        reports.record("Fabrikam.example", &policy, Session::Success);
        for _ in 0..2 {
            let failure = Session::Failure {
                result_type: "certificate-host-mismatch",
                mx: "mx.fabrikam.example".into(),
            };
            reports.record("fabrikam.example", &policy, failure);
        }
        let taken = reports.take(1_796_601_600, "contoso.com", "postmaster@contoso.com");
        assert_eq!(taken.len(), 1);
        let json: serde_json::Value = serde_json::from_str(&taken[0].json).expect("JSON");
        assert_eq!(json["date-range"]["start-datetime"], "2026-12-06T00:00:00Z");
        let policy = &json["policies"][0];
        assert_eq!(policy["policy"]["policy-domain"], "fabrikam.example");
        assert_eq!(policy["policy"]["policy-string"][1], "mode: enforce");
        assert_eq!(policy["summary"]["total-successful-session-count"], 1);
        assert_eq!(policy["summary"]["total-failure-session-count"], 2);
        assert_eq!(policy["failure-details"][0]["result-type"], "certificate-host-mismatch");
        assert!(
            reports.take(1_796_601_700, "contoso.com", "postmaster@contoso.com").is_empty(),
            "counts start again"
        );
        assert_eq!(reports.period_start(), 1_796_601_700);
    }

    #[test]
    fn failure_texts_as_result_types() {
        assert_eq!(
            result_type("TLS with mx:25 failed: invalid peer certificate: NotValidForName"),
            Some("certificate-host-mismatch")
        );
        assert_eq!(
            result_type("mx:25 doesn't offer STARTTLS, which is required"),
            Some("starttls-not-supported")
        );
        assert_eq!(
            result_type("TLS with mx:25 failed: invalid peer certificate: Expired"),
            Some("certificate-expired")
        );
        assert_eq!(
            result_type(
                "TLS with mx:25 failed: invalid peer certificate: certificate not valid for name \"mx\""
            ),
            Some("certificate-host-mismatch")
        );
        assert_eq!(result_type("could not connect to mx:25: refused"), None);
    }
}
