//! `Add-DistributionGroupMember`: adds a mailbox or a group (nesting; a group
//! that would contain itself is refused).

use super::common;
use super::{CmdletDef, CmdletId};
use crate::bind::{Bound, Kind, ParamSpec};
use crate::error::{ExoError, ExoResult};
use crate::shell::{CmdletOutput, Ctx};

pub(super) const PARAMS: &[ParamSpec] = &[
    ParamSpec::new("Identity", Kind::Identity).at(0).mandatory().takes_pipeline(),
    ParamSpec::new("Member", Kind::Identity).mandatory(),
    ParamSpec::new("BypassSecurityGroupManagerCheck", Kind::Switch),
];

pub const DEF: CmdletDef =
    CmdletDef::new("Add-DistributionGroupMember", CmdletId::AddDistributionGroupMember, PARAMS).changing();

pub async fn run(ctx: &mut Ctx<'_>, args: Bound) -> ExoResult<CmdletOutput> {
    let group = common::group(ctx, &args.text(common::IDENTITY_PARAM)?.unwrap_or_default()).await?;
    let member = ctx.dir.resolve(&args.text("Member")?.unwrap_or_default()).await?;
    if !ctx.should_process(
        "Add Distribution Group Member",
        &format!("Identity:\"{}\" Member:\"{}\"", group.name, member.name),
    )? {
        return Ok(CmdletOutput::nothing());
    }
    if !ctx.dir.add_group_member(&ctx.actor, group.id, member.id).await? {
        return Err(ExoError::invalid(format!(
            "The recipient \"{}\" is already a member of the group \"{}\".",
            member.name, group.name
        )));
    }
    Ok(CmdletOutput::nothing())
}
