//! Status responses (RFC 9051 §7.1) with their response codes, including
//! the RFC 5530 codes (`AUTHENTICATIONFAILED`, `NONEXISTENT`, `NOPERM`,
//! `SERVERBUG`, `TOOBIG`...) that clients act on.

/// The three status kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    Ok,
    No,
    Bad,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::No => "NO",
            Status::Bad => "BAD",
        }
    }
}

/// Text never carries CR or LF: it could forge a second response.
fn clean(text: &str) -> String {
    text.chars().filter(|c| *c != '\r' && *c != '\n').collect()
}

/// `TAG OK [CODE] text` (or `* ` when the tag is unknown).
pub(crate) fn status(tag: Option<&str>, status: Status, code: Option<&str>, text: &str) -> Vec<u8> {
    let tag = tag.unwrap_or("*");
    let code = code.map(|c| format!("[{}] ", clean(c))).unwrap_or_default();
    format!("{tag} {} {code}{}\r\n", status.as_str(), clean(text)).into_bytes()
}

/// `* LINE`.
pub(crate) fn untagged(line: &str) -> Vec<u8> {
    format!("* {}\r\n", clean(line)).into_bytes()
}

/// An IMAP quoted string (RFC 9051 §4.3): backslash and quote escaped.
pub(crate) fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        if c != '\r' && c != '\n' {
            out.push(c);
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert_eq!(status(Some("a1"), Status::Ok, None, "done"), b"a1 OK done\r\n");
        assert_eq!(status(None, Status::Bad, Some("TOOBIG"), "too\r\nbig"), b"* BAD [TOOBIG] toobig\r\n");
        assert_eq!(quoted("a\"b\\c"), "\"a\\\"b\\\\c\"");
    }
}
