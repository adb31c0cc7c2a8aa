//! MULTIAPPEND (RFC 3502): `APPEND mailbox 1*([SP flags] [SP date] SP
//! literal)`, several messages in one command, stored all or none; and
//! CATENATE (RFC 4469), a message given as `CATENATE (cat-part *(SP
//! cat-part))` — pieces of text and IMAP URLs of messages or parts already
//! stored — alone or among others.
//!
//! imap-codec reads an APPEND of one literal; anything else is split here
//! into single-message APPENDs, each then read by imap-codec (its flags,
//! date and literal checked as for any APPEND), and stored together. A
//! catenated message becomes such an APPEND once the session has put its
//! pieces together (`cmd/append.rs`).

use crate::acl::Cursor;

/// One message of an APPEND.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// A single-message APPEND, for imap-codec.
    Literal(Vec<u8>),
    /// `CATENATE (…)`: the flags and date as written (each followed by a
    /// space) and the pieces, in order.
    Catenate { head: Vec<u8>, parts: Vec<CatPart> },
}

/// A piece of a catenated message (RFC 4469 §5 `cat-part`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CatPart {
    /// `TEXT literal`: the octets themselves.
    Text(Vec<u8>),
    /// `URL astring`: an IMAP URL (RFC 5092) of a stored message or part.
    Url(String),
}

/// At most this many pieces in one catenated message.
pub const MAX_CAT_PARTS: usize = 100;

/// An APPEND of several messages, or of a catenated one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MultiAppend {
    pub tag: String,
    /// The mailbox as the client wrote it (modified UTF-7 for IMAP4rev1).
    pub mailbox: String,
    pub messages: Vec<Message>,
    /// A message was a zero-length literal: the client cancelled (RFC 3502
    /// §6.3.11), and nothing is stored.
    pub cancelled: bool,
}

/// At most this many messages in one APPEND: each is a transaction row
/// and a line of the answer.
pub const MAX_MESSAGES: usize = 1000;

/// `Some(Ok)` for an APPEND of more than one message or with CATENATE,
/// `Some(Err((tag, reason)))` for a malformed one of these, `None` for
/// anything else (an APPEND of one literal stays with imap-codec).
pub fn parse(message: &[u8]) -> Option<Result<MultiAppend, (String, &'static str)>> {
    let mut c = Cursor { bytes: message, at: 0 };
    let tag = String::from_utf8_lossy(c.atom()?).into_owned();
    if !c.space() || !c.atom()?.eq_ignore_ascii_case(b"APPEND") || !c.space() {
        return None;
    }
    let mailbox = c.astring()?;
    let mut messages = Vec::new();
    let mut catenate = false;
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
        let head_start = c.at;
        if c.bytes.get(c.at..c.at + 10).is_some_and(|w| w.eq_ignore_ascii_case(b"CATENATE (")) {
            // CATENATE SP "(" cat-part *(SP cat-part) ")"
            c.at += 10;
            let parts = match catenate_parts(&mut c) {
                Some(parts) => parts,
                None => return Some(Err((tag, "CATENATE takes (TEXT literal / URL astring ...)"))),
            };
            if parts.len() > MAX_CAT_PARTS {
                return Some(Err((tag, "Too many parts in one CATENATE (at most 100)")));
            }
            catenate = true;
            messages.push(Message::Catenate { head: c.bytes[part_start..head_start].to_vec(), parts });
        } else {
            // literal / literal8: `{n}`, `{n+}`, `~{n}`, `~{n+}`
            let literal8 = c.bytes.get(c.at) == Some(&b'~');
            if literal8 {
                c.at += 1;
            }
            let (data_start, data_end) = c.literal()?;
            cancelled |= data_start == data_end;
            let head = &c.bytes[part_start..head_start];
            messages.push(Message::Literal(single_append(head, literal8, &c.bytes[data_start..data_end])));
        }
        if c.at_end() {
            break;
        }
        if messages.len() >= MAX_MESSAGES {
            return Some(Err((tag, "Too many messages in one APPEND (at most 1000)")));
        }
    }
    if messages.len() < 2 && !catenate {
        return None;
    }
    Some(Ok(MultiAppend { tag, mailbox, messages, cancelled }))
}

/// `x APPEND INBOX <head> {n+}` CRLF <data> CRLF: one message, with the
/// flags and date `head` as written, for imap-codec to read like any
/// APPEND (the folder is named once, for the whole command).
pub fn single_append(head: &[u8], literal8: bool, data: &[u8]) -> Vec<u8> {
    let mut one = b"x APPEND INBOX ".to_vec();
    one.extend_from_slice(head);
    one.extend_from_slice(format!("{}{{{}+}}\r\n", if literal8 { "~" } else { "" }, data.len()).as_bytes());
    one.extend_from_slice(data);
    one.extend_from_slice(b"\r\n");
    one
}

/// The parts of a CATENATE after its `(`, through the `)`.
fn catenate_parts(c: &mut Cursor<'_>) -> Option<Vec<CatPart>> {
    let mut parts = Vec::new();
    loop {
        let kind = c.atom()?;
        if !c.space() {
            return None;
        }
        if kind.eq_ignore_ascii_case(b"TEXT") {
            // literal, or literal8 where BINARY allows it (RFC 4469 §5, RFC 3516).
            if c.bytes.get(c.at) == Some(&b'~') {
                c.at += 1;
            }
            let (start, end) = c.literal()?;
            parts.push(CatPart::Text(c.bytes[start..end].to_vec()));
        } else if kind.eq_ignore_ascii_case(b"URL") {
            parts.push(CatPart::Url(c.astring()?));
        } else {
            return None;
        }
        match c.bytes.get(c.at)? {
            b')' => {
                c.at += 1;
                return Some(parts);
            }
            b' ' => c.at += 1,
            _ => return None,
        }
    }
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
        let messages: Vec<String> = parsed
            .messages
            .iter()
            .map(|m| match m {
                Message::Literal(one) => String::from_utf8_lossy(one).into_owned(),
                other => format!("{other:?}"),
            })
            .collect();
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
    fn catenate_alone_or_among_others() {
        let command = b"a APPEND Drafts (\\Draft) CATENATE (URL \"/Drafts;UIDVALIDITY=3/;UID=20/;SECTION=HEADER\" TEXT {5}\r\nhello URL /INBOX/;UID=2) ~{1}\r\nf\r\n";
        let parsed = parse(command).unwrap().unwrap();
        assert_eq!(parsed.mailbox, "Drafts");
        assert_eq!(
            parsed.messages,
            [
                Message::Catenate {
                    head: b"(\\Draft) ".to_vec(),
                    parts: vec![
                        CatPart::Url("/Drafts;UIDVALIDITY=3/;UID=20/;SECTION=HEADER".into()),
                        CatPart::Text(b"hello".to_vec()),
                        CatPart::Url("/INBOX/;UID=2".into()),
                    ],
                },
                Message::Literal(b"x APPEND INBOX ~{1+}\r\nf\r\n".to_vec()),
            ]
        );
        // One catenated message is ours too, not imap-codec's.
        let one = parse(b"a APPEND INBOX catenate (text {1+}\r\nx)\r\n").unwrap().unwrap();
        assert_eq!(
            one.messages,
            [Message::Catenate { head: vec![], parts: vec![CatPart::Text(b"x".to_vec())] }]
        );
        for bad in [
            &b"a APPEND INBOX CATENATE ()\r\n"[..],
            b"a APPEND INBOX CATENATE (TEXT x)\r\n",
            b"a APPEND INBOX CATENATE (FILE /etc/passwd)\r\n",
            b"a APPEND INBOX CATENATE (URL /INBOX/;UID=1\r\n",
            b"a APPEND INBOX CATENATE (URL /INBOX/;UID=1  URL x)\r\n",
        ] {
            assert!(parse(bad).unwrap().is_err(), "{}", String::from_utf8_lossy(bad));
        }
        let many = format!("a APPEND INBOX CATENATE ({})\r\n", vec!["URL x"; 101].join(" "));
        assert!(parse(many.as_bytes()).unwrap().is_err());
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
