//! `New-DistributionGroup`: a distribution list, or with `-Type Security` a
//! mail-enabled security group that can hold permissions.

use mailroom_core::directory::NewGroup;

use super::common::group_object;
use super::new_mailbox::parse_address;
use super::{CmdletDef, CmdletId};
use crate::bind::{Bound, Kind, ParamSpec};
use crate::error::ExoResult;
use crate::shell::{CmdletOutput, Ctx};

const TYPES: &[&str] = &["Distribution", "Security"];

const PARAMS: &[ParamSpec] = &[
    ParamSpec::new("Name", Kind::Text).at(0).mandatory(),
    ParamSpec::new("DisplayName", Kind::Text),
    ParamSpec::new("Alias", Kind::Text),
    ParamSpec::new("PrimarySmtpAddress", Kind::Text),
    ParamSpec::new("Type", Kind::Choice(TYPES)),
    ParamSpec::new("Members", Kind::Identities),
];

pub const DEF: CmdletDef =
    CmdletDef::new("New-DistributionGroup", CmdletId::NewDistributionGroup, PARAMS).changing();

pub async fn run(ctx: &mut Ctx<'_>, args: Bound) -> ExoResult<CmdletOutput> {
    let name = args.text("Name")?.unwrap_or_default();
    let mut members = Vec::new();
    for identity in args.texts("Members")?.unwrap_or_default() {
        members.push(ctx.dir.resolve(&identity).await?.id);
    }
    let spec = NewGroup {
        name: name.clone(),
        display_name: args.text("DisplayName")?,
        alias: args.text("Alias")?,
        primary_address: args.text("PrimarySmtpAddress")?.as_deref().map(parse_address).transpose()?,
        security: args.choice("Type", TYPES)? == Some("Security"),
        members,
    };
    if !ctx.should_process("New Distribution Group", &name)? {
        return Ok(CmdletOutput::nothing());
    }
    let group = ctx.dir.create_group(&ctx.actor, spec).await?;
    Ok(CmdletOutput::shown(vec![group_object(ctx.dir, &group).await?]))
}
