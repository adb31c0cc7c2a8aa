//! Finding a recipient from what an admin typed (Exchange's `-Identity`).
//!
//! An identity is any of the recipient's addresses (with or without an
//! `SMTP:` prefix), its Name or its Alias, all compared without case.
//! Addresses win: `info@contoso.com` never means a recipient *named* that.

use mailroom_types::EmailAddress;

use super::{Directory, Recipient, RecipientKind};
use crate::error::{CoreError, CoreResult};

impl Directory {
    /// The recipient `identity` names, of any kind.
    pub async fn resolve(&self, identity: &str) -> CoreResult<Recipient> {
        self.resolve_kind(identity, &RecipientKind::ALL).await
    }

    /// The recipient `identity` names among `kinds`; others are invisible,
    /// as a group is to `Get-Mailbox`.
    pub async fn resolve_kind(&self, identity: &str, kinds: &[RecipientKind]) -> CoreResult<Recipient> {
        let text = identity.trim();
        let text = strip_proxy_prefix(text);
        if text.is_empty() {
            return Err(CoreError::Invalid("The identity can't be empty.".into()));
        }
        if text.contains('@')
            && let Ok(address) = EmailAddress::parse(text)
            && let Some(found) = self.store.recipient_by_address(&address).await?
        {
            return if kinds.contains(&found.kind) {
                Ok(found)
            } else {
                Err(CoreError::NotFound { identity: identity.to_string() })
            };
        }
        let mut matches: Vec<Recipient> = self
            .store
            .recipients_by_name_or_alias(text)
            .await?
            .into_iter()
            .filter(|r| kinds.contains(&r.kind))
            .collect();
        matches.dedup_by_key(|r| r.id);
        match matches.len() {
            0 => Err(CoreError::NotFound { identity: identity.to_string() }),
            1 => Ok(matches.remove(0)),
            _ => Err(CoreError::Ambiguous {
                identity: identity.to_string(),
                candidates: matches
                    .iter()
                    .map(|r| r.primary_address.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }

    /// The recipient that has `address`, if any.
    pub async fn resolve_address(&self, address: &EmailAddress) -> CoreResult<Option<Recipient>> {
        Ok(self.store.recipient_by_address(address).await?)
    }

    /// A recipient that may hold permissions: a user or a mail-enabled
    /// security group of this organisation (SPEC §1, §2). An address in a
    /// domain that is not ours is refused as external before any lookup.
    pub async fn resolve_trustee(&self, identity: &str) -> CoreResult<Recipient> {
        let text = strip_proxy_prefix(identity.trim());
        if text.contains('@')
            && let Ok(address) = EmailAddress::parse(text)
            && !self.is_accepted_domain(address.domain()).await?
        {
            return Err(CoreError::ExternalTrustee(address));
        }
        let trustee = self.resolve(identity).await?;
        check_trustee_kind(&trustee)?;
        Ok(trustee)
    }
}

/// Only users and security groups hold permissions (Exchange refuses
/// distribution groups; a shared mailbox never signs in to use one).
pub(super) fn check_trustee_kind(trustee: &Recipient) -> CoreResult<()> {
    let reason = match trustee.kind {
        RecipientKind::UserMailbox | RecipientKind::SecurityGroup => return Ok(()),
        RecipientKind::SharedMailbox => {
            "it is a shared mailbox, which can't sign in. Grant the permission to its users or to a security group."
        }
        RecipientKind::DistributionGroup => {
            "it is a distribution group. Only users and mail-enabled security groups can hold permissions; create the group with -Type Security."
        }
    };
    Err(CoreError::InvalidTrustee { trustee: trustee.name.clone(), reason: reason.to_string() })
}

fn strip_proxy_prefix(text: &str) -> &str {
    match text.split_once(':') {
        Some((prefix, rest)) if prefix.eq_ignore_ascii_case("smtp") => rest,
        _ => text,
    }
}
