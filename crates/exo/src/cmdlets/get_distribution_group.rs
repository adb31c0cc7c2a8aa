//! `Get-DistributionGroup`: one group, or all of them.

use mailroom_core::directory::RecipientKind;

use super::common::{self, group_object};
use super::{CmdletDef, CmdletId};
use crate::bind::{Bound, Kind, ParamSpec};
use crate::error::ExoResult;
use crate::shell::{CmdletOutput, Ctx};

const PARAMS: &[ParamSpec] = &[ParamSpec::new("Identity", Kind::Identity).at(0).takes_pipeline()];

pub const DEF: CmdletDef = CmdletDef::new("Get-DistributionGroup", CmdletId::GetDistributionGroup, PARAMS);

pub async fn run(ctx: &mut Ctx<'_>, args: Bound) -> ExoResult<CmdletOutput> {
    let groups = match args.text(common::IDENTITY_PARAM)? {
        Some(identity) => vec![common::group(ctx, &identity).await?],
        None => ctx.dir.list(&RecipientKind::GROUPS).await?,
    };
    let mut objects = Vec::with_capacity(groups.len());
    for g in &groups {
        objects.push(group_object(ctx.dir, g).await?);
    }
    Ok(CmdletOutput::shown(objects))
}
