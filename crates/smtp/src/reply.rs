//! SMTP replies: a code, an enhanced status code (RFC 3463, advertised as
//! ENHANCEDSTATUSCODES, RFC 2034) and text for people.
//!
//! Every reply the inbound session can send is built here, so the wording
//! and codes are in one place and the session code reads as protocol.

use std::fmt;

/// One reply; `lines` holds the text of a multi-line reply (RFC 5321 §4.2.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    /// Enhanced status code; `None` for the greeting, EHLO and 354, which carry none.
    pub status: Option<(u8, u16, u16)>,
    pub lines: Vec<String>,
}

impl Reply {
    pub fn new(code: u16, status: (u8, u16, u16), text: impl Into<String>) -> Self {
        Reply { code, status: Some(status), lines: vec![text.into()] }
    }

    pub fn plain(code: u16, text: impl Into<String>) -> Self {
        Reply { code, status: None, lines: vec![text.into()] }
    }

    pub fn is_positive(&self) -> bool {
        self.code < 400
    }

    /// Bytes on the wire, each line ending in CRLF.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let last = self.lines.len().saturating_sub(1);
        for (i, line) in self.lines.iter().enumerate() {
            let sep = if i == last { ' ' } else { '-' };
            let text = match self.status {
                Some((class, subject, detail)) => format!("{class}.{subject}.{detail} {line}"),
                None => line.clone(),
            };
            // Text never carries CR/LF: it could forge a second reply.
            let text: String = text.chars().filter(|c| *c != '\r' && *c != '\n').collect();
            out.extend_from_slice(format!("{}{sep}{text}\r\n", self.code).as_bytes());
        }
        if self.lines.is_empty() {
            out.extend_from_slice(format!("{}\r\n", self.code).as_bytes());
        }
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = Vec::new();
        self.encode(&mut out);
        f.write_str(String::from_utf8_lossy(&out).trim_end())
    }
}

// The replies, by RFC 5321 §4.2 code and RFC 3463 status.
impl Reply {
    pub fn ok() -> Self {
        Reply::new(250, (2, 0, 0), "OK")
    }
    pub fn sender_ok() -> Self {
        Reply::new(250, (2, 1, 0), "Sender OK")
    }
    pub fn recipient_ok() -> Self {
        Reply::new(250, (2, 1, 5), "Recipient OK")
    }
    pub fn queued(id: &str) -> Self {
        Reply::new(250, (2, 0, 0), format!("OK, stored as {id}"))
    }
    pub fn start_data() -> Self {
        Reply::plain(354, "Start mail input; end with <CRLF>.<CRLF>")
    }
    pub fn bye(host: &str) -> Self {
        Reply::new(221, (2, 0, 0), format!("{host} closing connection"))
    }
    pub fn ready_for_tls() -> Self {
        Reply::new(220, (2, 0, 0), "Ready to start TLS")
    }
    pub fn cannot_vrfy() -> Self {
        // RFC 5321 §3.5.3: 252 when the server won't verify but will accept.
        Reply::new(252, (2, 1, 5), "Cannot VRFY user, but will accept message and attempt delivery")
    }
    pub fn help() -> Self {
        Reply::new(
            214,
            (2, 0, 0),
            "See RFC 5321; commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT STARTTLS",
        )
    }

    pub fn shutting_down(host: &str) -> Self {
        Reply::new(421, (4, 3, 2), format!("{host} shutting down, try again later"))
    }
    pub fn idle_timeout(host: &str) -> Self {
        Reply::new(421, (4, 4, 2), format!("{host} idle for too long, closing connection"))
    }
    pub fn too_many_errors() -> Self {
        Reply::new(421, (4, 7, 0), "Too many errors, closing connection")
    }
    pub fn too_busy(host: &str) -> Self {
        Reply::new(421, (4, 3, 2), format!("{host} has too many connections, try again later"))
    }
    pub fn no_memory_now() -> Self {
        Reply::new(452, (4, 3, 1), "Insufficient system resources for this message now; try again later")
    }
    pub fn local_error() -> Self {
        Reply::new(451, (4, 3, 0), "Temporary local problem, try again later")
    }
    pub fn too_many_recipients(max: usize) -> Self {
        // RFC 5321 §4.5.3.1.10: 452 for too many recipients.
        Reply::new(452, (4, 5, 3), format!("Too many recipients (at most {max} per message)"))
    }
    pub fn tls_unavailable() -> Self {
        Reply::new(454, (4, 7, 0), "TLS not available")
    }

    pub fn unknown_command() -> Self {
        Reply::new(500, (5, 5, 1), "Command unrecognized")
    }
    pub fn line_too_long(max: usize) -> Self {
        Reply::new(500, (5, 5, 2), format!("Line too long (at most {max} octets)"))
    }
    pub fn syntax(detail: &str) -> Self {
        Reply::new(501, (5, 5, 4), format!("Syntax error: {detail}"))
    }
    pub fn bad_sender_syntax() -> Self {
        Reply::new(501, (5, 1, 7), "Bad sender address syntax")
    }
    pub fn bad_recipient_syntax() -> Self {
        Reply::new(501, (5, 1, 3), "Bad recipient address syntax")
    }
    pub fn not_implemented(what: &str) -> Self {
        Reply::new(502, (5, 5, 1), format!("{what} not implemented"))
    }
    pub fn auth_not_here() -> Self {
        Reply::new(502, (5, 5, 1), "AUTH is not available on this port; use the submission port")
    }
    pub fn bad_sequence(what: &str) -> Self {
        Reply::new(503, (5, 5, 1), what.to_string())
    }
    pub fn unsupported_parameter(param: &str) -> Self {
        Reply::new(555, (5, 5, 4), format!("Unsupported parameter {param}"))
    }
    pub fn unknown_user() -> Self {
        Reply::new(550, (5, 1, 1), "Recipient address rejected: user unknown")
    }
    pub fn relay_denied() -> Self {
        Reply::new(550, (5, 7, 1), "Relaying denied: sign in on the submission port to send elsewhere")
    }
    pub fn mailbox_full() -> Self {
        Reply::new(552, (5, 2, 2), "Mailbox full: the recipient's mailbox is over its storage quota")
    }
    pub fn message_too_big(max: usize) -> Self {
        Reply::new(552, (5, 3, 4), format!("Message too big (at most {max} octets)"))
    }
    pub fn data_line_too_long(max: usize) -> Self {
        Reply::new(554, (5, 6, 0), format!("Message has a line longer than {max} octets"))
    }
    pub fn too_many_hops() -> Self {
        // RFC 5321 §6.3: a loop shows as many Received headers.
        Reply::new(554, (5, 4, 6), "Too many hops: mail loop detected")
    }
    pub fn no_valid_recipients() -> Self {
        // RFC 2920 §3.1: DATA after every RCPT failed gets 554.
        Reply::new(554, (5, 5, 1), "No valid recipients")
    }
    pub fn utf8_needs_smtputf8() -> Self {
        // RFC 6531 §3.5.
        Reply::new(553, (5, 6, 7), "Non-ASCII address needs the SMTPUTF8 parameter")
    }
    pub fn tls_already_active() -> Self {
        Reply::new(503, (5, 5, 1), "TLS already active")
    }

    // Submission (RFC 6409, RFC 4954).

    pub fn auth_ok() -> Self {
        Reply::new(235, (2, 7, 0), "Authentication successful")
    }
    pub fn auth_failed() -> Self {
        Reply::new(535, (5, 7, 8), "Authentication credentials invalid")
    }
    pub fn auth_needs_tls() -> Self {
        Reply::new(538, (5, 7, 11), "Encryption required: use STARTTLS before AUTH")
    }
    pub fn auth_required() -> Self {
        Reply::new(530, (5, 7, 0), "Authentication required: sign in with AUTH first")
    }
    pub fn auth_cancelled() -> Self {
        Reply::new(501, (5, 0, 0), "Authentication cancelled")
    }
    pub fn auth_mechanism_unknown() -> Self {
        Reply::new(504, (5, 5, 4), "Unrecognized authentication mechanism: use PLAIN or LOGIN")
    }
    pub fn auth_bad_encoding() -> Self {
        Reply::new(501, (5, 5, 2), "Cannot decode the response: send base64")
    }
    /// The signed-in account may no longer send (blocked, converted, removed).
    pub fn signed_out(text: &str) -> Self {
        Reply::new(550, (5, 7, 1), text)
    }

    /// SPEC §2: Exchange's wording.
    pub fn send_as_denied() -> Self {
        Reply::new(
            550,
            (5, 7, 60),
            "You don't have permission to send the message on behalf of the specified user.",
        )
    }
    pub fn over_send_quota(text: &str) -> Self {
        Reply::new(554, (5, 2, 2), text)
    }
    /// An address of ours from an anonymous client (the text names it and
    /// says to use submission), or a sender field RFC 5322 doesn't allow.
    pub fn sender_refused(text: &str) -> Self {
        Reply::new(550, (5, 7, 1), text)
    }
    /// A header whose sender fields couldn't all be read.
    pub fn header_problem(problem: mailroom_core::mail::HeaderProblem) -> Self {
        let text = mailroom_core::mail::header_problem_text(problem);
        match problem {
            mailroom_core::mail::HeaderProblem::TooLarge => Reply::new(552, (5, 3, 4), text),
            mailroom_core::mail::HeaderProblem::Unreadable => Reply::new(550, (5, 6, 0), text),
        }
    }
    /// A message the sender's authentication (DMARC `p=reject`) or the
    /// spam filter refuses (RFC 7372 §3.2, RFC 3463 X.7.1); the text says
    /// why.
    pub fn policy_refused(text: &str) -> Self {
        Reply::new(550, (5, 7, 1), text)
    }
    /// The spam filter asks to try again later (greylisting).
    pub fn policy_deferred(text: &str) -> Self {
        Reply::new(451, (4, 7, 1), text)
    }
    pub fn no_from_header() -> Self {
        Reply::new(
            550,
            (5, 6, 0),
            "The message has no From: header field; add one naming the sending address",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_and_multi_line_encoding() {
        let mut out = Vec::new();
        Reply::unknown_user().encode(&mut out);
        assert_eq!(out, b"550 5.1.1 Recipient address rejected: user unknown\r\n");
        let mut out = Vec::new();
        Reply { code: 250, status: None, lines: vec!["a".into(), "b".into()] }.encode(&mut out);
        assert_eq!(out, b"250-a\r\n250 b\r\n");
    }

    #[test]
    fn text_cannot_inject_a_second_reply() {
        let mut out = Vec::new();
        Reply::plain(250, "x\r\n250 forged").encode(&mut out);
        assert_eq!(out, b"250 x250 forged\r\n");
    }
}
