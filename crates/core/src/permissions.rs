//! Permissions on a mailbox (SPEC §2) and the pure rules that evaluate them.
//!
//! Grants are stored as [`PermissionEntry`] rows: one right, one trustee
//! (a user or a security group), one recipient. A group grants the right to
//! everyone inside it, through nested groups too; membership is resolved when
//! a right is checked, never copied, so a change is effective at the next
//! check (SPEC §2, "Effective immediately").
//!
//! The functions here take already-loaded data and decide; the I/O lives in
//! [`crate::Directory`].

use std::collections::BTreeSet;

use mailroom_types::PrincipalId;

/// A right that can be granted on a recipient.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Right {
    /// Open the mailbox; read, create, change, move and delete items in every
    /// folder, calendar and contacts. Does not allow sending.
    FullAccess,
    /// Send as the recipient, without a trace of the person.
    SendAs,
    /// Send with `From:` the recipient and `Sender:` the person.
    SendOnBehalf,
}

impl Right {
    pub const ALL: [Right; 3] = [Right::FullAccess, Right::SendAs, Right::SendOnBehalf];

    /// Exchange's name of the right.
    pub fn exchange_name(self) -> &'static str {
        match self {
            Right::FullAccess => "FullAccess",
            Right::SendAs => "SendAs",
            Right::SendOnBehalf => "SendOnBehalf",
        }
    }

    pub fn storage_name(self) -> &'static str {
        match self {
            Right::FullAccess => "full_access",
            Right::SendAs => "send_as",
            Right::SendOnBehalf => "send_on_behalf",
        }
    }

    pub fn from_storage_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.storage_name() == name)
    }
}

/// One stored grant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PermissionEntry {
    /// The mailbox (or, for Send As / on Behalf, possibly a group) it is on.
    pub recipient: PrincipalId,
    pub trustee: PrincipalId,
    pub right: Right,
    /// Only meaningful for Full Access (SPEC §2, Automapping; default on).
    pub automapping: bool,
    /// Only meaningful for Full Access (SPEC §5, ours): the trustee deletes,
    /// but what they delete always stays in Recoverable Items; they can't
    /// purge it. Default off.
    pub no_purge: bool,
}

/// Where a principal's right comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    /// The principal is the mailbox itself.
    Owner,
    /// Granted to the principal by name.
    Direct,
    /// Granted to this group, which the principal is inside.
    Group(PrincipalId),
}

/// What a principal may do with one mailbox, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct MailboxAccess {
    pub full_access: Option<Via>,
    pub send_as: Option<Via>,
    pub send_on_behalf: Option<Via>,
    /// The mailbox appears in the principal's clients without setup.
    pub automapped: bool,
    /// The principal may purge Recoverable Items: the owner, and a Full
    /// Access holder with at least one grant that isn't NoPurge (grants
    /// add up, as RFC 4314's rights do: a direct grant without NoPurge
    /// lifts a group's NoPurge for that person).
    pub may_purge: bool,
}

impl MailboxAccess {
    pub fn allows(&self, action: MailboxAction) -> bool {
        match action {
            MailboxAction::Open => self.full_access.is_some(),
            MailboxAction::SendAs => self.send_as.is_some(),
            MailboxAction::SendOnBehalf => self.send_on_behalf.is_some(),
        }
    }

    pub fn is_owner(&self) -> bool {
        self.full_access == Some(Via::Owner)
    }

    pub fn is_none(&self) -> bool {
        self.full_access.is_none() && self.send_as.is_none() && self.send_on_behalf.is_none()
    }
}

/// What a protocol wants to do with a mailbox.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MailboxAction {
    /// Read and change items (IMAP, CalDAV): Full Access.
    Open,
    SendAs,
    SendOnBehalf,
}

/// How a principal may submit a message whose sender is a given address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SubmitAs {
    /// The address is the principal's own: sent as is.
    Own,
    /// Send As: `From:` the recipient, no `Sender:`.
    SendAs { recipient: PrincipalId },
    /// Send on Behalf: the server writes `Sender:` (the person).
    OnBehalf { recipient: PrincipalId },
    /// SPEC §2: `550 5.7.60`.
    Refused,
}

/// Evaluates the grants on `mailbox` for `principal`.
///
/// `principal_groups` is every group the principal is inside (transitively);
/// `automap_groups` is the mailbox's beyond-Exchange switch that lets Full
/// Access granted through a group automap too.
pub fn evaluate_access(
    principal: PrincipalId,
    principal_groups: &BTreeSet<PrincipalId>,
    mailbox: PrincipalId,
    automap_groups: bool,
    entries: &[PermissionEntry],
) -> MailboxAccess {
    if principal == mailbox {
        return MailboxAccess {
            full_access: Some(Via::Owner),
            send_as: Some(Via::Owner),
            send_on_behalf: Some(Via::Owner),
            automapped: false,
            may_purge: true,
        };
    }
    let mut access = MailboxAccess::default();
    for entry in entries.iter().filter(|e| e.recipient == mailbox) {
        let via = if entry.trustee == principal {
            Via::Direct
        } else if principal_groups.contains(&entry.trustee) {
            Via::Group(entry.trustee)
        } else {
            continue;
        };
        let slot = match entry.right {
            Right::FullAccess => &mut access.full_access,
            Right::SendAs => &mut access.send_as,
            Right::SendOnBehalf => &mut access.send_on_behalf,
        };
        // A direct grant explains the right better than a group one.
        if slot.is_none() || via == Via::Direct {
            *slot = Some(via);
        }
        if entry.right == Right::FullAccess && entry.automapping && (via == Via::Direct || automap_groups) {
            access.automapped = true;
        }
        if entry.right == Right::FullAccess && !entry.no_purge {
            access.may_purge = true;
        }
    }
    access
}

/// The Send As / Send on Behalf decision of SPEC §2 and §3: both → Send As wins.
pub fn decide_submission(recipient: PrincipalId, access: &MailboxAccess) -> SubmitAs {
    if access.is_owner() {
        SubmitAs::Own
    } else if access.send_as.is_some() {
        SubmitAs::SendAs { recipient }
    } else if access.send_on_behalf.is_some() {
        SubmitAs::OnBehalf { recipient }
    } else {
        SubmitAs::Refused
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALICE: PrincipalId = PrincipalId(1);
    const SALES: PrincipalId = PrincipalId(10);
    const TEAM: PrincipalId = PrincipalId(20);
    const OTHER: PrincipalId = PrincipalId(30);

    fn entry(trustee: PrincipalId, right: Right, automapping: bool) -> PermissionEntry {
        PermissionEntry { recipient: SALES, trustee, right, automapping, no_purge: false }
    }

    fn groups(ids: &[PrincipalId]) -> BTreeSet<PrincipalId> {
        ids.iter().copied().collect()
    }

    #[test]
    fn owner_may_do_everything_with_own_mailbox() {
        let access = evaluate_access(SALES, &groups(&[]), SALES, false, &[]);
        assert!(access.is_owner());
        assert!(access.allows(MailboxAction::Open));
        assert_eq!(decide_submission(SALES, &access), SubmitAs::Own);
    }

    #[test]
    fn no_grant_means_nothing() {
        let entries = [entry(OTHER, Right::FullAccess, true)];
        let access = evaluate_access(ALICE, &groups(&[]), SALES, false, &entries);
        assert!(access.is_none());
        assert!(!access.allows(MailboxAction::Open));
        assert_eq!(decide_submission(SALES, &access), SubmitAs::Refused);
    }

    #[test]
    fn full_access_does_not_allow_sending() {
        let entries = [entry(ALICE, Right::FullAccess, true)];
        let access = evaluate_access(ALICE, &groups(&[]), SALES, false, &entries);
        assert!(access.allows(MailboxAction::Open));
        assert!(access.automapped);
        assert_eq!(decide_submission(SALES, &access), SubmitAs::Refused);
    }

    #[test]
    fn send_as_wins_over_send_on_behalf() {
        let both = [entry(ALICE, Right::SendOnBehalf, false), entry(ALICE, Right::SendAs, false)];
        let access = evaluate_access(ALICE, &groups(&[]), SALES, false, &both);
        assert_eq!(decide_submission(SALES, &access), SubmitAs::SendAs { recipient: SALES });
        let behalf = [entry(ALICE, Right::SendOnBehalf, false)];
        let access = evaluate_access(ALICE, &groups(&[]), SALES, false, &behalf);
        assert_eq!(decide_submission(SALES, &access), SubmitAs::OnBehalf { recipient: SALES });
    }

    #[test]
    fn group_grants_apply_to_members_but_do_not_automap() {
        let entries = [entry(TEAM, Right::FullAccess, true)];
        let access = evaluate_access(ALICE, &groups(&[TEAM]), SALES, false, &entries);
        assert_eq!(access.full_access, Some(Via::Group(TEAM)));
        assert!(!access.automapped, "Exchange does not automap group grants");
        let access = evaluate_access(ALICE, &groups(&[TEAM]), SALES, true, &entries);
        assert!(access.automapped, "automap-groups turns it on");
    }

    #[test]
    fn direct_grant_is_preferred_as_explanation_and_automaps() {
        let entries = [entry(TEAM, Right::FullAccess, true), entry(ALICE, Right::FullAccess, true)];
        let access = evaluate_access(ALICE, &groups(&[TEAM]), SALES, false, &entries);
        assert_eq!(access.full_access, Some(Via::Direct));
        assert!(access.automapped);
    }

    #[test]
    fn automapping_off_is_respected() {
        let entries = [entry(ALICE, Right::FullAccess, false)];
        let access = evaluate_access(ALICE, &groups(&[]), SALES, false, &entries);
        assert!(access.allows(MailboxAction::Open));
        assert!(!access.automapped);
    }

    #[test]
    fn grants_on_other_mailboxes_are_ignored() {
        let elsewhere = PermissionEntry {
            recipient: OTHER,
            trustee: ALICE,
            right: Right::FullAccess,
            automapping: true,
            no_purge: false,
        };
        let access = evaluate_access(ALICE, &groups(&[]), SALES, false, &[elsewhere]);
        assert!(access.is_none());
    }

    #[test]
    fn no_purge_holds_unless_another_grant_lifts_it() {
        let no_purge =
            |trustee| PermissionEntry { no_purge: true, ..entry(trustee, Right::FullAccess, true) };
        let owner = evaluate_access(SALES, &groups(&[]), SALES, false, &[no_purge(SALES)]);
        assert!(owner.may_purge, "the owner always purges");
        let team_only = [no_purge(TEAM)];
        let access = evaluate_access(ALICE, &groups(&[TEAM]), SALES, false, &team_only);
        assert!(access.allows(MailboxAction::Open) && !access.may_purge);
        let lifted = [no_purge(TEAM), entry(ALICE, Right::FullAccess, true)];
        assert!(evaluate_access(ALICE, &groups(&[TEAM]), SALES, false, &lifted).may_purge);
        // Send As without NoPurge gives no purge: only Full Access opens the mailbox.
        let send_as = [no_purge(ALICE), entry(ALICE, Right::SendAs, false)];
        assert!(!evaluate_access(ALICE, &groups(&[]), SALES, false, &send_as).may_purge);
        assert!(
            evaluate_access(ALICE, &groups(&[]), SALES, false, &[entry(ALICE, Right::FullAccess, true)])
                .may_purge
        );
    }
}
