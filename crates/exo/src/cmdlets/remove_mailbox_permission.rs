//! `Remove-MailboxPermission -AccessRights FullAccess`. Asks first unless
//! `-Confirm:$false`; the removal reaches open sessions at their next command.

use mailroom_core::permissions::Right;

use super::add_mailbox_permission::{ACCESS_RIGHTS, INHERITANCE, check_full_access};
use super::common::{self, trustee_label};
use super::{CmdletDef, CmdletId};
use crate::bind::{Bound, Kind, ParamSpec};
use crate::error::ExoResult;
use crate::shell::{CmdletOutput, Ctx};

const PARAMS: &[ParamSpec] = &[
    ParamSpec::new("Identity", Kind::Identity).at(0).mandatory().takes_pipeline(),
    ParamSpec::new("User", Kind::Identity).mandatory(),
    ParamSpec::new("AccessRights", Kind::Choices(ACCESS_RIGHTS)).mandatory(),
    ParamSpec::new("InheritanceType", Kind::Choice(INHERITANCE)),
];

pub const DEF: CmdletDef =
    CmdletDef::new("Remove-MailboxPermission", CmdletId::RemoveMailboxPermission, PARAMS).confirming();

pub async fn run(ctx: &mut Ctx<'_>, args: Bound) -> ExoResult<CmdletOutput> {
    check_full_access(&args)?;
    let identity = args.text(common::IDENTITY_PARAM)?.unwrap_or_default();
    let mailbox = common::mailbox(ctx, &identity).await?;
    let trustee = ctx.dir.resolve(&args.text("User")?.unwrap_or_default()).await?;
    let target = format!(
        "Identity:\"{}\" User:\"{}\" AccessRights:\"FullAccess\"",
        mailbox.name,
        trustee_label(&trustee)
    );
    if !ctx.should_process("Remove Mailbox Permission", &target)? {
        return Ok(CmdletOutput::nothing());
    }
    if !ctx.dir.revoke(&ctx.actor, mailbox.id, trustee.id, Right::FullAccess).await? {
        ctx.warn(format!(
            "Can't remove the access control entry on the object \"{}\" for account \"{}\" because the ACE doesn't exist on the object.",
            mailbox.name,
            trustee_label(&trustee)
        ));
    }
    Ok(CmdletOutput::nothing())
}
