//! EHLO / HELO (RFC 5321 §4.1.1.1): greet, reset the transaction, and list
//! the extensions.

use crate::reply::Reply;
use crate::session::Session;

impl Session {
    pub(crate) fn ehlo(&mut self, host: String, esmtp: bool) {
        if host.trim().is_empty() {
            self.fail(Reply::syntax("EHLO needs the client's domain or address literal"));
            return;
        }
        // §4.1.4: EHLO in the middle of a transaction clears it, like RSET.
        self.tx = None;
        self.helo = Some(host);
        self.esmtp = esmtp;
        let hostname = self.hostname().to_string();
        if !esmtp {
            self.reply(Reply::plain(250, hostname));
            return;
        }
        let config = &self.server.config;
        let mut lines = vec![
            format!("{hostname} at your service"),
            "PIPELINING".into(),                         // RFC 2920
            format!("SIZE {}", config.max_message_size), // RFC 1870
            "8BITMIME".into(),                           // RFC 6152
            "SMTPUTF8".into(),                           // RFC 6531
            "ENHANCEDSTATUSCODES".into(),                // RFC 2034
            "CHUNKING".into(),                           // RFC 3030
        ];
        if self.server.tls.is_some() && !self.conn.is_tls() {
            lines.push("STARTTLS".into()); // RFC 3207
        }
        if self.submission() && self.auth_allowed() {
            lines.push("AUTH PLAIN LOGIN".into()); // RFC 4954
        }
        self.reply(Reply { code: 250, status: None, lines });
    }
}
