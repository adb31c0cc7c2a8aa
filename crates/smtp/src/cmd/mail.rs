//! MAIL FROM (RFC 5321 §4.1.1.2): starts a transaction.

use mailroom_types::EmailAddress;
use smtp_proto::{
    MAIL_BODY_BINARYMIME, MAIL_BY_NOTIFY, MAIL_BY_RETURN, MAIL_BY_TRACE, MAIL_CONPERM, MAIL_REQUIRETLS,
    MAIL_RET_FULL, MAIL_RET_HDRS, MAIL_SMTPUTF8, MailFrom,
};

use crate::reply::Reply;
use crate::session::{Session, Transaction};

/// Parameters of extensions this server does not advertise (§4.1.1.11: 555).
const UNADVERTISED_FLAGS: u64 = MAIL_BODY_BINARYMIME
    | MAIL_RET_FULL
    | MAIL_RET_HDRS
    | MAIL_REQUIRETLS
    | MAIL_CONPERM
    | MAIL_BY_NOTIFY
    | MAIL_BY_RETURN
    | MAIL_BY_TRACE;

impl Session {
    pub(crate) fn mail(&mut self, from: MailFrom<String>) {
        if self.helo.is_none() {
            self.fail(Reply::bad_sequence("Send EHLO or HELO first"));
            return;
        }
        if self.tx.is_some() {
            self.fail(Reply::bad_sequence("Sender already given; RSET to start over"));
            return;
        }
        if self.submission() && self.user.is_none() {
            // RFC 4954 §6: submission only after AUTH.
            self.fail(Reply::auth_required());
            return;
        }
        if !self.esmtp && has_parameters(&from) {
            // RFC 5321 §4.1.1.11: parameters only after EHLO.
            self.fail(Reply::unsupported_parameter("(MAIL parameters need EHLO, not HELO)"));
            return;
        }
        // RFC 4954 §5: on submission AUTH= is accepted and, as this server
        // trusts no other server's word on who sent a message, ignored.
        let mut from = from;
        if self.submission() {
            from.auth = None;
        }
        if let Some(param) = unadvertised_parameter(&from) {
            self.fail(Reply::unsupported_parameter(param));
            return;
        }
        let max = self.server.config.max_message_size;
        if from.size > max {
            // RFC 1870 §6.3: refuse at MAIL when the declared size is too big.
            self.fail(Reply::message_too_big(max));
            return;
        }
        let smtputf8 = from.flags & MAIL_SMTPUTF8 != 0;
        let sender = if from.address.is_empty() {
            None
        } else {
            if !from.address.is_ascii() && !smtputf8 {
                self.fail(Reply::utf8_needs_smtputf8());
                return;
            }
            match EmailAddress::parse(&from.address) {
                Ok(address) => Some(address),
                Err(_) => {
                    self.fail(Reply::bad_sender_syntax());
                    return;
                }
            }
        };
        self.tx = Some(Transaction {
            from: sender,
            smtputf8,
            rcpts: Vec::new(),
            rcpt_attempts: 0,
            mailboxes: Default::default(),
            remote: Vec::new(),
            chunks: None,
        });
        self.reply(Reply::sender_ok());
    }
}

fn has_parameters(from: &MailFrom<String>) -> bool {
    from.flags != 0 || from.size != 0 || unadvertised_parameter(from).is_some()
}

fn unadvertised_parameter(from: &MailFrom<String>) -> Option<&'static str> {
    if from.flags & UNADVERTISED_FLAGS != 0 || from.env_id.is_some() {
        return Some("(DSN, BINARYMIME, REQUIRETLS, CONPERM and DELIVERBY are not offered here)");
    }
    if from.auth.is_some() {
        return Some("AUTH= (not offered here)");
    }
    if from.hold_for != 0 || from.hold_until != 0 || from.mt_priority != 0 || from.mtrk.is_some() {
        return Some("(FUTURERELEASE, MT-PRIORITY and MTRK are not offered here)");
    }
    None
}
