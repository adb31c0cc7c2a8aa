//! Creating, editing, converting and removing recipients (SPEC §1).

use std::collections::BTreeSet;

use mailroom_types::{EmailAddress, MailboxId, PrincipalId, Secret};

use super::naming::{self, numbered_candidates};
use super::{Actor, AdminRole, Directory, MailboxSettings, Recipient, RecipientKind};
use crate::auth::{hash_password, validate_password};
use crate::error::{CoreError, CoreResult};
use crate::store::{NewAccount, NewRecipient, RecipientIdentity};

/// A mailbox to create. Unset fields are derived: display name from the name,
/// alias from the name (or the address), address from the alias and the
/// default domain (SPEC §1, Address suggestion).
#[derive(Clone, Debug)]
pub struct NewMailbox {
    pub name: String,
    pub display_name: Option<String>,
    pub alias: Option<String>,
    pub primary_address: Option<EmailAddress>,
    pub kind: NewMailboxKind,
}

#[derive(Clone, Debug)]
pub enum NewMailboxKind {
    User {
        password: Secret<String>,
        roles: BTreeSet<AdminRole>,
    },
    /// Created without a usable password and with sign-in blocked.
    Shared,
}

/// A group to create, with its first members.
#[derive(Clone, Debug)]
pub struct NewGroup {
    pub name: String,
    pub display_name: Option<String>,
    pub alias: Option<String>,
    pub primary_address: Option<EmailAddress>,
    /// Security group (may hold permissions) or distribution group.
    pub security: bool,
    pub members: Vec<PrincipalId>,
}

/// The two mailbox types a mailbox converts between (Exchange `-Type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MailboxType {
    /// Exchange calls it `Regular`.
    User,
    Shared,
}

/// An address as Exchange writes it in `EmailAddresses`: `SMTP:` marks the
/// primary one, `smtp:` (or no prefix) a secondary one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProxyAddress {
    pub address: EmailAddress,
    pub primary: bool,
}

impl ProxyAddress {
    pub fn parse(text: &str) -> CoreResult<Self> {
        let text = text.trim();
        if let Some((prefix, rest)) = text.split_once(':') {
            if prefix == "SMTP" {
                return Ok(ProxyAddress { address: EmailAddress::parse(rest)?, primary: true });
            }
            if prefix.eq_ignore_ascii_case("smtp") {
                return Ok(ProxyAddress { address: EmailAddress::parse(rest)?, primary: false });
            }
            if !prefix.contains('@') {
                return Err(CoreError::Invalid(format!(
                    "The proxy address type \"{prefix}\" isn't supported. Use SMTP: for the primary address and smtp: for others."
                )));
            }
        }
        Ok(ProxyAddress { address: EmailAddress::parse(text)?, primary: false })
    }
}

/// How the address list changes (`-EmailAddresses`).
#[derive(Clone, Debug)]
pub enum AddressChange {
    Replace(Vec<ProxyAddress>),
    /// `@{Add=...; Remove=...}`.
    Modify {
        add: Vec<ProxyAddress>,
        remove: Vec<EmailAddress>,
    },
}

/// An edit of a recipient's identity; `None` keeps the current value.
#[derive(Clone, Debug, Default)]
pub struct IdentityChange {
    pub name: Option<String>,
    pub display_name: Option<String>,
    pub alias: Option<String>,
    /// Makes this the primary address; the old primary stays as a secondary one.
    pub primary_address: Option<EmailAddress>,
    pub addresses: Option<AddressChange>,
}

impl IdentityChange {
    pub fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.display_name.is_none()
            && self.alias.is_none()
            && self.primary_address.is_none()
            && self.addresses.is_none()
    }
}

/// Name, display name, alias and primary address, checked and completed.
struct PreparedIdentity {
    name: String,
    display_name: String,
    alias: String,
    primary_address: EmailAddress,
}

impl Directory {
    /// Checks a new mailbox against every rule without creating it (what
    /// `-WhatIf` reports on).
    pub async fn check_new_mailbox(&self, actor: &Actor, spec: &NewMailbox) -> CoreResult<()> {
        self.require_admin(actor).await?;
        if let NewMailboxKind::User { password, roles } = &spec.kind {
            validate_password(password)?;
            if !roles.is_empty() {
                self.require_global_admin(actor).await?;
            }
        }
        self.prepare_identity(
            &spec.name,
            spec.display_name.as_deref(),
            spec.alias.as_deref(),
            spec.primary_address.clone(),
        )
        .await?;
        Ok(())
    }

    /// Creates a user or shared mailbox. Only a global admin creates one
    /// that holds admin roles.
    pub async fn create_mailbox(&self, actor: &Actor, spec: NewMailbox) -> CoreResult<Recipient> {
        self.require_admin(actor).await?;
        if let NewMailboxKind::User { roles, .. } = &spec.kind
            && !roles.is_empty()
        {
            self.require_global_admin(actor).await?;
        }
        let identity = self
            .prepare_identity(
                &spec.name,
                spec.display_name.as_deref(),
                spec.alias.as_deref(),
                spec.primary_address,
            )
            .await?;
        let mut scram_for = None;
        let (kind, account) = match spec.kind {
            NewMailboxKind::User { password, roles } => {
                let hash = hash_password(&password)?;
                scram_for = Some((hash.clone(), password));
                (
                    RecipientKind::UserMailbox,
                    NewAccount { password_hash: Some(hash), sign_in_blocked: false, roles },
                )
            }
            // SPEC §1: no password anybody knows, sign-in blocked. No hash at
            // all is the strongest form of "a secret nobody knows".
            NewMailboxKind::Shared => (
                RecipientKind::SharedMailbox,
                NewAccount { password_hash: None, sign_in_blocked: true, roles: BTreeSet::new() },
            ),
        };
        let recipient = self
            .store
            .create_recipient(NewRecipient {
                kind,
                name: identity.name,
                display_name: identity.display_name,
                alias: identity.alias,
                primary_address: identity.primary_address,
                secondary_addresses: Vec::new(),
                account: Some(account),
                mailbox: Some(MailboxSettings::default()),
                members: Vec::new(),
            })
            .await?;
        if let Some((hash, password)) = scram_for {
            self.keep_scram_verifier(recipient.id, &hash, &password).await;
        }
        tracing::info!(id = %recipient.id, kind = kind.describe(), address = %recipient.primary_address, "mailbox created");
        Ok(recipient)
    }

    /// Creates a security or distribution group with its first members.
    pub async fn create_group(&self, actor: &Actor, spec: NewGroup) -> CoreResult<Recipient> {
        self.require_admin(actor).await?;
        let mut members = Vec::new();
        for id in &spec.members {
            members.push(self.recipient(*id).await?);
        }
        let identity = self
            .prepare_identity(
                &spec.name,
                spec.display_name.as_deref(),
                spec.alias.as_deref(),
                spec.primary_address,
            )
            .await?;
        let kind =
            if spec.security { RecipientKind::SecurityGroup } else { RecipientKind::DistributionGroup };
        let group = self
            .store
            .create_recipient(NewRecipient {
                kind,
                name: identity.name,
                display_name: identity.display_name,
                alias: identity.alias,
                primary_address: identity.primary_address,
                secondary_addresses: Vec::new(),
                account: None,
                mailbox: None,
                // A brand-new group can't be inside any of its members: no cycle check.
                members: members.iter().map(|m| m.id).collect(),
            })
            .await?;
        Ok(group)
    }

    async fn prepare_identity(
        &self,
        name: &str,
        display_name: Option<&str>,
        alias: Option<&str>,
        primary_address: Option<EmailAddress>,
    ) -> CoreResult<PreparedIdentity> {
        let name = name.trim().to_string();
        naming::validate_name(&name).map_err(CoreError::Invalid)?;
        self.check_name_free(&name, None).await?;
        let display_name = display_name.map(str::trim).filter(|d| !d.is_empty()).unwrap_or(&name).to_string();
        naming::validate_display_name(&display_name).map_err(CoreError::Invalid)?;

        if let Some(address) = &primary_address {
            self.check_accepted(address).await?;
            self.check_address_free(address, None, true).await?;
        }
        let alias = match alias.map(str::trim) {
            Some(alias) => {
                naming::validate_alias(alias).map_err(CoreError::Invalid)?;
                self.check_alias_free(alias, None).await?;
                Some(alias.to_string())
            }
            None => None,
        };

        // What remains to derive is numbered until free, as Exchange's email
        // address policy does: Sales, Sales2, ...
        let default_domain = self.default_domain().await?;
        let (alias, primary_address) = match (alias, primary_address) {
            (Some(alias), Some(address)) => (alias, address),
            (Some(alias), None) => {
                let mut chosen = None;
                for local in numbered_candidates(&alias).take(1000) {
                    let candidate = EmailAddress::from_parts(&local, default_domain.clone());
                    if self.store.recipient_by_address(&candidate).await?.is_none() {
                        chosen = Some(candidate);
                        break;
                    }
                }
                (alias, chosen.ok_or_else(|| no_free_address(&name))?)
            }
            (None, address) => {
                let base = match &address {
                    Some(a) if naming::validate_alias(a.local_part()).is_ok() => a.local_part().to_string(),
                    _ => naming::suggest_alias(&name),
                };
                let mut chosen = None;
                for candidate in numbered_candidates(&base).take(1000) {
                    if !self.alias_is_free(&candidate, None).await? {
                        continue;
                    }
                    match &address {
                        Some(address) => {
                            chosen = Some((candidate, address.clone()));
                            break;
                        }
                        None => {
                            let derived = EmailAddress::from_parts(&candidate, default_domain.clone());
                            if self.store.recipient_by_address(&derived).await?.is_none() {
                                chosen = Some((candidate, derived));
                                break;
                            }
                        }
                    }
                }
                chosen.ok_or_else(|| no_free_address(&name))?
            }
        };
        Ok(PreparedIdentity { name, display_name, alias, primary_address })
    }

    async fn check_name_free(&self, name: &str, except: Option<PrincipalId>) -> CoreResult<()> {
        let taken = self
            .store
            .recipients_by_name_or_alias(name)
            .await?
            .into_iter()
            .any(|r| Some(r.id) != except && r.name.to_lowercase() == name.to_lowercase());
        if taken { Err(CoreError::NameInUse { name: name.to_string() }) } else { Ok(()) }
    }

    async fn alias_is_free(&self, alias: &str, except: Option<PrincipalId>) -> CoreResult<bool> {
        Ok(self.alias_holder(alias, except).await?.is_none())
    }

    async fn alias_holder(&self, alias: &str, except: Option<PrincipalId>) -> CoreResult<Option<Recipient>> {
        Ok(self
            .store
            .recipients_by_name_or_alias(alias)
            .await?
            .into_iter()
            .find(|r| Some(r.id) != except && r.alias.eq_ignore_ascii_case(alias)))
    }

    async fn check_alias_free(&self, alias: &str, except: Option<PrincipalId>) -> CoreResult<()> {
        match self.alias_holder(alias, except).await? {
            Some(holder) => Err(CoreError::AliasInUse { alias: alias.to_string(), holder: holder.name }),
            None => Ok(()),
        }
    }

    /// SPEC §1, Address uniqueness, with the message Exchange admins know.
    async fn check_address_free(
        &self,
        address: &EmailAddress,
        except: Option<PrincipalId>,
        primary: bool,
    ) -> CoreResult<()> {
        match self.store.recipient_by_address(address).await? {
            Some(holder) if Some(holder.id) != except => Err(CoreError::AddressInUse {
                prefix: if primary { "SMTP" } else { "smtp" },
                address: address.clone(),
                holder: holder.name,
            }),
            _ => Ok(()),
        }
    }

    /// Edits name, display name, alias and addresses.
    pub async fn update_identity(
        &self,
        actor: &Actor,
        id: PrincipalId,
        change: IdentityChange,
    ) -> CoreResult<Recipient> {
        self.require_admin(actor).await?;
        let current = self.recipient(id).await?;
        if change.is_empty() {
            return Ok(current);
        }
        let identity = self.prepare_identity_change(&current, change).await?;
        let updated = self.store.update_identity(id, identity).await?;
        Ok(updated)
    }

    /// Checks an identity edit against every rule and returns what to store;
    /// writes nothing.
    pub(super) async fn prepare_identity_change(
        &self,
        current: &Recipient,
        change: IdentityChange,
    ) -> CoreResult<RecipientIdentity> {
        let id = current.id;
        if change.primary_address.is_some() && change.addresses.is_some() {
            return Err(CoreError::Invalid(
                "The parameters PrimarySmtpAddress and EmailAddresses can't be used together. Mark the primary address with SMTP: in EmailAddresses instead.".into(),
            ));
        }
        let name = match change.name {
            Some(name) => {
                let name = name.trim().to_string();
                naming::validate_name(&name).map_err(CoreError::Invalid)?;
                self.check_name_free(&name, Some(id)).await?;
                name
            }
            None => current.name.clone(),
        };
        let display_name = match change.display_name {
            Some(display) => {
                naming::validate_display_name(&display).map_err(CoreError::Invalid)?;
                display.trim().to_string()
            }
            None => current.display_name.clone(),
        };
        let alias = match change.alias {
            Some(alias) => {
                let alias = alias.trim().to_string();
                naming::validate_alias(&alias).map_err(CoreError::Invalid)?;
                self.check_alias_free(&alias, Some(id)).await?;
                alias
            }
            None => current.alias.clone(),
        };
        let (primary, secondary) = new_address_list(current, change.primary_address, change.addresses)?;
        for (address, is_primary) in
            std::iter::once((&primary, true)).chain(secondary.iter().map(|a| (a, false)))
        {
            if !current.has_address(address) {
                self.check_accepted(address).await?;
            }
            self.check_address_free(address, Some(id), is_primary).await?;
        }
        Ok(RecipientIdentity {
            name,
            display_name,
            alias,
            primary_address: primary,
            secondary_addresses: secondary,
        })
    }

    /// Converts a mailbox in place (SPEC §1, Conversion): to shared clears the
    /// password, blocks sign-in and drops admin roles; to user needs a password
    /// and unblocks sign-in. Returns whether anything changed (converting to
    /// the current type doesn't).
    pub async fn convert_mailbox(
        &self,
        actor: &Actor,
        id: MailboxId,
        to: MailboxType,
        password: Option<&Secret<String>>,
    ) -> CoreResult<(Recipient, bool)> {
        self.require_admin(actor).await?;
        let current = self.recipient(id.principal()).await?;
        let Some((kind, hash, blocked)) = self.prepare_conversion(actor, &current, to, password).await?
        else {
            return Ok((current, false));
        };
        let converted = self.store.convert_mailbox(id, kind, hash, blocked).await?;
        tracing::info!(id = %id, to = kind.describe(), "mailbox converted");
        Ok((converted, true))
    }

    /// Checks a conversion; `None` when the mailbox already is of that type.
    /// Returns the new kind, password hash and blocked-sign-in state.
    pub(super) async fn prepare_conversion(
        &self,
        actor: &Actor,
        current: &Recipient,
        to: MailboxType,
        password: Option<&Secret<String>>,
    ) -> CoreResult<Option<(RecipientKind, Option<super::PasswordHash>, bool)>> {
        let target = match to {
            MailboxType::User => RecipientKind::UserMailbox,
            MailboxType::Shared => RecipientKind::SharedMailbox,
        };
        if !current.kind.has_mailbox() {
            return Err(CoreError::Invalid(format!(
                "\"{}\" is a {}, not a mailbox; only mailboxes can be converted.",
                current.name,
                current.kind.describe()
            )));
        }
        if current.kind == target {
            return Ok(None);
        }
        self.require_may_manage_account(actor, current.id).await?;
        Ok(Some(match to {
            MailboxType::Shared => (target, None, true),
            MailboxType::User => {
                let password =
                    password.ok_or_else(|| CoreError::PasswordRequired { mailbox: current.name.clone() })?;
                (target, Some(hash_password(password)?), false)
            }
        }))
    }

    /// Removes a recipient and everything that refers to it.
    pub async fn remove_recipient(&self, actor: &Actor, id: PrincipalId) -> CoreResult<Recipient> {
        self.require_admin(actor).await?;
        if *actor == Actor::Principal(id) {
            return Err(CoreError::Invalid(
                "You can't remove your own mailbox while signed in as it.".into(),
            ));
        }
        let recipient = self.recipient(id).await?;
        self.require_may_manage_account(actor, id).await?;
        self.store.delete_recipient(id).await?;
        tracing::info!(id = %id, name = %recipient.name, "recipient removed");
        Ok(recipient)
    }
}

fn no_free_address(name: &str) -> CoreError {
    CoreError::Invalid(format!(
        "No free alias or address could be derived from \"{name}\"; give -Alias or -PrimarySmtpAddress."
    ))
}

/// Applies `-PrimarySmtpAddress` or `-EmailAddresses` to the current list.
fn new_address_list(
    current: &Recipient,
    primary: Option<EmailAddress>,
    change: Option<AddressChange>,
) -> CoreResult<(EmailAddress, Vec<EmailAddress>)> {
    let mut list: Vec<ProxyAddress> = current
        .addresses()
        .map(|a| ProxyAddress { address: a.clone(), primary: *a == current.primary_address })
        .collect();
    match (primary, change) {
        (Some(primary), _) => {
            add_addresses(&mut list, vec![ProxyAddress { address: primary, primary: true }])
        }
        (None, Some(AddressChange::Replace(new))) => {
            let had_primary = new.iter().any(|p| p.primary);
            list = Vec::new();
            add_addresses(&mut list, new);
            if !had_primary {
                // Exchange keeps the current primary if it is still listed;
                // otherwise the first address takes its place.
                let keep = list.iter().position(|p| p.address == current.primary_address).unwrap_or(0);
                if let Some(p) = list.get_mut(keep) {
                    p.primary = true;
                }
            }
        }
        (None, Some(AddressChange::Modify { add, remove })) => {
            for gone in &remove {
                if *gone == current.primary_address && !add.iter().any(|p| p.primary) {
                    return Err(CoreError::Invalid(format!(
                        "The primary SMTP address \"{gone}\" can't be removed. Make another address primary first (SMTP:other@domain)."
                    )));
                }
            }
            list.retain(|p| !remove.contains(&p.address));
            add_addresses(&mut list, add);
        }
        (None, None) => {}
    }
    let primaries: Vec<&ProxyAddress> = list.iter().filter(|p| p.primary).collect();
    let primary = match primaries.as_slice() {
        [one] => one.address.clone(),
        [] => {
            return Err(CoreError::Invalid(
                "A recipient needs a primary SMTP address (SMTP:name@domain).".into(),
            ));
        }
        _ => {
            return Err(CoreError::Invalid(
                "Only one address can be primary: mark exactly one with SMTP: and the others with smtp:."
                    .into(),
            ));
        }
    };
    let secondary = list.into_iter().filter(|p| !p.primary).map(|p| p.address).collect();
    Ok((primary, secondary))
}

/// Adds addresses, de-duplicating; a new primary demotes the old one.
fn add_addresses(list: &mut Vec<ProxyAddress>, new: Vec<ProxyAddress>) {
    let new_primaries = new.iter().filter(|p| p.primary).count();
    if new_primaries == 1 {
        list.iter_mut().for_each(|p| p.primary = false);
    }
    for proxy in new {
        match list.iter_mut().find(|p| p.address == proxy.address) {
            Some(existing) => {
                existing.primary |= proxy.primary;
                // The new spelling wins, so case can be corrected.
                existing.address = proxy.address;
            }
            None => list.push(proxy),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> EmailAddress {
        EmailAddress::parse(s).unwrap()
    }

    fn sales() -> Recipient {
        Recipient {
            id: PrincipalId(1),
            kind: RecipientKind::SharedMailbox,
            name: "Sales".into(),
            display_name: "Sales".into(),
            alias: "Sales".into(),
            primary_address: addr("sales@contoso.com"),
            secondary_addresses: vec![addr("sales@fabrikam.com")],
        }
    }

    #[test]
    fn proxy_prefix_marks_primary() {
        assert!(ProxyAddress::parse("SMTP:a@contoso.com").unwrap().primary);
        assert!(!ProxyAddress::parse("smtp:a@contoso.com").unwrap().primary);
        assert!(!ProxyAddress::parse("a@contoso.com").unwrap().primary);
        assert!(ProxyAddress::parse("X500:/o=org").is_err());
        assert!(ProxyAddress::parse("SMTP:not-an-address").is_err());
    }

    #[test]
    fn new_primary_keeps_old_as_secondary() {
        let (p, s) = new_address_list(&sales(), Some(addr("team@contoso.com")), None).unwrap();
        assert_eq!(p, addr("team@contoso.com"));
        assert_eq!(s, vec![addr("sales@contoso.com"), addr("sales@fabrikam.com")]);
    }

    #[test]
    fn modify_adds_and_removes() {
        let change = AddressChange::Modify {
            add: vec![ProxyAddress::parse("smtp:salg@contoso.com").unwrap()],
            remove: vec![addr("sales@fabrikam.com")],
        };
        let (p, s) = new_address_list(&sales(), None, Some(change)).unwrap();
        assert_eq!(p, addr("sales@contoso.com"));
        assert_eq!(s, vec![addr("salg@contoso.com")]);
    }

    #[test]
    fn removing_the_primary_is_refused_unless_replaced() {
        let change = AddressChange::Modify { add: vec![], remove: vec![addr("SALES@contoso.com")] };
        assert!(new_address_list(&sales(), None, Some(change)).is_err());
        let change = AddressChange::Modify {
            add: vec![ProxyAddress::parse("SMTP:sales@fabrikam.com").unwrap()],
            remove: vec![addr("sales@contoso.com")],
        };
        let (p, s) = new_address_list(&sales(), None, Some(change)).unwrap();
        assert_eq!(p, addr("sales@fabrikam.com"));
        assert!(s.is_empty());
    }

    #[test]
    fn replace_without_primary_keeps_current_or_takes_first() {
        let keep = AddressChange::Replace(vec![
            ProxyAddress::parse("x@contoso.com").unwrap(),
            ProxyAddress::parse("sales@contoso.com").unwrap(),
        ]);
        assert_eq!(new_address_list(&sales(), None, Some(keep)).unwrap().0, addr("sales@contoso.com"));
        let first = AddressChange::Replace(vec![ProxyAddress::parse("x@contoso.com").unwrap()]);
        assert_eq!(new_address_list(&sales(), None, Some(first)).unwrap().0, addr("x@contoso.com"));
        let two = AddressChange::Replace(vec![
            ProxyAddress::parse("SMTP:x@contoso.com").unwrap(),
            ProxyAddress::parse("SMTP:y@contoso.com").unwrap(),
        ]);
        assert!(new_address_list(&sales(), None, Some(two)).is_err());
    }
}
