//! `Get-MailboxStatistics`: how much a mailbox holds and where it stands
//! against its staged quota (SPEC §3).

use mailroom_core::directory::format_size;

use super::common;
use super::{CmdletDef, CmdletId};
use crate::bind::{Bound, Kind, ParamSpec};
use crate::error::{ExoError, ExoResult};
use crate::object::{PsObject, PsValue};
use crate::shell::{CmdletOutput, Ctx};

const PARAMS: &[ParamSpec] = &[ParamSpec::new("Identity", Kind::Identity).at(0).mandatory().takes_pipeline()];

pub const DEF: CmdletDef = CmdletDef::new("Get-MailboxStatistics", CmdletId::GetMailboxStatistics, PARAMS);

pub async fn run(ctx: &mut Ctx<'_>, args: Bound) -> ExoResult<CmdletOutput> {
    let recipient = common::mailbox(ctx, &args.text(common::IDENTITY_PARAM)?.unwrap_or_default()).await?;
    let mailbox = recipient
        .mailbox_id()
        .ok_or_else(|| ExoError::invalid(format!("\"{}\" isn't a mailbox.", recipient.name)))?;
    let (usage, status) = ctx.mail.storage_status(mailbox).await?;
    let props = vec![
        ("DisplayName", PsValue::text(&recipient.display_name)),
        ("ItemCount", PsValue::Int(i64::try_from(usage.messages).unwrap_or(i64::MAX))),
        ("TotalItemSize", PsValue::text(format_size(usage.bytes))),
        ("StorageLimitStatus", PsValue::text(status.as_str())),
        ("MailboxTypeDetail", PsValue::text(recipient.kind.exchange_name())),
        ("MailboxGuid", PsValue::text(mailbox.to_string())),
        ("Identity", PsValue::text(recipient.primary_address.to_string())),
    ];
    Ok(CmdletOutput::shown(vec![PsObject::new(
        "MailboxStatistics",
        recipient.primary_address.to_string(),
        props,
        &["DisplayName", "ItemCount", "TotalItemSize", "StorageLimitStatus"],
    )]))
}
