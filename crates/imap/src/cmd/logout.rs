//! LOGOUT (RFC 9051 §6.1.3): BYE, then the tagged OK, then close.

use crate::respond::{Status, status, untagged};
use crate::session::{Flow, Session};

impl Session {
    pub(crate) fn logout(&mut self, tag: &str) -> Flow {
        if let Some(user) = self.user() {
            tracing::debug!(session = self.id, login = %user.login, "imap logout");
        }
        self.conn.send(&untagged("BYE Logging out"));
        self.conn.send(&status(Some(tag), Status::Ok, None, "LOGOUT completed"));
        Flow::Close
    }
}
