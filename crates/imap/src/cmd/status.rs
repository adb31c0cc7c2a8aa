//! STATUS (RFC 9051 §6.3.11): counters of a folder without selecting it.

use imap_codec::imap_types::status::StatusDataItemName;

use crate::respond::{Status, status, untagged};
use crate::session::Session;

impl Session {
    /// STATUS; `mailbox_id` for RFC 8474's MAILBOXID item (read before
    /// imap-codec, `crate::status_items`).
    pub(crate) async fn status(
        &mut self,
        tag: &str,
        name: &str,
        items: &[StatusDataItemName],
        mailbox_id: bool,
    ) {
        match self.status_line(name, items, mailbox_id).await {
            Ok(line) => {
                self.conn.send(&untagged(&line));
                self.conn.send(&status(Some(tag), Status::Ok, None, "STATUS completed"));
            }
            Err(err) => self.name_error(tag, name, err),
        }
    }

    /// `STATUS "name" (...)` for a folder the user may use (also LIST-STATUS).
    pub(crate) async fn status_line(
        &mut self,
        name: &str,
        items: &[StatusDataItemName],
        mailbox_id: bool,
    ) -> Result<String, crate::names::NameError> {
        let Some(user) = self.user() else { return Err(crate::names::NameError::NonExistent) };
        let target = self.resolve(&user, name).await?;
        let counts =
            self.server.mail.folder_counts(&target.open).await.map_err(crate::names::NameError::Core)?;
        Ok(self.status_text(&target.name, target.folder(), &counts, items, mailbox_id))
    }

    /// `STATUS "name" (...)` from a folder and its counters.
    pub(crate) fn status_text(
        &self,
        name: &str,
        folder: &mailroom_core::mail::Folder,
        counts: &mailroom_core::mail::FolderCounts,
        items: &[StatusDataItemName],
        mailbox_id: bool,
    ) -> String {
        let mut values = Vec::new();
        for item in items {
            let value = match item {
                StatusDataItemName::Messages => format!("MESSAGES {}", counts.messages),
                // RFC 3501 §6.3.10: the messages no session claimed yet.
                StatusDataItemName::Recent => format!("RECENT {}", counts.recent),
                StatusDataItemName::UidNext => format!("UIDNEXT {}", folder.uid_next.0),
                StatusDataItemName::UidValidity => format!("UIDVALIDITY {}", folder.uid_validity),
                StatusDataItemName::Unseen => format!("UNSEEN {}", counts.unseen),
                StatusDataItemName::Deleted => format!("DELETED {}", counts.deleted),
                StatusDataItemName::DeletedStorage => format!("DELETED-STORAGE {}", counts.deleted_size),
                // RFC 8438 STATUS=SIZE (part of IMAP4rev2).
                StatusDataItemName::Size => format!("SIZE {}", counts.size),
                StatusDataItemName::HighestModSeq => format!("HIGHESTMODSEQ {}", folder.highest_modseq.0),
            };
            values.push(value);
        }
        if mailbox_id {
            values.push(format!("MAILBOXID ({})", mailbox_id_of(folder)));
        }
        format!("STATUS {} ({})", self.name_to_client(name), values.join(" "))
    }
}

/// A folder's MAILBOXID (RFC 8474 §4): `F` and its id, which a rename keeps
/// and no other folder ever gets (ids are never reused).
pub(crate) fn mailbox_id_of(folder: &mailroom_core::mail::Folder) -> String {
    format!("F{}", folder.id.0)
}
