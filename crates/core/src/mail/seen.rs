//! Per-member read state (SPEC §5, ours): with `Set-Mailbox -SharedSeenState
//! PerMember`, `\Seen` in that mailbox is each member's own — Alice reading
//! a message leaves it unread for Bob — over IMAP, in the web app and in
//! unread counts. The default is `Shared`, Exchange's behaviour: one read
//! state for the mailbox.
//!
//! A member's state is kept only where it differs from the message's
//! shared `\Seen` (the store's `member_seen`), so switching to PerMember
//! keeps every member's view (each sees what the mailbox showed), and
//! switching back makes read what any member had read. Under PerMember a
//! member's STORE of `\Seen` writes their own state and leaves the shared
//! flag as it is; every other flag stays shared. The message's MODSEQ
//! moves either way, so the member's other sessions hear of it (RFC 7162);
//! the others are told of a change that, for them, changed nothing.
//!
//! Reading applies the member's states over the shared flags
//! ([`Mail::seen_overlay`]): the store answers for the mailbox, `core`
//! answers for the member.

use std::collections::HashMap;

use mailroom_types::Uid;

use super::open::OpenFolder;
use super::{Flags, Mail, StoredMessage, SystemFlag};
use crate::error::CoreResult;
use crate::store::FlagChange;

/// Whether a STORE can change `\Seen`.
pub fn touches_seen(change: FlagChange, given: &Flags) -> bool {
    change == FlagChange::Replace || given.has(SystemFlag::Seen)
}

/// `flags` with `\Seen` set to `seen`.
pub fn with_seen(flags: &Flags, seen: bool) -> Flags {
    let mut out = flags.clone();
    if seen {
        out.system |= SystemFlag::Seen as u8;
    } else {
        out.system &= !(SystemFlag::Seen as u8);
    }
    out
}

/// What a member's STORE does to one message under per-member read state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberChange {
    /// The member's view before and after (what they are told).
    pub before: Flags,
    pub after: Flags,
    /// The message's shared flags after: its `\Seen` unchanged.
    pub shared: Flags,
    /// The member's own `\Seen` to write, when it changed.
    pub own_seen: Option<bool>,
}

impl MemberChange {
    /// Whether anything is to be written.
    pub fn changes(&self, shared_before: &Flags) -> bool {
        self.shared != *shared_before || self.own_seen.is_some()
    }
}

/// What a member's STORE of `given` does to a message whose shared flags
/// are `shared`: under per-member read state ([`member_change`]) or, for a
/// mailbox of one read state, to the shared flags themselves.
pub fn plan(
    change: FlagChange,
    given: &Flags,
    shared: &Flags,
    per_member: bool,
    own: Option<bool>,
) -> MemberChange {
    if per_member {
        return member_change(change, given, shared, own);
    }
    let after = super::assignment::apply(change, shared, given);
    MemberChange { before: shared.clone(), shared: after.clone(), after, own_seen: None }
}

/// A member's STORE of `given` on a message whose shared flags are
/// `shared`, where the member's own `\Seen` is `own` (none: the shared one).
pub fn member_change(change: FlagChange, given: &Flags, shared: &Flags, own: Option<bool>) -> MemberChange {
    let before = own.map_or_else(|| shared.clone(), |seen| with_seen(shared, seen));
    let after = super::assignment::apply(change, &before, given);
    let seen_after = after.has(SystemFlag::Seen);
    MemberChange {
        shared: with_seen(&after, shared.has(SystemFlag::Seen)),
        own_seen: (seen_after != before.has(SystemFlag::Seen)).then_some(seen_after),
        before,
        after,
    }
}

/// `messages` as the member sees them: their own `\Seen` over the shared one.
pub fn apply(messages: &mut [StoredMessage], own: &HashMap<Uid, bool>) {
    for message in messages {
        if let Some(&seen) = own.get(&message.uid) {
            message.flags = with_seen(&message.flags, seen);
        }
    }
}

impl Mail {
    /// The member's own `\Seen` states in the folder, when its mailbox keeps
    /// one per member and the member has any; `None` when the shared flags
    /// are the member's view as they stand.
    pub(super) async fn seen_overlay(&self, folder: &OpenFolder) -> CoreResult<Option<HashMap<Uid, bool>>> {
        self.seen_overlay_of(folder, None).await
    }

    /// [`Self::seen_overlay`] of the messages `only` names, when given: a
    /// few messages cost a few lookups, not the member's whole state.
    pub(super) async fn seen_overlay_of(
        &self,
        folder: &OpenFolder,
        only: Option<&[Uid]>,
    ) -> CoreResult<Option<HashMap<Uid, bool>>> {
        if !folder.opened().per_member_seen() || only.is_some_and(<[Uid]>::is_empty) {
            return Ok(None);
        }
        let own = self.store.seen_overrides(folder.id(), folder.opened().principal(), only).await?;
        Ok((!own.is_empty()).then(|| own.into_iter().collect()))
    }

    /// `messages` (a few of a folder) as the member sees them.
    pub(super) async fn as_member_sees(
        &self,
        folder: &OpenFolder,
        messages: &mut [StoredMessage],
    ) -> CoreResult<()> {
        if !folder.opened().per_member_seen() {
            return Ok(());
        }
        let uids: Vec<Uid> = messages.iter().map(|m| m.uid).collect();
        if let Some(own) = self.seen_overlay_of(folder, Some(&uids)).await? {
            apply(messages, &own);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(system: &[SystemFlag]) -> Flags {
        let mut f = Flags::default();
        for s in system {
            f = f.with(*s);
        }
        f
    }

    #[test]
    fn a_member_reads_for_themselves() {
        use SystemFlag::{Flagged, Seen};
        // Alice reads an unread message: her own state, the shared flag stays.
        let read = member_change(FlagChange::Add, &flags(&[Seen]), &flags(&[]), None);
        assert_eq!(
            (read.after.clone(), read.shared.clone(), read.own_seen),
            (flags(&[Seen]), flags(&[]), Some(true))
        );
        // Reading it again changes nothing.
        let again = member_change(FlagChange::Add, &flags(&[Seen]), &flags(&[]), Some(true));
        assert!(!again.changes(&flags(&[])));
        // Unread for herself a message the mailbox shows read.
        let unread = member_change(FlagChange::Remove, &flags(&[Seen]), &flags(&[Seen]), None);
        assert_eq!((unread.after, unread.own_seen), (flags(&[]), Some(false)));
        assert_eq!(unread.shared, flags(&[Seen]));
        // Other flags stay shared; her \Seen rides along unchanged.
        let flag = member_change(FlagChange::Add, &flags(&[Flagged]), &flags(&[]), Some(true));
        assert_eq!(
            (flag.after, flag.shared, flag.own_seen),
            (flags(&[Seen, Flagged]), flags(&[Flagged]), None)
        );
        // A replace sets her \Seen and the shared rest.
        let replace = member_change(FlagChange::Replace, &flags(&[Seen]), &flags(&[Flagged]), None);
        assert_eq!((replace.shared, replace.own_seen), (flags(&[]), Some(true)));
    }
}
