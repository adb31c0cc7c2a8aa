//! Granting permissions, and answering what a principal may do (SPEC §2).

use std::collections::BTreeSet;

use mailroom_types::{EmailAddress, MailboxId, PrincipalId};

use super::resolve::check_trustee_kind;
use super::{Actor, Directory, Recipient};
use crate::error::{CoreError, CoreResult};
use crate::permissions::{
    MailboxAccess, MailboxAction, PermissionEntry, Right, SubmitAs, decide_submission, evaluate_access,
};

impl Directory {
    /// Grants `right` on `recipient` to `trustee`. Full Access needs a
    /// mailbox; Send As and Send on Behalf also work on groups. Returns
    /// whether anything changed (an identical grant changes nothing; a Full
    /// Access grant with another automapping value updates it).
    pub async fn grant(
        &self,
        actor: &Actor,
        recipient: PrincipalId,
        trustee: PrincipalId,
        right: Right,
        automapping: bool,
    ) -> CoreResult<bool> {
        self.grant_with_purge(actor, recipient, trustee, right, automapping, false).await
    }

    /// [`Self::grant`] with the NoPurge switch (SPEC §5, ours; Full Access
    /// only): the trustee's deletes always stay in Recoverable Items. A
    /// grant states the whole grant: granting again without it lifts it.
    pub async fn grant_with_purge(
        &self,
        actor: &Actor,
        recipient: PrincipalId,
        trustee: PrincipalId,
        right: Right,
        automapping: bool,
        no_purge: bool,
    ) -> CoreResult<bool> {
        self.require_admin(actor).await?;
        if no_purge && right != Right::FullAccess {
            return Err(CoreError::Invalid(format!(
                "NoPurge goes with Full Access only, not with {}.",
                right.exchange_name()
            )));
        }
        let (_, mut entry) = self.checked_entry(recipient, trustee, right, automapping).await?;
        entry.no_purge = no_purge;
        let changed = self.store.grant(&[entry]).await?;
        Ok(changed.first().copied().unwrap_or(false))
    }

    /// Removes a grant; `false` if there was none.
    pub async fn revoke(
        &self,
        actor: &Actor,
        recipient: PrincipalId,
        trustee: PrincipalId,
        right: Right,
    ) -> CoreResult<bool> {
        self.require_admin(actor).await?;
        self.recipient(recipient).await?;
        let removed = self.store.revoke(&[(recipient, trustee, right)]).await?;
        Ok(removed.first().copied().unwrap_or(false))
    }

    /// Makes `trustees` exactly the holders of `right` on `recipient`
    /// (Exchange's `-GrantSendOnBehalfTo a,b`), in one transaction.
    pub async fn replace_grants(
        &self,
        actor: &Actor,
        recipient: PrincipalId,
        right: Right,
        trustees: &[PrincipalId],
    ) -> CoreResult<()> {
        self.require_admin(actor).await?;
        let entries = self.prepare_grants(recipient, right, trustees).await?;
        self.store.set_grants(recipient, right, &entries).await?;
        Ok(())
    }

    /// Checks every grant of a replacement list; writes nothing.
    pub(super) async fn prepare_grants(
        &self,
        recipient: PrincipalId,
        right: Right,
        trustees: &[PrincipalId],
    ) -> CoreResult<Vec<PermissionEntry>> {
        let wanted: BTreeSet<PrincipalId> = trustees.iter().copied().collect();
        let mut entries = Vec::with_capacity(wanted.len());
        for trustee in wanted {
            entries.push(self.checked_entry(recipient, trustee, right, false).await?.1);
        }
        Ok(entries)
    }

    /// Adds a member to a shared mailbox the way the admin center does:
    /// Full Access (automapped unless turned off) and Send As (SPEC §2).
    /// Returns whether anything changed.
    pub async fn add_member(
        &self,
        actor: &Actor,
        mailbox: MailboxId,
        member: PrincipalId,
        automapping: bool,
    ) -> CoreResult<bool> {
        self.require_admin(actor).await?;
        let recipient = mailbox.principal();
        let (_, mut full) = self.checked_entry(recipient, member, Right::FullAccess, automapping).await?;
        // Adding a member again keeps their grant's NoPurge: only a grant
        // that says so lifts it.
        full.no_purge = self
            .store
            .permissions_on(recipient)
            .await?
            .iter()
            .any(|e| e.trustee == member && e.right == Right::FullAccess && e.no_purge);
        let (_, send_as) = self.checked_entry(recipient, member, Right::SendAs, false).await?;
        let changed = self.store.grant(&[full, send_as]).await?;
        Ok(changed.contains(&true))
    }

    /// The people who hold Full Access to `mailbox`, directly or through a
    /// group, by display name: who its messages can be assigned to.
    pub async fn full_access_members(&self, mailbox: MailboxId) -> CoreResult<Vec<Recipient>> {
        let mut ids = std::collections::BTreeSet::new();
        for entry in self.permissions_on(mailbox.principal()).await? {
            if entry.right != Right::FullAccess {
                continue;
            }
            let holder = self.recipient(entry.trustee).await?;
            if holder.kind.has_mailbox() {
                ids.insert(holder.id);
            } else {
                for member in self.store.group_members_transitive(holder.id).await? {
                    ids.insert(member);
                }
            }
        }
        let mut people = Vec::new();
        for id in ids {
            let person = self.recipient(id).await?;
            if person.kind.has_mailbox() && person.id != mailbox.principal() {
                people.push(person);
            }
        }
        people.sort_by_key(|p| p.display_name.to_lowercase());
        Ok(people)
    }

    /// Removes a member's Full Access and Send As. Returns whether it was a member.
    pub async fn remove_member(
        &self,
        actor: &Actor,
        mailbox: MailboxId,
        member: PrincipalId,
    ) -> CoreResult<bool> {
        self.require_admin(actor).await?;
        let recipient = mailbox.principal();
        self.recipient(recipient).await?;
        let removed = self
            .store
            .revoke(&[(recipient, member, Right::FullAccess), (recipient, member, Right::SendAs)])
            .await?;
        Ok(removed.contains(&true))
    }

    /// The grants stored on a recipient.
    pub async fn permissions_on(&self, recipient: PrincipalId) -> CoreResult<Vec<PermissionEntry>> {
        Ok(self.store.permissions_on(recipient).await?)
    }

    /// What `principal` may do with `mailbox`, resolving groups now.
    pub async fn mailbox_access(
        &self,
        principal: PrincipalId,
        mailbox: MailboxId,
    ) -> CoreResult<MailboxAccess> {
        let target = mailbox.principal();
        if principal == target {
            return Ok(evaluate_access(principal, &BTreeSet::new(), target, false, &[]));
        }
        let groups: BTreeSet<PrincipalId> = self.store.groups_of(principal).await?.into_iter().collect();
        let entries = self.store.permissions_on(target).await?;
        let automap_groups = self.store.mailbox_settings(mailbox).await?.is_some_and(|s| s.automap_groups);
        Ok(evaluate_access(principal, &groups, target, automap_groups, &entries))
    }

    /// What `principal` may do with `mailbox`, or `None` if `mailbox` is
    /// no mailbox (the recipient is gone or is a group).
    pub async fn access_if_mailbox(
        &self,
        principal: PrincipalId,
        mailbox: MailboxId,
    ) -> CoreResult<Option<MailboxAccess>> {
        if self.store.recipient(mailbox.principal()).await?.is_none_or(|r| !r.kind.has_mailbox()) {
            return Ok(None);
        }
        Ok(Some(self.mailbox_access(principal, mailbox).await?))
    }

    /// "May principal P do action A on mailbox M": the question every
    /// protocol asks before every command (SPEC §2). A mailbox that doesn't
    /// exist allows nothing.
    pub async fn may(
        &self,
        principal: PrincipalId,
        action: MailboxAction,
        mailbox: MailboxId,
    ) -> CoreResult<bool> {
        Ok(self.access_if_mailbox(principal, mailbox).await?.is_some_and(|access| access.allows(action)))
    }

    /// "How may principal P submit with sender address X" (SPEC §2, §3):
    /// its own address, Send As, Send on Behalf, or refused. Addresses that
    /// aren't ours are refused; rights are read now, so a grant made a second
    /// ago counts.
    pub async fn submission_authority(
        &self,
        principal: PrincipalId,
        sender: &EmailAddress,
    ) -> CoreResult<SubmitAs> {
        let Some(recipient) = self.store.recipient_by_address(sender).await? else {
            return Ok(SubmitAs::Refused);
        };
        if recipient.id == principal {
            return Ok(SubmitAs::Own);
        }
        let groups: BTreeSet<PrincipalId> = self.store.groups_of(principal).await?.into_iter().collect();
        let entries = self.store.permissions_on(recipient.id).await?;
        let access = evaluate_access(principal, &groups, recipient.id, false, &entries);
        Ok(decide_submission(recipient.id, &access))
    }

    /// Every address `principal` may send as besides its own, and how
    /// (Send As, or Send on Behalf), decided as a submission would be —
    /// what a From chooser offers. Ordered by name.
    pub async fn send_identities(&self, principal: PrincipalId) -> CoreResult<Vec<(Recipient, SubmitAs)>> {
        let mut trustees = self.store.groups_of(principal).await?;
        trustees.push(principal);
        let held = self.store.permissions_held_by(&trustees).await?;
        let targets: BTreeSet<PrincipalId> = held
            .iter()
            .filter(|e| matches!(e.right, Right::SendAs | Right::SendOnBehalf))
            .map(|e| e.recipient)
            .filter(|r| *r != principal)
            .collect();
        let mut out = Vec::new();
        for id in targets {
            let Some(recipient) = self.store.recipient(id).await? else { continue };
            match self.submission_authority(principal, &recipient.primary_address).await? {
                SubmitAs::Refused | SubmitAs::Own => {}
                authority => out.push((recipient, authority)),
            }
        }
        out.sort_by_key(|(r, _)| r.name.to_lowercase());
        Ok(out)
    }

    /// Every mailbox other than its own that `principal` may open, with how.
    /// Protocols list these (IMAP shared namespace, CalDAV calendar home).
    pub async fn accessible_mailboxes(
        &self,
        principal: PrincipalId,
    ) -> CoreResult<Vec<(Recipient, MailboxAccess)>> {
        let mut trustees = self.store.groups_of(principal).await?;
        trustees.push(principal);
        let held = self.store.permissions_held_by(&trustees).await?;
        let mailboxes: BTreeSet<PrincipalId> =
            held.iter().filter(|e| e.right == Right::FullAccess).map(|e| e.recipient).collect();
        let mut out = Vec::new();
        for id in mailboxes {
            let Some(recipient) = self.store.recipient(id).await? else { continue };
            let Some(mailbox) = recipient.mailbox_id() else { continue };
            let access = self.mailbox_access(principal, mailbox).await?;
            if access.allows(MailboxAction::Open) {
                out.push((recipient, access));
            }
        }
        out.sort_by_key(|(r, _)| r.name.to_lowercase());
        Ok(out)
    }

    /// Validates a grant: the recipient exists and can carry the right, the
    /// trustee is a user or security group of ours and not the recipient.
    async fn checked_entry(
        &self,
        recipient: PrincipalId,
        trustee: PrincipalId,
        right: Right,
        automapping: bool,
    ) -> CoreResult<(Recipient, PermissionEntry)> {
        let target = self.recipient(recipient).await?;
        let holder = self.recipient(trustee).await?;
        if right == Right::FullAccess && !target.kind.has_mailbox() {
            return Err(CoreError::Invalid(format!(
                "Full Access can only be granted on a mailbox; \"{}\" is a {}.",
                target.name,
                target.kind.describe()
            )));
        }
        if recipient == trustee {
            return Err(CoreError::InvalidTrustee {
                trustee: holder.name,
                reason: "a recipient can't be granted permissions on itself.".into(),
            });
        }
        check_trustee_kind(&holder)?;
        let automapping = right == Right::FullAccess && automapping;
        Ok((target, PermissionEntry { recipient, trustee, right, automapping, no_purge: false }))
    }
}
