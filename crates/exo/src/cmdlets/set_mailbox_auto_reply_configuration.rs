//! `Set-MailboxAutoReplyConfiguration`: on, off, or scheduled automatic
//! replies with internal and external messages (SPEC §3). Dates without an
//! offset are UTC.

use mailroom_core::directory::{AutoReplyChange, AutoReplyState, ExternalAudience};

use super::common;
use super::get_mailbox_auto_reply_configuration::auto_reply_object;
use super::{CmdletDef, CmdletId};
use crate::bind::{Bound, Kind, ParamSpec};
use crate::error::ExoResult;
use crate::shell::{CmdletOutput, Ctx};

const STATES: &[&str] = &["Disabled", "Enabled", "Scheduled"];
const AUDIENCES: &[&str] = &["None", "Known", "All"];

const PARAMS: &[ParamSpec] = &[
    ParamSpec::new("Identity", Kind::Identity).at(0).mandatory().takes_pipeline(),
    ParamSpec::new("AutoReplyState", Kind::Choice(STATES)),
    ParamSpec::new("StartTime", Kind::Date),
    ParamSpec::new("EndTime", Kind::Date),
    ParamSpec::new("InternalMessage", Kind::Text),
    ParamSpec::new("ExternalMessage", Kind::Text),
    ParamSpec::new("ExternalAudience", Kind::Choice(AUDIENCES)),
];

pub const DEF: CmdletDef =
    CmdletDef::new("Set-MailboxAutoReplyConfiguration", CmdletId::SetMailboxAutoReplyConfiguration, PARAMS)
        .changing();

pub async fn run(ctx: &mut Ctx<'_>, args: Bound) -> ExoResult<CmdletOutput> {
    let mailbox = common::mailbox(ctx, &args.text(common::IDENTITY_PARAM)?.unwrap_or_default()).await?;
    let change = AutoReplyChange {
        state: args.choice("AutoReplyState", STATES)?.and_then(AutoReplyState::parse),
        start_time: args.date("StartTime")?,
        end_time: args.date("EndTime")?,
        internal_message: args.nullable_text("InternalMessage")?.map(Option::unwrap_or_default),
        external_message: args.nullable_text("ExternalMessage")?.map(Option::unwrap_or_default),
        external_audience: args.choice("ExternalAudience", AUDIENCES)?.and_then(ExternalAudience::parse),
    };
    if !ctx.should_process("Set Mailbox Auto Reply Configuration", &mailbox.name)? {
        return Ok(CmdletOutput::nothing());
    }
    let Some(id) = mailbox.mailbox_id() else { return Ok(CmdletOutput::nothing()) };
    let config = ctx.dir.set_auto_reply(&ctx.actor, id, change).await?;
    Ok(CmdletOutput::passed_on(vec![auto_reply_object(&mailbox, &config)]))
}
