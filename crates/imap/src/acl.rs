//! The RFC 4314 ACL commands, which imap-codec doesn't know: a sans-I/O
//! parser for GETACL, SETACL, DELETEACL, LISTRIGHTS and MYRIGHTS lines
//! (astrings as atoms, quoted strings or literals), and how `core`'s
//! effective rights ([`MailRights`]) are written as RFC 4314 letters. With
//! Exchange's model they are all or nothing: Full Access (or owning the
//! mailbox) is every right, `lrswipkxtea`; no access is none.

use mailroom_core::mail::MailRights;

/// `rights` as RFC 4314 §2.1 letters, in the RFC's order.
pub fn letters(rights: MailRights) -> String {
    [
        (rights.lookup, 'l'),
        (rights.read, 'r'),
        (rights.keep_seen, 's'),
        (rights.write_flags, 'w'),
        (rights.insert, 'i'),
        (rights.post, 'p'),
        (rights.create_folders, 'k'),
        (rights.delete_folders, 'x'),
        // `t` (set \Deleted) and `e` (expunge) are one right in core.
        (rights.expunge, 't'),
        (rights.expunge, 'e'),
        (rights.admin, 'a'),
    ]
    .into_iter()
    .filter_map(|(held, letter)| held.then_some(letter))
    .collect()
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AclCommand {
    GetAcl { mailbox: String },
    MyRights { mailbox: String },
    ListRights { mailbox: String, identifier: String },
    SetAcl { mailbox: String, identifier: String, rights: String },
    DeleteAcl { mailbox: String, identifier: String },
}

/// A parsed ACL command line, or why it isn't one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AclParse {
    /// Not an ACL command: let imap-codec have it.
    NotAcl,
    Command {
        tag: String,
        command: AclCommand,
    },
    /// An ACL command with bad arguments: the text for BAD.
    Bad {
        tag: String,
        reason: &'static str,
    },
}

pub(crate) struct Cursor<'a> {
    pub(crate) bytes: &'a [u8],
    pub(crate) at: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn space(&mut self) -> bool {
        if self.bytes.get(self.at) == Some(&b' ') {
            self.at += 1;
            true
        } else {
            false
        }
    }

    pub(crate) fn atom(&mut self) -> Option<&'a [u8]> {
        let start = self.at;
        while let Some(&b) = self.bytes.get(self.at) {
            if b <= b' ' || b >= 0x7f || matches!(b, b'(' | b')' | b'{' | b'%' | b'*' | b'"' | b'\\') {
                break;
            }
            self.at += 1;
        }
        (self.at > start).then(|| &self.bytes[start..self.at])
    }

    /// astring = atom / quoted / literal (RFC 9051 §9).
    pub(crate) fn astring(&mut self) -> Option<String> {
        match self.bytes.get(self.at)? {
            b'"' => {
                self.at += 1;
                let mut out = Vec::new();
                loop {
                    match *self.bytes.get(self.at)? {
                        b'"' => {
                            self.at += 1;
                            return String::from_utf8(out).ok();
                        }
                        b'\\' => {
                            let next = *self.bytes.get(self.at + 1)?;
                            if next != b'"' && next != b'\\' {
                                return None;
                            }
                            out.push(next);
                            self.at += 2;
                        }
                        b'\r' | b'\n' => return None,
                        b => {
                            out.push(b);
                            self.at += 1;
                        }
                    }
                }
            }
            b'{' => {
                let (start, end) = self.literal()?;
                String::from_utf8(self.bytes[start..end].to_vec()).ok()
            }
            _ => {
                // ASTRING-CHAR also allows ']'.
                let start = self.at;
                while let Some(&b) = self.bytes.get(self.at) {
                    if b <= b' ' || b >= 0x7f || matches!(b, b'(' | b')' | b'{' | b'%' | b'*' | b'"' | b'\\')
                    {
                        break;
                    }
                    self.at += 1;
                }
                (self.at > start).then(|| String::from_utf8_lossy(&self.bytes[start..self.at]).into_owned())
            }
        }
    }

    /// A literal here, `{n}` or `{n+}` CRLF and n octets (the framer has
    /// read them all): where its data starts and ends; the cursor moves
    /// past it.
    pub(crate) fn literal(&mut self) -> Option<(usize, usize)> {
        if self.bytes.get(self.at) != Some(&b'{') {
            return None;
        }
        let close = self.at + self.bytes[self.at..].iter().position(|&b| b == b'}')?;
        let digits = std::str::from_utf8(&self.bytes[self.at + 1..close]).ok()?;
        let length: usize = digits.strip_suffix('+').unwrap_or(digits).parse().ok()?;
        if self.bytes.get(close + 1..close + 3)? != b"\r\n" {
            return None;
        }
        let start = close + 3;
        let end = start.checked_add(length)?;
        self.bytes.get(start..end)?;
        self.at = end;
        Some((start, end))
    }

    pub(crate) fn at_end(&self) -> bool {
        matches!(&self.bytes[self.at..], b"\r\n" | b"\n")
    }
}

/// Parses one complete message (as the fragmentizer hands it over).
pub fn parse(bytes: &[u8]) -> AclParse {
    let mut c = Cursor { bytes, at: 0 };
    let Some(tag) = c.atom() else { return AclParse::NotAcl };
    let tag = String::from_utf8_lossy(tag).into_owned();
    if !c.space() {
        return AclParse::NotAcl;
    }
    let Some(name) = c.atom() else { return AclParse::NotAcl };
    let name = name.to_ascii_uppercase();
    let arity = match name.as_slice() {
        b"GETACL" | b"MYRIGHTS" => 1,
        b"LISTRIGHTS" | b"DELETEACL" => 2,
        b"SETACL" => 3,
        _ => return AclParse::NotAcl,
    };
    let mut args = Vec::new();
    for _ in 0..arity {
        if !c.space() {
            return AclParse::Bad { tag, reason: "Missing arguments" };
        }
        match c.astring() {
            Some(arg) => args.push(arg),
            None => {
                return AclParse::Bad { tag, reason: "Arguments must be atoms, quoted strings or literals" };
            }
        }
    }
    if !c.at_end() {
        return AclParse::Bad { tag, reason: "Unexpected text after the arguments" };
    }
    let mut args = args.into_iter();
    let mut next = || args.next().unwrap_or_default();
    let command = match name.as_slice() {
        b"GETACL" => AclCommand::GetAcl { mailbox: next() },
        b"MYRIGHTS" => AclCommand::MyRights { mailbox: next() },
        b"LISTRIGHTS" => AclCommand::ListRights { mailbox: next(), identifier: next() },
        b"DELETEACL" => AclCommand::DeleteAcl { mailbox: next(), identifier: next() },
        _ => AclCommand::SetAcl { mailbox: next(), identifier: next(), rights: next() },
    };
    AclParse::Command { tag, command }
}

#[cfg(test)]
mod tests {
    #[test]
    fn rights_are_written_in_the_rfc_order() {
        assert_eq!(super::letters(mailroom_core::mail::MailRights::FULL), "lrswipkxtea");
        assert_eq!(super::letters(mailroom_core::mail::MailRights::NONE), "");
    }

    use super::*;

    fn command(line: &[u8]) -> AclCommand {
        match parse(line) {
            AclParse::Command { command, .. } => command,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn known_answers() {
        assert_eq!(command(b"a GETACL INBOX\r\n"), AclCommand::GetAcl { mailbox: "INBOX".into() });
        assert_eq!(
            command(b"a myrights \"Shared/info@contoso.com/Sent Items\"\r\n"),
            AclCommand::MyRights { mailbox: "Shared/info@contoso.com/Sent Items".into() }
        );
        assert_eq!(
            command(b"a LISTRIGHTS {5}\r\nINBOX bob@contoso.com\r\n"),
            AclCommand::ListRights { mailbox: "INBOX".into(), identifier: "bob@contoso.com".into() }
        );
        assert_eq!(
            command(b"a SETACL INBOX {3+}\r\nbob +lr\r\n"),
            AclCommand::SetAcl { mailbox: "INBOX".into(), identifier: "bob".into(), rights: "+lr".into() }
        );
        assert_eq!(
            command(b"a DELETEACL \"a\\\"b\" bob\r\n"),
            AclCommand::DeleteAcl { mailbox: "a\"b".into(), identifier: "bob".into() }
        );
    }

    #[test]
    fn other_commands_and_bad_arguments() {
        assert_eq!(parse(b"a SELECT INBOX\r\n"), AclParse::NotAcl);
        assert_eq!(parse(b"* GETACL\r\n"), AclParse::NotAcl);
        assert!(matches!(parse(b"a GETACL\r\n"), AclParse::Bad { reason: "Missing arguments", .. }));
        assert!(matches!(parse(b"a GETACL INBOX extra\r\n"), AclParse::Bad { .. }));
        assert!(matches!(parse(b"a GETACL \"unterminated\r\n"), AclParse::Bad { .. }));
        assert!(matches!(parse(b"a GETACL {99}\r\nshort\r\n"), AclParse::Bad { .. }));
    }
}
