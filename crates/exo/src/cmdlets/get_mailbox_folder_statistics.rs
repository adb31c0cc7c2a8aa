//! `Get-MailboxFolderStatistics`: each folder of a mailbox with its item
//! count and size.

use mailroom_core::directory::format_size;
use mailroom_core::mail::SpecialUse;

use super::common;
use super::{CmdletDef, CmdletId};
use crate::bind::{Bound, Kind, ParamSpec};
use crate::error::{ExoError, ExoResult};
use crate::object::{PsObject, PsValue};
use crate::shell::{CmdletOutput, Ctx};

const PARAMS: &[ParamSpec] = &[ParamSpec::new("Identity", Kind::Identity).at(0).mandatory().takes_pipeline()];

pub const DEF: CmdletDef =
    CmdletDef::new("Get-MailboxFolderStatistics", CmdletId::GetMailboxFolderStatistics, PARAMS);

/// Exchange's `FolderType` values for the well-known folders.
fn folder_type(special: Option<SpecialUse>) -> &'static str {
    match special {
        Some(SpecialUse::Inbox) => "Inbox",
        Some(SpecialUse::Drafts) => "Drafts",
        Some(SpecialUse::Sent) => "SentItems",
        Some(SpecialUse::Trash) => "DeletedItems",
        Some(SpecialUse::Junk) => "JunkEmail",
        Some(SpecialUse::Archive) => "Archive",
        Some(SpecialUse::Recoverable) => "RecoverableItemsRoot",
        None => "User Created",
    }
}

pub async fn run(ctx: &mut Ctx<'_>, args: Bound) -> ExoResult<CmdletOutput> {
    let recipient = common::mailbox(ctx, &args.text(common::IDENTITY_PARAM)?.unwrap_or_default()).await?;
    let mailbox = recipient
        .mailbox_id()
        .ok_or_else(|| ExoError::invalid(format!("\"{}\" isn't a mailbox.", recipient.name)))?;
    let mut objects = Vec::new();
    for folder in ctx.mail.folder_statistics(&ctx.actor, mailbox).await? {
        let identity = format!("{}\\{}", recipient.name, folder.name);
        let props = vec![
            ("Name", PsValue::text(&folder.name)),
            ("FolderPath", PsValue::text(format!("/{}", folder.name))),
            ("FolderType", PsValue::text(folder_type(folder.special_use))),
            ("ItemsInFolder", PsValue::Int(i64::try_from(folder.messages).unwrap_or(i64::MAX))),
            ("FolderSize", PsValue::text(format_size(folder.size))),
            ("Identity", PsValue::text(&identity)),
        ];
        objects.push(PsObject::new(
            "MailboxFolderStatistics",
            identity,
            props,
            &["Name", "FolderPath", "ItemsInFolder", "FolderSize"],
        ));
    }
    Ok(CmdletOutput::shown(objects))
}
