//! `Get-RecipientPermission`: Send As grants on one recipient or on all.

use mailroom_core::directory::RecipientKind;
use mailroom_core::permissions::Right;

use super::add_recipient_permission::RIGHTS;
use super::common::{self, recipient_permission_object};
use super::{CmdletDef, CmdletId};
use crate::bind::{Bound, Kind, ParamSpec};
use crate::error::ExoResult;
use crate::shell::{CmdletOutput, Ctx};

const PARAMS: &[ParamSpec] = &[
    ParamSpec::new("Identity", Kind::Identity).at(0).takes_pipeline(),
    ParamSpec::new("Trustee", Kind::Identity),
    ParamSpec::new("AccessRights", Kind::Choices(RIGHTS)),
];

pub const DEF: CmdletDef =
    CmdletDef::new("Get-RecipientPermission", CmdletId::GetRecipientPermission, PARAMS);

pub async fn run(ctx: &mut Ctx<'_>, args: Bound) -> ExoResult<CmdletOutput> {
    args.choices("AccessRights", RIGHTS)?;
    let recipients = match args.text(common::IDENTITY_PARAM)? {
        Some(identity) => vec![ctx.dir.resolve(&identity).await?],
        None => ctx.dir.list(&RecipientKind::ALL).await?,
    };
    let only = match args.text("Trustee")? {
        Some(t) => Some(ctx.dir.resolve(&t).await?.id),
        None => None,
    };
    let mut objects = Vec::new();
    for recipient in &recipients {
        for entry in ctx.dir.permissions_on(recipient.id).await? {
            if entry.right == Right::SendAs && only.is_none_or(|id| id == entry.trustee) {
                let trustee = ctx.dir.recipient(entry.trustee).await?;
                objects.push(recipient_permission_object(recipient, &trustee));
            }
        }
    }
    Ok(CmdletOutput::shown(objects))
}
