//! Delivery status notifications (RFC 3464): a `multipart/report` with a
//! line for people, the machine-readable `message/delivery-status`, and the
//! original message's header (`text/rfc822-headers`, RFC 6522) — so the
//! sender's client can show which recipients failed and why.

use mailroom_types::EmailAddress;

/// Failed or delayed (RFC 3464 §2.3.3 `Action`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Failed,
    Delayed,
}

/// One recipient the notification is about.
#[derive(Clone, Debug)]
pub struct RecipientStatus {
    pub recipient: EmailAddress,
    /// What the remote server said (or why nothing could be sent).
    pub diagnostic: String,
}

/// Everything a notification says.
#[derive(Debug)]
pub struct Notice<'a> {
    pub action: Action,
    /// The reporting server's name.
    pub hostname: &'a str,
    /// The postmaster address it comes from.
    pub from: &'a EmailAddress,
    /// The original envelope sender, who gets it.
    pub to: &'a EmailAddress,
    pub recipients: &'a [RecipientStatus],
    /// The original message (its header is quoted).
    pub original: &'a [u8],
    /// When the original arrived (Unix seconds).
    pub arrived: i64,
    /// Unique for the Message-ID and the boundary.
    pub id: &'a str,
}

fn date(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .unwrap_or_default()
        .format("%a, %d %b %Y %H:%M:%S +0000")
        .to_string()
}

/// The enhanced status code in a diagnostic like "550 5.1.1 ...", or a
/// generic one for the action (RFC 3463: 5.0.0 / 4.0.0).
fn status_of(diagnostic: &str, action: Action) -> String {
    // The first word shaped like one (a prefix such as "MAIL FROM:" may
    // come before the reply).
    let code = diagnostic
        .split_whitespace()
        .find(|w| {
            let parts: Vec<&str> = w.split('.').collect();
            parts.len() == 3
                && parts
                    .iter()
                    .all(|p| !p.is_empty() && p.len() <= 3 && p.chars().all(|c| c.is_ascii_digit()))
                && matches!(parts[0], "2" | "4" | "5")
        })
        .map(str::to_string);
    match (code, action) {
        (Some(code), Action::Failed) if code.starts_with('5') => code,
        (Some(code), Action::Delayed) if code.starts_with('4') => code,
        (_, Action::Failed) => "5.0.0".into(),
        (_, Action::Delayed) => "4.0.0".into(),
    }
}

/// The original's header section (up to the empty line).
fn header_of(message: &[u8]) -> &[u8] {
    let end = message.windows(4).position(|w| w == b"\r\n\r\n").map_or(message.len(), |p| p + 2);
    &message[..end]
}

fn subject_of(message: &[u8]) -> String {
    let header = String::from_utf8_lossy(header_of(message)).into_owned();
    header
        .split("\r\n")
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("Subject").then(|| value.trim().to_string())
        })
        .unwrap_or_default()
}

/// The notification as a message, CRLF throughout.
pub fn build(n: &Notice<'_>) -> Vec<u8> {
    let boundary = format!("=_mailroom-dsn-{}", n.id);
    let (subject_prefix, summary) = match n.action {
        Action::Failed => {
            ("Undeliverable", "Your message couldn't be delivered to these recipients; the server gave up:")
        }
        Action::Delayed => (
            "Delayed",
            "Your message hasn't been delivered to these recipients yet. The server keeps trying; you don't need to do anything now:",
        ),
    };
    let subject = subject_of(n.original);
    let mut people = String::new();
    for r in n.recipients {
        people.push_str(&format!("\r\n  {}\r\n    {}\r\n", r.recipient, r.diagnostic));
    }
    let mut out = String::new();
    out.push_str(&format!("From: Mail Delivery System <{}>\r\n", n.from));
    out.push_str(&format!("To: <{}>\r\n", n.to));
    out.push_str(&format!("Subject: {subject_prefix}: {subject}\r\n"));
    out.push_str(&format!("Date: {}\r\n", date(chrono::Utc::now().timestamp())));
    out.push_str(&format!("Message-ID: <dsn-{}@{}>\r\n", n.id, n.hostname));
    // RFC 3834 §5: a response made by software.
    out.push_str("Auto-Submitted: auto-replied\r\n");
    out.push_str("MIME-Version: 1.0\r\n");
    out.push_str(&format!(
        "Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"{boundary}\"\r\n\r\n"
    ));
    out.push_str(&format!(
        "--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{summary}\r\n{people}\r\n"
    ));
    out.push_str(&format!("--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\n"));
    out.push_str(&format!("Reporting-MTA: dns; {}\r\nArrival-Date: {}\r\n", n.hostname, date(n.arrived)));
    let action = match n.action {
        Action::Failed => "failed",
        Action::Delayed => "delayed",
    };
    for r in n.recipients {
        let diagnostic = r.diagnostic.replace(['\r', '\n'], " ");
        out.push_str(&format!(
            "\r\nFinal-Recipient: rfc822; {}\r\nAction: {action}\r\nStatus: {}\r\nDiagnostic-Code: smtp; {diagnostic}\r\nLast-Attempt-Date: {}\r\n",
            r.recipient,
            status_of(&r.diagnostic, n.action),
            date(chrono::Utc::now().timestamp())
        ));
    }
    out.push_str(&format!("\r\n--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n"));
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(header_of(n.original));
    bytes.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_report() {
        let from = EmailAddress::parse("postmaster@contoso.com").unwrap();
        let to = EmailAddress::parse("alice@contoso.com").unwrap();
        let recipients = [RecipientStatus {
            recipient: EmailAddress::parse("x@fabrikam.example").unwrap(),
            diagnostic: "550 5.1.1 no such user".into(),
        }];
        let original = b"From: alice@contoso.com\r\nSubject: Quarterly\r\n\r\nsecret body\r\n";
        let text = String::from_utf8(build(&Notice {
            action: Action::Failed,
            hostname: "mx.contoso.com",
            from: &from,
            to: &to,
            recipients: &recipients,
            original,
            arrived: 0,
            id: "abc",
        }))
        .unwrap();
        assert!(text.contains("Subject: Undeliverable: Quarterly\r\n"), "{text}");
        assert!(text.contains("Content-Type: multipart/report; report-type=delivery-status;"), "{text}");
        assert!(
            text.contains(
                "Final-Recipient: rfc822; x@fabrikam.example\r\nAction: failed\r\nStatus: 5.1.1\r\n"
            ),
            "{text}"
        );
        assert!(text.contains("Diagnostic-Code: smtp; 550 5.1.1 no such user\r\n"), "{text}");
        assert!(
            text.contains(
                "Content-Type: text/rfc822-headers\r\n\r\nFrom: alice@contoso.com\r\nSubject: Quarterly\r\n"
            ),
            "{text}"
        );
        assert!(!text.contains("secret body"), "only the header is quoted");
        assert_eq!(status_of("451 4.4.1 later", Action::Delayed), "4.4.1");
        assert_eq!(status_of("connection refused", Action::Failed), "5.0.0");
        assert_eq!(status_of("MAIL FROM: 550 5.7.1 rejected", Action::Failed), "5.7.1");
    }
}
