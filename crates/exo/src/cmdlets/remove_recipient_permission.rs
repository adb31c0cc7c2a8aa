//! `Remove-RecipientPermission -AccessRights SendAs`. Asks first unless
//! `-Confirm:$false`; the next submission is already refused.

use mailroom_core::permissions::Right;

use super::add_recipient_permission::{PARAMS, RIGHTS};
use super::common::{self, trustee_label};
use super::{CmdletDef, CmdletId};
use crate::bind::Bound;
use crate::error::ExoResult;
use crate::shell::{CmdletOutput, Ctx};

pub const DEF: CmdletDef =
    CmdletDef::new("Remove-RecipientPermission", CmdletId::RemoveRecipientPermission, PARAMS).confirming();

pub async fn run(ctx: &mut Ctx<'_>, args: Bound) -> ExoResult<CmdletOutput> {
    args.choices("AccessRights", RIGHTS)?;
    let identity = args.text(common::IDENTITY_PARAM)?.unwrap_or_default();
    let recipient = ctx.dir.resolve(&identity).await?;
    let trustee = ctx.dir.resolve(&args.text("Trustee")?.unwrap_or_default()).await?;
    let target = format!(
        "Identity:\"{}\" Trustee:\"{}\" AccessRights:\"SendAs\"",
        recipient.name,
        trustee_label(&trustee)
    );
    if !ctx.should_process("Remove Recipient Permission", &target)? {
        return Ok(CmdletOutput::nothing());
    }
    if !ctx.dir.revoke(&ctx.actor, recipient.id, trustee.id, Right::SendAs).await? {
        ctx.warn(format!(
            "Can't remove the access control entry on the object \"{}\" for account \"{}\" because the ACE doesn't exist on the object.",
            recipient.name,
            trustee_label(&trustee)
        ));
    }
    Ok(CmdletOutput::nothing())
}
