//! The activity trail of a mailbox (SPEC §5): who did what to its messages
//! and when — delivered, sent from it, read (by whoever turned `\Seen` on;
//! under per-member read state, each member's first read),
//! replied, forwarded, flagged, moved, copied, deleted, restored, purged.
//!
//! The store writes each entry in the transaction of the action itself
//! (a flag change, an expunge, a move, a delivery), so the trail can't miss
//! an action that happened nor show one that didn't. Members who can read a
//! mailbox read its trail (per message in the web app, and as a feed);
//! administrators search it with `Search-MailboxAuditLog`. Entries older
//! than the mailbox's `AuditLogAgeLimit` (90 days unless set) go in the
//! server's hourly sweep; `AuditEnabled $false` stops recording.
//!
//! What counts as a reply or a forward is a flag: `\Answered` (RFC 9051
//! §2.3.2) and the `$Forwarded` keyword (RFC 5550 §5.1) that mail clients
//! set on the original once they have sent the answer — the web app does the
//! same — so replies from any client are on the trail.

use mailroom_types::{BlobId, MailboxId, PrincipalId, Uid};

use super::assignment;
use super::open::{OpenFolder, OpenMailbox, require_right};
use super::{Flags, Mail, MessageSummary, SystemFlag};
use crate::directory::Actor;
use crate::error::CoreResult;
use crate::store::{DeliveryTarget, FlagChange};

/// What happened to a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ActivityAction {
    /// Arrived from outside or from another mailbox of the organisation.
    Delivered,
    /// Added by a member over IMAP (APPEND: a client filing its sent copy).
    Saved,
    /// Sent from this mailbox's address by a member (Send As, Send on Behalf).
    Sent,
    /// Read, the first time by this member.
    Read,
    Replied,
    Forwarded,
    Flagged,
    Unflagged,
    /// Moved to another folder (the detail names it).
    Moved,
    Copied,
    /// Expunged into Recoverable Items.
    Deleted,
    /// Moved or copied back out of Recoverable Items.
    Restored,
    /// Removed for good: by a member who may purge, or (no actor) by the
    /// retention period.
    Purged,
    /// Given to a member (`$AssignedTo_<alias>`; the detail names them).
    Assigned,
    /// No longer anyone's (`$Assigned` taken off).
    Unassigned,
    /// Marked dealt with (`$Handled`).
    Handled,
    /// `$Handled` taken off.
    Reopened,
}

impl ActivityAction {
    pub const ALL: [ActivityAction; 17] = [
        ActivityAction::Delivered,
        ActivityAction::Saved,
        ActivityAction::Sent,
        ActivityAction::Read,
        ActivityAction::Replied,
        ActivityAction::Forwarded,
        ActivityAction::Flagged,
        ActivityAction::Unflagged,
        ActivityAction::Moved,
        ActivityAction::Copied,
        ActivityAction::Deleted,
        ActivityAction::Restored,
        ActivityAction::Purged,
        ActivityAction::Assigned,
        ActivityAction::Unassigned,
        ActivityAction::Handled,
        ActivityAction::Reopened,
    ];

    /// The stored name, also `Search-MailboxAuditLog -Operations`' value
    /// (compared without case there).
    pub fn name(self) -> &'static str {
        match self {
            ActivityAction::Delivered => "Delivered",
            ActivityAction::Saved => "Saved",
            ActivityAction::Sent => "Sent",
            ActivityAction::Read => "Read",
            ActivityAction::Replied => "Replied",
            ActivityAction::Forwarded => "Forwarded",
            ActivityAction::Flagged => "Flagged",
            ActivityAction::Unflagged => "Unflagged",
            ActivityAction::Moved => "Moved",
            ActivityAction::Copied => "Copied",
            ActivityAction::Deleted => "Deleted",
            ActivityAction::Restored => "Restored",
            ActivityAction::Purged => "Purged",
            ActivityAction::Assigned => "Assigned",
            ActivityAction::Unassigned => "Unassigned",
            ActivityAction::Handled => "Handled",
            ActivityAction::Reopened => "Reopened",
        }
    }

    pub fn from_name(name: &str) -> Option<ActivityAction> {
        ActivityAction::ALL.into_iter().find(|a| a.name().eq_ignore_ascii_case(name))
    }

    /// The past-tense verb people read: "Alice replied".
    pub fn verb(self) -> &'static str {
        match self {
            ActivityAction::Delivered => "delivered",
            ActivityAction::Saved => "saved",
            ActivityAction::Sent => "sent",
            ActivityAction::Read => "read",
            ActivityAction::Replied => "replied",
            ActivityAction::Forwarded => "forwarded",
            ActivityAction::Flagged => "flagged",
            ActivityAction::Unflagged => "unflagged",
            ActivityAction::Moved => "moved",
            ActivityAction::Copied => "copied",
            ActivityAction::Deleted => "deleted",
            ActivityAction::Restored => "restored",
            ActivityAction::Purged => "purged",
            ActivityAction::Assigned => "assigned",
            ActivityAction::Unassigned => "unassigned",
            ActivityAction::Handled => "marked handled",
            ActivityAction::Reopened => "reopened",
        }
    }
}

/// The keyword mail clients set on a message they forwarded (RFC 5550 §5.1).
pub const FORWARDED_KEYWORD: &str = "$Forwarded";

/// The trail entries a flag change makes on one message: `change` and
/// `given` are what the STORE asked for, `before` and `after` the
/// message's flags. A reply or forward is recorded each time a client
/// adds `\Answered` / `$Forwarded`, set already or not: a second member's
/// answer to a message the first one answered is exactly what the team
/// must see. A replace (a client syncing all flags) records only what it
/// turned on. [`ActivityAction::Read`] comes whenever the change turned
/// `\Seen` on; the store keeps it only for a member's first read.
pub fn flag_activity(
    change: FlagChange,
    given: &Flags,
    before: &Flags,
    after: &Flags,
) -> Vec<(ActivityAction, String)> {
    let turned_on = |flag: SystemFlag| !before.has(flag) && after.has(flag);
    let turned_off = |flag: SystemFlag| before.has(flag) && !after.has(flag);
    let forwarded = |flags: &Flags| flags.keywords.iter().any(|k| k.eq_ignore_ascii_case(FORWARDED_KEYWORD));
    let added = |asked: bool, was_off: bool| match change {
        FlagChange::Add => asked,
        FlagChange::Replace => asked && was_off,
        FlagChange::Remove => false,
    };
    let mut out = Vec::new();
    let mut push = |action| out.push((action, String::new()));
    if turned_on(SystemFlag::Seen) {
        push(ActivityAction::Read);
    }
    if added(given.has(SystemFlag::Answered), !before.has(SystemFlag::Answered)) {
        push(ActivityAction::Replied);
    }
    if added(forwarded(given), !forwarded(before)) {
        push(ActivityAction::Forwarded);
    }
    if turned_on(SystemFlag::Flagged) {
        push(ActivityAction::Flagged);
    }
    if turned_off(SystemFlag::Flagged) {
        push(ActivityAction::Unflagged);
    }
    match (assignment::is_handled(before), assignment::is_handled(after)) {
        (false, true) => push(ActivityAction::Handled),
        (true, false) => push(ActivityAction::Reopened),
        _ => {}
    }
    let (was, now) = (assignment::assignees(before), assignment::assignees(after));
    for alias in now.iter().filter(|a| !was.iter().any(|w| w.eq_ignore_ascii_case(a))) {
        out.push((ActivityAction::Assigned, format!("to {alias}")));
    }
    if !was.is_empty() && now.is_empty() {
        out.push((ActivityAction::Unassigned, String::new()));
    }
    out
}

/// Whether a flag change can make any trail entry at all: a store skips
/// the trail's work for the rest (`\Deleted`, `\Draft`, other keywords).
pub fn flag_change_is_tracked(change: FlagChange, given: &Flags) -> bool {
    let tracked_keyword = |k: &String| {
        k.eq_ignore_ascii_case(FORWARDED_KEYWORD)
            || k.eq_ignore_ascii_case(assignment::HANDLED)
            || assignment::is_assignment_keyword(k)
    };
    change == FlagChange::Replace
        || given.system & (SystemFlag::Seen as u8 | SystemFlag::Answered as u8 | SystemFlag::Flagged as u8)
            != 0
        || given.keywords.iter().any(tracked_keyword)
}

/// An entry a delivery asks the store to write with the message, in its
/// transaction (the store adds the body, subject and time).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewActivity {
    pub mailbox: MailboxId,
    pub actor: Option<PrincipalId>,
    pub action: ActivityAction,
    pub detail: String,
}

/// A delivery's entries: `Delivered` in each target mailbox, from the
/// message's sender.
pub fn delivered(targets: &[DeliveryTarget], summary: &MessageSummary) -> Vec<NewActivity> {
    let from = summary.field("from").to_string();
    let mut mailboxes: Vec<MailboxId> = targets.iter().map(|t| t.mailbox).collect();
    mailboxes.dedup();
    mailboxes
        .into_iter()
        .map(|mailbox| NewActivity {
            mailbox,
            actor: None,
            action: ActivityAction::Delivered,
            detail: if from.is_empty() { String::new() } else { format!("from {from}") },
        })
        .collect()
}

/// One entry of a mailbox's trail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActivityEntry {
    /// Increasing within a store: the feed pages by it.
    pub id: i64,
    pub mailbox: MailboxId,
    /// Unix seconds.
    pub at: i64,
    /// Who did it; `None` for the server itself (a delivery from outside,
    /// the retention period's purge).
    pub actor: Option<PrincipalId>,
    pub action: ActivityAction,
    /// The message's body: the same across moves and copies, so a
    /// message's whole story is found by it.
    pub blob: Option<BlobId>,
    /// The message's subject when it happened.
    pub subject: String,
    /// The folder moved to, the sender of a delivery, and the like.
    pub detail: String,
}

/// Which entries of one mailbox to read, newest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ActivityQuery {
    /// Only this message's (by body).
    pub blob: Option<BlobId>,
    /// Unix seconds, inclusive.
    pub since: Option<i64>,
    /// Unix seconds, inclusive.
    pub until: Option<i64>,
    /// Only these actions (none: all).
    pub actions: Vec<ActivityAction>,
    /// Only entries older than this id (the feed's next page).
    pub before_id: Option<i64>,
    /// At most this many (0 is read as 1).
    pub limit: usize,
}

/// How many old entries one sweep transaction removes.
const SWEEP_BATCH: usize = 1000;

impl Mail {
    /// The trail of an opened mailbox (reading it needs the right to read
    /// its messages: the trail tells what they are).
    pub async fn activity(
        &self,
        open: &OpenMailbox,
        query: &ActivityQuery,
    ) -> CoreResult<Vec<ActivityEntry>> {
        require_right(open, |r| r.read)?;
        Ok(self.store.activity(open.mailbox(), query).await?)
    }

    /// The collision guard's question: the latest reply to message `uid`
    /// of `folder` that another member than the one who opened it sent
    /// since `since` (Unix seconds) — from any client, as the trail has it.
    pub async fn replied_by_another_since(
        &self,
        folder: &OpenFolder,
        uid: Uid,
        since: i64,
    ) -> CoreResult<Option<ActivityEntry>> {
        let Some(message) = self.messages_by_uid(folder, &[uid]).await?.pop() else { return Ok(None) };
        let me = folder.opened().principal();
        let query = ActivityQuery {
            blob: Some(message.blob),
            since: Some(since),
            actions: vec![ActivityAction::Replied],
            // Newest first: one's own replies before another's are few.
            limit: 50,
            ..ActivityQuery::default()
        };
        let entries = self.activity(folder.opened(), &query).await?;
        Ok(entries.into_iter().find(|e| e.actor.is_some_and(|a| a != me)))
    }

    /// `Search-MailboxAuditLog`: an administrator reads a mailbox's trail.
    pub async fn activity_for_admin(
        &self,
        actor: &Actor,
        mailbox: MailboxId,
        query: &ActivityQuery,
    ) -> CoreResult<Vec<ActivityEntry>> {
        self.dir.require_admin(actor).await?;
        // A mailbox that doesn't exist is an error, not an empty trail.
        self.dir.mailbox_settings(mailbox).await?;
        Ok(self.store.activity(mailbox, query).await?)
    }

    /// Removes entries older than their mailbox's `AuditLogAgeLimit` at
    /// `now` (Unix seconds); returns how many. The server's sweep calls it.
    pub async fn sweep_activity(&self, now: i64) -> CoreResult<usize> {
        let mut removed = 0;
        loop {
            let batch = self.store.sweep_activity(now, SWEEP_BATCH).await?;
            removed += batch;
            if batch < SWEEP_BATCH {
                return Ok(removed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(system: &[SystemFlag], keywords: &[&str]) -> Flags {
        let mut f = Flags::default();
        for s in system {
            f = f.with(*s);
        }
        f.keywords = keywords.iter().map(|k| k.to_string()).collect();
        f
    }

    /// What a STORE of `given` makes on a message with `before`.
    fn activity(change: FlagChange, given: &Flags, before: &Flags) -> Vec<ActivityAction> {
        flag_activity(change, given, before, &change.apply(before, given))
            .into_iter()
            .map(|(a, _)| a)
            .collect()
    }

    #[test]
    fn assignment_keywords_are_on_the_trail() {
        let assigned = flags(&[], &["$Assigned", "$AssignedTo_bob"]);
        let none = flags(&[], &[]);
        let to_bob = flag_activity(FlagChange::Add, &assigned, &none, &assigned);
        assert_eq!(to_bob, vec![(ActivityAction::Assigned, "to bob".to_string())]);
        let to_alice = flags(&[], &["$Assigned", "$AssignedTo_alice"]);
        let changed = flag_activity(FlagChange::Replace, &to_alice, &assigned, &to_alice);
        assert_eq!(changed, vec![(ActivityAction::Assigned, "to alice".to_string())]);
        let unassign = flags(&[], &["$Assigned"]);
        assert_eq!(activity(FlagChange::Remove, &unassign, &assigned), vec![ActivityAction::Unassigned]);
        let handled = flags(&[], &["$Handled"]);
        assert_eq!(activity(FlagChange::Add, &handled, &none), vec![ActivityAction::Handled]);
        assert_eq!(activity(FlagChange::Remove, &handled, &handled), vec![ActivityAction::Reopened]);
        assert!(flag_change_is_tracked(FlagChange::Add, &flags(&[], &["$assignedto_bob"])));
        assert!(flag_change_is_tracked(FlagChange::Remove, &handled));
    }

    #[test]
    fn flag_changes_name_what_a_member_did() {
        use FlagChange::{Add, Remove, Replace};
        let none = flags(&[], &[]);
        let seen = flags(&[SystemFlag::Seen], &[]);
        let answered = flags(&[SystemFlag::Answered], &[]);
        assert_eq!(activity(Add, &seen, &none), vec![ActivityAction::Read]);
        assert_eq!(activity(Add, &answered, &seen), vec![ActivityAction::Replied]);
        // A second answer is a second reply, though the flag was set.
        assert_eq!(activity(Add, &answered, &answered), vec![ActivityAction::Replied]);
        // A client syncing every flag answers nothing it didn't turn on.
        assert!(activity(Replace, &answered, &answered).is_empty());
        assert_eq!(activity(Replace, &answered, &none), vec![ActivityAction::Replied]);
        assert_eq!(activity(Add, &flags(&[], &["$forwarded"]), &none), vec![ActivityAction::Forwarded]);
        let flagged = flags(&[SystemFlag::Flagged], &[]);
        assert_eq!(activity(Remove, &flagged, &flagged), vec![ActivityAction::Unflagged]);
        assert!(activity(Add, &flagged, &flagged).is_empty(), "flagged already");
        // Nothing the trail tracks: \Deleted (the expunge is the entry), other keywords, no change.
        assert!(activity(Add, &flags(&[SystemFlag::Deleted], &["$label1"]), &none).is_empty());
        assert!(activity(Add, &seen, &seen).is_empty());
        // Unread again is not an entry; read again is one the store may drop.
        assert!(activity(Remove, &seen, &seen).is_empty());
    }

    #[test]
    fn only_tracked_flags_cost_the_trail_any_work() {
        assert!(!flag_change_is_tracked(FlagChange::Add, &flags(&[SystemFlag::Deleted], &["$label1"])));
        assert!(flag_change_is_tracked(FlagChange::Remove, &flags(&[SystemFlag::Flagged], &[])));
        assert!(flag_change_is_tracked(FlagChange::Add, &flags(&[], &["$Forwarded"])));
        assert!(flag_change_is_tracked(FlagChange::Replace, &flags(&[], &[])));
    }

    #[test]
    fn action_names_round_trip_without_case() {
        for action in ActivityAction::ALL {
            assert_eq!(ActivityAction::from_name(&action.name().to_lowercase()), Some(action));
        }
        assert_eq!(ActivityAction::from_name("Bogus"), None);
    }
}
