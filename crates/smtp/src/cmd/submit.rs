//! The end of a submitted message (RFC 6409): `core` decides whether the
//! signed-in person may send as its `From:` and envelope sender (own
//! address, Send As, Send on Behalf — SPEC §2), the header is rewritten as
//! that decision says, and the message is stored for its local recipients
//! (and in the shared mailbox's Sent Items when the mailbox asks for it)
//! before the `250`.

use mailroom_core::mail::{MessageSummary, Outbound, SubmitRefusal};
use mailroom_mime::{edit_header, has_field, summarize};

use crate::reply::Reply;
use crate::session::{Session, Transaction};
use mailroom_core::budget::Reservation;

impl Session {
    pub(crate) async fn submit(
        &mut self,
        tx: Transaction,
        message: Vec<u8>,
        summary: MessageSummary,
        id: &str,
        reservation: Reservation,
    ) {
        let Some(user) = self.user.clone() else {
            self.fail(Reply::auth_required());
            return;
        };
        let decided = self.server.mail.authorize_submission(user.principal, tx.from.as_ref(), &summary).await;
        let submission = match decided {
            Ok(submission) => submission,
            Err(refusal) => {
                tracing::info!(session = %self.id, login = %user.login, reason = %refusal, "submission refused");
                let reply = match refusal {
                    SubmitRefusal::SignedOut => {
                        // Whatever comes next needs a new sign-in, which fails.
                        self.user = None;
                        Reply::signed_out(&refusal.to_string())
                    }
                    SubmitRefusal::NotPermitted { .. } => Reply::send_as_denied(),
                    SubmitRefusal::OverSendQuota { .. } => Reply::over_send_quota(&refusal.to_string()),
                    SubmitRefusal::NoFrom => Reply::no_from_header(),
                    SubmitRefusal::SeveralFrom => Reply::send_as_denied(),
                    SubmitRefusal::Header(problem) => Reply::header_problem(problem),
                    SubmitRefusal::Core(err) => {
                        tracing::error!(session = %self.id, error = %err, "submission check failed");
                        Reply::local_error()
                    }
                };
                self.fail(reply);
                return;
            }
        };
        // The header as the decision says: no client `Sender:`, the server's
        // on Send on Behalf; and a Date and Message-ID if the client left
        // them out (RFC 6409 §8).
        let mut add = Vec::new();
        if let Some(sender) = &submission.sender_header {
            add.push(format!("Sender: {sender}"));
        }
        if !has_field(&message, "Date") {
            add.push(format!("Date: {}", chrono::Utc::now().format("%a, %d %b %Y %H:%M:%S +0000")));
        }
        if !has_field(&message, "Message-ID") {
            add.push(format!("Message-ID: <{id}@{}>", self.hostname()));
        }
        // Parsed again only when the header changed.
        let (message, summary) = if add.is_empty() && !has_field(&message, "Sender") {
            (message, summary)
        } else {
            let edited = edit_header(&message, &["Sender"], &add);
            let summary = summarize(&edited);
            (edited, summary)
        };
        let size = message.len();
        let routed: Vec<_> = tx.mailboxes.iter().copied().collect();
        // Local recipients' forwarding applies to submitted mail too.
        let plan = match self.server.mail.plan_inbound(&routed, &Default::default()).await {
            Ok(plan) => plan,
            Err(err) => {
                tracing::error!(session = %self.id, error = %err, "forwarding not worked out; nothing acknowledged");
                self.fail(Reply::local_error());
                return;
            }
        };
        let secret = self.server.config.srs_secret.expose().clone();
        let mut copies = super::deliver::forward_copies(&secret, &message, tx.from.as_ref(), &plan.forward);
        let local = plan.keep;
        // Colleagues' automatic replies, stored with the message.
        match self.server.mail.auto_reply_copies(tx.from.as_ref(), &summary, &local).await {
            Ok(replies) => copies.extend(replies),
            Err(err) => {
                tracing::error!(session = %self.id, error = %err, "automatic replies not worked out; nothing acknowledged");
                self.fail(Reply::local_error());
                return;
            }
        }
        let outbound = Outbound { envelope_from: tx.from.clone(), recipients: tx.remote.clone() };
        let stored = self
            .server
            .mail
            .store_submission(message, &summary, &submission, &local, &outbound, copies)
            .await;
        drop(reservation);
        match stored {
            Ok(copies) => {
                tracing::info!(
                    session = %self.id, message = %id, size, copies = copies.len(),
                    login = %user.login, from = %submission.from, authority = ?submission.authority,
                    // The client is recorded here, not in the message (SPEC §2: Send As leaves no trace of the person).
                    peer = %self.peer, helo = self.helo.as_deref().unwrap_or(""),
                    queued = tx.remote.len(),
                    "message submitted"
                );
                self.reply(Reply::queued(id));
            }
            Err(err) => {
                tracing::error!(session = %self.id, message = %id, error = %err, "submission failed; nothing acknowledged");
                self.fail(Reply::local_error());
            }
        }
    }
}
