//! RCPT TO (RFC 5321 §4.1.1.3): each recipient decided by `core`.

use mailroom_core::mail::{RecipientRoute, Submitter};
use mailroom_types::EmailAddress;
use smtp_proto::RcptTo;

use crate::reply::Reply;
use crate::session::Session;

impl Session {
    pub(crate) async fn rcpt(&mut self, to: RcptTo<String>, line: &[u8]) {
        let max = self.server.config.max_recipients;
        let Some(tx) = self.tx.as_mut() else {
            self.fail(Reply::bad_sequence("Need MAIL before RCPT"));
            return;
        };
        if tx.chunks.is_some() {
            self.fail(Reply::bad_sequence("RCPT not allowed during a BDAT transfer"));
            return;
        }
        // Every attempt counts: repeating an accepted (cheap to send,
        // expensive to expand) group address must not go on forever.
        tx.rcpt_attempts += 1;
        if tx.rcpt_attempts > max {
            self.fail(Reply::too_many_recipients(max));
            return;
        }
        if to.address.is_empty() && is_bare_postmaster(line) {
            // RFC 5321 §4.5.1: "RCPT TO:<Postmaster>" (no domain) MUST be accepted.
            match self.server.mail.directory().default_domain().await {
                Ok(domain) => {
                    let address = EmailAddress::from_parts("postmaster", domain);
                    self.route(address, "postmaster").await;
                }
                Err(err) => {
                    tracing::error!(session = %self.id, error = %err, "default domain lookup failed");
                    self.fail(Reply::local_error());
                }
            }
            return;
        }
        let Some(tx) = self.tx.as_ref() else { return };
        if to.flags != 0 || to.orcpt.is_some() {
            self.fail(Reply::unsupported_parameter("NOTIFY/ORCPT (DSN is not offered here)"));
            return;
        }
        if !to.address.is_ascii() && !tx.smtputf8 {
            self.fail(Reply::utf8_needs_smtputf8());
            return;
        }
        let Ok(address) = EmailAddress::parse(&to.address) else {
            self.fail(Reply::bad_recipient_syntax());
            return;
        };
        self.route(address, &to.address).await;
    }

    /// Asks `core` where one recipient goes and records the answer.
    async fn route(&mut self, address: EmailAddress, as_given: &str) {
        let submitter = match (&self.user, &self.tx) {
            (Some(user), _) => Submitter::SignedIn(user.principal),
            (None, tx) => {
                Submitter::Anonymous { null_sender: tx.as_ref().is_some_and(|tx| tx.from.is_none()) }
            }
        };
        // A bounce of mail we forwarded comes back to its SRS address; what
        // is behind it is read here (the key is this protocol's), and core
        // decides whether it counts.
        let (directory, secret) =
            (self.server.mail.directory().clone(), self.server.config.srs_secret.expose().clone());
        let srs = match submitter {
            Submitter::Anonymous { null_sender: true } => {
                srs_original(directory, secret, address.clone()).await
            }
            _ => None,
        };
        let route = match self.server.mail.route_recipient(submitter, &address, srs).await {
            Ok(route) => route,
            Err(err) => {
                tracing::error!(session = %self.id, error = %err, "recipient lookup failed");
                self.fail(Reply::local_error());
                return;
            }
        };
        let reply = match route {
            RecipientRoute::Deliver(mailboxes) => {
                let Some(tx) = self.tx.as_mut() else { return };
                if !tx.rcpts.contains(&address) {
                    tx.rcpts.push(address);
                }
                tx.mailboxes.extend(mailboxes);
                Reply::recipient_ok()
            }
            RecipientRoute::Queue(to) => {
                let Some(tx) = self.tx.as_mut() else { return };
                // Once per transaction, however often it is named.
                if !tx.rcpts.contains(&address) {
                    tx.rcpts.push(address);
                    tx.remote.push(to);
                }
                Reply::recipient_ok()
            }
            RecipientRoute::Unknown => Reply::unknown_user(),
            RecipientRoute::RelayDenied => Reply::relay_denied(),
            RecipientRoute::MailboxFull => Reply::mailbox_full(),
        };
        tracing::debug!(session = %self.id, rcpt = %as_given, code = reply.code, "rcpt");
        self.reply(reply);
    }
}

/// `RCPT TO:<Postmaster>`, which smtp-proto reads as an empty address.
fn is_bare_postmaster(line: &[u8]) -> bool {
    let lower = line.to_ascii_lowercase();
    lower.windows(12).any(|w| w == b"<postmaster>")
}

/// The original address behind an SRS address in one of our domains.
pub(crate) async fn srs_original(
    directory: mailroom_core::Directory,
    secret: Vec<u8>,
    address: EmailAddress,
) -> Option<EmailAddress> {
    if !address.local_part().to_ascii_uppercase().starts_with("SRS0=") {
        return None;
    }
    if !directory.is_accepted_domain(address.domain()).await.unwrap_or(false) {
        return None;
    }
    let today = chrono::Utc::now().timestamp() / 86_400;
    mailroom_send::srs::reverse(address.local_part(), &secret, today)
}
