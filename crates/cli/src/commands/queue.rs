//! `mailroom queue`: the outbound queue (SPEC §3) — what waits to be sent to
//! other domains, why, and when it is tried next; retry now or delete. The
//! running server picks changes up at its next look at the queue.

use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::Subcommand;
use mailroom_exo::PsObject;

use mailroom_core::CoreError;

use super::{Env, OPERATOR, core, ok};

#[derive(Subcommand, Debug)]
pub enum QueueCommand {
    /// What waits to be sent: id, recipient, sender, retries, next try, last error
    List,
    /// Make a queued recipient due now (the server sends it at its next look)
    Retry {
        /// The id `mailroom queue list` shows
        id: i64,
    },
    /// Remove a queued recipient without sending it or telling the sender
    Delete {
        /// The id `mailroom queue list` shows
        id: i64,
    },
}

pub async fn run(env: &Env, command: QueueCommand) -> Result<ExitCode> {
    let mail = env.open_mail()?;
    match command {
        QueueCommand::List => {
            // The same rows as `Get-Queue`.
            let objects: Vec<PsObject> =
                mail.queue(None).await?.into_iter().map(mailroom_exo::objects::queue_item).collect();
            if objects.is_empty() {
                env.note("The outbound queue is empty.");
            }
            env.print(&objects);
        }
        QueueCommand::Retry { id } => {
            match mail.retry_queued(&OPERATOR, id).await {
                Ok(()) => {}
                Err(CoreError::NotFound { .. }) => {
                    bail!("there is no queued message {id}: see 'mailroom queue list'")
                }
                Err(err) => return Err(core(err)),
            }
            env.done(
                &format!(
                    "Queued message {id} is due now; the server sends it at its next look at the queue."
                ),
                None,
            );
        }
        QueueCommand::Delete { id } => {
            match mail.delete_queued(&OPERATOR, id).await {
                Ok(()) => {}
                Err(CoreError::NotFound { .. }) => {
                    bail!("there is no queued message {id}: see 'mailroom queue list'")
                }
                Err(err) => return Err(core(err)),
            }
            env.done(&format!("Deleted queued message {id}; it won't be sent."), None);
        }
    }
    ok()
}
