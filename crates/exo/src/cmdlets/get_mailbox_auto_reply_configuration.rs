//! `Get-MailboxAutoReplyConfiguration`: a mailbox's automatic replies.

use mailroom_core::directory::{AutoReplyConfig, Recipient};

use super::common;
use super::{CmdletDef, CmdletId};
use crate::bind::{Bound, Kind, ParamSpec};
use crate::error::ExoResult;
use crate::object::{PsObject, PsValue};
use crate::shell::{CmdletOutput, Ctx};
use crate::value::format_datetime;

const PARAMS: &[ParamSpec] = &[ParamSpec::new("Identity", Kind::Identity).at(0).mandatory().takes_pipeline()];

pub const DEF: CmdletDef =
    CmdletDef::new("Get-MailboxAutoReplyConfiguration", CmdletId::GetMailboxAutoReplyConfiguration, PARAMS);

pub fn auto_reply_object(mailbox: &Recipient, c: &AutoReplyConfig) -> PsObject {
    let props = vec![
        ("AutoReplyState", PsValue::text(c.state.as_str())),
        ("StartTime", PsValue::opt(c.start_time.as_ref().map(format_datetime))),
        ("EndTime", PsValue::opt(c.end_time.as_ref().map(format_datetime))),
        ("ExternalAudience", PsValue::text(c.external_audience.as_str())),
        ("ExternalMessage", PsValue::text(&c.external_message)),
        ("InternalMessage", PsValue::text(&c.internal_message)),
        ("MailboxOwnerId", PsValue::text(&mailbox.name)),
        ("Identity", PsValue::text(&mailbox.name)),
    ];
    // Exchange shows this object as a list.
    PsObject::new("MailboxAutoReplyConfiguration", mailbox.primary_address.to_string(), props, &[])
}

pub async fn run(ctx: &mut Ctx<'_>, args: Bound) -> ExoResult<CmdletOutput> {
    let mailbox = common::mailbox(ctx, &args.text(common::IDENTITY_PARAM)?.unwrap_or_default()).await?;
    let config =
        ctx.dir.auto_reply(mailbox.mailbox_id().unwrap_or(mailroom_types::MailboxId(mailbox.id.0))).await?;
    Ok(CmdletOutput::shown(vec![auto_reply_object(&mailbox, &config)]))
}
