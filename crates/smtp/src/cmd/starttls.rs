//! STARTTLS (RFC 3207).

use crate::reply::Reply;
use crate::session::{Flow, Session};

impl Session {
    pub(crate) async fn starttls(&mut self) -> Flow {
        let Some(acceptor) = self.server.tls.clone() else {
            self.fail(Reply::tls_unavailable());
            return Flow::Continue;
        };
        if self.conn.is_tls() {
            self.fail(Reply::tls_already_active());
            return Flow::Continue;
        }
        if self.conn.has_buffered_input() {
            // Commands sent with STARTTLS in plaintext would otherwise run as
            // if they came over TLS (the CVE-2011-0411 injection).
            self.fail(Reply::bad_sequence("Commands pipelined after STARTTLS; closing connection"));
            return Flow::Close;
        }
        self.conn.reply(&Reply::ready_for_tls());
        match self.conn.start_tls(&acceptor).await {
            Ok(()) => {
                // §4.2: the client starts over with EHLO; nothing carries across.
                self.helo = None;
                self.esmtp = false;
                self.tx = None;
                // Including a sign-in made in plaintext (RFC 3207 §4.2).
                self.user = None;
                Flow::Continue
            }
            Err(err) => {
                tracing::info!(session = %self.id, error = %err, "TLS handshake failed");
                Flow::Close
            }
        }
    }
}
