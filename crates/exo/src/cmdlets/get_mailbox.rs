//! `Get-Mailbox`: one mailbox by identity, or all, filtered by type.

use mailroom_core::directory::RecipientKind;

use super::common::{self, mailbox_object};
use super::{CmdletDef, CmdletId};
use crate::bind::{Bound, Kind, ParamSpec};
use crate::error::{ExoError, ExoResult};
use crate::shell::{CmdletOutput, Ctx};

pub(super) const MAILBOX_TYPES: &[&str] = &["UserMailbox", "SharedMailbox"];

const PARAMS: &[ParamSpec] = &[
    ParamSpec::new("Identity", Kind::Identity).at(0).takes_pipeline(),
    ParamSpec::new("RecipientTypeDetails", Kind::Choices(MAILBOX_TYPES)),
    ParamSpec::new("ResultSize", Kind::Text),
];

pub const DEF: CmdletDef = CmdletDef::new("Get-Mailbox", CmdletId::GetMailbox, PARAMS);

/// Exchange returns 1000 objects unless told otherwise.
pub(super) const DEFAULT_RESULT_SIZE: usize = 1000;

/// `-ResultSize Unlimited` or a number.
pub(super) fn result_size(args: &Bound) -> ExoResult<Option<usize>> {
    match args.text("ResultSize")? {
        None => Ok(Some(DEFAULT_RESULT_SIZE)),
        Some(t) if t.eq_ignore_ascii_case("unlimited") => Ok(None),
        Some(t) => t.parse::<usize>().map(Some).map_err(|_| {
            ExoError::binding(format!(
                "Cannot process argument transformation on parameter 'ResultSize'. \"{t}\" isn't a number or Unlimited."
            ))
        }),
    }
}

pub(super) fn kinds_from_details(
    details: Option<Vec<&'static str>>,
    default: &[RecipientKind],
) -> Vec<RecipientKind> {
    match details {
        None => default.to_vec(),
        Some(names) => {
            RecipientKind::ALL.into_iter().filter(|k| names.contains(&k.exchange_name())).collect()
        }
    }
}

pub async fn run(ctx: &mut Ctx<'_>, args: Bound) -> ExoResult<CmdletOutput> {
    let kinds =
        kinds_from_details(args.choices("RecipientTypeDetails", MAILBOX_TYPES)?, &RecipientKind::MAILBOXES);
    let limit = result_size(&args)?;
    let mut recipients = match args.text(common::IDENTITY_PARAM)? {
        Some(identity) => vec![ctx.dir.resolve_kind(&identity, &kinds).await?],
        None => ctx.dir.list(&kinds).await?,
    };
    if let Some(limit) = limit
        && recipients.len() > limit
    {
        recipients.truncate(limit);
        ctx.warn(format!(
            "By default, only the first {limit} items are returned. Use the ResultSize parameter to specify the number of items returned. To return all items, specify \"-ResultSize Unlimited\"."
        ));
    }
    let mut objects = Vec::with_capacity(recipients.len());
    for r in &recipients {
        objects.push(mailbox_object(ctx.dir, r).await?);
    }
    Ok(CmdletOutput::shown(objects))
}
