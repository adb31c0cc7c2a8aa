//! `Remove-Mailbox`: removes a mailbox and every grant on or by it.
//! Asks first unless `-Confirm:$false` (Exchange's ConfirmImpact is High).

use super::common;
use super::{CmdletDef, CmdletId};
use crate::bind::{Bound, Kind, ParamSpec};
use crate::error::ExoResult;
use crate::shell::{CmdletOutput, Ctx};

const PARAMS: &[ParamSpec] = &[
    ParamSpec::new("Identity", Kind::Identity).at(0).mandatory().takes_pipeline(),
    // Accepted for scripts written for Exchange; Mailroom's removal is always immediate.
    ParamSpec::new("Permanent", Kind::Bool),
];

pub const DEF: CmdletDef = CmdletDef::new("Remove-Mailbox", CmdletId::RemoveMailbox, PARAMS).confirming();

pub async fn run(ctx: &mut Ctx<'_>, args: Bound) -> ExoResult<CmdletOutput> {
    let identity = args.text(common::IDENTITY_PARAM)?.unwrap_or_default();
    let mailbox = common::mailbox(ctx, &identity).await?;
    if !ctx.should_process("Remove Mailbox", &mailbox.name)? {
        return Ok(CmdletOutput::nothing());
    }
    ctx.dir.remove_recipient(&ctx.actor, mailbox.id).await?;
    Ok(CmdletOutput::nothing())
}
