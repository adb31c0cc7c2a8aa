//! STATUS items by name, and the STATUS command when it asks for
//! `MAILBOXID` (RFC 8474 §4.2), which imap-codec doesn't know: such a
//! STATUS is read here; the others stay with imap-codec.

use imap_codec::imap_types::status::StatusDataItemName;

use crate::acl::Cursor;

/// A STATUS item imap-codec knows, by its (upper-case) name.
pub fn item(name: &str) -> Option<StatusDataItemName> {
    use StatusDataItemName as S;
    Some(match name {
        "MESSAGES" => S::Messages,
        "RECENT" => S::Recent,
        "UIDNEXT" => S::UidNext,
        "UIDVALIDITY" => S::UidValidity,
        "UNSEEN" => S::Unseen,
        "DELETED" => S::Deleted,
        "DELETED-STORAGE" => S::DeletedStorage,
        "SIZE" => S::Size,
        "HIGHESTMODSEQ" => S::HighestModSeq,
        _ => return None,
    })
}

/// A STATUS that asks for MAILBOXID.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusRequest {
    pub tag: String,
    /// The name as the client wrote it (modified UTF-7 for IMAP4rev1).
    pub mailbox: String,
    pub items: Vec<StatusDataItemName>,
}

/// `Some(Ok)` for a STATUS naming MAILBOXID, `Some(Err((tag, reason)))` for
/// a malformed one, `None` for anything else (imap-codec's).
pub fn parse(message: &[u8]) -> Option<Result<StatusRequest, (String, &'static str)>> {
    let mut c = Cursor { bytes: message, at: 0 };
    let tag = String::from_utf8_lossy(c.atom()?).into_owned();
    if !c.space() || !c.atom()?.eq_ignore_ascii_case(b"STATUS") {
        return None;
    }
    let upper = message.to_ascii_uppercase();
    if !upper.windows(9).any(|w| w == b"MAILBOXID") {
        return None;
    }
    let bad = |reason| Some(Err((tag.clone(), reason)));
    if !c.space() {
        return bad("STATUS needs a mailbox and items");
    }
    let Some(mailbox) = c.astring() else { return bad("STATUS needs a mailbox name") };
    if !c.space() || c.bytes.get(c.at) != Some(&b'(') {
        return bad("STATUS items are a parenthesized list");
    }
    c.at += 1;
    let mut items = Vec::new();
    let mut mailbox_id = false;
    loop {
        let Some(name) = c.atom() else { return bad("Bad STATUS item") };
        let name = String::from_utf8_lossy(name).to_ascii_uppercase();
        match (name.as_str(), item(&name)) {
            ("MAILBOXID", _) => mailbox_id = true,
            (_, Some(known)) => items.push(known),
            (_, None) => return bad("Unknown STATUS item"),
        }
        match c.bytes.get(c.at) {
            Some(b')') => {
                c.at += 1;
                break;
            }
            Some(b' ') => c.at += 1,
            _ => return bad("Bad STATUS item list"),
        }
    }
    if !c.at_end() {
        return bad("Unexpected text after the STATUS items");
    }
    // Only a STATUS that names MAILBOXID as an item is ours.
    if !mailbox_id {
        return None;
    }
    Some(Ok(StatusRequest { tag, mailbox, items }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn mailboxid_statuses_are_read_here() {
        let r =
            parse(b"a STATUS \"Shared/info@contoso.com/INBOX\" (MESSAGES mailboxid)\r\n").unwrap().unwrap();
        assert_eq!(r.mailbox, "Shared/info@contoso.com/INBOX");
        assert_eq!(r.items, [StatusDataItemName::Messages]);
        assert!(parse(b"a STATUS INBOX (MESSAGES)\r\n").is_none());
        assert!(parse(b"a STATUS MAILBOXID (MESSAGES)\r\n").is_none(), "a folder named so");
        assert!(parse(b"a STATUS INBOX (MAILBOXID FROB)\r\n").unwrap().is_err());
        assert!(parse(b"a STATUS INBOX MAILBOXID\r\n").unwrap().is_err());
    }
}
