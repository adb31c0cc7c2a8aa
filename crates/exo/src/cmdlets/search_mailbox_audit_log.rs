//! `Search-MailboxAuditLog`: a mailbox's activity trail, newest first —
//! who delivered, sent, read, replied, forwarded, flagged, moved, copied,
//! deleted, restored or purged which message, and when.
//!
//! Exchange's parameters, as far as they mean something here: `-Identity`
//! (required: one mailbox), `-StartDate` and `-EndDate` (inclusive),
//! `-Operations` (our action names: Delivered, Saved, Sent, Read, Replied,
//! Forwarded, Flagged, Unflagged, Moved, Copied, Deleted, Restored, Purged,
//! Assigned, Unassigned, Handled, Reopened),
//! `-ResultSize` (1000 unless given, as in Exchange) and `-ShowDetails`
//! (accepted; every entry always shows its details).

use mailroom_core::mail::{ActivityAction, ActivityQuery};

use super::common;
use super::get_recoverable_items::when;
use super::{CmdletDef, CmdletId};
use crate::bind::{Bound, Kind, ParamSpec};
use crate::error::{ExoError, ExoResult};
use crate::object::{PsObject, PsValue};
use crate::shell::{CmdletOutput, Ctx};

const PARAMS: &[ParamSpec] = &[
    ParamSpec::new("Identity", Kind::Identity).at(0).mandatory().takes_pipeline(),
    ParamSpec::new("StartDate", Kind::Date),
    ParamSpec::new("EndDate", Kind::Date),
    ParamSpec::new("Operations", Kind::Texts),
    ParamSpec::new("ResultSize", Kind::Text),
    ParamSpec::new("ShowDetails", Kind::Switch),
];

pub const DEF: CmdletDef = CmdletDef::new("Search-MailboxAuditLog", CmdletId::SearchMailboxAuditLog, PARAMS);

/// Exchange's default `-ResultSize` for this cmdlet.
const DEFAULT_RESULT_SIZE: usize = 1000;
/// What `-ResultSize Unlimited` reads at most: the trail of a busy mailbox
/// could be millions of entries, and the shell holds its output in memory.
const MAX_RESULT_SIZE: usize = 250_000;

pub async fn run(ctx: &mut Ctx<'_>, args: Bound) -> ExoResult<CmdletOutput> {
    let recipient = common::mailbox(ctx, &args.text(common::IDENTITY_PARAM)?.unwrap_or_default()).await?;
    let mailbox = recipient
        .mailbox_id()
        .ok_or_else(|| ExoError::invalid(format!("\"{}\" isn't a mailbox.", recipient.name)))?;
    let mut actions = Vec::new();
    for name in args.texts("Operations")?.unwrap_or_default() {
        for name in name.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let action = ActivityAction::from_name(name).ok_or_else(|| {
                let known: Vec<&str> = ActivityAction::ALL.iter().map(|a| a.name()).collect();
                ExoError::invalid(format!(
                    "\"{name}\" isn't an operation on the trail; use one of {}.",
                    known.join(", ")
                ))
            })?;
            actions.push(action);
        }
    }
    let limit = match args.text("ResultSize")? {
        None => DEFAULT_RESULT_SIZE,
        Some(text) if text.eq_ignore_ascii_case("Unlimited") => MAX_RESULT_SIZE,
        Some(text) => match text.parse::<usize>() {
            Ok(n) if n > 0 => n.min(MAX_RESULT_SIZE),
            _ => {
                return Err(ExoError::invalid(format!(
                    "ResultSize is a number above 0 or Unlimited, not \"{text}\"."
                )));
            }
        },
    };
    let query = ActivityQuery {
        since: args.date("StartDate")?.flatten().map(|d| d.timestamp()),
        until: args.date("EndDate")?.flatten().map(|d| d.timestamp()),
        actions,
        limit,
        ..ActivityQuery::default()
    };
    let entries = ctx.mail.activity_for_admin(&ctx.actor, mailbox, &query).await?;
    let mut names = std::collections::HashMap::new();
    let mut objects = Vec::with_capacity(entries.len());
    for entry in entries {
        let (display, address) = match entry.actor {
            None => ("Mailroom".to_string(), String::new()),
            Some(id) => match names.get(&id) {
                Some(known) => Clone::clone(known),
                None => {
                    let found = match ctx.dir.recipient(id).await {
                        Ok(p) => (p.display_name.clone(), p.primary_address.to_string()),
                        Err(_) => (format!("a removed account ({id})"), String::new()),
                    };
                    names.insert(id, found.clone());
                    found
                }
            },
        };
        let props = vec![
            ("LastAccessed", PsValue::text(when(entry.at))),
            ("Operation", PsValue::text(entry.action.name())),
            ("OperationResult", PsValue::text("Succeeded")),
            ("LogonUserDisplayName", PsValue::text(display)),
            ("LogonUserPrincipalName", PsValue::text(address)),
            ("ItemSubject", PsValue::text(&entry.subject)),
            ("Detail", PsValue::text(&entry.detail)),
            ("MailboxOwnerUPN", PsValue::text(recipient.primary_address.to_string())),
            ("MailboxResolvedOwnerName", PsValue::text(&recipient.display_name)),
            ("BodyId", PsValue::opt(entry.blob.map(|b| b.to_hex()))),
        ];
        objects.push(PsObject::new(
            "MailboxAuditLogRecord",
            entry.id.to_string(),
            props,
            &["LastAccessed", "Operation", "LogonUserDisplayName", "ItemSubject"],
        ));
    }
    Ok(CmdletOutput::shown(objects))
}
