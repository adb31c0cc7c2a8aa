//! `Remove-DistributionGroupMember`: permissions held through the group end
//! for that member at once.

use super::add_distribution_group_member::PARAMS;
use super::common;
use super::{CmdletDef, CmdletId};
use crate::bind::Bound;
use crate::error::{ExoError, ExoResult};
use crate::shell::{CmdletOutput, Ctx};

pub const DEF: CmdletDef =
    CmdletDef::new("Remove-DistributionGroupMember", CmdletId::RemoveDistributionGroupMember, PARAMS)
        .confirming();

pub async fn run(ctx: &mut Ctx<'_>, args: Bound) -> ExoResult<CmdletOutput> {
    let group = common::group(ctx, &args.text(common::IDENTITY_PARAM)?.unwrap_or_default()).await?;
    let member = ctx.dir.resolve(&args.text("Member")?.unwrap_or_default()).await?;
    if !ctx.should_process(
        "Remove Distribution Group Member",
        &format!("Identity:\"{}\" Member:\"{}\"", group.name, member.name),
    )? {
        return Ok(CmdletOutput::nothing());
    }
    if !ctx.dir.remove_group_member(&ctx.actor, group.id, member.id).await? {
        return Err(ExoError::invalid(format!(
            "The recipient \"{}\" isn't a member of the group \"{}\".",
            member.name, group.name
        )));
    }
    Ok(CmdletOutput::nothing())
}
