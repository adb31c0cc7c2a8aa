//! RENAME (RFC 9051 §6.3.6), with the folder's children. Within one mailbox
//! only; `core` keeps the default folders' names. Renaming INBOX moves its
//! messages into a new folder and leaves INBOX empty, as the RFC says.

use crate::DELIMITER;
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
        if mailbox != source.mailbox {
            self.fail(status(Some(tag), Status::No, Some("CANNOT"), "Folders can't move between mailboxes"));
            return;
        }
        if path == "INBOX" || !crate::names::valid_new_path(&path) {
            self.fail(status(Some(tag), Status::No, Some("CANNOT"), "That name can't be a folder"));
            return;
        }
        let mail = self.server.mail.clone();
        if source.folder.special_use == Some(mailroom_core::mail::SpecialUse::Inbox) {
            let created = match mail.create_folder(mailbox, &path).await {
                Ok(folder) => folder,
                Err(err) => return self.name_error(tag, to, err.into()),
            };
            let uids: Vec<_> = match mail.store().messages(source.folder.id).await {
                Ok(messages) => messages.iter().map(|m| m.uid).collect(),
                Err(err) => return self.store_error(tag, from, err),
            };
            if let Err(err) = mail.move_messages(mailbox, source.folder.id, &uids, mailbox, created.id).await
            {
                return self.name_error(tag, from, err.into());
            }
            self.conn.send(&status(Some(tag), Status::Ok, None, "RENAME completed"));
            return;
        }
        let folders = match mail.folders(mailbox).await {
            Ok(folders) => folders,
            Err(err) => return self.name_error(tag, from, err.into()),
        };
        let old = source.folder.name.clone();
        let children: Vec<_> = folders
            .iter()
            .filter(|f| {
                f.name.get(..old.len()).is_some_and(|head| head.eq_ignore_ascii_case(&old))
                    && f.name.get(old.len()..).is_some_and(|rest| rest.starts_with(DELIMITER))
            })
            .cloned()
            .collect();
        if let Err(err) = mail.rename_folder(&source.folder, &path).await {
            return self.name_error(tag, to, err.into());
        }
        for child in children {
            let renamed = format!("{path}{}", child.name.get(old.len()..).unwrap_or_default());
            if let Err(err) = mail.rename_folder(&child, &renamed).await {
                return self.name_error(tag, to, err.into());
            }
        }
        self.conn.send(&status(Some(tag), Status::Ok, None, "RENAME completed"));
    }
}
