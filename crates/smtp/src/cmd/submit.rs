//! The end of a submitted message (RFC 6409): the shared sending pipeline
//! (`mailroom_send`: core's decision on Send As / Send on Behalf, the header
//! rewritten, forwarding and automatic replies, stored before the answer)
//! does the work; this maps its refusals to SMTP replies.

use mailroom_core::mail::{MessageSummary, SubmitRefusal};

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
        let sending = mailroom_send::Sending {
            hostname: self.hostname(),
            srs_secret: self.server.config.srs_secret.expose(),
        };
        let routed: Vec<_> = tx.mailboxes.iter().copied().collect();
        let outgoing = mailroom_send::Outgoing {
            principal: user.principal,
            envelope_from: tx.from.as_ref(),
            local: &routed,
            remote: &tx.remote,
            message,
            summary,
            id,
            // The client files its own copy (IMAP APPEND), as clients do.
            own_sent_items: None,
        };
        let sent = mailroom_send::send(&self.server.mail, sending, outgoing).await;
        drop(reservation);
        match sent {
            Ok(sent) => {
                tracing::info!(
                    session = %self.id, message = %id, size = sent.size, copies = sent.copies,
                    login = %user.login, from = %sent.submission.from, authority = ?sent.submission.authority,
                    // The client is recorded here, not in the message (SPEC §2: Send As leaves no trace of the person).
                    peer = %self.peer, helo = self.helo.as_deref().unwrap_or(""),
                    queued = tx.remote.len(),
                    "message submitted"
                );
                self.reply(Reply::queued(id));
            }
            Err(mailroom_send::SendError::Refused(refusal)) => {
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
            }
            Err(mailroom_send::SendError::Failed(err)) => {
                tracing::error!(session = %self.id, message = %id, error = %err, "submission failed; nothing acknowledged");
                self.fail(Reply::local_error());
            }
        }
    }
}
