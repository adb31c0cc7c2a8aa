//! RENAME (RFC 9051 §6.3.6), with the folder's children. Within one mailbox
//! only; `core` keeps the default folders' names, renames a tree in one
//! transaction, and renames INBOX as the RFC says: its messages move into a
//! new folder and INBOX stays, empty — also in one transaction.

use crate::respond::{Status, status};
use crate::session::Session;

impl Session {
    pub(crate) async fn rename(&mut self, tag: &str, from: &str, to: &str) {
        let Some(user) = self.user() else { return };
        let source = match self.resolve(&user, from).await {
            Ok(target) => target,
            Err(err) => return self.name_error(tag, from, err),
        };
        let (mailbox, _prefix, path) = match self.place(&user, to).await {
            Ok(place) => place,
            Err(err) => return self.name_error(tag, to, err),
        };
        if mailbox.mailbox() != source.mailbox() {
            self.fail(status(Some(tag), Status::No, Some("CANNOT"), "Folders can't move between mailboxes"));
            return;
        }
        if path == "INBOX" || !crate::names::valid_new_path(&path) {
            self.fail(status(Some(tag), Status::No, Some("CANNOT"), "That name can't be a folder"));
            return;
        }
        if let Err(err) = self.server.mail.rename_folder(&source.open, &path).await {
            return self.name_error(tag, to, err.into());
        }
        if self.selected().is_some_and(|s| s.target.open.id() == source.open.id()) {
            // The selected folder has a new name (or, for INBOX, new
            // contents): what changed reaches the client as usual.
            self.report_changes().await;
        }
        self.notify_own_names(&[from, to]).await;
        self.conn.send(&status(Some(tag), Status::Ok, None, "RENAME completed"));
    }
}
