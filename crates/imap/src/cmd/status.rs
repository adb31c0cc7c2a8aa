//! STATUS (RFC 9051 §6.3.11): counters of a folder without selecting it.

use imap_codec::imap_types::status::StatusDataItemName;
use mailroom_core::mail::SystemFlag;

use crate::respond::{Status, status, untagged};
use crate::session::Session;

impl Session {
    pub(crate) async fn status(&mut self, tag: &str, name: &str, items: &[StatusDataItemName]) {
        match self.status_line(name, items).await {
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
    ) -> Result<String, crate::names::NameError> {
        let Some(user) = self.user() else { return Err(crate::names::NameError::NonExistent) };
        let target = self.resolve(&user, name).await?;
        let messages = self
            .server
            .mail
            .store()
            .messages(target.folder.id)
            .await
            .map_err(|err| crate::names::NameError::Core(err.into()))?;
        let folder = &target.folder;
        let mut values = Vec::new();
        for item in items {
            let value = match item {
                StatusDataItemName::Messages => format!("MESSAGES {}", messages.len()),
                StatusDataItemName::Recent => "RECENT 0".to_string(),
                StatusDataItemName::UidNext => format!("UIDNEXT {}", folder.uid_next.0),
                StatusDataItemName::UidValidity => format!("UIDVALIDITY {}", folder.uid_validity),
                StatusDataItemName::Unseen => {
                    format!("UNSEEN {}", messages.iter().filter(|m| !m.flags.has(SystemFlag::Seen)).count())
                }
                StatusDataItemName::Deleted => {
                    format!(
                        "DELETED {}",
                        messages.iter().filter(|m| m.flags.has(SystemFlag::Deleted)).count()
                    )
                }
                StatusDataItemName::DeletedStorage => format!(
                    "DELETED-STORAGE {}",
                    messages.iter().filter(|m| m.flags.has(SystemFlag::Deleted)).map(|m| m.size).sum::<u64>()
                ),
                // RFC 8438 STATUS=SIZE (part of IMAP4rev2).
                StatusDataItemName::Size => {
                    format!("SIZE {}", messages.iter().map(|m| m.size).sum::<u64>())
                }
                StatusDataItemName::HighestModSeq => format!("HIGHESTMODSEQ {}", folder.highest_modseq.0),
            };
            values.push(value);
        }
        Ok(format!("STATUS {} ({})", self.name_to_client(&target.name), values.join(" ")))
    }
}
