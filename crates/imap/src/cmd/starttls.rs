//! STARTTLS (RFC 9051 §6.2.1).

use crate::respond::{Status, status};
use crate::session::{Flow, Session, State};

impl Session {
    pub(crate) async fn starttls(&mut self, tag: &str) -> Flow {
        let Some(acceptor) = self.server.tls.clone() else {
            self.fail(status(Some(tag), Status::No, None, "TLS is not available"));
            return Flow::Continue;
        };
        if self.conn.is_tls() || matches!(self.state, State::Authenticated { .. }) {
            self.fail(status(Some(tag), Status::Bad, None, "STARTTLS only before signing in, without TLS"));
            return Flow::Continue;
        }
        self.conn.send(&status(Some(tag), Status::Ok, None, "Begin TLS negotiation now"));
        // Anything pipelined after STARTTLS came in plaintext: `start_tls`
        // drops it unread (the CVE-2011-0411 injection).
        match self.conn.start_tls(&acceptor).await {
            Ok(()) => Flow::Continue,
            Err(err) => {
                tracing::info!(session = self.id, error = %err, "TLS handshake failed");
                Flow::Close
            }
        }
    }
}
