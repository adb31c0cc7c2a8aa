//! `Set-Mailbox`: identity and addresses, Send on Behalf, forwarding, sent
//! items, quotas, blocked sign-in and conversion (`-Type Shared|Regular`).
//!
//! Every value is checked and every identity resolved before anything is
//! changed, so a typo in one parameter doesn't leave half an edit behind.
//! Prints nothing (as Exchange) but passes the mailbox down the pipeline.

use std::collections::BTreeSet;

use mailroom_core::directory::{AddressChange, IdentityChange, MailboxType, ProxyAddress, SettingsChange};
use mailroom_core::permissions::Right;
use mailroom_types::PrincipalId;

use super::common::{self, mailbox_object};
use super::new_mailbox::parse_address;
use super::{CmdletDef, CmdletId};
use crate::bind::{Bound, Kind, MultiValue, ParamSpec};
use crate::error::{ExoError, ExoResult};
use crate::shell::{CmdletOutput, Ctx};

const TYPES: &[&str] = &["Regular", "Shared"];

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
];

pub const DEF: CmdletDef = CmdletDef::new("Set-Mailbox", CmdletId::SetMailbox, PARAMS).changing();

pub async fn run(ctx: &mut Ctx<'_>, args: Bound) -> ExoResult<CmdletOutput> {
    let identity = args.text(common::IDENTITY_PARAM)?.unwrap_or_default();
    let mailbox = common::mailbox(ctx, &identity).await?;
    let mailbox_id = mailbox.mailbox_id().ok_or_else(|| ExoError::invalid("not a mailbox"))?;

    // --- check and resolve everything first ---
    let conversion = match args.choice("Type", TYPES)? {
        Some("Shared") => Some(MailboxType::Shared),
        Some(_) => Some(MailboxType::User),
        None => None,
    };
    let password = args.secure("Password")?;
    if password.is_some() && conversion != Some(MailboxType::User) {
        return Err(ExoError::invalid(
            "The Password parameter is used with -Type Regular, to give a shared mailbox that becomes a user mailbox its password.",
        ));
    }

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
        Some(change) => Some(new_trustee_set(ctx, mailbox.id, change).await?),
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
    let settings = SettingsChange {
        forwarding_recipient,
        forwarding_smtp_address,
        deliver_to_mailbox_and_forward: args.bool("DeliverToMailboxAndForward")?,
        message_copy_for_sent_as: args.bool("MessageCopyForSentAsEnabled")?,
        message_copy_for_send_on_behalf: args.bool("MessageCopyForSendOnBehalfEnabled")?,
        issue_warning_quota: args.size("IssueWarningQuota")?,
        prohibit_send_quota: args.size("ProhibitSendQuota")?,
        prohibit_send_receive_quota: args.size("ProhibitSendReceiveQuota")?,
        automap_groups: args.bool("AutoMapGroups")?,
    };
    let account_disabled = args.bool("AccountDisabled")?;

    if conversion.is_none()
        && identity_change.is_empty()
        && settings.is_empty()
        && send_on_behalf.is_none()
        && account_disabled.is_none()
    {
        ctx.warn(format!(
            "The command completed successfully but no settings of '{}' have been modified.",
            mailbox.name
        ));
        return Ok(CmdletOutput::passed_on(vec![mailbox_object(ctx.dir, &mailbox).await?]));
    }
    if !ctx.should_process("Set Mailbox", &mailbox.name)? {
        return Ok(CmdletOutput::nothing());
    }

    // --- apply ---
    if let Some(to) = conversion {
        let (_, changed) = ctx.dir.convert_mailbox(&ctx.actor, mailbox_id, to, password.as_ref()).await?;
        if !changed {
            ctx.warn(format!(
                "\"{}\" is already a {} mailbox.",
                mailbox.name,
                if to == MailboxType::Shared { "shared" } else { "user" }
            ));
        }
    }
    if !identity_change.is_empty() {
        ctx.dir.update_identity(&ctx.actor, mailbox.id, identity_change).await?;
    }
    if !settings.is_empty() {
        ctx.dir.update_mailbox_settings(&ctx.actor, mailbox_id, settings).await?;
    }
    if let Some(trustees) = send_on_behalf {
        let trustees: Vec<PrincipalId> = trustees.into_iter().collect();
        ctx.dir.replace_grants(&ctx.actor, mailbox.id, Right::SendOnBehalf, &trustees).await?;
    }
    if let Some(disabled) = account_disabled {
        ctx.dir.set_sign_in_blocked(&ctx.actor, mailbox.id, disabled).await?;
    }
    let updated = ctx.dir.recipient(mailbox.id).await?;
    Ok(CmdletOutput::passed_on(vec![mailbox_object(ctx.dir, &updated).await?]))
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
