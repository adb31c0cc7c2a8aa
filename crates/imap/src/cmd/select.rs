//! SELECT and EXAMINE (RFC 9051 §6.3.2, §6.3.3): open a folder, read-write
//! or read-only. A shared folder opens only with Full Access, checked now.

use mailroom_types::ModSeq;

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
            self.change_selected(None);
            self.conn.send(&untagged("OK [CLOSED] Previous mailbox is now closed"));
        }
        let target = match self.resolve(&user, name).await {
            Ok(target) => target,
            Err(err) => return self.name_error(tag, name, err),
        };
        // RFC 4314 §5.2: READ-ONLY where the rights allow no change at all
        // (none of i, e, s, w, t) — Recoverable Items for a NoPurge member.
        let examined = read_only;
        let rights = target.open.rights();
        let read_only = read_only || rights.change_nothing();
        // UIDs, first unseen and keywords only: a session on a folder of
        // 100,000 messages never holds its rows.
        let index = match self.server.mail.folder_index(&target.open).await {
            Ok(index) => index,
            Err(err) => return self.store_error(tag, name, err),
        };
        let recent = self.open_recent(&target.open, &index, read_only).await;
        let uids = crate::uidmap::UidMap::from_sorted(index.uids.iter().copied());
        let flags = flag_list(&index.keywords);
        self.conn.send(&untagged(&format!("FLAGS ({flags})")));
        let permanent = if read_only { String::new() } else { permanent_flags(&flags, rights) };
        self.conn.send(&untagged(&format!("OK [PERMANENTFLAGS ({permanent})] Flags permitted")));
        self.conn.send(&untagged(&format!("{} EXISTS", index.uids.len())));
        // RFC 9051 §6.3.2: IMAP4rev2 dropped RECENT and the UNSEEN code,
        // and names the mailbox in a LIST response.
        if self.rev2 {
            let line = format!("LIST () \"{}\" {}", crate::DELIMITER, self.name_to_client(&target.name));
            self.conn.send(&untagged(&line));
        } else {
            let count = recent.count(&uids);
            self.conn.send(&untagged(&format!("{count} RECENT")));
            if let Some(first_unseen) = index.first_unseen {
                self.conn.send(&untagged(&format!("OK [UNSEEN {first_unseen}] First unseen")));
            }
        }
        let folder = target.folder();
        self.conn.send(&untagged(&format!("OK [UIDVALIDITY {}] UIDs valid", folder.uid_validity)));
        // RFC 8474 §4.1.
        let id = super::status::mailbox_id_of(folder);
        self.conn.send(&untagged(&format!("OK [MAILBOXID ({id})] Ok")));
        self.conn.send(&untagged(&format!("OK [UIDNEXT {}] Predicted next UID", folder.uid_next.0)));
        // RFC 7162 §3.1.2.1: every SELECT/EXAMINE of a server with CONDSTORE.
        self.conn.send(&untagged(&format!("OK [HIGHESTMODSEQ {}] Highest", folder.highest_modseq.0)));
        let code = if read_only { "READ-ONLY" } else { "READ-WRITE" };
        let command = if examined { "EXAMINE" } else { "SELECT" };
        let seen_modseq = target.folder().highest_modseq;
        let uid_validity = target.folder().uid_validity;
        let open = target.open.clone();
        let keywords = index.keywords.iter().cloned().collect();
        self.change_selected(Some(Selected {
            target,
            read_only,
            examined,
            uids,
            seen_modseq,
            keywords,
            recent,
            held_expunges: Vec::new(),
            held_flags: Vec::new(),
        }));
        // RFC 7162 §3.2.5: resynchronise a client that knows this folder.
        if let Some(resync) = resync
            && resync.uid_validity == uid_validity
        {
            let since = resync.modseq;
            self.report_vanished_earlier(since, resync.known_uids.as_ref()).await;
            let changed = match self.server.mail.messages_since(&open, ModSeq(since)).await {
                Ok(changed) => changed,
                Err(err) => return self.store_error(tag, name, err),
            };
            let Some(selected) = self.selected().cloned() else { return };
            self.announce_keywords(changed.iter().map(|m| &m.flags));
            for message in &changed {
                let Some(position) = selected.uids.position(message.uid) else { continue };
                let line = format!(
                    "{} FETCH (UID {} FLAGS {} MODSEQ ({}))",
                    position + 1,
                    message.uid.0,
                    super::fetch::flag_list(&message.flags, self.is_recent(message.uid)),
                    message.modseq.0
                );
                self.conn.send(&untagged(&line));
            }
        }
        self.conn.send(&status(Some(tag), Status::Ok, Some(code), &format!("{command} completed")));
    }
}

/// FLAGS (RFC 9051 §7.3.5): the system flags and every keyword in use.
pub(crate) fn flag_list(keywords: &std::collections::BTreeSet<String>) -> String {
    std::iter::once(SYSTEM_FLAGS).chain(keywords.iter().map(String::as_str)).collect::<Vec<_>>().join(" ")
}

/// PERMANENTFLAGS (RFC 9051 §7.1) as the rights in the folder allow them
/// (RFC 4314 §4): everything in an ordinary folder; in Recoverable Items
/// only `\Deleted`, and only for those who may purge.
pub(crate) fn permanent_flags(flags: &str, rights: mailroom_core::mail::MailRights) -> String {
    if rights.write_flags && rights.keep_seen && rights.expunge {
        return format!("{flags} \\*");
    }
    let mut allowed = Vec::new();
    if rights.keep_seen {
        allowed.push("\\Seen");
    }
    if rights.expunge {
        allowed.push("\\Deleted");
    }
    allowed.join(" ")
}
