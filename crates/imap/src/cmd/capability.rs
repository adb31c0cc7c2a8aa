//! CAPABILITY (RFC 9051 §6.1.1).

use crate::respond::{Status, status, untagged};
use crate::session::Session;

impl Session {
    pub(crate) fn capability(&mut self, tag: &str) {
        let caps = format!("CAPABILITY {}", self.capabilities());
        self.conn.send(&untagged(&caps));
        self.conn.send(&status(Some(tag), Status::Ok, None, "CAPABILITY completed"));
    }
}
