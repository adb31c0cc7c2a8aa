//! The outbound queue's rules (SPEC §3): remote recipients are queued in
//! the transaction that accepts the message; a sender (the `smtp` crate's
//! delivery worker) tries them, and `core` says when to try again, when to
//! give up, and where a delivery status notification goes.

use std::time::Duration;

use mailroom_types::{EmailAddress, MailboxId};

use super::{InboundRoute, Mail, MessageSummary, NewActivity};
use crate::error::CoreResult;
use crate::store::{Claim, Delivered, DeliveryTarget, FolderRef, NewMessage, NewQueued, QueueEntry};

/// The remote recipients of one message and its envelope sender.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outbound {
    /// `None`: the null sender `<>` (a notification; never bounced).
    pub envelope_from: Option<EmailAddress>,
    pub recipients: Vec<EmailAddress>,
}

/// A message caused by a delivery (a forwarded copy, a bounce going back
/// through SRS, an automatic reply): its bytes and where they go. Stored in
/// the delivery's transaction.
#[derive(Clone, Debug)]
pub struct OutgoingCopy {
    pub bytes: Vec<u8>,
    pub summary: MessageSummary,
    /// Recipients in other domains, through the outbound queue.
    pub outbound: Outbound,
    /// Mailboxes here whose Inbox gets it (an automatic reply to a colleague).
    pub local: Vec<MailboxId>,
    /// Stored only if this wasn't claimed before ([`crate::store::Claim`]).
    pub claim: Option<Claim>,
}

impl OutgoingCopy {
    /// A copy for other domains only.
    pub fn remote(bytes: Vec<u8>, summary: MessageSummary, outbound: Outbound) -> Self {
        OutgoingCopy { bytes, summary, outbound, local: Vec::new(), claim: None }
    }

    /// The store's message: into the local Inboxes, queued for the rest.
    fn into_message(self, now: i64) -> NewMessage {
        let targets: Vec<DeliveryTarget> = self
            .local
            .iter()
            .map(|&mailbox| DeliveryTarget {
                mailbox,
                folder: FolderRef::Special(super::SpecialUse::Inbox),
                flags: super::Flags::default(),
            })
            .collect();
        let queue = self.outbound.queued(now);
        let activity = super::activity::delivered(&targets, &self.summary);
        NewMessage {
            bytes: self.bytes,
            summary: self.summary,
            internal_date: now,
            targets,
            queue,
            claim: self.claim,
            activity,
        }
    }
}

impl Outbound {
    /// Its queue entries, each due at `now`.
    fn queued(&self, now: i64) -> Vec<NewQueued> {
        self.recipients
            .iter()
            .map(|recipient| NewQueued {
                envelope_from: self.envelope_from.clone(),
                recipient: recipient.clone(),
                next_attempt: now,
            })
            .collect()
    }
}

/// When to try again and when to give up (RFC 5321 §4.5.4.1: retry at
/// least 30 minutes apart after the first few, give up after 4–5 days;
/// mail between organisations today expects an answer within about two).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The waits after the 1st, 2nd, ... failed attempt; the last repeats.
    pub waits: Vec<Duration>,
    /// After this long in the queue a recipient is bounced.
    pub expire_after: Duration,
    /// After this long the sender is told, once, that it is delayed.
    pub delay_notice_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        let minutes = |m: u64| Duration::from_secs(m * 60);
        RetryPolicy {
            waits: vec![
                minutes(1),
                minutes(5),
                minutes(15),
                minutes(30),
                minutes(60),
                minutes(120),
                minutes(240),
            ],
            expire_after: Duration::from_secs(2 * 24 * 3600),
            delay_notice_after: Duration::from_secs(4 * 3600),
        }
    }
}

/// What to do after a failed attempt at one recipient.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AfterFailure {
    /// Try again at this time (Unix seconds); `notify_delay`: tell the
    /// sender now that it is delayed (once, past `delay_notice_after`).
    Retry { at: i64, notify_delay: bool },
    /// Give up: bounce to the sender.
    Bounce,
}

impl RetryPolicy {
    /// A temporary failure of `entry` at `now`.
    pub fn after_temporary_failure(&self, entry: &QueueEntry, now: i64) -> AfterFailure {
        let age = now.saturating_sub(entry.created);
        if age >= self.expire_after.as_secs() as i64 {
            return AfterFailure::Bounce;
        }
        let index = (entry.attempts as usize).min(self.waits.len().saturating_sub(1));
        let wait = self.waits.get(index).map_or(60, |w| w.as_secs() as i64).max(1);
        let notify_delay = !entry.delay_notified
            && entry.envelope_from.is_some()
            && age >= self.delay_notice_after.as_secs() as i64;
        AfterFailure::Retry { at: now + wait, notify_delay }
    }
}

impl Mail {
    /// The store write for a message with remote recipients (the sender
    /// worker hears of them through the change feed).
    pub(super) async fn store_and_queue(
        &self,
        bytes: Vec<u8>,
        summary: &MessageSummary,
        targets: &[DeliveryTarget],
        outbound: &Outbound,
        copies: Vec<OutgoingCopy>,
        activity: Vec<NewActivity>,
    ) -> CoreResult<Vec<Delivered>> {
        if targets.is_empty() && outbound.recipients.is_empty() && copies.is_empty() {
            return Ok(Vec::new());
        }
        if outbound.recipients.is_empty() && copies.is_empty() {
            return self.store_local(bytes, summary, targets, activity).await;
        }
        self.store_with_copies(bytes, summary, targets.to_vec(), outbound, copies, activity).await
    }

    /// A delivery and its outgoing copies, in one store transaction.
    pub(super) async fn store_with_copies(
        &self,
        bytes: Vec<u8>,
        summary: &MessageSummary,
        targets: Vec<DeliveryTarget>,
        outbound: &Outbound,
        copies: Vec<OutgoingCopy>,
        activity: Vec<NewActivity>,
    ) -> CoreResult<Vec<Delivered>> {
        let now = chrono::Utc::now().timestamp();
        let queue = outbound.queued(now);
        let mut batch = vec![NewMessage {
            bytes,
            summary: summary.clone(),
            internal_date: now,
            targets,
            queue,
            claim: None,
            activity,
        }];
        batch.extend(copies.into_iter().map(|copy| copy.into_message(now)));
        let stored = self.store.deliver_batch(batch, &[]).await?;
        Ok(stored.into_iter().flat_map(|(_, d)| d).collect())
    }

    /// The outbound queue, oldest first; only entries due at `due_by`
    /// (Unix seconds) when given.
    pub async fn queue(&self, due_by: Option<i64>) -> CoreResult<Vec<QueueEntry>> {
        Ok(self.store.queued(due_by).await?)
    }

    /// Claims what is due now for `node` to send (at most `limit` entries):
    /// entries no live node is sending. Several nodes sending from one
    /// queue each send their own (SPEC §6).
    pub async fn claim_due(&self, node: &str, now: i64, limit: usize) -> CoreResult<Vec<QueueEntry>> {
        let stale_before = now - crate::cluster::DOWN_AFTER;
        Ok(self.store.claim_due(node, now, stale_before, limit).await?)
    }

    /// The message a queue entry holds.
    pub async fn queued_message(&self, entry: &QueueEntry) -> CoreResult<Vec<u8>> {
        Ok(self.store.read_blob(entry.blob).await?)
    }

    /// A failed attempt, and when to try again.
    pub async fn queue_retry(&self, id: i64, at: i64, error: &str, delay_notified: bool) -> CoreResult<()> {
        Ok(self.store.queue_retry(id, at, error, delay_notified).await?)
    }

    /// An admin's retry: due now (the sender hears of it through the
    /// change feed); `false` if there is no such entry.
    pub async fn queue_due_now(&self, id: i64) -> CoreResult<bool> {
        Ok(self.store.queue_due_now(id).await?)
    }

    /// Removes an entry that was sent; `false` if it was gone.
    pub async fn queue_remove(&self, id: i64) -> CoreResult<bool> {
        Ok(self.store.queue_remove(id).await?)
    }

    /// An admin's retry of queue entry `id` (`Retry-Queue`): due now.
    /// `NotFound` when there is no such entry.
    pub async fn retry_queued(&self, actor: &crate::directory::Actor, id: i64) -> CoreResult<()> {
        self.dir.require_admin(actor).await?;
        if !self.queue_due_now(id).await? {
            return Err(crate::CoreError::NotFound { identity: format!("queue entry {id}") });
        }
        Ok(())
    }

    /// An admin's deletion of queue entry `id`: it won't be sent, and its
    /// sender isn't told. `NotFound` when there is no such entry.
    pub async fn delete_queued(&self, actor: &crate::directory::Actor, id: i64) -> CoreResult<()> {
        self.dir.require_admin(actor).await?;
        if !self.queue_remove(id).await? {
            return Err(crate::CoreError::NotFound { identity: format!("queue entry {id}") });
        }
        Ok(())
    }

    /// Gives up on queue entries: the notification to their sender (when
    /// there is one to send) and their removal, in one transaction — a
    /// crash can't drop the entries unreported or report them twice.
    pub async fn bounce(
        &self,
        notice: Option<(&EmailAddress, Vec<u8>, &MessageSummary)>,
        entries: &[i64],
    ) -> CoreResult<()> {
        let mut batch = Vec::new();
        if let Some((to, bytes, summary)) = notice
            && let Some((local, outbound)) = self.notice_route(to).await?
        {
            let notice = OutgoingCopy { bytes, summary: summary.clone(), outbound, local, claim: None };
            batch.push(notice.into_message(chrono::Utc::now().timestamp()));
        }
        self.store.deliver_batch(batch, entries).await?;
        Ok(())
    }

    /// Sends a notification (a DSN) to `to`: into the mailbox if the
    /// address is ours, else into the outbound queue from the null sender,
    /// so a notification is never answered by another (RFC 3464 §2, RFC
    /// 5321 §6.1). An address of ours that no longer exists drops it.
    pub async fn deliver_notice(
        &self,
        to: &EmailAddress,
        bytes: Vec<u8>,
        summary: &MessageSummary,
    ) -> CoreResult<()> {
        match self.notice_route(to).await? {
            Some((local, _)) if !local.is_empty() => {
                self.deliver(bytes, summary, &local).await?;
            }
            Some((_, outbound)) => {
                self.store_and_queue(bytes, summary, &[], &outbound, Vec::new(), Vec::new()).await?;
            }
            None => {}
        }
        Ok(())
    }

    /// Where a notification to `to` goes: the mailbox here (one mailbox
    /// only: addressed to a group it would reach all its members, and a
    /// sender could name a group on purpose), or the queue from the null
    /// sender; `None` when it can't be delivered (logged).
    pub(super) async fn notice_route(
        &self,
        to: &EmailAddress,
    ) -> CoreResult<Option<(Vec<MailboxId>, Outbound)>> {
        if let Some(recipient) = self.dir.resolve_address(to).await?
            && !recipient.kind.has_mailbox()
        {
            tracing::warn!(to = %to, "notification to a group dropped");
            return Ok(None);
        }
        Ok(match self.route_inbound(to).await? {
            InboundRoute::Deliver(mailboxes) => Some((mailboxes, Outbound::default())),
            InboundRoute::Relay => {
                Some((Vec::new(), Outbound { envelope_from: None, recipients: vec![to.clone()] }))
            }
            InboundRoute::Unknown | InboundRoute::MailboxFull => {
                tracing::warn!(to = %to, "notification dropped: its recipient can't receive it");
                None
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mailroom_types::BlobId;

    fn entry(attempts: u32, created: i64, delay_notified: bool) -> QueueEntry {
        QueueEntry {
            id: 1,
            blob: BlobId([0; 32]),
            envelope_from: Some(EmailAddress::parse("a@contoso.com").unwrap()),
            recipient: EmailAddress::parse("b@fabrikam.example").unwrap(),
            created,
            attempts,
            next_attempt: created,
            last_error: None,
            delay_notified,
            lease_node: None,
        }
    }

    #[test]
    fn waits_grow_then_repeat_and_old_mail_bounces() {
        let policy = RetryPolicy::default();
        assert_eq!(
            policy.after_temporary_failure(&entry(0, 0, false), 10),
            AfterFailure::Retry { at: 70, notify_delay: false }
        );
        assert_eq!(
            policy.after_temporary_failure(&entry(2, 0, false), 10),
            AfterFailure::Retry { at: 910, notify_delay: false }
        );
        // Past the schedule the last wait repeats.
        assert_eq!(
            policy.after_temporary_failure(&entry(40, 0, false), 10),
            AfterFailure::Retry { at: 10 + 4 * 3600, notify_delay: false }
        );
        // Four hours in: tell the sender, once.
        assert_eq!(
            policy.after_temporary_failure(&entry(5, 0, false), 4 * 3600),
            AfterFailure::Retry { at: 4 * 3600 + 7200, notify_delay: true }
        );
        assert_eq!(
            policy.after_temporary_failure(&entry(5, 0, true), 4 * 3600),
            AfterFailure::Retry { at: 4 * 3600 + 7200, notify_delay: false }
        );
        // Two days in: bounce.
        assert_eq!(policy.after_temporary_failure(&entry(9, 0, true), 2 * 24 * 3600), AfterFailure::Bounce);
    }
}
