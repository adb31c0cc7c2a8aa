//! UNAUTHENTICATE (RFC 8437): back to the not-authenticated state on the
//! same connection, so a client can sign in as someone else without a new
//! TLS handshake. Everything of the signed-in user goes — the selected
//! folder (closed without expunging), ENABLEd extensions, the saved search,
//! the mailboxes opened with their rights — as on a new connection; TLS
//! stays. imap-codec doesn't know the command: it is read here.

use crate::respond::{Status, status};
use crate::session::{Session, State};

/// The tag of an `UNAUTHENTICATE` command line, if that is what `line` is.
pub(crate) fn parse(line: &[u8]) -> Option<String> {
    let line = line.strip_suffix(b"\r\n").or_else(|| line.strip_suffix(b"\n"))?;
    let (tag, rest) = line.split_at(line.iter().position(|&b| b == b' ')?);
    let valid_tag = !tag.is_empty()
        && tag.iter().all(|&b| {
            b.is_ascii_graphic() && !matches!(b, b'(' | b')' | b'{' | b'%' | b'*' | b'"' | b'\\' | b'+')
        });
    (valid_tag && rest[1..].eq_ignore_ascii_case(b"UNAUTHENTICATE"))
        .then(|| String::from_utf8_lossy(tag).into_owned())
}

impl Session {
    pub(crate) fn unauthenticate(&mut self, tag: &str) {
        if self.user().is_none() {
            self.fail(status(Some(tag), Status::Bad, None, "Not signed in: UNAUTHENTICATE needs a sign-in"));
            return;
        }
        self.change_selected(None);
        self.state = State::NotAuthenticated;
        self.condstore = false;
        self.qresync = false;
        self.rev2 = false;
        self.utf8 = false;
        self.notify = None;
        self.forget_access();
        self.conn.signed_out();
        tracing::info!(session = self.id, "imap sign-out (UNAUTHENTICATE)");
        self.conn.send(&status(Some(tag), Status::Ok, None, "UNAUTHENTICATE completed"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_only_the_bare_command() {
        assert_eq!(parse(b"a1 UNAUTHENTICATE\r\n").as_deref(), Some("a1"));
        assert_eq!(parse(b"x unauthenticate\r\n").as_deref(), Some("x"));
        assert_eq!(parse(b"a1 UNAUTHENTICATE now\r\n"), None);
        assert_eq!(parse(b"a1 LOGOUT\r\n"), None);
        assert_eq!(parse(b"* UNAUTHENTICATE\r\n"), None);
        assert_eq!(parse(b"UNAUTHENTICATE\r\n"), None);
    }
}
