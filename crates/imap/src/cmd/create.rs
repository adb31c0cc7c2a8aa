//! CREATE (RFC 9051 §6.3.4). In the user's own mailbox, or in a shared one
//! they hold Full Access on (SPEC §2: "create ... items in every folder").
//! Missing parents are created too ("a/b/c" makes "a" and "a/b").

use mailroom_core::store::StoreError;

use crate::DELIMITER;
use crate::names::NameError;
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
        if path == "INBOX" || path.starts_with("INBOX/") && path.len() == 5 {
            self.fail(status(Some(tag), Status::No, Some("ALREADYEXISTS"), "INBOX always exists"));
            return;
        }
        let existing = match self.server.mail.folders(mailbox).await {
            Ok(folders) => folders,
            Err(err) => return self.name_error(tag, name, err.into()),
        };
        let exists = |p: &str| existing.iter().any(|f| f.name.eq_ignore_ascii_case(p));
        if exists(&path) {
            self.fail(status(
                Some(tag),
                Status::No,
                Some("ALREADYEXISTS"),
                &format!("{name} already exists"),
            ));
            return;
        }
        let parts: Vec<&str> = path.split(DELIMITER).collect();
        for depth in 1..=parts.len() {
            let partial = parts[..depth].join(&DELIMITER.to_string());
            if depth < parts.len() && (exists(&partial) || partial == "INBOX") {
                continue;
            }
            match self.server.mail.store().create_folder(mailbox, &partial).await {
                Ok(_) => {}
                // A parent made meanwhile is fine; the folder itself is not.
                Err(StoreError::NameTaken { .. }) if depth < parts.len() => {}
                Err(StoreError::NameTaken { .. }) => {
                    self.fail(status(
                        Some(tag),
                        Status::No,
                        Some("ALREADYEXISTS"),
                        &format!("{name} already exists"),
                    ));
                    return;
                }
                Err(err) => return self.name_error(tag, name, NameError::Core(err.into())),
            }
        }
        tracing::info!(session = self.id, folder = %name, "folder created");
        self.conn.send(&status(Some(tag), Status::Ok, None, "CREATE completed"));
    }
}
