//! NOTIFY (RFC 5465): a client says which mailboxes it wants to hear of
//! and what of them, and hears it as it happens, between commands too — new
//! mail, expunges and flag changes in other folders and in other members'
//! shared mailboxes (`STATUS`), folders created, renamed, deleted, granted
//! or revoked (`LIST`, with `OLDNAME` or `\NonExistent`), subscriptions
//! changed (`LIST`), and, for the selected folder, `EXISTS`/`EXPUNGE`/`FETCH`
//! with the FETCH items the client chose. Without polling: SPEC §5's
//! "instant propagation, pushed".
//!
//! What is watched is derived from the user's folders (own and shared) and
//! subscriptions, and derived again whenever the change feed says those
//! changed; the session only looks up each change's folder in a map.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use imap_codec::imap_types::fetch::MessageDataItemName;
use imap_codec::imap_types::status::StatusDataItemName;
use mailroom_core::mail::OpenFolder;
use mailroom_types::{FolderId, MailboxId};

use crate::notify::{Events, Filter, Group, Request};
use crate::respond::{Status, quoted, status, untagged};
use crate::session::Session;
use crate::{DELIMITER, SHARED_PREFIX};

/// What a session asked to hear of with NOTIFY, and what it has told.
#[derive(Debug, Default)]
pub(crate) struct Notify {
    /// The events for the selected folder; `None`: none (RFC 5465 §6.1:
    /// no SELECTED group is `SELECTED NONE`).
    pub selected: Option<SelectedEvents>,
    /// The groups about other mailboxes.
    groups: Vec<Group>,
    /// Folders with message events, by id.
    watched: HashMap<FolderId, Watched>,
    /// The mailboxes those folders (and names) are in: a change of their
    /// folders is a reason to look again.
    mailboxes: BTreeSet<MailboxId>,
    /// Names with MailboxName events, as last told.
    names: BTreeMap<NameKey, Listed>,
    /// Subscribed names with SubscriptionChange events, as last told.
    subscribed: BTreeSet<String>,
    /// Folders whose counters may have changed since last told.
    due: BTreeSet<FolderId>,
    /// The selected folder changed since it was last reported.
    pub selected_due: bool,
    /// Folders, access or subscriptions changed: derive what is watched again.
    rescan: bool,
    /// The change feed lost track of more folders than are worth reading
    /// again (RFC 5465 §5.8).
    overflow: bool,
    /// Messages this session itself added (APPEND, COPY, MOVE): their
    /// arrival isn't told back to it (RFC 5465 §5, §5.2).
    own_added: std::collections::HashSet<(FolderId, mailroom_types::Uid)>,
}

/// How many folders a session that lost track reads again; past this it
/// gets NOTIFICATIONOVERFLOW instead.
const MAX_RECOUNT: usize = 1000;

/// Messages of its own a session remembers not to be told of; past this it
/// forgets them (and may be told of its own, which is harmless).
const MAX_OWN: usize = 10_000;

/// Folder counters computed for NOTIFY, shared by the sessions of a process
/// and valid while a folder's HIGHESTMODSEQ stays: a delivery to a shared
/// INBOX that 500 members watch is counted once, not 500 times.
#[derive(Debug, Default)]
pub(crate) struct SharedCounts {
    counts: std::sync::Mutex<HashMap<FolderId, (mailroom_types::ModSeq, mailroom_core::mail::FolderCounts)>>,
}

/// Folders whose counters are kept at most; more are forgotten all at once.
const MAX_SHARED_COUNTS: usize = 10_000;

impl SharedCounts {
    fn get(&self, folder: FolderId, at: mailroom_types::ModSeq) -> Option<mailroom_core::mail::FolderCounts> {
        let counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        counts.get(&folder).filter(|(modseq, _)| *modseq == at).map(|(_, c)| *c)
    }

    fn put(&self, folder: FolderId, at: mailroom_types::ModSeq, value: mailroom_core::mail::FolderCounts) {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        if counts.len() >= MAX_SHARED_COUNTS {
            counts.clear();
        }
        counts.insert(folder, (at, value));
    }
}

/// What NOTIFY asked for the selected folder (RFC 5465 §5.1–5.3).
#[derive(Clone, Debug)]
pub(crate) struct SelectedEvents {
    /// SELECTED-DELAYED: expunges wait for a command that may report them.
    pub delayed: bool,
    pub flags: bool,
    /// FETCH items sent with each new message.
    pub fetch: Vec<MessageDataItemName<'static>>,
}

#[derive(Clone, Debug)]
struct Watched {
    name: String,
    open: OpenFolder,
    /// MessageNew and MessageExpunge.
    new: bool,
    flags: bool,
    /// The STATUS line last sent (or taken as known) for it.
    last: Option<String>,
}

/// A name MailboxName reports on: a folder by id (a rename keeps it), a
/// name without a folder (a shared mailbox's `Shared/…` parent) by name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum NameKey {
    Folder(FolderId),
    Name(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Listed {
    name: String,
    attributes: Vec<&'static str>,
}

/// Whether `filter` covers the folder `name` (RFC 5465 §6).
fn covers(filter: &Filter, name: &str, subscribed: bool) -> bool {
    let is = |wanted: &String| name.eq_ignore_ascii_case(wanted);
    let below = |wanted: &String| {
        name.len() > wanted.len()
            && name.is_char_boundary(wanted.len())
            && name[..wanted.len()].eq_ignore_ascii_case(wanted)
            && name[wanted.len()..].starts_with(DELIMITER)
    };
    match filter {
        Filter::Selected | Filter::SelectedDelayed => false,
        // Mail is delivered to the Inbox only.
        Filter::Inboxes => name == "INBOX",
        Filter::Personal => {
            !name.starts_with(SHARED_PREFIX) && name != SHARED_PREFIX.trim_end_matches(DELIMITER)
        }
        Filter::Subscribed => subscribed,
        Filter::Subtree(names) => names.iter().any(|n| is(n) || below(n)),
        Filter::Mailboxes(names) => names.iter().any(is),
    }
}

/// Whether `a` and `b` are the same name, or one is above the other.
fn related(a: &str, b: &str) -> bool {
    let below = |x: &str, y: &str| {
        x.len() > y.len()
            && x.is_char_boundary(y.len())
            && x[..y.len()].eq_ignore_ascii_case(y)
            && x[y.len()..].starts_with(DELIMITER)
    };
    a.eq_ignore_ascii_case(b) || below(a, b) || below(b, a)
}

/// Whether a SUBTREE or MAILBOXES name lies in the same shared mailbox as
/// `name` (`Shared/<address>/…`): a folder created there may be named.
fn names_inside(groups: &[Group], name: &str) -> bool {
    let Some(rest) = name.strip_prefix(SHARED_PREFIX) else { return false };
    let address = rest.split(DELIMITER).next().unwrap_or_default();
    let mailbox = format!("{SHARED_PREFIX}{address}");
    groups.iter().any(|g| match &g.filter {
        Filter::Subtree(names) | Filter::Mailboxes(names) => names.iter().any(|n| related(n, &mailbox)),
        _ => false,
    })
}

fn union(into: &mut Events, events: &Events) {
    into.message_new |= events.message_new;
    into.message_expunge |= events.message_expunge;
    into.flag_change |= events.flag_change;
    into.mailbox_name |= events.mailbox_name;
    into.subscription_change |= events.subscription_change;
}

impl Notify {
    /// Notes what a change means for this session's notifications
    /// (asked for every change the session reads: a map lookup at most).
    pub(crate) fn hear(
        &mut self,
        change: &mailroom_core::change::Change,
        me: Option<mailroom_types::PrincipalId>,
        selected: Option<FolderId>,
    ) {
        use mailroom_core::change::Change;
        if let Some(folder) = change.folder() {
            if let Change::MessageAdded { uid, .. } = change
                && self.own_added.remove(&(folder, *uid))
            {
                return;
            }
            if Some(folder) == selected {
                self.selected_due = true;
            } else if let Some(watched) = self.watched.get(&folder) {
                // A flag change matters only to a folder watched for it.
                if watched.flags || !matches!(change, Change::FlagsChanged { .. }) {
                    self.due.insert(folder);
                }
            }
            return;
        }
        if self.groups.is_empty() {
            return;
        }
        match change {
            Change::FoldersChanged { mailbox } if self.mailboxes.contains(mailbox) => self.rescan = true,
            Change::SubscriptionsChanged(principal) if Some(*principal) == me => self.rescan = true,
            _ => {}
        }
    }

    /// Access may have changed: folders may have come or gone.
    pub(crate) fn access_changed(&mut self) {
        if !self.groups.is_empty() {
            self.rescan = true;
        }
    }

    /// The feed lost track of what changed: every watched folder is read
    /// again (a STATUS goes out where something did change), unless there
    /// are too many — then NOTIFICATIONOVERFLOW.
    pub(crate) fn lost_track(&mut self) {
        self.selected_due = true;
        if self.groups.is_empty() {
            return;
        }
        self.rescan = true;
        if self.watched.len() > MAX_RECOUNT {
            self.overflow = true;
        } else {
            self.due.extend(self.watched.keys().copied());
        }
    }

    /// Whether this message was added by the session itself.
    pub(crate) fn is_own(&self, folder: FolderId, uid: mailroom_types::Uid) -> bool {
        self.own_added.contains(&(folder, uid))
    }
}

/// How a report of the selected folder may go (RFC 5465 §5.1–5.3).
#[derive(Clone, Debug)]
pub(crate) struct Report {
    pub expunges: bool,
    pub flags: bool,
    /// Unsolicited FETCH responses carry the UID (RFC 5465 §5.3).
    pub with_uid: bool,
    pub fetch: Vec<MessageDataItemName<'static>>,
}

impl Report {
    /// A report without NOTIFY: everything, as RFC 3501 has it.
    pub(crate) fn plain() -> Self {
        Report { expunges: true, flags: true, with_uid: false, fetch: Vec::new() }
    }
}

/// When a report of the selected folder is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum When {
    /// At a command that reports changes (NOOP, CHECK, APPEND, …).
    Command,
    /// While idling.
    Idle,
    /// Between commands, of the session's own accord.
    Between,
}

impl Session {
    /// NOTIFY NONE or NOTIFY SET.
    pub(crate) async fn notify(&mut self, tag: &str, request: Request) {
        let Request::Set { status: with_status, groups } = request else {
            self.notify = Some(Box::default());
            self.conn.send(&status(Some(tag), Status::Ok, None, "NOTIFY completed"));
            return;
        };
        let unsupported: Vec<&String> = groups.iter().flat_map(|g| &g.events.unsupported).collect();
        if !unsupported.is_empty() {
            // RFC 5465 §3.1: NO, with every event the server does support.
            let text = format!("Mailroom doesn't report {}", unsupported[0]);
            let code = format!("BADEVENT ({})", crate::notify::SUPPORTED_EVENTS);
            self.fail(status(Some(tag), Status::No, Some(&code), &text));
            return;
        }
        let mut notify = Notify::default();
        for mut group in groups {
            if group.filter.is_selected() {
                if group.events.message_new {
                    notify.selected = Some(SelectedEvents {
                        delayed: group.filter == Filter::SelectedDelayed,
                        flags: group.events.flag_change,
                        fetch: std::mem::take(&mut group.events.fetch),
                    });
                }
                continue;
            }
            // Names as the store spells them (modified UTF-7 before UTF-8 is on).
            group.filter = match group.filter {
                Filter::Subtree(names) => {
                    Filter::Subtree(names.into_iter().map(|n| self.name_from_client(n)).collect())
                }
                Filter::Mailboxes(names) => {
                    Filter::Mailboxes(names.into_iter().map(|n| self.name_from_client(n)).collect())
                }
                other => other,
            };
            notify.groups.push(group);
        }
        let before = self.notify.replace(Box::new(notify));
        if !self.notify_scan(false, &[]).await {
            // What was asked before stays in force.
            self.notify = before;
            self.fail(status(Some(tag), Status::No, Some("SERVERBUG"), "Temporary problem, try again later"));
            return;
        }
        if with_status {
            // RFC 5465 §3.1: the state of every watched folder now.
            let ids: Vec<FolderId> =
                self.notify.as_ref().map(|n| n.watched.keys().copied().collect()).unwrap_or_default();
            self.send_statuses(ids, true).await;
        }
        // RFC 5465 §3.1: an implicit NOOP for the selected folder.
        self.report_changes_when(When::Command).await;
        self.conn.send(&status(Some(tag), Status::Ok, None, "NOTIFY completed"));
    }

    /// How a report of the selected folder may go now; `None`: not at all.
    pub(crate) fn report_mode(&self, when: When) -> Option<Report> {
        let Some(notify) = self.notify.as_deref() else {
            // Without NOTIFY, nothing is said between commands (RFC 3501 §7).
            return (when != When::Between).then(Report::plain);
        };
        match (&notify.selected, when) {
            // RFC 5465 §3.1: IDLE sends exactly what NOTIFY asked for; a
            // command still reports what it reports.
            (None, When::Command) => Some(Report { with_uid: true, ..Report::plain() }),
            (None, _) => None,
            (Some(events), when) => Some(Report {
                expunges: when != When::Between || !events.delayed,
                flags: events.flags || when == When::Command,
                with_uid: true,
                fetch: events.fetch.clone(),
            }),
        }
    }

    /// Everything NOTIFY has to say now: a lost track, changed names and
    /// subscriptions, the selected folder (between commands), changed
    /// counters of other folders.
    pub(crate) async fn send_notifications(&mut self, when: When) {
        let Some(notify) = self.notify.as_deref_mut() else { return };
        if notify.overflow {
            // RFC 5465 §5.8: as if NOTIFY NONE had come.
            self.notify = Some(Box::default());
            self.conn.send(&untagged(
                "OK [NOTIFICATIONOVERFLOW] Too many changes to follow; notifications are off until the next NOTIFY SET",
            ));
            return;
        }
        let rescan = std::mem::take(&mut notify.rescan);
        let selected_due = std::mem::take(&mut notify.selected_due);
        if rescan && !self.notify_scan(true, &[]).await {
            // Tried again at the next chance.
            if let Some(notify) = self.notify.as_deref_mut() {
                notify.rescan = true;
            }
        }
        if selected_due && when != When::Command {
            self.report_changes_when(when).await;
        }
        let due: Vec<FolderId> = match self.notify.as_deref_mut() {
            Some(notify) => std::mem::take(&mut notify.due).into_iter().collect(),
            None => return,
        };
        if !due.is_empty() {
            self.send_statuses(due, false).await;
        }
    }

    /// STATUS for these watched folders, where it differs from what was
    /// last said (or always, with `always`); never for the selected folder,
    /// which SELECTED speaks for (RFC 5465 §5).
    async fn send_statuses(&mut self, ids: Vec<FolderId>, always: bool) {
        let selected = self.selected().map(|s| s.target.open.id());
        for id in ids {
            if Some(id) == selected {
                continue;
            }
            let Some(watched) = self.notify.as_ref().and_then(|n| n.watched.get(&id)).cloned() else {
                continue;
            };
            let Some(line) = self.watched_status(&watched).await else { continue };
            if !always && watched.last.as_ref() == Some(&line) {
                continue;
            }
            self.conn.send(&untagged(&line));
            if let Some(w) = self.notify.as_deref_mut().and_then(|n| n.watched.get_mut(&id)) {
                w.last = Some(line);
            }
        }
    }

    /// The STATUS line a watched folder's events call for (RFC 5465 §5.2–5.4).
    async fn watched_status(&self, watched: &Watched) -> Option<String> {
        use StatusDataItemName as S;
        let mail = &self.server.mail;
        // Gone since (deleted, access lost): the next scan says so.
        let fresh = mail.reopen(&watched.open).await.ok()?;
        let at = fresh.folder().highest_modseq;
        // Counts shared by every session, unless the unseen one is each
        // member's own (per-member read state).
        let counts = match self.server.notify_counts.get(fresh.id(), at) {
            Some(counts) if !fresh.opened().per_member_seen() => counts,
            _ => {
                let counts = mail.folder_counts(&fresh).await.ok()?;
                if !fresh.opened().per_member_seen() {
                    self.server.notify_counts.put(fresh.id(), at, counts);
                }
                counts
            }
        };
        let mut items = Vec::new();
        if watched.new {
            items.extend([S::Messages, S::UidNext, S::UidValidity]);
        }
        if watched.flags {
            if !watched.new {
                items.push(S::UidValidity);
            }
            items.push(S::Unseen);
        }
        if self.condstore || self.qresync {
            items.push(S::HighestModSeq);
        }
        Some(self.status_text(&watched.name, fresh.folder(), &counts, &items, false))
    }

    /// This session's own APPEND, COPY or MOVE added these messages: their
    /// arrival isn't told back to it (RFC 5465 §5).
    pub(crate) fn notify_own_added(
        &mut self,
        folder: FolderId,
        uids: impl IntoIterator<Item = mailroom_types::Uid>,
    ) {
        let Some(notify) = self.notify.as_deref_mut() else { return };
        if notify.own_added.len() >= MAX_OWN {
            notify.own_added.clear();
        }
        notify.own_added.extend(uids.into_iter().map(|uid| (folder, uid)));
    }

    /// After this session's own CREATE, DELETE, RENAME, SUBSCRIBE or
    /// UNSUBSCRIBE of `names`: what it did to them, their parents and
    /// their children isn't told back to it; what others did meanwhile is.
    pub(crate) async fn notify_own_names(&mut self, names: &[&str]) {
        if self.notify.as_ref().is_some_and(|n| !n.groups.is_empty()) {
            let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
            if !self.notify_scan(true, &names).await
                && let Some(notify) = self.notify.as_deref_mut()
            {
                notify.rescan = true;
            }
        }
    }

    /// Derives what is watched from the user's folders and subscriptions
    /// now; with `report`, tells the client how names and subscriptions
    /// changed since the last time (RFC 5465 §5.4, §5.5). `false` if the
    /// store couldn't be read (nothing changed then).
    async fn notify_scan(&mut self, report: bool, own: &[String]) -> bool {
        let Some(user) = self.user() else { return false };
        let Some(groups) = self.notify.as_ref().map(|n| n.groups.clone()) else { return false };
        if groups.is_empty() {
            return true;
        }
        let (entries, subscriptions) =
            match (self.entries(&user).await, self.server.mail.subscriptions(user.principal).await) {
                (Ok(entries), Ok(subscriptions)) => {
                    (entries, subscriptions.into_iter().collect::<BTreeSet<_>>())
                }
                (Err(err), _) | (_, Err(err)) => {
                    tracing::warn!(session = self.id, error = %err, "NOTIFY: folders unreadable");
                    return false;
                }
            };
        let Some(old) = self.notify.as_deref_mut() else { return false };
        let mut watched = HashMap::new();
        let mut names = BTreeMap::new();
        let mut subscribed = BTreeSet::new();
        let mut mailboxes = BTreeSet::from([user.mailbox]);
        let mut attributes_of = HashMap::new();
        for entry in &entries {
            let is_subscribed = entry.auto_subscribed || subscriptions.contains(&entry.name);
            let mut attributes = entry.attributes.clone();
            let matched = groups.iter().any(|g| covers(&g.filter, &entry.name, is_subscribed));
            if is_subscribed {
                attributes.push("\\Subscribed");
            }
            attributes_of.insert(entry.name.clone(), attributes.clone());
            let mut events = Events::default();
            for group in groups.iter().filter(|g| covers(&g.filter, &entry.name, is_subscribed)) {
                union(&mut events, &group.events);
            }
            if let Some(open) = &entry.folder {
                // A mailbox whose folders some group may be about: a change
                // of its folders is a reason to look again.
                if matched || names_inside(&groups, &entry.name) {
                    mailboxes.insert(open.mailbox());
                }
                if events.message_new || events.flag_change {
                    let last = old.watched.remove(&open.id()).and_then(|w| w.last);
                    let w = Watched {
                        name: entry.name.clone(),
                        open: open.clone(),
                        new: events.message_new,
                        flags: events.flag_change,
                        last,
                    };
                    watched.insert(open.id(), w);
                }
            }
            if events.mailbox_name {
                let key = match &entry.folder {
                    Some(open) => NameKey::Folder(open.id()),
                    None => NameKey::Name(entry.name.clone()),
                };
                names.insert(key, Listed { name: entry.name.clone(), attributes });
            }
            if events.subscription_change && is_subscribed {
                subscribed.insert(entry.name.clone());
            }
        }
        // Subscribed names without a folder (RFC 3501 §6.3.6: names, not folders).
        for name in subscriptions.iter().filter(|n| !attributes_of.contains_key(*n)) {
            if groups.iter().any(|g| g.events.subscription_change && covers(&g.filter, name, true)) {
                subscribed.insert(name.clone());
            }
        }
        let mut lines = Vec::new();
        if report {
            for (key, before) in &old.names {
                match names.get(key) {
                    None => lines.push(("\\NonExistent".to_string(), before.name.clone(), None)),
                    Some(now) if now.name != before.name => {
                        lines.push((now.attributes.join(" "), now.name.clone(), Some(before.name.clone())))
                    }
                    Some(now) if now.attributes != before.attributes => {
                        lines.push((now.attributes.join(" "), now.name.clone(), None))
                    }
                    Some(_) => {}
                }
            }
            for (key, now) in &names {
                if !old.names.contains_key(key) {
                    lines.push((now.attributes.join(" "), now.name.clone(), None));
                }
            }
            // RFC 5465 §5.5: \Subscribed if and only if subscribed now.
            for name in subscribed.symmetric_difference(&old.subscribed) {
                let attributes = match attributes_of.get(name) {
                    Some(attributes) => attributes.join(" "),
                    None if subscribed.contains(name) => "\\NonExistent \\Subscribed".to_string(),
                    None => "\\NonExistent".to_string(),
                };
                if !lines.iter().any(|(_, listed, _)| listed == name) {
                    lines.push((attributes, name.clone(), None));
                }
            }
        }
        // RFC 5465 §5: not what this session did itself (the names it
        // touched, their parents and children).
        lines.retain(|(_, name, old_name)| {
            !own.iter().any(|o| related(o, name) || old_name.as_ref().is_some_and(|old| related(o, old)))
        });
        old.watched = watched;
        old.names = names;
        old.subscribed = subscribed;
        old.mailboxes = mailboxes;
        let delimiter = quoted(&DELIMITER.to_string());
        for (attributes, name, old_name) in lines {
            let extended = match old_name {
                Some(old_name) => format!(" (\"OLDNAME\" ({}))", self.name_to_client(&old_name)),
                None => String::new(),
            };
            let line = format!("LIST ({attributes}) {delimiter} {}{extended}", self.name_to_client(&name));
            self.conn.send(&untagged(&line));
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_cover_what_rfc_5465_says() {
        let personal = Filter::Personal;
        assert!(covers(&personal, "INBOX", false));
        assert!(covers(&personal, "Projects/2026", false));
        assert!(!covers(&personal, "Shared/info@contoso.com/INBOX", false));
        assert!(!covers(&personal, "Shared", false));
        assert!(covers(&Filter::Inboxes, "INBOX", false));
        assert!(!covers(&Filter::Inboxes, "Shared/info@contoso.com/INBOX", false));
        let subtree = Filter::Subtree(vec!["Shared/info@contoso.com".into()]);
        assert!(covers(&subtree, "Shared/info@contoso.com", false));
        assert!(covers(&subtree, "Shared/Info@Contoso.com/INBOX", false));
        assert!(!covers(&subtree, "Shared/info@contoso.community/INBOX", false));
        let exact = Filter::Mailboxes(vec!["Shared/*".into(), "inbox".into()]);
        assert!(covers(&exact, "INBOX", false));
        assert!(!covers(&exact, "Shared/info@contoso.com/INBOX", false), "no wildcards in MAILBOXES");
        assert!(covers(&Filter::Subscribed, "Drafts", true));
        assert!(!covers(&Filter::Subscribed, "Drafts", false));
        assert!(!covers(&Filter::Selected, "INBOX", true));
    }
}
