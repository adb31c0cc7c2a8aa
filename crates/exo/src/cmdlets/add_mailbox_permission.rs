//! `Add-MailboxPermission -AccessRights FullAccess`: Full Access to a mailbox
//! for a user or security group, automapped unless `-AutoMapping $false`.
//! `-NoPurge` (ours, SPEC §5): the trustee deletes, but what they delete
//! stays in Recoverable Items; they can't purge it.

use mailroom_core::permissions::Right;

use super::common::{self, mailbox_permission_object, trustee_label};
use super::{CmdletDef, CmdletId};
use crate::bind::{Bound, Kind, ParamSpec};
use crate::error::{ExoError, ExoResult};
use crate::shell::{CmdletOutput, Ctx};

/// Exchange Online's set; Mailroom grants FullAccess and explains the others.
pub(super) const ACCESS_RIGHTS: &[&str] =
    &["FullAccess", "ReadPermission", "ChangePermission", "ChangeOwner", "DeleteItem", "ExternalAccount"];
pub(super) const INHERITANCE: &[&str] = &["All", "None", "Descendents", "SelfAndChildren", "Children"];

const PARAMS: &[ParamSpec] = &[
    ParamSpec::new("Identity", Kind::Identity).at(0).mandatory().takes_pipeline(),
    ParamSpec::new("User", Kind::Identity).mandatory(),
    ParamSpec::new("AccessRights", Kind::Choices(ACCESS_RIGHTS)).mandatory(),
    ParamSpec::new("InheritanceType", Kind::Choice(INHERITANCE)),
    ParamSpec::new("AutoMapping", Kind::Bool),
    ParamSpec::new("Deny", Kind::Switch),
    ParamSpec::new("NoPurge", Kind::Switch),
];

pub const DEF: CmdletDef =
    CmdletDef::new("Add-MailboxPermission", CmdletId::AddMailboxPermission, PARAMS).changing();

/// Only Full Access on the whole mailbox is a Mailroom mailbox permission.
pub(super) fn check_full_access(args: &Bound) -> ExoResult<()> {
    let rights = args.choices("AccessRights", ACCESS_RIGHTS)?.unwrap_or_default();
    if let Some(other) = rights.iter().find(|r| **r != "FullAccess") {
        return Err(ExoError::invalid(format!(
            "The access right {other} isn't supported. Mailroom's mailbox permission is FullAccess; use Add-RecipientPermission -AccessRights SendAs for Send As and Set-Mailbox -GrantSendOnBehalfTo for Send on Behalf."
        )));
    }
    if let Some(inheritance) = args.choice("InheritanceType", INHERITANCE)?
        && inheritance != "All"
    {
        return Err(ExoError::invalid(format!(
            "InheritanceType {inheritance} isn't supported: Full Access covers the whole mailbox. Use -InheritanceType All or leave it out."
        )));
    }
    Ok(())
}

pub async fn run(ctx: &mut Ctx<'_>, args: Bound) -> ExoResult<CmdletOutput> {
    check_full_access(&args)?;
    if args.switch("Deny") {
        return Err(ExoError::invalid(
            "Deny entries aren't supported: remove the grant (or the user from the group that grants it) instead.",
        ));
    }
    let identity = args.text(common::IDENTITY_PARAM)?.unwrap_or_default();
    let mailbox = common::mailbox(ctx, &identity).await?;
    let user = args.text("User")?.unwrap_or_default();
    let trustee = ctx.dir.resolve_trustee(&user).await?;
    let automapping = args.bool("AutoMapping")?.unwrap_or(true);
    let target = format!(
        "Identity:\"{}\" User:\"{}\" AccessRights:\"FullAccess\"",
        mailbox.name,
        trustee_label(&trustee)
    );
    if !ctx.should_process("Add Mailbox Permission", &target)? {
        return Ok(CmdletOutput::nothing());
    }
    let no_purge = args.switch("NoPurge");
    let changed = ctx
        .dir
        .grant_with_purge(&ctx.actor, mailbox.id, trustee.id, Right::FullAccess, automapping, no_purge)
        .await?;
    if !changed {
        ctx.warn(format!("An existing permission entry was found for user: {}.", trustee_label(&trustee)));
        return Ok(CmdletOutput::nothing());
    }
    let entry = ctx
        .dir
        .permissions_on(mailbox.id)
        .await?
        .into_iter()
        .find(|e| e.trustee == trustee.id && e.right == Right::FullAccess)
        .ok_or_else(|| ExoError::invalid("the permission was removed while it was being added"))?;
    Ok(CmdletOutput::shown(vec![mailbox_permission_object(&mailbox, &trustee, &entry)]))
}
