//! `Set-Mailbox`: identity and addresses, Send on Behalf, forwarding, sent
//! items, quotas, blocked sign-in, conversion (`-Type Shared|Regular`) and
//! how long deleted messages stay recoverable (`-RetainDeletedItemsFor`),
//! the activity trail (`-AuditEnabled`, `-AuditLogAgeLimit`) and whose
//! read state `\Seen` is (`-SharedSeenState Shared|PerMember`, ours).
//!
//! All parameters become one [`MailboxUpdate`], which the core checks as a
//! whole and writes in one transaction: a refused value anywhere leaves the
//! mailbox as it was. Prints nothing (as Exchange) but passes the mailbox
//! down the pipeline.

use std::collections::BTreeSet;

use mailroom_core::directory::{
    AddressChange, IdentityChange, MailboxType, MailboxUpdate, ProxyAddress, Retention, SettingsChange,
};
use mailroom_core::permissions::Right;
use mailroom_types::PrincipalId;

use super::common::{self, mailbox_object};
use super::new_mailbox::parse_address;
use super::{CmdletDef, CmdletId};
use crate::bind::{Bound, Kind, MultiValue, ParamSpec};
use crate::error::{ExoError, ExoResult};
use crate::shell::{CmdletOutput, Ctx};

const TYPES: &[&str] = &["Regular", "Shared"];
/// Ours: one read state for the mailbox (Exchange's), or each member's own.
const SEEN_STATES: &[&str] = &["Shared", "PerMember"];

const PARAMS: &[ParamSpec] = &[
    ParamSpec::new("Identity", Kind::Identity).at(0).mandatory().takes_pipeline(),
    ParamSpec::new("Name", Kind::Text),
    ParamSpec::new("DisplayName", Kind::Text),
    ParamSpec::new("Alias", Kind::Text),
    ParamSpec::new("EmailAddresses", Kind::MultiValued),
    ParamSpec::new("PrimarySmtpAddress", Kind::Text),
    ParamSpec::new("GrantSendOnBehalfTo", Kind::MultiValued),
    ParamSpec::new("ForwardingAddress", Kind::Identity),
    ParamSpec::new("ForwardingSmtpAddress", Kind::Text),
    ParamSpec::new("DeliverToMailboxAndForward", Kind::Bool),
    ParamSpec::new("MessageCopyForSentAsEnabled", Kind::Bool),
    ParamSpec::new("MessageCopyForSendOnBehalfEnabled", Kind::Bool),
    ParamSpec::new("IssueWarningQuota", Kind::Size),
    ParamSpec::new("ProhibitSendQuota", Kind::Size),
    ParamSpec::new("ProhibitSendReceiveQuota", Kind::Size),
    ParamSpec::new("AccountDisabled", Kind::Bool),
    ParamSpec::new("Type", Kind::Choice(TYPES)),
    ParamSpec::new("Password", Kind::Secure),
    // Beyond Exchange (SPEC §2): Full Access through a group automaps too.
    ParamSpec::new("AutoMapGroups", Kind::Bool),
    // Exchange's TimeSpan: how long Recoverable Items keeps deleted messages.
    ParamSpec::new("RetainDeletedItemsFor", Kind::Text),
    ParamSpec::new("RecoverableItemsQuota", Kind::Size),
    // Exchange's: whether the activity trail records, and for how long (a TimeSpan).
    ParamSpec::new("AuditEnabled", Kind::Bool),
    ParamSpec::new("AuditLogAgeLimit", Kind::Text),
    ParamSpec::new("SharedSeenState", Kind::Choice(SEEN_STATES)),
];

pub const DEF: CmdletDef = CmdletDef::new("Set-Mailbox", CmdletId::SetMailbox, PARAMS).changing();

pub async fn run(ctx: &mut Ctx<'_>, args: Bound) -> ExoResult<CmdletOutput> {
    let identity = args.text(common::IDENTITY_PARAM)?.unwrap_or_default();
    let mailbox = common::mailbox(ctx, &identity).await?;
    let mailbox_id = mailbox.mailbox_id().ok_or_else(|| ExoError::invalid("not a mailbox"))?;

    // --- turn the parameters into one update ---
    let convert_to = match args.choice("Type", TYPES)? {
        Some("Shared") => Some(MailboxType::Shared),
        Some(_) => Some(MailboxType::User),
        None => None,
    };
    let addresses = match args.multi("EmailAddresses")? {
        None => None,
        Some(MultiValue::Replace(list)) => Some(AddressChange::Replace(
            list.iter().map(|a| ProxyAddress::parse(a)).collect::<Result<_, _>>()?,
        )),
        Some(MultiValue::Modify { add, remove }) => Some(AddressChange::Modify {
            add: add.iter().map(|a| ProxyAddress::parse(a)).collect::<Result<_, _>>()?,
            remove: remove
                .iter()
                .map(|a| ProxyAddress::parse(a).map(|p| p.address))
                .collect::<Result<_, _>>()?,
        }),
    };
    let identity_change = IdentityChange {
        name: args.text("Name")?,
        display_name: args.text("DisplayName")?,
        alias: args.text("Alias")?,
        primary_address: args.text("PrimarySmtpAddress")?.as_deref().map(parse_address).transpose()?,
        addresses,
    };
    let send_on_behalf = match args.multi("GrantSendOnBehalfTo")? {
        None => None,
        Some(change) => Some(new_trustee_set(ctx, mailbox.id, change).await?.into_iter().collect()),
    };
    let forwarding_recipient = match args.nullable_text("ForwardingAddress")? {
        None => None,
        Some(None) => Some(None),
        Some(Some(target)) => Some(Some(ctx.dir.resolve(&target).await?.id)),
    };
    let forwarding_smtp_address = match args.nullable_text("ForwardingSmtpAddress")? {
        None => None,
        Some(None) => Some(None),
        Some(Some(text)) if text.is_empty() => Some(None),
        Some(Some(text)) => Some(Some(parse_address(&text)?)),
    };
    let update = MailboxUpdate {
        convert_to,
        password: args.secure("Password")?,
        identity: identity_change,
        settings: SettingsChange {
            forwarding_recipient,
            forwarding_smtp_address,
            deliver_to_mailbox_and_forward: args.bool("DeliverToMailboxAndForward")?,
            message_copy_for_sent_as: args.bool("MessageCopyForSentAsEnabled")?,
            message_copy_for_send_on_behalf: args.bool("MessageCopyForSendOnBehalfEnabled")?,
            issue_warning_quota: args.size("IssueWarningQuota")?,
            prohibit_send_quota: args.size("ProhibitSendQuota")?,
            prohibit_send_receive_quota: args.size("ProhibitSendReceiveQuota")?,
            automap_groups: args.bool("AutoMapGroups")?,
            retain_deleted_items_for: args
                .text("RetainDeletedItemsFor")?
                .map(|text| Retention::parse(&text).map_err(ExoError::invalid))
                .transpose()?,
            recoverable_items_quota: args.size("RecoverableItemsQuota")?,
            audit_enabled: args.bool("AuditEnabled")?,
            audit_log_age_limit: args
                .text("AuditLogAgeLimit")?
                .map(|text| Retention::parse(&text).map_err(ExoError::invalid))
                .transpose()?,
            per_member_seen: args.text("SharedSeenState")?.map(|s| s.eq_ignore_ascii_case("PerMember")),
        },
        send_on_behalf,
        sign_in_blocked: args.bool("AccountDisabled")?,
    };

    if update.is_empty() {
        ctx.warn(format!(
            "The command completed successfully but no settings of '{}' have been modified.",
            mailbox.name
        ));
        return Ok(CmdletOutput::passed_on(vec![mailbox_object(ctx.dir, &mailbox).await?]));
    }
    // Every rule is checked before -WhatIf reports or -Confirm asks.
    ctx.dir.check_mailbox_update(&ctx.actor, mailbox_id, &update).await?;
    if !ctx.should_process("Set Mailbox", &mailbox.name)? {
        return Ok(CmdletOutput::nothing());
    }
    let updated = ctx.dir.update_mailbox(&ctx.actor, mailbox_id, update).await?;
    if updated.conversion_unneeded {
        let kind = if convert_to == Some(MailboxType::Shared) { "shared" } else { "user" };
        ctx.warn(format!("\"{}\" is already a {kind} mailbox.", mailbox.name));
    }
    Ok(CmdletOutput::passed_on(vec![mailbox_object(ctx.dir, &updated.recipient).await?]))
}

/// The Send on Behalf holders after `-GrantSendOnBehalfTo` (a list replaces
/// them; `@{Add=...; Remove=...}` edits them). Trustees must be ours.
async fn new_trustee_set(
    ctx: &Ctx<'_>,
    recipient: PrincipalId,
    change: MultiValue,
) -> ExoResult<BTreeSet<PrincipalId>> {
    let current: BTreeSet<PrincipalId> = ctx
        .dir
        .permissions_on(recipient)
        .await?
        .into_iter()
        .filter(|e| e.right == Right::SendOnBehalf)
        .map(|e| e.trustee)
        .collect();
    Ok(match change {
        MultiValue::Replace(list) => {
            let mut set = BTreeSet::new();
            for identity in list {
                set.insert(ctx.dir.resolve_trustee(&identity).await?.id);
            }
            set
        }
        MultiValue::Modify { add, remove } => {
            let mut set = current;
            for identity in add {
                set.insert(ctx.dir.resolve_trustee(&identity).await?.id);
            }
            for identity in remove {
                set.remove(&ctx.dir.resolve(&identity).await?.id);
            }
            set
        }
    })
}
