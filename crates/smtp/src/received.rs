//! The `Received:` trace header each accepted message gets (RFC 5321 §4.4).

use std::net::IpAddr;

/// How the message came in, for the `with` clause (RFC 3848, RFC 6531 §3.7.3).
#[derive(Clone, Copy, Debug)]
pub struct Protocol {
    pub esmtp: bool,
    pub tls: bool,
    pub utf8: bool,
    /// Signed in with AUTH (RFC 3848: the `A` in ESMTPSA).
    pub auth: bool,
}

impl Protocol {
    /// RFC 3848 / RFC 6531 `with` keywords.
    fn keyword(self) -> &'static str {
        match (self.utf8, self.esmtp, self.tls, self.auth) {
            (true, _, true, true) => "UTF8SMTPSA",
            (true, _, true, false) => "UTF8SMTPS",
            (true, _, false, true) => "UTF8SMTPA",
            (true, _, false, false) => "UTF8SMTP",
            (false, true, true, true) => "ESMTPSA",
            (false, true, true, false) => "ESMTPS",
            (false, true, false, true) => "ESMTPA",
            (false, true, false, false) => "ESMTP",
            (false, false, _, _) => "SMTP",
        }
    }
}

/// Everything the trace line records.
#[derive(Debug)]
pub struct Trace<'a> {
    /// The client's HELO name and address; `None` for submitted mail,
    /// whose trace names the server alone (like Postfix's local pickup:
    /// `Received: by host ...`, which RFC 5322's `received-token`s allow).
    pub from: Option<(&'a str, IpAddr)>,
    pub by: &'a str,
    pub protocol: Protocol,
    pub id: &'a str,
    /// Given only for a single recipient: naming all of them would disclose Bcc.
    pub for_rcpt: Option<&'a str>,
    pub date: chrono::DateTime<chrono::Utc>,
}

impl Trace<'_> {
    /// The header field, folded, ending in CRLF.
    pub fn header(&self) -> Vec<u8> {
        let mut out = String::from("Received: ");
        if let Some((helo, peer)) = self.from {
            let peer = match peer {
                IpAddr::V4(v4) => format!("[{v4}]"),
                IpAddr::V6(v6) => format!("[IPv6:{v6}]"),
            };
            out.push_str(&format!("from {} ({peer})\r\n\t", sanitize(helo)));
        }
        out.push_str(&format!(
            "by {} (Mailroom) with {} id {}",
            sanitize(self.by),
            self.protocol.keyword(),
            self.id
        ));
        if let Some(rcpt) = self.for_rcpt {
            out.push_str(&format!("\r\n\tfor <{}>", sanitize(rcpt)));
        }
        out.push_str(&format!(";\r\n\t{}\r\n", self.date.format("%a, %d %b %Y %H:%M:%S +0000")));
        out.into_bytes()
    }
}

/// The client chooses its HELO name: keep it to printable characters
/// without the ones that would end a comment or the field.
fn sanitize(text: &str) -> String {
    let clean: String =
        text.chars().filter(|c| !c.is_control() && !matches!(c, '(' | ')' | ';' | '\\')).take(255).collect();
    if clean.is_empty() { "unknown".into() } else { clean }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn header_shape() {
        let trace = Trace {
            from: Some(("client.example (evil)\r\nX-Injected: 1", "127.0.0.1".parse().unwrap())),
            by: "mx.contoso.com",
            protocol: Protocol { esmtp: true, tls: true, utf8: false, auth: false },
            id: "abc123",
            for_rcpt: Some("info@contoso.com"),
            date: chrono::DateTime::from_timestamp(0, 0).unwrap(),
        };
        let text = String::from_utf8(trace.header()).unwrap();
        assert_eq!(
            text,
            "Received: from client.example evilX-Injected: 1 ([127.0.0.1])\r\n\tby mx.contoso.com (Mailroom) with ESMTPS id abc123\r\n\tfor <info@contoso.com>;\r\n\tThu, 01 Jan 1970 00:00:00 +0000\r\n"
        );
        // Submitted: the server alone.
        let submitted = Trace {
            from: None,
            protocol: Protocol { esmtp: true, tls: true, utf8: false, auth: true },
            for_rcpt: None,
            ..trace
        };
        assert_eq!(
            String::from_utf8(submitted.header()).unwrap(),
            "Received: by mx.contoso.com (Mailroom) with ESMTPSA id abc123;\r\n\tThu, 01 Jan 1970 00:00:00 +0000\r\n"
        );
    }
}
