//! `Get-MailboxPermission`: the Full Access grants on a mailbox.
//!
//! Lists the explicit grants only; Exchange's built-in `NT AUTHORITY\SELF`
//! entry has no counterpart (a mailbox's owner always has full access).

use mailroom_core::permissions::Right;

use super::common::{self, mailbox_permission_object};
use super::{CmdletDef, CmdletId};
use crate::bind::{Bound, Kind, ParamSpec};
use crate::error::ExoResult;
use crate::shell::{CmdletOutput, Ctx};

const PARAMS: &[ParamSpec] = &[
    ParamSpec::new("Identity", Kind::Identity).at(0).mandatory().takes_pipeline(),
    ParamSpec::new("User", Kind::Identity),
];

pub const DEF: CmdletDef = CmdletDef::new("Get-MailboxPermission", CmdletId::GetMailboxPermission, PARAMS);

pub async fn run(ctx: &mut Ctx<'_>, args: Bound) -> ExoResult<CmdletOutput> {
    let identity = args.text(common::IDENTITY_PARAM)?.unwrap_or_default();
    let mailbox = common::mailbox(ctx, &identity).await?;
    let only = match args.text("User")? {
        Some(user) => Some(ctx.dir.resolve(&user).await?.id),
        None => None,
    };
    let mut objects = Vec::new();
    for entry in ctx.dir.permissions_on(mailbox.id).await? {
        if entry.right != Right::FullAccess || only.is_some_and(|id| id != entry.trustee) {
            continue;
        }
        let trustee = ctx.dir.recipient(entry.trustee).await?;
        objects.push(mailbox_permission_object(&mailbox, &trustee, &entry));
    }
    Ok(CmdletOutput::shown(objects))
}
