//! `Remove-DistributionGroup`: removes a group; grants held through it end.

use super::common;
use super::{CmdletDef, CmdletId};
use crate::bind::{Bound, Kind, ParamSpec};
use crate::error::ExoResult;
use crate::shell::{CmdletOutput, Ctx};

const PARAMS: &[ParamSpec] = &[
    ParamSpec::new("Identity", Kind::Identity).at(0).mandatory().takes_pipeline(),
    // Group ownership isn't modelled; every admin may manage every group.
    ParamSpec::new("BypassSecurityGroupManagerCheck", Kind::Switch),
];

pub const DEF: CmdletDef =
    CmdletDef::new("Remove-DistributionGroup", CmdletId::RemoveDistributionGroup, PARAMS).confirming();

pub async fn run(ctx: &mut Ctx<'_>, args: Bound) -> ExoResult<CmdletOutput> {
    let group = common::group(ctx, &args.text(common::IDENTITY_PARAM)?.unwrap_or_default()).await?;
    if !ctx.should_process("Remove Distribution Group", &group.name)? {
        return Ok(CmdletOutput::nothing());
    }
    ctx.dir.remove_recipient(&ctx.actor, group.id).await?;
    Ok(CmdletOutput::nothing())
}
