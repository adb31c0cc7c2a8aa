//! CREATE (RFC 9051 §6.3.4). In the user's own mailbox, or in a shared one
//! they hold Full Access on (SPEC §2: "create ... items in every folder").
//! Missing parents are created too ("a/b/c" makes "a" and "a/b").

use mailroom_core::CoreError;

use crate::DELIMITER;
use crate::respond::{Status, status};
use crate::session::Session;

impl Session {
    pub(crate) async fn create(&mut self, tag: &str, name: &str) {
        let Some(user) = self.user() else { return };
        let (mailbox, _prefix, path) = match self.place(&user, name).await {
            Ok(place) => place,
            Err(err) => return self.name_error(tag, name, err),
        };
        if !crate::names::valid_new_path(&path) {
            self.fail(status(Some(tag), Status::No, Some("CANNOT"), "That name can't be a folder"));
            return;
        }
        if path == "INBOX" {
            self.fail(status(Some(tag), Status::No, Some("ALREADYEXISTS"), "INBOX always exists"));
            return;
        }
        let parts: Vec<&str> = path.split(DELIMITER).collect();
        let mut created = None;
        for depth in 1..=parts.len() {
            let partial = parts[..depth].join(&DELIMITER.to_string());
            let last = depth == parts.len();
            if !last && partial == "INBOX" {
                continue;
            }
            match self.server.mail.create_folder(&mailbox, &partial).await {
                Ok(folder) => created = Some(folder),
                // An existing parent is fine; the folder itself is not.
                Err(CoreError::NameInUse { .. }) if !last => {}
                Err(err) => return self.name_error(tag, name, err.into()),
            }
        }
        tracing::info!(session = self.id, folder = %name, "folder created");
        self.notify_own_names(&[name]).await;
        // RFC 8474 §4.1: the new folder's MAILBOXID.
        let code = created.map(|folder| format!("MAILBOXID ({})", super::status::mailbox_id_of(&folder)));
        self.conn.send(&status(Some(tag), Status::Ok, code.as_deref(), "CREATE completed"));
    }
}
