//! The NOTIFY command (RFC 5465), which imap-codec doesn't know: read here
//! (sans-I/O) into what the session asks to hear of. `cmd/notify.rs` runs
//! it; the grammar is RFC 5465 §8 (with erratum 1804: a group's events are
//! always parenthesized, or `NONE`).

use imap_codec::imap_types::fetch::MessageDataItemName;

use crate::acl::Cursor;

/// The events Mailroom reports (RFC 5465 §5): the answer `BADEVENT` lists.
pub const SUPPORTED_EVENTS: &str = "MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange";

/// At most this many mailbox names in one NOTIFY: each is resolved again
/// whenever the user's folders change.
pub const MAX_NAMES: usize = 1000;

/// At most this many event groups in one NOTIFY, and this long a name:
/// what a session keeps for its life stays small.
pub const MAX_GROUPS: usize = 64;
pub const MAX_NAME_LENGTH: usize = 1024;

/// Which mailboxes a group of events is about (RFC 5465 §6).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Filter {
    /// The selected mailbox, whichever it is when something happens.
    Selected,
    /// As `Selected`, with expunges held back until a command may report them.
    SelectedDelayed,
    /// The personal mailboxes mail is delivered to: only INBOX here.
    Inboxes,
    /// Every folder of the user's own mailbox.
    Personal,
    /// Every subscribed folder (read again when subscriptions change).
    Subscribed,
    /// These folders and every folder below them.
    Subtree(Vec<String>),
    /// These folders, names taken as they are (no wildcards).
    Mailboxes(Vec<String>),
}

impl Filter {
    pub fn is_selected(&self) -> bool {
        matches!(self, Filter::Selected | Filter::SelectedDelayed)
    }
}

/// The events a group asks for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Events {
    pub message_new: bool,
    pub message_expunge: bool,
    pub flag_change: bool,
    pub mailbox_name: bool,
    pub subscription_change: bool,
    /// FETCH items sent with each new message of the selected mailbox.
    pub fetch: Vec<MessageDataItemName<'static>>,
    /// Events named that Mailroom doesn't report.
    pub unsupported: Vec<String>,
    /// AnnotationChange (not reported, but bound by the same rules as FlagChange).
    pub annotation_change: bool,
    /// A mailbox or server event Mailroom doesn't report (METADATA's).
    pub other_mailbox_event: bool,
}

impl Events {
    pub fn any_message_event(&self) -> bool {
        self.message_new || self.message_expunge || self.flag_change
    }
}

/// One `(filter events)` group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    pub filter: Filter,
    pub events: Events,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// `NOTIFY NONE`: no notifications at all, the selected mailbox's included.
    None,
    /// `NOTIFY SET [STATUS] groups`.
    Set { status: bool, groups: Vec<Group> },
}

/// A parsed NOTIFY, or why it is malformed (BAD).
pub type Parsed = Result<Request, &'static str>;

/// `Some((tag, parsed))` for a NOTIFY command, `None` for anything else.
pub fn parse(message: &[u8]) -> Option<(String, Parsed)> {
    let mut c = Cursor { bytes: message, at: 0 };
    let tag = String::from_utf8_lossy(c.atom()?).into_owned();
    if !c.space() || !c.atom()?.eq_ignore_ascii_case(b"NOTIFY") {
        return None;
    }
    Some((tag, request(&mut c)))
}

fn request(c: &mut Cursor<'_>) -> Parsed {
    if !c.space() {
        return Err("NOTIFY needs NONE or SET");
    }
    let word = c.atom().ok_or("NOTIFY needs NONE or SET")?;
    if word.eq_ignore_ascii_case(b"NONE") {
        return if c.at_end() { Ok(Request::None) } else { Err("Unexpected text after NOTIFY NONE") };
    }
    if !word.eq_ignore_ascii_case(b"SET") || !c.space() {
        return Err("NOTIFY needs NONE or SET");
    }
    let mut status = false;
    if c.bytes.get(c.at) != Some(&b'(') {
        let word =
            c.atom().ok_or("NOTIFY SET needs event groups, e.g. (selected (MessageNew MessageExpunge))")?;
        if !word.eq_ignore_ascii_case(b"STATUS") || !c.space() {
            return Err("NOTIFY SET takes STATUS, then event groups");
        }
        status = true;
    }
    let mut groups = Vec::new();
    let mut names = 0;
    loop {
        let group = group(c)?;
        names += match &group.filter {
            Filter::Subtree(list) | Filter::Mailboxes(list) => list.len(),
            _ => 0,
        };
        if names > MAX_NAMES {
            return Err("Too many mailbox names in one NOTIFY (at most 1000)");
        }
        groups.push(group);
        if groups.len() > MAX_GROUPS {
            return Err("Too many event groups in one NOTIFY (at most 64)");
        }
        if c.at_end() {
            break;
        }
        if !c.space() {
            return Err("Event groups are separated by a space");
        }
    }
    validate(&groups)?;
    Ok(Request::Set { status, groups })
}

/// `"(" filter-mailboxes SP events ")"`.
fn group(c: &mut Cursor<'_>) -> Result<Group, &'static str> {
    if c.bytes.get(c.at) != Some(&b'(') {
        return Err("An event group is parenthesized: (filter (events))");
    }
    c.at += 1;
    let keyword = c.atom().ok_or("Missing mailbox filter")?.to_ascii_uppercase();
    let filter = match keyword.as_slice() {
        b"SELECTED" => Filter::Selected,
        b"SELECTED-DELAYED" => Filter::SelectedDelayed,
        b"INBOXES" => Filter::Inboxes,
        b"PERSONAL" => Filter::Personal,
        b"SUBSCRIBED" => Filter::Subscribed,
        b"SUBTREE" | b"MAILBOXES" => {
            if !c.space() {
                return Err("SUBTREE and MAILBOXES need mailbox names");
            }
            let names = mailboxes(c)?;
            if keyword == b"SUBTREE" { Filter::Subtree(names) } else { Filter::Mailboxes(names) }
        }
        _ => {
            return Err(
                "Unknown mailbox filter (known: SELECTED SELECTED-DELAYED INBOXES PERSONAL SUBSCRIBED SUBTREE MAILBOXES)",
            );
        }
    };
    if !c.space() {
        return Err("A mailbox filter is followed by its events");
    }
    let events = events(c, filter.is_selected())?;
    if c.bytes.get(c.at) != Some(&b')') {
        return Err("Unexpected text in an event group");
    }
    c.at += 1;
    Ok(Group { filter, events })
}

/// `one-or-more-mailbox`: a name, or several in parentheses.
fn mailboxes(c: &mut Cursor<'_>) -> Result<Vec<String>, &'static str> {
    const BAD: &str = "Bad mailbox name";
    let name = |c: &mut Cursor<'_>| {
        c.astring().filter(|n| n.len() <= MAX_NAME_LENGTH).ok_or("Bad mailbox name (at most 1024 octets)")
    };
    if c.bytes.get(c.at) != Some(&b'(') {
        return Ok(vec![name(c)?]);
    }
    c.at += 1;
    let mut names = Vec::new();
    loop {
        names.push(name(c)?);
        match c.bytes.get(c.at) {
            Some(b')') => {
                c.at += 1;
                return Ok(names);
            }
            Some(b' ') => c.at += 1,
            _ => return Err(BAD),
        }
        if names.len() > MAX_NAMES {
            return Err("Too many mailbox names in one NOTIFY (at most 1000)");
        }
    }
}

/// `events = ("(" event *(SP event) ")") / "NONE"`.
fn events(c: &mut Cursor<'_>, selected: bool) -> Result<Events, &'static str> {
    let mut events = Events::default();
    if c.bytes.get(c.at) != Some(&b'(') {
        let word = c.atom().ok_or("Events are a parenthesized list or NONE")?;
        return if word.eq_ignore_ascii_case(b"NONE") {
            Ok(events)
        } else {
            Err("Events are a parenthesized list or NONE")
        };
    }
    c.at += 1;
    loop {
        let name = c.atom().ok_or("Bad event name")?;
        match name.to_ascii_lowercase().as_slice() {
            b"messagenew" => {
                events.message_new = true;
                if c.bytes.get(c.at..c.at + 2) == Some(b" (") {
                    if !selected {
                        return Err("MessageNew's FETCH items are for SELECTED or SELECTED-DELAYED only");
                    }
                    c.at += 1;
                    events.fetch = fetch_items(c)?;
                }
            }
            b"messageexpunge" => events.message_expunge = true,
            b"flagchange" => events.flag_change = true,
            b"mailboxname" => events.mailbox_name = true,
            b"subscriptionchange" => events.subscription_change = true,
            other => {
                match other {
                    b"annotationchange" => events.annotation_change = true,
                    b"mailboxmetadatachange" | b"servermetadatachange" => events.other_mailbox_event = true,
                    _ => {}
                }
                events.unsupported.push(String::from_utf8_lossy(name).into_owned())
            }
        }
        match c.bytes.get(c.at) {
            Some(b')') => {
                c.at += 1;
                return Ok(events);
            }
            Some(b' ') => c.at += 1,
            _ => return Err("Bad event list"),
        }
        if events.unsupported.len() > 32 {
            return Err("Too many events");
        }
    }
}

/// The FETCH items after `MessageNew`: a parenthesized fetch-att list,
/// checked by imap-codec as the items of a FETCH.
fn fetch_items(c: &mut Cursor<'_>) -> Result<Vec<MessageDataItemName<'static>>, &'static str> {
    use imap_codec::CommandCodec;
    use imap_codec::decode::Decoder;
    use imap_codec::imap_types::IntoStatic;
    use imap_codec::imap_types::command::CommandBody;
    use imap_codec::imap_types::fetch::MacroOrMessageDataItemNames;
    const BAD: &str = "Bad FETCH items after MessageNew";
    let start = c.at;
    let (mut depth, mut quoted) = (0usize, false);
    loop {
        let &b = c.bytes.get(c.at).ok_or(BAD)?;
        c.at += 1;
        match b {
            b'\r' | b'\n' | b'{' => return Err(BAD),
            b'"' => quoted = !quoted,
            b'\\' if quoted => c.at += 1,
            b'(' if !quoted => depth += 1,
            b')' if !quoted => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            _ => {}
        }
    }
    let list = &c.bytes[start..c.at];
    let mut command = b"n FETCH 1 ".to_vec();
    command.extend_from_slice(list);
    command.extend_from_slice(b"\r\n");
    match CommandCodec::new().decode(&command) {
        Ok((
            [],
            imap_codec::imap_types::command::Command {
                body:
                    CommandBody::Fetch {
                        macro_or_item_names: MacroOrMessageDataItemNames::MessageDataItemNames(items),
                        ..
                    },
                ..
            },
        )) => Ok(items.into_iter().map(IntoStatic::into_static).collect()),
        _ => Err(BAD),
    }
}

/// RFC 5465 §5 and §6: MessageNew and MessageExpunge go together, FlagChange
/// needs both, the selected filter appears once and carries only message
/// events.
fn validate(groups: &[Group]) -> Result<(), &'static str> {
    if groups.iter().filter(|g| g.filter.is_selected()).count() > 1 {
        return Err("Only one of SELECTED and SELECTED-DELAYED may be given");
    }
    for group in groups {
        let e = &group.events;
        if e.message_new != e.message_expunge {
            return Err("MessageNew and MessageExpunge must be given together");
        }
        if (e.flag_change || e.annotation_change) && !e.message_new {
            return Err("FlagChange and AnnotationChange need MessageNew and MessageExpunge too");
        }
        if group.filter.is_selected() && (e.mailbox_name || e.subscription_change || e.other_mailbox_event) {
            return Err("SELECTED and SELECTED-DELAYED take only message events");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn set(line: &str) -> (bool, Vec<Group>) {
        match parse(format!("{line}\r\n").as_bytes()).unwrap().1.unwrap() {
            Request::Set { status, groups } => (status, groups),
            Request::None => panic!("NONE"),
        }
    }

    #[test]
    fn the_rfc_examples() {
        let (status, groups) = set(
            "b notify set status (selected (MessageNew (uid body.peek[header.fields (from to subject)]) MessageExpunge)) (subtree Lists (MessageNew MessageExpunge))",
        );
        assert!(status);
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].filter, Filter::Selected);
        assert_eq!(groups[0].events.fetch.len(), 2);
        assert!(groups[0].events.message_expunge);
        assert_eq!(groups[1].filter, Filter::Subtree(vec!["Lists".into()]));
        let (status, groups) = set(
            "a notify set (selected (Messagenew (uid flags) messageExpunge)) (personal (MessageNew FlagChange MessageExpunge))",
        );
        assert!(!status);
        assert!(groups[1].events.flag_change && groups[1].filter == Filter::Personal);
        let (_, groups) = set("c NOTIFY SET (mailboxes (\"Shared/info@contoso.com/INBOX\" Drafts) NONE)");
        assert_eq!(
            groups[0].filter,
            Filter::Mailboxes(vec!["Shared/info@contoso.com/INBOX".into(), "Drafts".into()])
        );
        assert_eq!(groups[0].events, Events::default());
        assert_eq!(parse(b"d notify none\r\n").unwrap().1, Ok(Request::None));
        assert!(parse(b"e NOOP\r\n").is_none());
    }

    #[test]
    fn unsupported_events_are_named_not_refused_here() {
        let (_, groups) =
            set("a NOTIFY SET (personal (MessageNew MessageExpunge AnnotationChange MailboxMetadataChange))");
        assert_eq!(groups[0].events.unsupported, ["AnnotationChange", "MailboxMetadataChange"]);
    }

    #[test]
    fn malformed_and_contradictory_requests_are_bad() {
        for bad in [
            "a NOTIFY",
            "a NOTIFY SET",
            "a NOTIFY SET STATUS",
            "a NOTIFY FROB",
            "a NOTIFY NONE extra",
            "a NOTIFY SET (personal MessageNew)",
            "a NOTIFY SET (personal (MessageNew))",
            "a NOTIFY SET (personal (MessageExpunge))",
            "a NOTIFY SET (personal (FlagChange))",
            "a NOTIFY SET (selected (MailboxName))",
            "a NOTIFY SET (selected (MessageNew MessageExpunge)) (selected-delayed (MessageNew MessageExpunge))",
            "a NOTIFY SET (personal (MessageNew (uid) MessageExpunge))",
            "a NOTIFY SET (selected (MessageNew (frob) MessageExpunge))",
            "a NOTIFY SET (selected (MessageNew (uid MessageExpunge))",
            "a NOTIFY SET (everything (MessageNew MessageExpunge))",
            "a NOTIFY SET (subtree (MessageNew MessageExpunge))",
            "a NOTIFY SET (subtree () (MailboxName))",
            "a NOTIFY SET (personal (MailboxName))(inboxes (MailboxName))",
            "a NOTIFY SET (personal (AnnotationChange))",
            "a NOTIFY SET (selected (MessageNew MessageExpunge MailboxMetadataChange))",
        ] {
            let parsed = parse(format!("{bad}\r\n").as_bytes()).unwrap().1;
            assert!(parsed.is_err(), "{bad}: {parsed:?}");
        }
    }

    #[test]
    fn the_number_of_groups_and_the_length_of_names_are_bounded() {
        let groups = vec!["(personal (MailboxName))"; 65].join(" ");
        assert!(parse(format!("a NOTIFY SET {groups}\r\n").as_bytes()).unwrap().1.is_err());
        let groups = vec!["(personal (MailboxName))"; 64].join(" ");
        assert!(parse(format!("a NOTIFY SET {groups}\r\n").as_bytes()).unwrap().1.is_ok());
        let long = "x".repeat(1025);
        assert!(
            parse(format!("a NOTIFY SET (mailboxes {long} (MailboxName))\r\n").as_bytes())
                .unwrap()
                .1
                .is_err()
        );
    }

    #[test]
    fn the_number_of_names_is_bounded() {
        let names: Vec<String> = (0..1001).map(|i| format!("f{i}")).collect();
        let line = format!("a NOTIFY SET (mailboxes ({}) (MailboxName))\r\n", names.join(" "));
        assert!(parse(line.as_bytes()).unwrap().1.is_err());
    }
}
