//! What several cmdlets share: finding recipients and building the objects
//! Exchange's cmdlets return, with Exchange's property names.

use mailroom_core::Directory;
use mailroom_core::directory::{Recipient, RecipientKind, format_quota};
use mailroom_core::permissions::{PermissionEntry, Right};
use mailroom_types::PrincipalId;

use crate::error::ExoResult;
use crate::object::{PsObject, PsValue};
use crate::shell::Ctx;

pub const IDENTITY_PARAM: &str = "Identity";

/// The mailbox an `-Identity` names (groups are invisible to mailbox cmdlets).
pub async fn mailbox(ctx: &Ctx<'_>, identity: &str) -> ExoResult<Recipient> {
    Ok(ctx.dir.resolve_kind(identity, &RecipientKind::MAILBOXES).await?)
}

pub async fn group(ctx: &Ctx<'_>, identity: &str) -> ExoResult<Recipient> {
    Ok(ctx.dir.resolve_kind(identity, &RecipientKind::GROUPS).await?)
}

/// How a trustee is shown: users by their address (as Exchange Online shows
/// the UPN), groups by name.
pub fn trustee_label(r: &Recipient) -> String {
    if r.kind.is_group() { r.name.clone() } else { r.primary_address.to_string() }
}

async fn names(dir: &Directory, ids: impl IntoIterator<Item = PrincipalId>) -> ExoResult<Vec<String>> {
    let mut out = Vec::new();
    for id in ids {
        out.push(dir.recipient(id).await?.name);
    }
    Ok(out)
}

fn email_addresses(r: &Recipient) -> PsValue {
    let mut list = vec![format!("SMTP:{}", r.primary_address)];
    list.extend(r.secondary_addresses.iter().map(|a| format!("smtp:{a}")));
    PsValue::List(list)
}

async fn send_on_behalf_names(dir: &Directory, r: &Recipient) -> ExoResult<Vec<String>> {
    let ids = dir
        .permissions_on(r.id)
        .await?
        .into_iter()
        .filter(|e| e.right == Right::SendOnBehalf)
        .map(|e| e.trustee);
    names(dir, ids).await
}

/// `Get-Mailbox` output.
pub async fn mailbox_object(dir: &Directory, r: &Recipient) -> ExoResult<PsObject> {
    let mailbox = r
        .mailbox_id()
        .ok_or_else(|| crate::error::ExoError::invalid(format!("\"{}\" isn't a mailbox.", r.name)))?;
    let settings = dir.mailbox_settings(mailbox).await?;
    let account = dir.account(r.id).await?;
    let forwarding = match settings.forwarding_recipient {
        Some(id) => Some(dir.recipient(id).await?.name),
        None => None,
    };
    let props = vec![
        ("Name", PsValue::text(&r.name)),
        ("DisplayName", PsValue::text(&r.display_name)),
        ("Alias", PsValue::text(&r.alias)),
        ("PrimarySmtpAddress", PsValue::text(r.primary_address.to_string())),
        ("EmailAddresses", email_addresses(r)),
        // Exchange: RecipientType is UserMailbox for both; the details tell them apart.
        ("RecipientType", PsValue::text("UserMailbox")),
        ("RecipientTypeDetails", PsValue::text(r.kind.exchange_name())),
        ("GrantSendOnBehalfTo", PsValue::List(send_on_behalf_names(dir, r).await?)),
        ("ForwardingAddress", PsValue::opt(forwarding)),
        (
            "ForwardingSmtpAddress",
            PsValue::opt(settings.forwarding_smtp_address.map(|a| format!("smtp:{a}"))),
        ),
        ("DeliverToMailboxAndForward", PsValue::Bool(settings.deliver_to_mailbox_and_forward)),
        ("MessageCopyForSentAsEnabled", PsValue::Bool(settings.message_copy_for_sent_as)),
        ("MessageCopyForSendOnBehalfEnabled", PsValue::Bool(settings.message_copy_for_send_on_behalf)),
        ("IssueWarningQuota", PsValue::text(format_quota(settings.quota.issue_warning))),
        ("ProhibitSendQuota", PsValue::text(format_quota(settings.quota.prohibit_send))),
        ("ProhibitSendReceiveQuota", PsValue::text(format_quota(settings.quota.prohibit_send_receive))),
        ("AccountDisabled", PsValue::Bool(account.sign_in_blocked)),
        ("AutoMapGroups", PsValue::Bool(settings.automap_groups)),
        ("RetainDeletedItemsFor", PsValue::text(settings.retain_deleted_items_for.timespan())),
        ("RecoverableItemsQuota", PsValue::text(format_quota(settings.recoverable_items_quota))),
        ("AuditEnabled", PsValue::Bool(settings.audit_enabled)),
        ("AuditLogAgeLimit", PsValue::text(settings.audit_log_age_limit.timespan())),
        ("SharedSeenState", PsValue::text(if settings.per_member_seen { "PerMember" } else { "Shared" })),
        ("Identity", PsValue::text(&r.name)),
    ];
    Ok(PsObject::new(
        "Mailbox",
        r.primary_address.to_string(),
        props,
        &["Name", "Alias", "RecipientTypeDetails", "PrimarySmtpAddress", "ProhibitSendQuota"],
    ))
}

/// `Get-DistributionGroup` output.
pub async fn group_object(dir: &Directory, r: &Recipient) -> ExoResult<PsObject> {
    let group_type =
        if r.kind == RecipientKind::SecurityGroup { "Universal, SecurityEnabled" } else { "Universal" };
    let props = vec![
        ("Name", PsValue::text(&r.name)),
        ("DisplayName", PsValue::text(&r.display_name)),
        ("Alias", PsValue::text(&r.alias)),
        ("GroupType", PsValue::text(group_type)),
        ("PrimarySmtpAddress", PsValue::text(r.primary_address.to_string())),
        ("EmailAddresses", email_addresses(r)),
        ("RecipientType", PsValue::text(r.kind.exchange_name())),
        ("RecipientTypeDetails", PsValue::text(r.kind.exchange_name())),
        ("GrantSendOnBehalfTo", PsValue::List(send_on_behalf_names(dir, r).await?)),
        ("Identity", PsValue::text(&r.name)),
    ];
    Ok(PsObject::new(
        "DistributionGroup",
        r.primary_address.to_string(),
        props,
        &["Name", "DisplayName", "GroupType", "PrimarySmtpAddress"],
    ))
}

/// `Get-Recipient` and `Get-DistributionGroupMember` output.
pub fn recipient_object(r: &Recipient) -> PsObject {
    let recipient_type = if r.kind.has_mailbox() { "UserMailbox" } else { r.kind.exchange_name() };
    let props = vec![
        ("Name", PsValue::text(&r.name)),
        ("DisplayName", PsValue::text(&r.display_name)),
        ("Alias", PsValue::text(&r.alias)),
        ("PrimarySmtpAddress", PsValue::text(r.primary_address.to_string())),
        ("EmailAddresses", email_addresses(r)),
        ("RecipientType", PsValue::text(recipient_type)),
        ("RecipientTypeDetails", PsValue::text(r.kind.exchange_name())),
        ("Identity", PsValue::text(&r.name)),
    ];
    PsObject::new("Recipient", r.primary_address.to_string(), props, &["Name", "RecipientType"])
}

/// `Get-MailboxPermission` output for one Full Access grant.
pub fn mailbox_permission_object(
    mailbox: &Recipient,
    trustee: &Recipient,
    entry: &PermissionEntry,
) -> PsObject {
    let props = vec![
        ("Identity", PsValue::text(&mailbox.name)),
        ("User", PsValue::text(trustee_label(trustee))),
        ("AccessRights", PsValue::List(vec!["FullAccess".into()])),
        ("IsInherited", PsValue::Bool(false)),
        ("Deny", PsValue::Bool(false)),
        ("InheritanceType", PsValue::text("All")),
        ("AutoMapping", PsValue::Bool(entry.automapping)),
        ("NoPurge", PsValue::Bool(entry.no_purge)),
    ];
    PsObject::new(
        "MailboxPermission",
        mailbox.primary_address.to_string(),
        props,
        &["Identity", "User", "AccessRights", "IsInherited", "Deny"],
    )
}

/// `Get-RecipientPermission` output for one Send As grant.
pub fn recipient_permission_object(recipient: &Recipient, trustee: &Recipient) -> PsObject {
    let props = vec![
        ("Identity", PsValue::text(&recipient.name)),
        ("Trustee", PsValue::text(trustee_label(trustee))),
        ("AccessControlType", PsValue::text("Allow")),
        ("AccessRights", PsValue::List(vec!["SendAs".into()])),
        ("IsInherited", PsValue::Bool(false)),
        ("InheritanceType", PsValue::text("None")),
    ];
    PsObject::new(
        "RecipientPermission",
        recipient.primary_address.to_string(),
        props,
        &["Identity", "Trustee", "AccessControlType", "AccessRights", "IsInherited"],
    )
}
