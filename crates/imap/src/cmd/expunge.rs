//! EXPUNGE and UID EXPUNGE (RFC 9051 §6.4.3, RFC 4315 §2.1): remove the
//! `\Deleted` messages and report each with its message number, highest
//! first so the numbers stay right as they shift.

use imap_codec::imap_types::sequence::SequenceSet;

use crate::respond::{Status, status};
use crate::sequence::pick;
use crate::session::Session;

impl Session {
    pub(crate) async fn expunge(&mut self, tag: &str, only: Option<&SequenceSet>) {
        let Some(selected) = self.selected_for(tag, None, true) else { return };
        let uids: Option<Vec<_>> =
            only.map(|set| pick(set, &selected.uids, true).into_iter().map(|(_, uid)| uid).collect());
        let target = &selected.target;
        if let Err(err) = self.server.mail.expunge(&target.open, uids.as_deref()).await {
            return self.name_error(tag, &target.name, err.into());
        }
        self.report_changes().await;
        let command = if only.is_some() { "UID EXPUNGE" } else { "EXPUNGE" };
        self.conn.send(&status(Some(tag), Status::Ok, None, &format!("{command} completed")));
    }
}
