//! One admin edit of a mailbox, checked as a whole and written as a whole.
//!
//! `Set-Mailbox` can change a dozen things at once. Every rule is checked
//! before anything is written, and the write is one store transaction, so a
//! refused value anywhere leaves the mailbox exactly as it was.

use mailroom_types::{MailboxId, PrincipalId, Secret};

use super::accounts::check_sign_in_change;
use super::{Actor, Directory, IdentityChange, MailboxType, Recipient, SettingsChange};
use crate::error::{CoreError, CoreResult};
use crate::permissions::Right;
use crate::store::MailboxWrite;

/// Everything `Set-Mailbox` may change; empty parts change nothing.
#[derive(Clone, Debug, Default)]
pub struct MailboxUpdate {
    pub convert_to: Option<MailboxType>,
    /// The password of a mailbox becoming a user mailbox.
    pub password: Option<Secret<String>>,
    pub identity: IdentityChange,
    pub settings: SettingsChange,
    /// The complete new list of Send on Behalf holders.
    pub send_on_behalf: Option<Vec<PrincipalId>>,
    pub sign_in_blocked: Option<bool>,
}

impl MailboxUpdate {
    pub fn is_empty(&self) -> bool {
        self.convert_to.is_none()
            && self.password.is_none()
            && self.identity.is_empty()
            && self.settings.is_empty()
            && self.send_on_behalf.is_none()
            && self.sign_in_blocked.is_none()
    }
}

/// What an update did.
#[derive(Clone, Debug)]
pub struct MailboxUpdated {
    pub recipient: Recipient,
    /// A conversion was asked for but the mailbox already was of that type.
    pub conversion_unneeded: bool,
}

impl Directory {
    /// Checks an update against every rule without writing anything (what
    /// `-WhatIf` reports on).
    pub async fn check_mailbox_update(
        &self,
        actor: &Actor,
        id: MailboxId,
        update: &MailboxUpdate,
    ) -> CoreResult<()> {
        self.plan_update(actor, id, update.clone()).await.map(|_| ())
    }

    /// Checks and applies an update in one transaction.
    pub async fn update_mailbox(
        &self,
        actor: &Actor,
        id: MailboxId,
        update: MailboxUpdate,
    ) -> CoreResult<MailboxUpdated> {
        let (_, write, conversion_unneeded) = self.plan_update(actor, id, update).await?;
        let recipient = self.store.update_mailbox(id, write).await?;
        Ok(MailboxUpdated { recipient, conversion_unneeded })
    }

    async fn plan_update(
        &self,
        actor: &Actor,
        id: MailboxId,
        update: MailboxUpdate,
    ) -> CoreResult<(Recipient, MailboxWrite, bool)> {
        self.require_admin(actor).await?;
        let current = self.recipient(id.principal()).await?;
        if !current.kind.has_mailbox() {
            return Err(CoreError::NotFound { identity: current.name });
        }
        if update.password.is_some() && update.convert_to != Some(MailboxType::User) {
            return Err(CoreError::Invalid(
                "The Password parameter is used with -Type Regular, to give a shared mailbox that becomes a user mailbox its password.".into(),
            ));
        }
        let mut write = MailboxWrite::default();
        let mut kind_after = current.kind;
        let mut conversion_unneeded = false;
        if let Some(to) = update.convert_to {
            match self.prepare_conversion(actor, &current, to, update.password.as_ref()).await? {
                Some((kind, hash, blocked)) => {
                    kind_after = kind;
                    write.kind = Some((kind, hash));
                    write.sign_in_blocked = Some(blocked);
                }
                None => conversion_unneeded = true,
            }
        }
        if let Some(blocked) = update.sign_in_blocked {
            check_sign_in_change(actor, &current, kind_after, blocked)?;
            self.require_may_manage_account(actor, current.id).await?;
            write.sign_in_blocked = Some(blocked);
        }
        if !update.identity.is_empty() {
            write.identity = Some(self.prepare_identity_change(&current, update.identity).await?);
        }
        if !update.settings.is_empty() {
            let settings = self.mailbox_settings(id).await?;
            write.settings = Some(self.prepare_settings(id, settings, update.settings).await?);
        }
        if let Some(trustees) = update.send_on_behalf {
            let entries = self.prepare_grants(current.id, Right::SendOnBehalf, &trustees).await?;
            write.send_on_behalf = Some(entries.into_iter().map(|e| e.trustee).collect());
        }
        Ok((current, write, conversion_unneeded))
    }
}
