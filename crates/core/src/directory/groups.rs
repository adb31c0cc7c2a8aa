//! Group membership: nested groups, cycle refusal, and expansion.

use std::collections::BTreeSet;

use mailroom_types::PrincipalId;

use super::{Actor, Directory, Recipient};
use crate::error::{CoreError, CoreResult};

impl Directory {
    /// Adds a member (a mailbox or another group) to a group. Returns `false`
    /// if it was already a direct member. A group that would end up inside
    /// itself is refused.
    pub async fn add_group_member(
        &self,
        actor: &Actor,
        group: PrincipalId,
        member: PrincipalId,
    ) -> CoreResult<bool> {
        self.require_admin(actor).await?;
        let group_r = self.group(group).await?;
        let member_r = self.recipient(member).await?;
        if member_r.kind.is_group() {
            let inside_member = self.store.group_members_transitive(member).await?;
            if member == group || inside_member.contains(&group) {
                return Err(CoreError::GroupCycle { group: group_r.name, member: member_r.name });
            }
        }
        let added = self.store.add_group_member(group, member).await?;

        Ok(added)
    }

    /// Returns `false` if it was not a direct member.
    pub async fn remove_group_member(
        &self,
        actor: &Actor,
        group: PrincipalId,
        member: PrincipalId,
    ) -> CoreResult<bool> {
        self.require_admin(actor).await?;
        self.group(group).await?;
        let removed = self.store.remove_group_member(group, member).await?;

        Ok(removed)
    }

    /// Direct members, ordered by name.
    pub async fn group_members(&self, group: PrincipalId) -> CoreResult<Vec<Recipient>> {
        self.group(group).await?;
        let mut members = Vec::new();
        for id in self.store.group_members(group).await? {
            if let Some(r) = self.store.recipient(id).await? {
                members.push(r);
            }
        }
        members.sort_by_key(|r| r.name.to_lowercase());
        Ok(members)
    }

    /// The mailboxes mail to a group reaches: nested groups expanded, each
    /// mailbox once (SPEC §3).
    pub async fn expand_to_mailboxes(&self, group: PrincipalId) -> CoreResult<Vec<Recipient>> {
        let mut seen = BTreeSet::new();
        let mut mailboxes = Vec::new();
        for id in self.store.group_members_transitive(group).await? {
            if seen.insert(id)
                && let Some(r) = self.store.recipient(id).await?
                && r.kind.has_mailbox()
            {
                mailboxes.push(r);
            }
        }
        Ok(mailboxes)
    }

    async fn group(&self, id: PrincipalId) -> CoreResult<Recipient> {
        let group = self.recipient(id).await?;
        if !group.kind.is_group() {
            return Err(CoreError::Invalid(format!(
                "\"{}\" is a {}, not a group.",
                group.name,
                group.kind.describe()
            )));
        }
        Ok(group)
    }
}
