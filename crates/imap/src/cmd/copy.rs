//! COPY, MOVE and their UID forms (RFC 9051 §6.4.7, RFC 6851, RFC 4315
//! COPYUID): into any folder the user may use — their own or a shared
//! mailbox's — bodies shared, never duplicated.

use imap_codec::imap_types::sequence::SequenceSet;

use crate::respond::{Status, status};
use crate::sequence::{compact, pick};
use crate::session::Session;

impl Session {
    pub(crate) async fn copy(
        &mut self,
        tag: &str,
        set: &SequenceSet,
        destination: &str,
        by_uid: bool,
        moving: bool,
    ) {
        let Some(user) = self.user() else { return };
        // A MOVE out of Recoverable Items is a restore, which reading
        // allows: it works where the rights made the folder READ-ONLY
        // (RFC 4314 §5.2), though not after EXAMINE.
        let restoring = self.selected().is_some_and(|s| s.target.open.is_recoverable() && !s.examined);
        let writes = moving && !restoring;
        let Some(selected) = self.selected_for(tag, Some((set, by_uid)), writes) else { return };
        let target = match self.resolve(&user, destination).await {
            Ok(target) => target,
            // RFC 9051 §6.4.7: TRYCREATE when the destination doesn't exist
            // and could be created.
            Err(crate::names::NameError::NonExistent) => {
                return self.missing_destination(tag, &user, destination).await;
            }
            Err(err) => return self.name_error(tag, destination, err),
        };
        let uids: Vec<_> = pick(set, &selected.uids, by_uid).into_iter().map(|(_, uid)| uid).collect();
        let source = &selected.target;
        let copied = if moving {
            self.server.mail.move_messages(&source.open, &uids, &target.open).await.map(|(copied, _)| copied)
        } else {
            self.server.mail.copy(&source.open, &uids, &target.open).await
        };
        let copied = match copied {
            Ok(copied) => copied,
            Err(err) => return self.name_error(tag, destination, err.into()),
        };
        let code = if copied.pairs.is_empty() {
            None
        } else {
            let from: Vec<u32> = copied.pairs.iter().map(|(s, _)| s.0).collect();
            let to: Vec<u32> = copied.pairs.iter().map(|(_, d)| d.0).collect();
            Some(format!("COPYUID {} {} {}", copied.uid_validity, compact(&from), compact(&to)))
        };
        self.notify_own_added(target.open.id(), copied.pairs.iter().map(|&(_, new)| new));
        let command = match (by_uid, moving) {
            (false, false) => "COPY",
            (true, false) => "UID COPY",
            (false, true) => "MOVE",
            (true, true) => "UID MOVE",
        };
        if moving {
            // RFC 6851 §4.3: COPYUID in an untagged OK, then the EXPUNGEs.
            if let Some(code) = &code {
                self.conn.send(&crate::respond::untagged(&format!("OK [{code}] Moved")));
            }
            self.report_changes().await;
            self.conn.send(&status(Some(tag), Status::Ok, None, &format!("{command} completed")));
        } else {
            self.conn.send(&status(Some(tag), Status::Ok, code.as_deref(), &format!("{command} completed")));
        }
    }
}
