//! CLOSE and UNSELECT (RFC 9051 §6.4.1, §6.4.2): leave the selected folder;
//! CLOSE also removes its `\Deleted` messages when it was opened read-write.

use crate::respond::{Status, status};
use crate::session::Session;

impl Session {
    pub(crate) async fn close(&mut self, tag: &str, expunge: bool) {
        let Some(selected) = self.selected().cloned() else { return };
        self.change_selected(None);
        // RFC 4314 §4: without the right to expunge, CLOSE just closes.
        // CLOSE has no NO (RFC 9051 §6.4.2): an expunge refused (Recoverable
        // Items full) is said untagged, the folder is closed all the same,
        // and its messages keep \Deleted.
        if expunge
            && !selected.read_only
            && selected.target.open.rights().expunge
            && let Err(err) = self.server.mail.expunge(&selected.target.open, None).await
        {
            match err {
                err @ mailroom_core::CoreError::RecoverableItemsFull { .. } => {
                    self.conn.send(&crate::respond::untagged(&format!("NO [OVERQUOTA] {err}")));
                }
                err => return self.name_error(tag, &selected.target.name, err.into()),
            }
        }
        let command = if expunge { "CLOSE" } else { "UNSELECT" };
        self.conn.send(&status(Some(tag), Status::Ok, None, &format!("{command} completed")));
    }
}
