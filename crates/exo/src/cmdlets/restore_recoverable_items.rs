//! `Restore-RecoverableItems`: puts messages of a mailbox's Recoverable
//! Items back in the folder each was deleted from (the Inbox if that folder
//! is gone), with `Get-RecoverableItems`'s filters. No filter restores
//! everything, as in Exchange; `-WhatIf` shows what would be restored.

use mailroom_types::Uid;

use super::get_recoverable_items::{PARAMS, matching, when};
use super::{CmdletDef, CmdletId};
use crate::bind::Bound;
use crate::error::ExoResult;
use crate::object::{PsObject, PsValue};
use crate::shell::{CmdletOutput, Ctx};

pub const DEF: CmdletDef =
    CmdletDef::new("Restore-RecoverableItems", CmdletId::RestoreRecoverableItems, PARAMS).changing();

pub async fn run(ctx: &mut Ctx<'_>, args: Bound) -> ExoResult<CmdletOutput> {
    let (mailbox, name, items) = matching(ctx, &args).await?;
    if items.is_empty() {
        ctx.warn("No recoverable items match: nothing was restored.");
        return Ok(CmdletOutput::nothing());
    }
    let target = format!("{} item(s) of {name}", items.len());
    if !ctx.should_process("Restore Recoverable Items", &target)? {
        return Ok(CmdletOutput::nothing());
    }
    let uids: Vec<Uid> = items.iter().map(|r| r.item.uid).collect();
    let restored = ctx.mail.restore_for_admin(&ctx.actor, mailbox, &uids).await?;
    let mut objects = Vec::with_capacity(items.len());
    for r in items {
        let done = restored.iter().find(|x| x.uid == r.item.uid);
        let props = vec![
            ("Subject", PsValue::text(&r.subject)),
            ("LastModifiedTime", PsValue::text(when(r.item.deleted_at))),
            ("RestoredToFolder", PsValue::opt(done.map(|x| x.folder_name.clone()))),
            // Gone meanwhile (restored or purged by someone else).
            ("ResultType", PsValue::text(if done.is_some() { "Succeeded" } else { "Failed" })),
            ("EntryID", PsValue::text(r.item.uid.0.to_string())),
        ];
        objects.push(PsObject::new(
            "RestoredItem",
            r.item.uid.0.to_string(),
            props,
            &["Subject", "RestoredToFolder", "ResultType", "EntryID"],
        ));
    }
    Ok(CmdletOutput::shown(objects))
}
