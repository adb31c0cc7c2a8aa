//! The end of data (DATA's final dot, BDAT LAST): trace header, parse once,
//! deliver durably, then — and only then — `250`.

use mailroom_core::budget::Reservation;
use mailroom_core::mail::{
    Disposition, DmarcEnforcement, FilterVerdict, MessageSummary, OwnOrigin, SenderRefusal, SpecialUse,
};
use mailroom_mime::summarize;
use mailroom_types::DomainName;

use crate::body::BodyProblem;
use crate::received::{Protocol, Trace};
use crate::reply::Reply;
use crate::session::{Session, Transaction};

/// RFC 5321 §6.3: more Received fields than this means a loop.
const MAX_HOPS: usize = 50;

/// Messages larger than this are parsed off the async threads.
const PARSE_INLINE_LIMIT: usize = 256 * 1024;

impl Session {
    /// How a refused body is answered.
    pub(crate) fn refusal(&self, problem: BodyProblem) -> Reply {
        let config = &self.server.config;
        match problem {
            BodyProblem::TooBig => Reply::message_too_big(config.max_message_size),
            BodyProblem::LineTooLong => Reply::data_line_too_long(config.max_line_length),
            BodyProblem::NoMemory => Reply::no_memory_now(),
        }
    }

    /// `reservation` is the message's share of the memory budget, held
    /// until the store has it.
    pub(crate) async fn finish(
        &mut self,
        tx: Transaction,
        body: Result<Vec<u8>, BodyProblem>,
        reservation: Reservation,
    ) {
        let mut message = match body {
            Ok(body) => body,
            Err(problem) => {
                let reply = self.refusal(problem);
                self.fail(reply);
                return;
            }
        };
        if received_count(&message) > MAX_HOPS {
            self.fail(Reply::too_many_hops());
            return;
        }
        let id = self.next_message_id();
        let for_rcpt = match tx.rcpts.as_slice() {
            [only] => Some(only.to_string()),
            _ => None,
        };
        // Submitted mail names no client: Send As shows the recipient only
        // the shared mailbox (SPEC §2), so the person's machine and address
        // go to the log ("message submitted"), not into the message.
        let from_client =
            (!self.submission()).then(|| (self.helo.as_deref().unwrap_or("unknown"), self.peer.ip()));
        let trace = Trace {
            from: from_client,
            by: self.hostname(),
            protocol: Protocol {
                esmtp: self.esmtp,
                tls: self.conn.is_tls(),
                utf8: tx.smtputf8,
                auth: self.user.is_some(),
            },
            id: &id,
            for_rcpt: for_rcpt.as_deref(),
            date: chrono::Utc::now(),
        }
        .header();
        // In place: growing buffers leave room, so usually no second copy.
        message.splice(0..0, trace);
        let (message, summary) = if message.len() > PARSE_INLINE_LIMIT {
            match tokio::task::spawn_blocking(move || {
                let summary = summarize(&message);
                (message, summary)
            })
            .await
            {
                Ok(parsed) => parsed,
                Err(err) => {
                    tracing::error!(session = %self.id, error = %err, "message parsing task failed");
                    self.fail(Reply::local_error());
                    return;
                }
            }
        } else {
            let summary = summarize(&message);
            (message, summary)
        };
        if self.submission() {
            return self.submit(tx, message, summary, &id, reservation).await;
        }
        let mailboxes: Vec<_> = tx.mailboxes.iter().copied().collect();
        let secret = self.server.config.srs_secret.expose().clone();
        let came_through = mailroom_send::srs::verified_forwarded_by(
            summary
                .headers
                .iter()
                .filter(|(name, _)| name.eq_ignore_ascii_case(mailroom_core::mail::FORWARDED_BY))
                .map(|(_, value)| value.as_str()),
            &secret,
            chrono::Utc::now().timestamp() / 86_400,
        );
        // Nobody signed in: no address of ours as a sender, unless it is
        // ours coming back (core decides; we say what we could verify).
        let envelope_is_our_srs = match &tx.from {
            Some(from) => {
                let directory = self.server.mail.directory().clone();
                super::rcpt::srs_original(directory, secret.clone(), from.clone()).await.is_some()
            }
            None => false,
        };
        let trusted_relay = self.server.config.trusted_relays.iter().any(|net| net.contains(self.peer.ip()));
        let origin = OwnOrigin { trusted_relay, envelope_is_our_srs, forwarded_by: came_through.clone() };
        if let Err(refusal) =
            self.server.mail.check_anonymous_sender(tx.from.as_ref(), &summary, &origin).await
        {
            let reply = match &refusal {
                SenderRefusal::OwnAddress { .. } | SenderRefusal::SeveralFields { .. } => {
                    Reply::sender_refused(&refusal.to_string())
                }
                SenderRefusal::Header(problem) => Reply::header_problem(*problem),
                SenderRefusal::Core(err) => {
                    tracing::error!(session = %self.id, message = %id, error = %err, "sender check failed; nothing acknowledged");
                    Reply::local_error()
                }
            };
            tracing::info!(session = %self.id, message = %id, peer = %self.peer, reason = %refusal, "anonymous sender refused");
            self.fail(reply);
            return;
        }
        // Forwarding (SPEC §3): who keeps a copy, and what leaves for other
        // domains — both durable before the 250.
        let plan = match self.server.mail.plan_inbound(&mailboxes, &came_through).await {
            Ok(plan) => plan,
            Err(err) => {
                tracing::error!(session = %self.id, message = %id, error = %err, "forwarding not worked out; nothing acknowledged");
                self.fail(Reply::local_error());
                return;
            }
        };
        let (mut message, mut summary) = (message, summary);
        let checked = self
            .check_sender(&tx, &id, &mut message, &mut summary, &plan.forward, origin.trusted_relay)
            .await;
        let (into, seals) = match checked {
            Checked::Deliver { into, seals } => (into, seals),
            Checked::Refused(reply) => {
                self.fail(reply);
                return;
            }
        };
        let plan = match into {
            SpecialUse::Junk => plan.for_junk(&mailboxes),
            _ => plan,
        };
        let size = message.len();
        // The copies this delivery causes for other domains — forwarded
        // copies, and bounces to our SRS addresses going back to the
        // original sender (see rcpt.rs) — are stored with it, in one
        // transaction: a retry after a failure can't queue them twice.
        let mut copies =
            mailroom_send::forward_copies(&secret, &message, tx.from.as_ref(), &plan.forward, &seals);
        if !tx.remote.is_empty() {
            let outbound =
                mailroom_core::mail::Outbound { envelope_from: None, recipients: tx.remote.clone() };
            copies.push(mailroom_core::mail::OutgoingCopy::remote(
                message.clone(),
                summary.clone(),
                outbound,
            ));
        }
        // Automatic replies too: stored with the message, or not at all.
        // Junk gets none (RFC 3834 §2: don't answer what may be forged).
        let answered: &[_] = if into == SpecialUse::Junk { &[] } else { &mailboxes };
        match self.server.mail.auto_reply_copies(tx.from.as_ref(), &summary, answered).await {
            Ok(replies) => copies.extend(replies),
            Err(err) => {
                tracing::error!(session = %self.id, message = %id, error = %err, "automatic replies not worked out; nothing acknowledged");
                self.fail(Reply::local_error());
                return;
            }
        }
        let delivered =
            self.server.mail.deliver_with_copies(message, &summary, &plan.keep, into, copies).await;
        drop(reservation);
        match delivered {
            Ok(copies) => {
                tracing::info!(
                    session = %self.id, message = %id, size, copies = copies.len(),
                    from = %tx.from.as_ref().map(|a| a.to_string()).unwrap_or_else(|| "<>".into()),
                    folder = into.folder_name(),
                    "message delivered"
                );
                self.reply(Reply::queued(&id));
            }
            Err(err) => {
                tracing::error!(session = %self.id, message = %id, error = %err, "delivery failed; nothing acknowledged");
                self.fail(Reply::local_error());
            }
        }
    }
}

/// What the sender checks decided.
enum Checked {
    Deliver { into: SpecialUse, seals: Vec<(DomainName, String)> },
    Refused(Reply),
}

impl Session {
    /// Sender authentication and the spam filter, when configured: the
    /// `Authentication-Results:` field put on top of `message` (and into
    /// `summary`), the ARC sets for the forwarded copies, and `core`'s
    /// decision on where the message goes.
    async fn check_sender(
        &mut self,
        tx: &Transaction,
        id: &str,
        message: &mut Vec<u8>,
        summary: &mut MessageSummary,
        forward: &[(mailroom_types::EmailAddress, mailroom_types::EmailAddress)],
        trusted_relay: bool,
    ) -> Checked {
        let config = &self.server.config;
        let mut checks = None;
        let mut seals = Vec::new();
        let mut enforcement = DmarcEnforcement::Monitor;
        let hostname = self.hostname();
        // Removed whether or not we check: a client must never find a
        // forged field of ours on the message (RFC 8601 §5).
        if let Some(clean) = mailroom_mailauth::strip_forged_results(message, hostname) {
            tracing::info!(session = %self.id, message = %id, "removed Authentication-Results fields claiming to be ours");
            *message = clean;
            *summary = summarize(message);
        }
        if let Some(auth) = &config.authentication {
            let mut seal_as: Vec<DomainName> = forward.iter().map(|(_, by)| by.domain().clone()).collect();
            seal_as.sort();
            seal_as.dedup();
            let arrival = mailroom_mailauth::Arrival {
                ip: self.peer.ip(),
                helo: self.helo.as_deref().unwrap_or(""),
                mail_from: tx.from.as_ref(),
                hostname,
            };
            let directory = self.server.mail.directory();
            let checking = mailroom_mailauth::verify(&auth.dns, directory, message, arrival, &seal_as);
            // A large message's body hashes (DKIM, ARC) take a while: its
            // checks run with this worker handed over to the others, as its
            // parse does (the current-thread runtime of a test can't).
            let on_many_threads = tokio::runtime::Handle::current().runtime_flavor()
                == tokio::runtime::RuntimeFlavor::MultiThread;
            let verified = if message.len() > PARSE_INLINE_LIMIT && on_many_threads {
                tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(checking))
            } else {
                checking.await
            };
            tracing::info!(session = %self.id, message = %id, results = %verified.summary, "sender authentication");
            mailroom_mime::prepend_fields(message, summary, &verified.header);
            checks = Some(verified.checks);
            seals = verified.seals;
            // A relay the admin trusts to send as the organisation (a
            // scanner, an application) isn't in our SPF and doesn't sign:
            // its mail is recorded, never junked or refused for DMARC.
            if !trusted_relay {
                enforcement = auth.enforcement_for(&tx.rcpts);
            }
        }
        if let Some(filter) = &config.filter {
            let from = tx.from.as_ref().map(|a| a.to_string()).unwrap_or_default();
            let rcpts: Vec<String> = tx.rcpts.iter().map(|r| r.to_string()).collect();
            let envelope = crate::filter::Envelope {
                ip: self.peer.ip(),
                helo: self.helo.as_deref().unwrap_or(""),
                from: &from,
                rcpts: &rcpts,
                queue_id: id,
            };
            let checked = crate::filter::check(filter, &envelope, message).await;
            if let Some((score, required)) = checked.score {
                tracing::info!(session = %self.id, message = %id, score, required, verdict = ?checked.verdict, "spam filter");
            }
            let checks = checks.get_or_insert(mailroom_core::mail::SenderChecks {
                dmarc: mailroom_core::mail::DmarcOutcome::None,
                policy: mailroom_core::mail::DmarcPolicy::None,
                from_domain: None,
                several_author_domains: false,
                filter: FilterVerdict::Clean,
            });
            checks.filter = checked.verdict;
        }
        let Some(checks) = checks else {
            return Checked::Deliver { into: SpecialUse::Inbox, seals };
        };
        match mailroom_core::mail::disposition(&checks, enforcement) {
            Disposition::Inbox => Checked::Deliver { into: SpecialUse::Inbox, seals },
            Disposition::Junk { reason } => {
                tracing::info!(session = %self.id, message = %id, reason, "delivered to Junk Email");
                Checked::Deliver { into: SpecialUse::Junk, seals }
            }
            Disposition::Defer { reason } => {
                tracing::info!(session = %self.id, message = %id, peer = %self.peer, reason, "message deferred");
                Checked::Refused(Reply::policy_deferred(&reason))
            }
            Disposition::Refuse { reason } => {
                tracing::info!(session = %self.id, message = %id, peer = %self.peer, reason, "message refused");
                Checked::Refused(Reply::policy_refused(&reason))
            }
        }
    }
}

/// How many `Received:` fields the header section has.
fn received_count(message: &[u8]) -> usize {
    message
        .split(|&b| b == b'\n')
        .take_while(|line| !line.is_empty() && *line != b"\r")
        .filter(|line| line.len() >= 9 && line[..9].eq_ignore_ascii_case(b"received:"))
        .count()
}

#[cfg(test)]
mod tests {
    use super::received_count;

    #[test]
    fn counts_received_in_the_header_only() {
        let m = b"Received: a\r\nreceived: b\r\n c\r\nSubject: x\r\n\r\nReceived: body\r\n";
        assert_eq!(received_count(m), 2);
    }
}
