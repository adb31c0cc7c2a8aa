//! The admin operations, once: the pages and the API both call these, and
//! these call `core` exactly as the cmdlets do, so no rule lives here twice.
//!
//! Each operation takes its input as the text a person typed (a form field
//! and a JSON string are the same thing), turns it into core's types, and
//! reports a refusal as a [`Problem`] naming the field it concerns.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDateTime, Utc};
use mailroom_core::directory::{
    Account, Actor, AddressChange, AdminRole, AutoReplyChange, AutoReplyConfig, AutoReplyState,
    ExternalAudience, IdentityChange, MailboxSettings, MailboxType, MailboxUpdate, NewGroup, NewMailbox,
    NewMailboxKind, ProxyAddress, Quota, Recipient, RecipientKind, SettingsChange,
};
use mailroom_core::mail::{Mail, MailboxUsage, StorageLimitStatus};
use mailroom_core::permissions::Right;
use mailroom_core::store::QueueEntry;
use mailroom_core::{CoreError, Directory};
use mailroom_types::{DomainName, EmailAddress, MailboxId, PrincipalId, Secret};

use crate::problem::Problem;

pub type OpResult<T> = Result<T, Problem>;

/// Who runs an operation, against which services.
#[derive(Clone, Copy, Debug)]
pub struct Ctx<'a> {
    pub mail: &'a Mail,
    pub actor: Actor,
}

/// A mailbox with everything its detail pane shows.
#[derive(Clone, Debug)]
pub struct MailboxView {
    pub recipient: Recipient,
    pub account: Option<Account>,
    pub settings: MailboxSettings,
    /// Where mail is forwarded, as an address.
    pub forwarding: Option<EmailAddress>,
    pub auto_reply: AutoReplyConfig,
    /// Full Access holders (the members, as the admin center calls them).
    pub members: Vec<Recipient>,
    pub send_as: Vec<Recipient>,
    pub send_on_behalf: Vec<Recipient>,
    pub usage: MailboxUsage,
    pub status: StorageLimitStatus,
}

/// A new mailbox as the forms and the API give it.
#[derive(Clone, Debug, Default)]
pub struct NewMailboxInput {
    pub name: String,
    /// The whole address; empty: suggested from the name.
    pub address: String,
    pub shared: bool,
    pub password: String,
    pub roles: Vec<String>,
}

/// An automatic-reply edit as the forms and the API give it.
#[derive(Clone, Debug, Default)]
pub struct AutoReplyInput {
    pub state: String,
    pub start: String,
    pub end: String,
    pub internal: String,
    pub external: String,
    pub audience: String,
}

impl<'a> Ctx<'a> {
    pub fn dir(&self) -> &'a Directory {
        self.mail.directory()
    }

    /// Every operation starts here: reading the directory is for admins too.
    pub async fn require_admin(&self) -> OpResult<()> {
        Ok(self.dir().require_admin(&self.actor).await?)
    }

    // --- lists ---

    /// Recipients of `kinds` whose name, display name or an address holds
    /// `query` (ignoring case), ordered by name.
    pub async fn list(&self, kinds: &[RecipientKind], query: &str) -> OpResult<Vec<Recipient>> {
        Ok(self.search(kinds, query, 0, usize::MAX).await?.1)
    }

    /// One page of [`Self::list`], and how many match in all.
    pub async fn search(
        &self,
        kinds: &[RecipientKind],
        query: &str,
        offset: usize,
        limit: usize,
    ) -> OpResult<(usize, Vec<Recipient>)> {
        self.require_admin().await?;
        Ok(self.dir().search(kinds, query, offset, limit).await?)
    }

    /// A recipient by id, of one of `kinds`; anything else is not found.
    pub async fn recipient(&self, id: PrincipalId, kinds: &[RecipientKind]) -> OpResult<Recipient> {
        self.require_admin().await?;
        let recipient = self.dir().recipient(id).await?;
        if !kinds.contains(&recipient.kind) {
            return Err(CoreError::NotFound { identity: id.to_string() }.into());
        }
        Ok(recipient)
    }

    /// A recipient by name, alias or address (as the cmdlets' `-Identity`).
    pub async fn resolve(&self, identity: &str, kinds: &[RecipientKind]) -> OpResult<Recipient> {
        self.require_admin().await?;
        Ok(self.dir().resolve_kind(identity, kinds).await?)
    }

    // --- mailboxes ---

    pub async fn create_mailbox(&self, input: NewMailboxInput) -> OpResult<Recipient> {
        self.require_admin().await?;
        let address = input.address.trim();
        let primary_address = if address.is_empty() {
            None
        } else {
            Some(EmailAddress::parse(address).map_err(|e| Problem::field("address", e.to_string()))?)
        };
        let kind = if input.shared {
            NewMailboxKind::Shared
        } else {
            if input.password.is_empty() {
                return Err(Problem::field("password", "A user mailbox needs a password."));
            }
            let password = Secret::new(input.password);
            // Core's own rule, asked first so its refusal lands on the password field.
            mailroom_core::auth::validate_password(&password)
                .map_err(|e| Problem::from_core(e, "password"))?;
            NewMailboxKind::User { password, roles: parse_roles(&input.roles)? }
        };
        let spec = NewMailbox { name: input.name, display_name: None, alias: None, primary_address, kind };
        self.dir().create_mailbox(&self.actor, spec).await.map_err(|e| Problem::from_core(e, "name"))
    }

    /// The mailbox `id` with its settings, permissions and usage.
    pub async fn mailbox(&self, id: PrincipalId) -> OpResult<MailboxView> {
        let recipient = self.recipient(id, &RecipientKind::MAILBOXES).await?;
        let mailbox = mailbox_of(&recipient)?;
        let dir = self.dir();
        let settings = dir.mailbox_settings(mailbox).await?;
        let forwarding = match (settings.forwarding_recipient, &settings.forwarding_smtp_address) {
            (Some(target), _) => dir.recipient(target).await.ok().map(|r| r.primary_address),
            (None, Some(address)) => Some(address.clone()),
            (None, None) => None,
        };
        let mut members = Vec::new();
        let mut send_as = Vec::new();
        let mut send_on_behalf = Vec::new();
        for entry in dir.permissions_on(id).await? {
            let Ok(trustee) = dir.recipient(entry.trustee).await else { continue };
            match entry.right {
                Right::FullAccess => members.push(trustee),
                Right::SendAs => send_as.push(trustee),
                Right::SendOnBehalf => send_on_behalf.push(trustee),
            }
        }
        for list in [&mut members, &mut send_as, &mut send_on_behalf] {
            list.sort_by_key(|r| r.name.to_lowercase());
        }
        let (usage, status) = self.mail.storage_status(mailbox).await?;
        Ok(MailboxView {
            account: dir.account(id).await.ok(),
            auto_reply: dir.auto_reply(mailbox).await?,
            recipient,
            settings,
            forwarding,
            members,
            send_as,
            send_on_behalf,
            usage,
            status,
        })
    }

    /// Adds a member the way the admin center does: Full Access (automapped)
    /// and Send As. `member` is a name, alias or address.
    pub async fn add_member(&self, id: PrincipalId, member: &str) -> OpResult<Recipient> {
        let mailbox = self.mailbox_id(id).await?;
        if member.trim().is_empty() {
            return Err(Problem::field("member", "Choose a person or a security group to add."));
        }
        let trustee =
            self.dir().resolve_trustee(member).await.map_err(|e| Problem::from_core(e, "member"))?;
        self.dir()
            .add_member(&self.actor, mailbox, trustee.id, true)
            .await
            .map_err(|e| Problem::from_core(e, "member"))?;
        Ok(trustee)
    }

    pub async fn remove_member(&self, id: PrincipalId, member: &str) -> OpResult<()> {
        let mailbox = self.mailbox_id(id).await?;
        let trustee = self.dir().resolve(member).await.map_err(|e| Problem::from_core(e, "member"))?;
        if !self.dir().remove_member(&self.actor, mailbox, trustee.id).await? {
            return Err(Problem::field(
                "member",
                format!("\"{}\" isn't a member of this mailbox.", trustee.display_name),
            ));
        }
        Ok(())
    }

    /// "Sent items": keep a copy of what members send as / on behalf of the mailbox.
    pub async fn set_sent_items(&self, id: PrincipalId, send_as: bool, on_behalf: bool) -> OpResult<()> {
        let settings = SettingsChange {
            message_copy_for_sent_as: Some(send_as),
            message_copy_for_send_on_behalf: Some(on_behalf),
            ..SettingsChange::default()
        };
        self.update(id, MailboxUpdate { settings, ..MailboxUpdate::default() }, "sent_as").await
    }

    /// "Email forwarding": one address (of ours or anywhere), or none; keep
    /// a copy in the mailbox or not. An address of this organisation is
    /// stored as the recipient (Exchange's ForwardingAddress), so it follows
    /// renames; any other as ForwardingSmtpAddress.
    pub async fn set_forwarding(&self, id: PrincipalId, to: &str, keep_copy: bool) -> OpResult<()> {
        let to = to.trim();
        let mut settings =
            SettingsChange { deliver_to_mailbox_and_forward: Some(keep_copy), ..SettingsChange::default() };
        if to.is_empty() {
            settings.forwarding_recipient = Some(None);
            settings.forwarding_smtp_address = Some(None);
        } else {
            let address = EmailAddress::parse(to).map_err(|e| Problem::field("forward_to", e.to_string()))?;
            match self.dir().resolve_address(&address).await? {
                Some(internal) => {
                    settings.forwarding_recipient = Some(Some(internal.id));
                    settings.forwarding_smtp_address = Some(None);
                }
                None => {
                    settings.forwarding_recipient = Some(None);
                    settings.forwarding_smtp_address = Some(Some(address));
                }
            }
        }
        self.update(id, MailboxUpdate { settings, ..MailboxUpdate::default() }, "forward_to").await
    }

    pub async fn set_auto_reply(&self, id: PrincipalId, input: AutoReplyInput) -> OpResult<AutoReplyConfig> {
        let mailbox = self.mailbox_id(id).await?;
        let state = AutoReplyState::parse(input.state.trim()).ok_or_else(|| {
            Problem::field("state", "Choose Disabled, Enabled or Scheduled for the automatic replies.")
        })?;
        let audience = if input.audience.trim().is_empty() {
            None
        } else {
            Some(ExternalAudience::parse(input.audience.trim()).ok_or_else(|| {
                Problem::field("audience", "Choose None, Known or All for who outside gets the reply.")
            })?)
        };
        let change = AutoReplyChange {
            state: Some(state),
            start_time: Some(parse_time(&input.start, "start")?),
            end_time: Some(parse_time(&input.end, "end")?),
            internal_message: Some(input.internal),
            external_message: Some(input.external),
            external_audience: audience,
        };
        self.dir().set_auto_reply(&self.actor, mailbox, change).await.map_err(|e| {
            let field = match &e {
                CoreError::Invalid(m) if m.contains("ExternalMessage") => "external",
                CoreError::Invalid(m) if m.contains("InternalMessage") => "internal",
                _ => "end",
            };
            Problem::from_core(e, field)
        })
    }

    /// "Storage quota": the three stages, each a size or `Unlimited`.
    pub async fn set_quota(
        &self,
        id: PrincipalId,
        warn: &str,
        send: &str,
        send_receive: &str,
    ) -> OpResult<()> {
        let parse =
            |text: &str, field: &'static str| Quota::parse(text).map_err(|m| Problem::field(field, m));
        let settings = SettingsChange {
            issue_warning_quota: Some(parse(warn, "issue_warning")?),
            prohibit_send_quota: Some(parse(send, "prohibit_send")?),
            prohibit_send_receive_quota: Some(parse(send_receive, "prohibit_send_receive")?),
            ..SettingsChange::default()
        };
        let mailbox = self.mailbox_id(id).await?;
        let update = MailboxUpdate { settings, ..MailboxUpdate::default() };
        self.dir().update_mailbox(&self.actor, mailbox, update).await.map_err(|e| {
            // Core names the stage that is too high first: the field to show it at.
            let field = match &e {
                CoreError::Invalid(m) if m.starts_with("The value of property \"ProhibitSendQuota\"") => {
                    "prohibit_send"
                }
                _ => "issue_warning",
            };
            Problem::from_core(e, field)
        })?;
        Ok(())
    }

    /// "Email addresses": a new primary address, an alias to add, an address to remove.
    pub async fn set_addresses(
        &self,
        id: PrincipalId,
        primary: &str,
        add: &str,
        remove: &str,
    ) -> OpResult<()> {
        let parse = |text: &str, field: &'static str| {
            EmailAddress::parse(text.trim()).map_err(|e| Problem::field(field, e.to_string()))
        };
        let mut identity = IdentityChange::default();
        let (mut adds, mut removes) = (Vec::new(), Vec::new());
        let mut field = "primary";
        if !add.trim().is_empty() {
            adds.push(ProxyAddress { address: parse(add, "add")?, primary: false });
            field = "add";
        }
        if !remove.trim().is_empty() {
            removes.push(parse(remove, "remove")?);
            field = "remove";
        }
        if !primary.trim().is_empty() {
            let primary = parse(primary, "primary")?;
            if adds.is_empty() && removes.is_empty() {
                identity.primary_address = Some(primary);
            } else {
                adds.push(ProxyAddress { address: primary, primary: true });
            }
            field = "primary";
        }
        if !adds.is_empty() || !removes.is_empty() {
            identity.addresses = Some(AddressChange::Modify { add: adds, remove: removes });
        }
        if identity.is_empty() {
            return Err(Problem::field("add", "Give an address to add, to remove, or to make primary."));
        }
        self.update(id, MailboxUpdate { identity, ..MailboxUpdate::default() }, field).await
    }

    /// "Send on behalf": the complete list of holders (names, aliases or addresses).
    pub async fn set_send_on_behalf(&self, id: PrincipalId, holders: &[String]) -> OpResult<()> {
        let mut ids = Vec::new();
        for holder in holders.iter().map(|h| h.trim()).filter(|h| !h.is_empty()) {
            ids.push(
                self.dir().resolve_trustee(holder).await.map_err(|e| Problem::from_core(e, "holder"))?.id,
            );
        }
        let update = MailboxUpdate { send_on_behalf: Some(ids), ..MailboxUpdate::default() };
        self.update(id, update, "holder").await
    }

    /// Converts between user and shared; a user mailbox needs a password.
    pub async fn convert(&self, id: PrincipalId, to_shared: bool, password: &str) -> OpResult<Recipient> {
        let to = if to_shared { MailboxType::Shared } else { MailboxType::User };
        let password = (!password.is_empty()).then(|| Secret::new(password.to_string()));
        let update = MailboxUpdate { convert_to: Some(to), password, ..MailboxUpdate::default() };
        self.update(id, update, "password").await?;
        Ok(self.dir().recipient(id).await?)
    }

    pub async fn remove(&self, id: PrincipalId, kinds: &[RecipientKind]) -> OpResult<Recipient> {
        self.recipient(id, kinds).await?;
        Ok(self.dir().remove_recipient(&self.actor, id).await?)
    }

    pub async fn reset_password(&self, id: PrincipalId, password: &str) -> OpResult<()> {
        self.recipient(id, &[RecipientKind::UserMailbox]).await?;
        self.dir()
            .set_password(&self.actor, id, &Secret::new(password.to_string()))
            .await
            .map_err(|e| Problem::from_core(e, "password"))
    }

    pub async fn set_sign_in_blocked(&self, id: PrincipalId, blocked: bool) -> OpResult<()> {
        self.recipient(id, &RecipientKind::MAILBOXES).await?;
        self.dir()
            .set_sign_in_blocked(&self.actor, id, blocked)
            .await
            .map_err(|e| Problem::from_core(e, "blocked"))
    }

    pub async fn set_roles(&self, id: PrincipalId, roles: &[String]) -> OpResult<()> {
        self.recipient(id, &[RecipientKind::UserMailbox]).await?;
        let roles = parse_roles(roles)?;
        self.dir().set_roles(&self.actor, id, roles).await.map_err(|e| Problem::from_core(e, "roles"))
    }

    async fn mailbox_id(&self, id: PrincipalId) -> OpResult<MailboxId> {
        mailbox_of(&self.recipient(id, &RecipientKind::MAILBOXES).await?)
    }

    /// One `Set-Mailbox`-style edit, all or nothing.
    async fn update(&self, id: PrincipalId, update: MailboxUpdate, field: &'static str) -> OpResult<()> {
        let mailbox = self.mailbox_id(id).await?;
        self.dir()
            .update_mailbox(&self.actor, mailbox, update)
            .await
            .map_err(|e| Problem::from_core(e, field))?;
        Ok(())
    }

    // --- groups ---

    pub async fn create_group(&self, name: &str, address: &str, security: bool) -> OpResult<Recipient> {
        self.require_admin().await?;
        let address = address.trim();
        let primary_address = if address.is_empty() {
            None
        } else {
            Some(EmailAddress::parse(address).map_err(|e| Problem::field("address", e.to_string()))?)
        };
        let spec = NewGroup {
            name: name.to_string(),
            display_name: None,
            alias: None,
            primary_address,
            security,
            members: Vec::new(),
        };
        self.dir().create_group(&self.actor, spec).await.map_err(|e| Problem::from_core(e, "name"))
    }

    pub async fn group_members(&self, id: PrincipalId) -> OpResult<Vec<Recipient>> {
        self.recipient(id, &RecipientKind::GROUPS).await?;
        let mut members = self.dir().group_members(id).await?;
        members.sort_by_key(|r| r.name.to_lowercase());
        Ok(members)
    }

    pub async fn add_group_member(&self, id: PrincipalId, member: &str) -> OpResult<Recipient> {
        self.recipient(id, &RecipientKind::GROUPS).await?;
        if member.trim().is_empty() {
            return Err(Problem::field("member", "Choose a recipient to add."));
        }
        let member = self.dir().resolve(member).await.map_err(|e| Problem::from_core(e, "member"))?;
        self.dir()
            .add_group_member(&self.actor, id, member.id)
            .await
            .map_err(|e| Problem::from_core(e, "member"))?;
        Ok(member)
    }

    pub async fn remove_group_member(&self, id: PrincipalId, member: &str) -> OpResult<()> {
        self.recipient(id, &RecipientKind::GROUPS).await?;
        let member = self.dir().resolve(member).await.map_err(|e| Problem::from_core(e, "member"))?;
        if !self.dir().remove_group_member(&self.actor, id, member.id).await? {
            return Err(Problem::field(
                "member",
                format!("\"{}\" isn't a member of this group.", member.name),
            ));
        }
        Ok(())
    }

    // --- domains ---

    pub async fn domains(&self) -> OpResult<Vec<mailroom_core::directory::AcceptedDomain>> {
        self.require_admin().await?;
        Ok(self.dir().accepted_domains().await?)
    }

    pub async fn add_domain(&self, domain: &str, make_default: bool) -> OpResult<()> {
        let domain = DomainName::parse(domain.trim()).map_err(|e| Problem::field("domain", e.to_string()))?;
        self.dir()
            .add_domain(&self.actor, &domain, make_default)
            .await
            .map_err(|e| Problem::from_core(e, "domain"))
    }

    pub async fn set_default_domain(&self, domain: &str) -> OpResult<()> {
        let domain = DomainName::parse(domain.trim()).map_err(|e| Problem::field("domain", e.to_string()))?;
        self.dir().set_default_domain(&self.actor, &domain).await.map_err(|e| Problem::from_core(e, "domain"))
    }

    // --- the outbound queue ---

    pub async fn queue(&self) -> OpResult<Vec<QueueEntry>> {
        self.require_admin().await?;
        Ok(self.mail.queue(None).await?)
    }

    /// Makes an entry due now (`Retry-Queue`).
    pub async fn retry_queued(&self, id: i64) -> OpResult<()> {
        Ok(self.mail.retry_queued(&self.actor, id).await?)
    }

    /// Deletes an entry without notifying its sender (`Remove-Message -WithNDR:$false`).
    pub async fn delete_queued(&self, id: i64) -> OpResult<()> {
        Ok(self.mail.delete_queued(&self.actor, id).await?)
    }
}

fn mailbox_of(recipient: &Recipient) -> OpResult<MailboxId> {
    recipient.mailbox_id().ok_or_else(|| CoreError::NotFound { identity: recipient.name.clone() }.into())
}

/// Role names as the CLI writes them (`global-admin`, `exchange-admin`).
fn parse_roles(roles: &[String]) -> OpResult<BTreeSet<AdminRole>> {
    roles
        .iter()
        .map(|r| r.trim())
        .filter(|r| !r.is_empty())
        .map(|r| {
            AdminRole::parse(r).ok_or_else(|| {
                Problem::field("roles", format!("\"{r}\" isn't a role. Use global-admin or exchange-admin."))
            })
        })
        .collect()
}

/// A time as a form's `datetime-local` (`2026-12-24T09:00`, taken as UTC) or
/// RFC 3339; empty is none.
fn parse_time(text: &str, field: &'static str) -> OpResult<Option<DateTime<Utc>>> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(Some(t.with_timezone(&Utc)));
    }
    for format in ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, format) {
            return Ok(Some(t.and_utc()));
        }
    }
    Err(Problem::field(field, format!("\"{text}\" isn't a date and time. Use 2026-12-24T09:00 (UTC).")))
}
