//! `Get-Queue` (Exchange Server's transport queue viewer, here the outbound
//! queue of SPEC §3): one row per queued remote recipient — where it goes,
//! from whom, how often it was tried, when next, and the last error.
//! `mailroom queue retry|delete` act on these rows.

use super::{CmdletDef, CmdletId};
use crate::bind::Bound;
use crate::error::ExoResult;
use crate::object::{PsObject, PsValue};
use crate::shell::{CmdletOutput, Ctx};

pub const DEF: CmdletDef = CmdletDef::new("Get-Queue", CmdletId::GetQueue, &[]);

fn when(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .map(|d| d.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default()
}

/// One queued recipient as `Get-Queue` (and `mailroom queue list`) shows it.
pub fn queue_item(q: mailroom_core::store::QueueEntry) -> PsObject {
    PsObject::new(
        "QueueItem",
        q.id.to_string(),
        vec![
            ("Identity", PsValue::Int(q.id)),
            ("NextHopDomain", PsValue::text(q.recipient.domain().as_str())),
            ("Recipient", PsValue::text(q.recipient.to_string())),
            ("FromAddress", PsValue::text(q.envelope_from.map_or("<>".to_string(), |a| a.to_string()))),
            ("RetryCount", PsValue::Int(i64::from(q.attempts))),
            ("DateReceived", PsValue::text(when(q.created))),
            ("NextRetryTime", PsValue::text(when(q.next_attempt))),
            ("LastError", PsValue::text(q.last_error.unwrap_or_default())),
            // Ours: the node sending it now, when several share the queue.
            ("SendingNode", PsValue::text(q.lease_node.unwrap_or_default())),
        ],
        &["Identity", "NextHopDomain", "Recipient", "RetryCount", "NextRetryTime", "LastError"],
    )
}

pub async fn run(ctx: &mut Ctx<'_>, _args: Bound) -> ExoResult<CmdletOutput> {
    let queued = ctx.mail.queue(None).await?;
    Ok(CmdletOutput::shown(queued.into_iter().map(queue_item).collect()))
}
