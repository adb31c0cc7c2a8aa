//! LOGOUT (RFC 9051 §6.1.3): BYE, then the tagged OK, then close.

use crate::respond::{Status, status, untagged};
use crate::session::{Flow, Session};

impl Session {
    pub(crate) fn logout(&mut self, tag: &str) -> Flow {
        self.conn.send(&untagged("BYE Logging out"));
        self.conn.send(&status(Some(tag), Status::Ok, None, "LOGOUT completed"));
        Flow::Close
    }
}
