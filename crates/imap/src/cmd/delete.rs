//! DELETE (RFC 9051 §6.3.5). `core` keeps the default folders (as in
//! Exchange); a folder's messages go to Recoverable Items.

use crate::respond::{Status, status};
use crate::session::Session;

impl Session {
    pub(crate) async fn delete(&mut self, tag: &str, name: &str) {
        let Some(user) = self.user() else { return };
        let target = match self.resolve(&user, name).await {
            Ok(target) => target,
            Err(err) => return self.name_error(tag, name, err),
        };
        // Deselected only once deleted: a refused DELETE (a default folder,
        // Recoverable Items full) leaves the session where it was.
        if let Err(err) = self.server.mail.delete_folder(&target.open).await {
            return self.name_error(tag, name, err.into());
        }
        if self.selected().is_some_and(|s| s.target.open.id() == target.open.id()) {
            self.change_selected(None);
        }
        tracing::info!(session = self.id, folder = %target.name, "folder deleted");
        self.notify_own_names(&[name]).await;
        self.conn.send(&status(Some(tag), Status::Ok, None, "DELETE completed"));
    }
}
