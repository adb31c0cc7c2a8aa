//! RCPT TO (RFC 5321 §4.1.1.3): each recipient decided by `core`.

use mailroom_core::mail::InboundRoute;
use mailroom_types::EmailAddress;
use smtp_proto::RcptTo;

use crate::reply::Reply;
use crate::session::Session;

impl Session {
    pub(crate) async fn rcpt(&mut self, to: RcptTo<String>) {
        let max = self.server.config.max_recipients;
        let Some(tx) = self.tx.as_mut() else {
            self.fail(Reply::bad_sequence("Need MAIL before RCPT"));
            return;
        };
        if tx.chunks.is_some() {
            self.fail(Reply::bad_sequence("RCPT not allowed during a BDAT transfer"));
            return;
        }
        tx.rcpt_attempts += 1;
        if tx.rcpts.len() >= max {
            self.fail(Reply::too_many_recipients(max));
            return;
        }
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
        let route = match self.server.mail.route_inbound(&address).await {
            Ok(route) => route,
            Err(err) => {
                tracing::error!(session = %self.id, error = %err, "recipient lookup failed");
                self.fail(Reply::local_error());
                return;
            }
        };
        let reply = match route {
            InboundRoute::Deliver(mailboxes) => {
                let Some(tx) = self.tx.as_mut() else { return };
                if !tx.rcpts.contains(&address) {
                    tx.rcpts.push(address);
                }
                for mailbox in mailboxes {
                    if !tx.mailboxes.contains(&mailbox) {
                        tx.mailboxes.push(mailbox);
                    }
                }
                Reply::recipient_ok()
            }
            InboundRoute::Unknown => Reply::unknown_user(),
            InboundRoute::Relay => Reply::relay_denied(),
            InboundRoute::MailboxFull => Reply::mailbox_full(),
        };
        tracing::debug!(session = %self.id, rcpt = %to.address, code = reply.code, "rcpt");
        self.reply(reply);
    }
}
