//! SELECT and EXAMINE (RFC 9051 §6.3.2, §6.3.3): open a folder, read-write
//! or read-only. A shared folder opens only with Full Access, checked now.

use mailroom_core::mail::SystemFlag;

use crate::respond::{Status, status, untagged};
use crate::session::{Selected, Session};

const SYSTEM_FLAGS: &str = "\\Answered \\Flagged \\Deleted \\Seen \\Draft";

impl Session {
    pub(crate) async fn select(
        &mut self,
        tag: &str,
        name: &str,
        read_only: bool,
        resync: Option<super::enable::Resync>,
    ) {
        let Some(user) = self.user() else { return };
        if self.selected().is_some() {
            // RFC 9051 §6.3.2: the previous mailbox closes first (no expunge).
            self.set_selected(None);
            self.conn.send(&untagged("OK [CLOSED] Previous mailbox is now closed"));
        }
        let target = match self.resolve(&user, name).await {
            Ok(target) => target,
            Err(err) => return self.name_error(tag, name, err),
        };
        let messages = match self.server.mail.store().messages(target.folder.id).await {
            Ok(messages) => messages,
            Err(err) => return self.store_error(tag, name, err),
        };
        let mut keywords: Vec<&str> =
            messages.iter().flat_map(|m| m.flags.keywords.iter().map(String::as_str)).collect();
        keywords.sort_unstable();
        keywords.dedup();
        let flags =
            std::iter::once(SYSTEM_FLAGS).chain(keywords.iter().copied()).collect::<Vec<_>>().join(" ");
        self.conn.send(&untagged(&format!("FLAGS ({flags})")));
        let permanent = if read_only { String::new() } else { format!("{flags} \\*") };
        self.conn.send(&untagged(&format!("OK [PERMANENTFLAGS ({permanent})] Flags permitted")));
        self.conn.send(&untagged(&format!("{} EXISTS", messages.len())));
        // RFC 9051 §6.3.2: IMAP4rev2 dropped RECENT and the UNSEEN code.
        if !self.rev2 {
            self.conn.send(&untagged("0 RECENT"));
            if let Some(first_unseen) = messages.iter().position(|m| !m.flags.has(SystemFlag::Seen)) {
                self.conn.send(&untagged(&format!("OK [UNSEEN {}] First unseen", first_unseen + 1)));
            }
        }
        let folder = &target.folder;
        self.conn.send(&untagged(&format!("OK [UIDVALIDITY {}] UIDs valid", folder.uid_validity)));
        self.conn.send(&untagged(&format!("OK [UIDNEXT {}] Predicted next UID", folder.uid_next.0)));
        // RFC 7162 §3.1.2.1: every SELECT/EXAMINE of a server with CONDSTORE.
        self.conn.send(&untagged(&format!("OK [HIGHESTMODSEQ {}] Highest", folder.highest_modseq.0)));
        let uids = crate::uidmap::UidMap::from_sorted(messages.iter().map(|m| m.uid));
        let (code, command) = if read_only { ("READ-ONLY", "EXAMINE") } else { ("READ-WRITE", "SELECT") };
        let seen_modseq = target.folder.highest_modseq;
        let uid_validity = target.folder.uid_validity;
        self.set_selected(Some(Selected { target, read_only, uids, seen_modseq }));
        // RFC 7162 §3.2.5: resynchronise a client that knows this folder.
        if let Some(resync) = resync
            && resync.uid_validity == uid_validity
        {
            let since = resync.modseq;
            self.report_vanished_earlier(since, resync.known_uids.as_ref()).await;
            for (index, message) in messages.iter().enumerate().filter(|(_, m)| m.modseq.0 > since) {
                let line = format!(
                    "{} FETCH (UID {} FLAGS {} MODSEQ ({}))",
                    index + 1,
                    message.uid.0,
                    super::fetch::flag_list(&message.flags),
                    message.modseq.0
                );
                self.conn.send(&untagged(&line));
            }
        }
        self.conn.send(&status(Some(tag), Status::Ok, Some(code), &format!("{command} completed")));
    }
}
