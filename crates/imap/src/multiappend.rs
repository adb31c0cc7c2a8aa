//! MULTIAPPEND (RFC 3502): `APPEND mailbox 1*([SP flags] [SP date] SP
//! literal)`, several messages in one command, stored all or none.
//! imap-codec reads an APPEND of one message; one of several is split here
//! into single-message APPENDs, each then read by imap-codec (its flags,
//! date and literal checked as for any APPEND), and stored together.

use crate::acl::Cursor;

/// An APPEND of several messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MultiAppend {
    pub tag: String,
    /// The mailbox as the client wrote it (modified UTF-7 for IMAP4rev1).
    pub mailbox: String,
    /// One single-message APPEND per message, for imap-codec.
    pub messages: Vec<Vec<u8>>,
    /// A message was a zero-length literal: the client cancelled (RFC 3502
    /// §6.3.11), and nothing is stored.
    pub cancelled: bool,
}

/// At most this many messages in one APPEND: each is a transaction row
/// and a line of the answer.
pub const MAX_MESSAGES: usize = 1000;

/// `Some(Ok)` for an APPEND of more than one message, `Some(Err((tag,
/// reason)))` for a malformed one, `None` for anything else (an APPEND of
/// one message stays with imap-codec).
pub fn parse(message: &[u8]) -> Option<Result<MultiAppend, (String, &'static str)>> {
    let mut c = Cursor { bytes: message, at: 0 };
    let tag = String::from_utf8_lossy(c.atom()?).into_owned();
    if !c.space() || !c.atom()?.eq_ignore_ascii_case(b"APPEND") || !c.space() {
        return None;
    }
    let mailbox = c.astring()?;
    let mut parts = Vec::new();
    let mut cancelled = false;
    loop {
        if !c.space() {
            return None;
        }
        let part_start = c.at;
        // [flag-list SP]
        if c.bytes.get(c.at) == Some(&b'(') {
            let close = c.bytes[c.at..].iter().position(|&b| b == b')' || b == b'\r')? + c.at;
            if c.bytes[close] != b')' {
                return None;
            }
            c.at = close + 1;
            if !c.space() {
                return None;
            }
        }
        // [date-time SP]
        if c.bytes.get(c.at) == Some(&b'"') {
            let close = c.bytes[c.at + 1..].iter().position(|&b| b == b'"' || b == b'\r')? + c.at + 1;
            if c.bytes[close] != b'"' {
                return None;
            }
            c.at = close + 1;
            if !c.space() {
                return None;
            }
        }
        // literal / literal8: `{n}`, `{n+}`, `~{n}`, `~{n+}`
        let head_start = c.at;
        if c.bytes.get(c.at) == Some(&b'~') {
            c.at += 1;
        }
        let (data_start, data_end) = c.literal()?;
        // The `}` before the CRLF before the data.
        let close = data_start - 3;
        cancelled |= data_start == data_end;
        parts.push((part_start, head_start, close, data_start, data_end));
        if c.at_end() {
            break;
        }
        if parts.len() >= MAX_MESSAGES {
            return Some(Err((tag, "Too many messages in one APPEND (at most 1000)")));
        }
    }
    if parts.len() < 2 {
        return None;
    }
    let messages = parts
        .into_iter()
        .map(|(part_start, head_start, close, data_start, data_end)| {
            // `x APPEND INBOX <flags and date> {n+}` CRLF <data> CRLF: the
            // folder is named once, for the whole command.
            let mut one = b"x APPEND INBOX ".to_vec();
            one.extend_from_slice(&c.bytes[part_start..head_start]);
            let tilde = if c.bytes[head_start] == b'~' { "~" } else { "" };
            let digits = std::str::from_utf8(&c.bytes[head_start..close])
                .unwrap_or_default()
                .trim_start_matches(['~', '{'])
                .trim_end_matches('+');
            one.extend_from_slice(format!("{tilde}{{{digits}+}}\r\n").as_bytes());
            one.extend_from_slice(&c.bytes[data_start..data_end]);
            one.extend_from_slice(b"\r\n");
            one
        })
        .collect();
    Some(Ok(MultiAppend { tag, mailbox, messages, cancelled }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn several_messages_become_single_appends() {
        let command =
            b"a APPEND saved (\\Seen) {3}\r\nabc \"07-Feb-1994 22:43:04 -0800\" {2+}\r\nde ~{1}\r\nf\r\n";
        let parsed = parse(command).unwrap().unwrap();
        assert_eq!(parsed.mailbox, "saved");
        assert!(!parsed.cancelled);
        let messages: Vec<String> =
            parsed.messages.iter().map(|m| String::from_utf8_lossy(m).into_owned()).collect();
        assert_eq!(
            messages,
            [
                "x APPEND INBOX (\\Seen) {3+}\r\nabc\r\n",
                "x APPEND INBOX \"07-Feb-1994 22:43:04 -0800\" {2+}\r\nde\r\n",
                "x APPEND INBOX ~{1+}\r\nf\r\n",
            ]
        );
    }

    #[test]
    fn one_message_and_other_commands_stay_with_imap_codec() {
        assert!(parse(b"a APPEND INBOX {3}\r\nabc\r\n").is_none());
        assert!(parse(b"a APPEND INBOX (\\Seen) {3+}\r\nabc\r\n").is_none());
        assert!(parse(b"a NOOP\r\n").is_none());
        assert!(parse(b"a APPEND INBOX {3}\r\nabc junk\r\n").is_none(), "malformed: imap-codec says BAD");
    }

    #[test]
    fn a_zero_length_literal_cancels() {
        let parsed = parse(b"a APPEND INBOX {3}\r\nabc {0}\r\n\r\n").unwrap().unwrap();
        assert!(parsed.cancelled);
    }

    #[test]
    fn the_number_of_messages_is_bounded() {
        let command = format!("a APPEND INBOX{}\r\n", " {1}\r\nx".repeat(1001));
        assert!(parse(command.as_bytes()).unwrap().is_err());
    }
}
