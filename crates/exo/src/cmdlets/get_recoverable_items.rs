//! `Get-RecoverableItems`: what a mailbox's Recoverable Items holds —
//! messages expunged there, kept for its `RetainDeletedItemsFor` — newest
//! deletion first. Exchange's parameters `-SubjectContains`, `-EntryID`,
//! `-FilterStartTime`/`-FilterEndTime` (when deleted) and `-ResultSize`
//! narrow it; an EntryID is the message's UID in Recoverable Items (also
//! what IMAP shows). Beyond Exchange, each item says who deleted it.

use chrono::{DateTime, Utc};
use mailroom_core::mail::Recoverable;
use mailroom_types::MailboxId;

use super::common;
use super::{CmdletDef, CmdletId};
use crate::bind::{Bound, Kind, ParamSpec};
use crate::error::{ExoError, ExoResult};
use crate::object::{PsObject, PsValue};
use crate::shell::{CmdletOutput, Ctx};

/// Also `Restore-RecoverableItems`'s: the same filters pick what it restores.
pub(super) const PARAMS: &[ParamSpec] = &[
    ParamSpec::new("Identity", Kind::Identity).at(0).mandatory().takes_pipeline(),
    ParamSpec::new("SubjectContains", Kind::Text),
    ParamSpec::new("EntryID", Kind::Text),
    ParamSpec::new("FilterStartTime", Kind::Date),
    ParamSpec::new("FilterEndTime", Kind::Date),
    ParamSpec::new("ResultSize", Kind::Text),
];

pub const DEF: CmdletDef = CmdletDef::new("Get-RecoverableItems", CmdletId::GetRecoverableItems, PARAMS);

/// The mailbox named by `-Identity` (and its name) and its items that
/// pass the filters.
pub(super) async fn matching(
    ctx: &mut Ctx<'_>,
    args: &Bound,
) -> ExoResult<(MailboxId, String, Vec<Recoverable>)> {
    let recipient = common::mailbox(ctx, &args.text(common::IDENTITY_PARAM)?.unwrap_or_default()).await?;
    let mailbox = recipient
        .mailbox_id()
        .ok_or_else(|| ExoError::invalid(format!("\"{}\" isn't a mailbox.", recipient.name)))?;
    let subject = args.text("SubjectContains")?.map(|s| s.to_lowercase());
    let entry = match args.text("EntryID")? {
        None => None,
        Some(text) => Some(text.trim().parse::<u32>().map_err(|_| {
            ExoError::invalid(format!(
                "\"{text}\" isn't an EntryID: use the EntryID that Get-RecoverableItems shows (a number)."
            ))
        })?),
    };
    let start = args.date("FilterStartTime")?.flatten().map(|d| d.timestamp());
    let end = args.date("FilterEndTime")?.flatten().map(|d| d.timestamp());
    let limit = match args.text("ResultSize")? {
        None => usize::MAX,
        Some(text) if text.eq_ignore_ascii_case("Unlimited") => usize::MAX,
        Some(text) => text.parse().map_err(|_| {
            ExoError::invalid(format!("ResultSize is a number or Unlimited, not \"{text}\"."))
        })?,
    };
    let items = ctx
        .mail
        .recoverable_for_admin(&ctx.actor, mailbox)
        .await?
        .into_iter()
        .filter(|r| subject.as_ref().is_none_or(|s| r.subject.to_lowercase().contains(s)))
        .filter(|r| entry.is_none_or(|uid| r.item.uid.0 == uid))
        .filter(|r| start.is_none_or(|t| r.item.deleted_at >= t))
        .filter(|r| end.is_none_or(|t| r.item.deleted_at <= t))
        .take(limit)
        .collect();
    Ok((mailbox, recipient.name, items))
}

/// A deletion time as the cmdlets print dates (ISO 8601, UTC).
pub(super) fn when(seconds: i64) -> String {
    DateTime::<Utc>::from_timestamp(seconds, 0).map(|d| crate::value::format_datetime(&d)).unwrap_or_default()
}

pub async fn run(ctx: &mut Ctx<'_>, args: Bound) -> ExoResult<CmdletOutput> {
    let (_, _, items) = matching(ctx, &args).await?;
    let mut objects = Vec::with_capacity(items.len());
    for r in items {
        let deleted_by = match r.item.deleted_by {
            Some(id) => ctx.dir.recipient(id).await.ok().map(|p| p.primary_address.to_string()),
            None => None,
        };
        let props = vec![
            ("ItemClass", PsValue::text("IPM.Note")),
            ("Subject", PsValue::text(&r.subject)),
            ("From", PsValue::text(&r.from)),
            ("LastParentPath", PsValue::text(&r.item.deleted_from_name)),
            ("LastModifiedTime", PsValue::text(when(r.item.deleted_at))),
            ("DeletedBy", PsValue::opt(deleted_by)),
            ("SourceFolder", PsValue::text("RecoverableItems")),
            ("EntryID", PsValue::text(r.item.uid.0.to_string())),
        ];
        objects.push(PsObject::new(
            "RecoverableItem",
            r.item.uid.0.to_string(),
            props,
            &["Subject", "LastParentPath", "LastModifiedTime", "DeletedBy", "EntryID"],
        ));
    }
    Ok(CmdletOutput::shown(objects))
}
