//! ID (RFC 2971): the server names itself; what the client sends is only logged.

use crate::respond::{Status, quoted, status, untagged};
use crate::session::Session;

impl Session {
    pub(crate) fn id(&mut self, tag: &str) {
        let line = format!(
            "ID ({} {} {} {})",
            quoted("name"),
            quoted("Mailroom"),
            quoted("version"),
            quoted(env!("CARGO_PKG_VERSION"))
        );
        self.conn.send(&untagged(&line));
        self.conn.send(&status(Some(tag), Status::Ok, None, "ID completed"));
    }
}
