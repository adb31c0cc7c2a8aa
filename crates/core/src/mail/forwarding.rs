//! Forwarding (SPEC §3): a mailbox's `ForwardingAddress` (a recipient of the
//! organisation, which wins) or `ForwardingSmtpAddress` (any address), with
//! `DeliverToMailboxAndForward` deciding whether it keeps its copy. Internal
//! targets get the message in the same delivery; external ones get a copy
//! through the outbound queue. Loops are broken: a chain never visits a
//! mailbox twice, and a message that already left through a mailbox's
//! forward (it carries that mailbox in `X-Mailroom-Forwarded-By`) is kept
//! there instead of being forwarded again.

use std::collections::BTreeSet;

use mailroom_types::{EmailAddress, MailboxId, PrincipalId};

use super::Mail;

use crate::error::CoreResult;

/// The header a forwarded copy carries, naming the mailbox it left through.
pub const FORWARDED_BY: &str = "X-Mailroom-Forwarded-By";

/// Where one inbound message ends up once forwarding is applied.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InboundPlan {
    /// Mailboxes that keep a copy.
    pub keep: Vec<MailboxId>,
    /// External addresses to send a copy to, each with the mailbox whose
    /// forwarding sends it.
    pub forward: Vec<(EmailAddress, EmailAddress)>,
}

impl InboundPlan {
    /// The plan for a message the checks filed as junk: nothing suspected
    /// is forwarded to other domains (it would go out under our name and
    /// seal), so the mailboxes it was addressed to keep it — in Junk Email —
    /// besides those that keep it anyway.
    pub fn for_junk(self, recipients: &[MailboxId]) -> InboundPlan {
        let mut keep = self.keep;
        keep.extend_from_slice(recipients);
        keep.sort();
        keep.dedup();
        InboundPlan { keep, forward: Vec::new() }
    }
}

/// How deep a chain of internal forwards may go.
const MAX_CHAIN: usize = 10;

impl Mail {
    /// Applies forwarding to the mailboxes a message was routed to.
    ///
    /// `came_through` holds the addresses (lower case) of mailboxes this
    /// message already left through by forwarding — the protocol reads them
    /// from [`FORWARDED_BY`] fields it can verify (they carry a keyed hash,
    /// so a sender can't name a mailbox to stop its forwarding).
    pub async fn plan_inbound(
        &self,
        mailboxes: &[MailboxId],
        came_through: &BTreeSet<String>,
    ) -> CoreResult<InboundPlan> {
        let forwarded_by = came_through;
        let mut plan = InboundPlan::default();
        let mut visited: BTreeSet<MailboxId> = BTreeSet::new();
        let mut pending: Vec<(MailboxId, usize)> = mailboxes.iter().map(|&m| (m, 0)).collect();
        while let Some((mailbox, depth)) = pending.pop() {
            if !visited.insert(mailbox) {
                continue;
            }
            let settings = self.dir.mailbox_settings(mailbox).await?;
            let owner = self.dir.recipient(mailbox.principal()).await?;
            let came_through = forwarded_by.contains(&owner.primary_address.to_string().to_ascii_lowercase());
            let target = if let Some(principal) = settings.forwarding_recipient {
                Some(Target::Internal(principal))
            } else {
                settings.forwarding_smtp_address.clone().map(Target::Address)
            };
            let Some(target) = target.filter(|_| !came_through && depth < MAX_CHAIN) else {
                if came_through {
                    tracing::info!(mailbox = %owner.primary_address, "forwarding loop broken: kept here");
                }
                plan.keep.push(mailbox);
                continue;
            };
            if settings.deliver_to_mailbox_and_forward {
                plan.keep.push(mailbox);
            }
            let internal = match target {
                Target::Internal(principal) => Some(principal),
                Target::Address(address) => match self.dir.resolve_address(&address).await? {
                    Some(recipient) => Some(recipient.id),
                    None if self.dir.is_accepted_domain(address.domain()).await? => {
                        tracing::warn!(mailbox = %owner.primary_address, to = %address, "forwarding address doesn't exist; kept here");
                        if !settings.deliver_to_mailbox_and_forward {
                            plan.keep.push(mailbox);
                        }
                        None
                    }
                    None => {
                        plan.forward.push((address, owner.primary_address.clone()));
                        None
                    }
                },
            };
            if let Some(principal) = internal {
                let next = self.mailboxes_of(&self.dir.recipient(principal).await?).await?;
                // A target already on the chain closes a loop: the message
                // stays here rather than going round (or getting lost).
                if next.iter().any(|m| visited.contains(m)) && !settings.deliver_to_mailbox_and_forward {
                    tracing::info!(mailbox = %owner.primary_address, "forwarding loop broken: kept here");
                    plan.keep.push(mailbox);
                }
                for next in next.into_iter().filter(|m| !visited.contains(m)) {
                    pending.push((next, depth + 1));
                }
            }
        }
        plan.keep.sort_unstable();
        plan.keep.dedup();
        Ok(plan)
    }
}

enum Target {
    Internal(PrincipalId),
    Address(EmailAddress),
}
