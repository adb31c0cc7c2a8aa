//! NOOP (RFC 9051 §6.1.2) and the updates every command can carry: new
//! messages (EXISTS) and messages gone (EXPUNGE) in the selected folder,
//! whoever caused them (another member, an SMTP delivery).

use std::collections::BTreeSet;

use crate::respond::{Status, status, untagged};
use crate::session::Session;

impl Session {
    pub(crate) async fn noop(&mut self, tag: &str, command: &str) {
        self.report_changes().await;
        self.conn.send(&status(Some(tag), Status::Ok, None, &format!("{command} completed")));
    }

    /// Brings the client's view of the selected folder up to date.
    pub(crate) async fn report_changes(&mut self) {
        let Some(selected) = self.selected().cloned() else { return };
        let Ok(messages) = self.server.mail.store().messages(selected.target.folder.id).await else { return };
        let now: Vec<_> = messages.iter().map(|m| m.uid).collect();
        let present: BTreeSet<_> = now.iter().copied().collect();
        let mut uids = selected.uids.clone();
        // Highest message number first: each EXPUNGE renumbers those above it.
        for index in (0..uids.len()).rev() {
            if !present.contains(&uids[index]) {
                uids.remove(index);
                self.conn.send(&untagged(&format!("{} EXPUNGE", index + 1)));
            }
        }
        let known: BTreeSet<_> = uids.iter().copied().collect();
        let arrived: Vec<_> = now.into_iter().filter(|uid| !known.contains(uid)).collect();
        if !arrived.is_empty() {
            uids.extend(arrived);
            uids.sort_unstable();
            self.conn.send(&untagged(&format!("{} EXISTS", uids.len())));
        }
        let mut updated = selected;
        updated.uids = uids;
        self.set_selected(Some(updated));
    }
}
