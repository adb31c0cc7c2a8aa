//! `Get-DistributionGroupMember`: the direct members of a group.

use super::common::{self, recipient_object};
use super::{CmdletDef, CmdletId};
use crate::bind::{Bound, Kind, ParamSpec};
use crate::error::ExoResult;
use crate::shell::{CmdletOutput, Ctx};

const PARAMS: &[ParamSpec] = &[ParamSpec::new("Identity", Kind::Identity).at(0).mandatory().takes_pipeline()];

pub const DEF: CmdletDef =
    CmdletDef::new("Get-DistributionGroupMember", CmdletId::GetDistributionGroupMember, PARAMS);

pub async fn run(ctx: &mut Ctx<'_>, args: Bound) -> ExoResult<CmdletOutput> {
    let group = common::group(ctx, &args.text(common::IDENTITY_PARAM)?.unwrap_or_default()).await?;
    let members = ctx.dir.group_members(group.id).await?;
    Ok(CmdletOutput::shown(members.iter().map(recipient_object).collect()))
}
