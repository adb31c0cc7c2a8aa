//! `Get-Recipient`: every kind of recipient, filtered by type.

use mailroom_core::directory::RecipientKind;

use super::common::{self, recipient_object};
use super::get_mailbox::{kinds_from_details, result_size};
use super::{CmdletDef, CmdletId};
use crate::bind::{Bound, Kind, ParamSpec};
use crate::error::ExoResult;
use crate::shell::{CmdletOutput, Ctx};

const DETAILS: &[&str] =
    &["UserMailbox", "SharedMailbox", "MailUniversalSecurityGroup", "MailUniversalDistributionGroup"];

const PARAMS: &[ParamSpec] = &[
    ParamSpec::new("Identity", Kind::Identity).at(0).takes_pipeline(),
    ParamSpec::new("RecipientTypeDetails", Kind::Choices(DETAILS)),
    ParamSpec::new("ResultSize", Kind::Text),
];

pub const DEF: CmdletDef = CmdletDef::new("Get-Recipient", CmdletId::GetRecipient, PARAMS);

pub async fn run(ctx: &mut Ctx<'_>, args: Bound) -> ExoResult<CmdletOutput> {
    let kinds = kinds_from_details(args.choices("RecipientTypeDetails", DETAILS)?, &RecipientKind::ALL);
    let mut recipients = match args.text(common::IDENTITY_PARAM)? {
        Some(identity) => vec![ctx.dir.resolve_kind(&identity, &kinds).await?],
        None => ctx.dir.list(&kinds).await?,
    };
    if let Some(limit) = result_size(&args)? {
        recipients.truncate(limit);
    }
    Ok(CmdletOutput::shown(recipients.iter().map(recipient_object).collect()))
}
