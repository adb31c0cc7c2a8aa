//! `Add-RecipientPermission -AccessRights SendAs`: Send As on a mailbox or
//! group. Asks first unless `-Confirm:$false`, as Exchange Online does.

use mailroom_core::permissions::Right;

use super::common::{self, recipient_permission_object, trustee_label};
use super::{CmdletDef, CmdletId};
use crate::bind::{Bound, Kind, ParamSpec};
use crate::error::ExoResult;
use crate::shell::{CmdletOutput, Ctx};

pub(super) const RIGHTS: &[&str] = &["SendAs"];

pub(super) const PARAMS: &[ParamSpec] = &[
    ParamSpec::new("Identity", Kind::Identity).at(0).mandatory().takes_pipeline(),
    ParamSpec::new("Trustee", Kind::Identity).mandatory(),
    ParamSpec::new("AccessRights", Kind::Choices(RIGHTS)).mandatory(),
];

pub const DEF: CmdletDef =
    CmdletDef::new("Add-RecipientPermission", CmdletId::AddRecipientPermission, PARAMS).confirming();

pub async fn run(ctx: &mut Ctx<'_>, args: Bound) -> ExoResult<CmdletOutput> {
    args.choices("AccessRights", RIGHTS)?;
    let identity = args.text(common::IDENTITY_PARAM)?.unwrap_or_default();
    let recipient = ctx.dir.resolve(&identity).await?;
    let trustee = ctx.dir.resolve_trustee(&args.text("Trustee")?.unwrap_or_default()).await?;
    let target = format!(
        "Identity:\"{}\" Trustee:\"{}\" AccessRights:\"SendAs\"",
        recipient.name,
        trustee_label(&trustee)
    );
    if !ctx.should_process("Add Recipient Permission", &target)? {
        return Ok(CmdletOutput::nothing());
    }
    if !ctx.dir.grant(&ctx.actor, recipient.id, trustee.id, Right::SendAs, false).await? {
        ctx.warn(format!(
            "The appropriate access control entry is already present on the object \"{}\" for account \"{}\".",
            recipient.name,
            trustee_label(&trustee)
        ));
        return Ok(CmdletOutput::nothing());
    }
    Ok(CmdletOutput::shown(vec![recipient_permission_object(&recipient, &trustee)]))
}
