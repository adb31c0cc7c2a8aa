//! NAMESPACE (RFC 2342, RFC 9051 §6.3.10): the user's own folders at the
//! root, the shared mailboxes they may open under `Shared/` (SPEC §4), no
//! "other users" namespace.

use crate::respond::{Status, quoted, status, untagged};
use crate::session::Session;
use crate::{DELIMITER, SHARED_PREFIX};

impl Session {
    pub(crate) fn namespace(&mut self, tag: &str) {
        let delimiter = quoted(&DELIMITER.to_string());
        let line = format!("NAMESPACE ((\"\" {delimiter})) NIL (({} {delimiter}))", quoted(SHARED_PREFIX));
        self.conn.send(&untagged(&line));
        self.conn.send(&status(Some(tag), Status::Ok, None, "NAMESPACE completed"));
    }
}
