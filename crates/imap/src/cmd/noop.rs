//! NOOP (RFC 9051 §6.1.2) and the updates every command can carry: new
//! messages (EXISTS) and messages gone (EXPUNGE) in the selected folder,
//! whoever caused them (another member, an SMTP delivery).

use crate::cmd::notify::When;
use crate::respond::{Status, status, untagged};
use crate::session::Session;

impl Session {
    pub(crate) async fn noop(&mut self, tag: &str, command: &str) {
        self.report_changes().await;
        self.conn.send(&status(Some(tag), Status::Ok, None, &format!("{command} completed")));
    }

    /// Brings the client's view of the selected folder up to date from what
    /// changed since the last report (by MODSEQ: a NOOP in a folder of
    /// 100,000 messages reads only the changes): EXPUNGEs, flag changes made
    /// elsewhere, then the new EXISTS count.
    pub(crate) async fn report_changes(&mut self) {
        self.report_changes_when(When::Command).await;
    }

    /// [`Self::report_changes`] at a given moment, as NOTIFY asked for it
    /// (RFC 5465 §5.1–5.3): perhaps nothing, perhaps without flag changes,
    /// with the UID in unsolicited FETCHes and the chosen FETCH items for
    /// new messages; SELECTED-DELAYED holds expunges back (the messages
    /// keep their numbers) until a command may report them, and flag
    /// changes NOTIFY didn't ask for wait for one that reports them.
    pub(crate) async fn report_changes_when(&mut self, when: When) {
        let Some(how) = self.report_mode(when) else { return };
        let Some(selected) = self.selected().cloned() else { return };
        // The change feed hears of every commit of this process before the
        // writer is answered (and of other processes' within its poll): if
        // it said nothing about the selected folder since the last report
        // and nothing is held back, there is nothing to read.
        self.read_feed().await;
        let holding = !selected.held_expunges.is_empty() || !selected.held_flags.is_empty();
        if !self.folder_news && !holding {
            return;
        }
        // Cleared before reading: what commits after the reads sets it again.
        self.folder_news = false;
        let mail = self.server.mail.clone();
        let folder = &selected.target.open;
        // Read the high-water mark first: anything later is reported next time.
        let Ok(fresh) = mail.reopen(folder).await else {
            self.folder_news = true;
            return;
        };
        let now = fresh.folder().highest_modseq;
        let held_due = (how.expunges && !selected.held_expunges.is_empty())
            || (how.flags && !selected.held_flags.is_empty());
        if now == selected.seen_modseq && !held_due {
            return;
        }
        let (Ok(mut changed), Ok(mut gone)) = (
            mail.messages_since(folder, selected.seen_modseq).await,
            mail.expunged_since(folder, selected.seen_modseq).await,
        ) else {
            self.folder_news = true;
            return;
        };
        // What an earlier report held back (SELECTED-DELAYED's expunges, the
        // flag changes NOTIFY didn't ask for) is said now if it may be.
        gone.extend(selected.held_expunges.iter().copied());
        if how.flags && !selected.held_flags.is_empty() {
            let mut held = selected.held_flags.clone();
            held.retain(|uid| !changed.iter().any(|m| m.uid == *uid));
            match mail.messages_by_uid(folder, &held).await {
                Ok(current) => changed.extend(current),
                Err(_) => {
                    self.folder_news = true;
                    return;
                }
            }
        }
        let mut uids = selected.uids.clone();
        let mut vanished = Vec::new();
        // Highest first: each EXPUNGE renumbers the messages above it.
        gone.sort_unstable();
        gone.dedup();
        let mut held_expunges = Vec::new();
        if how.expunges {
            // RFC 5267 §4.3.4: live searches lose them before the EXPUNGEs.
            if !self.contexts.is_empty() {
                self.contexts_lose(&gone, &uids);
            }
            for uid in gone.into_iter().rev() {
                if let Some(index) = uids.remove(uid) {
                    if self.qresync {
                        vanished.push(uid.0);
                    } else {
                        self.conn.send(&untagged(&format!("{} EXPUNGE", index + 1)));
                    }
                }
            }
        } else {
            // RFC 5465 §6.1 (SELECTED-DELAYED): the message keeps its
            // number until a command may report the expunge.
            held_expunges = gone.into_iter().filter(|uid| uids.position(*uid).is_some()).collect();
        }
        if !vanished.is_empty() {
            // RFC 7162 §3.2.10: with QRESYNC, expunges are reported by UID.
            vanished.sort_unstable();
            self.conn.send(&untagged(&format!("VANISHED {}", crate::sequence::compact(&vanished))));
        }
        let last = uids.last();
        // Messages from here on are new.
        let known = uids.len();
        let mut arrived = false;
        let mut held_flags = if how.flags { Vec::new() } else { selected.held_flags.clone() };
        if how.flags {
            self.announce_keywords(
                changed.iter().filter(|m| uids.position(m.uid).is_some()).map(|m| &m.flags),
            );
        }
        for message in &changed {
            match uids.position(message.uid) {
                Some(_) if !how.flags && !held_flags.contains(&message.uid) => held_flags.push(message.uid),
                Some(_) if !how.flags => {}
                Some(index) => {
                    let uid = if how.with_uid { format!("UID {} ", message.uid.0) } else { String::new() };
                    let modseq = if self.condstore {
                        format!(" MODSEQ ({})", message.modseq.0)
                    } else {
                        String::new()
                    };
                    let line = format!(
                        "{} FETCH ({uid}FLAGS {}{modseq})",
                        index + 1,
                        super::fetch::flag_list(&message.flags, self.is_recent(message.uid))
                    );
                    self.conn.send(&untagged(&line));
                }
                None if last.is_none_or(|l| message.uid > l) => {
                    uids.push(message.uid);
                    arrived = true;
                }
                None => {}
            }
        }
        let exists = arrived.then(|| uids.len());
        let mut updated = selected;
        updated.uids = uids;
        updated.seen_modseq = now;
        updated.held_expunges = held_expunges;
        updated.held_flags = held_flags;
        // The keywords announced meanwhile stay announced.
        if let Some(current) = self.selected() {
            updated.keywords = current.keywords.clone();
        }
        self.set_selected(Some(updated));
        if let Some(exists) = exists {
            self.conn.send(&untagged(&format!("{exists} EXISTS")));
            self.report_recent().await;
            // RFC 5465 §5.2: MessageNew's FETCH items for each new message.
            if !how.fetch.is_empty()
                && let Some(selected) = self.selected().cloned()
            {
                // Not for what the session added itself (RFC 5465 §5.2).
                let folder = selected.target.open.id();
                let own = |uid| self.notify.as_ref().is_some_and(|n| n.is_own(folder, uid));
                let new: Vec<(u32, mailroom_types::Uid)> = selected
                    .uids
                    .iter()
                    .enumerate()
                    .skip(known)
                    .filter(|&(_, uid)| !own(uid))
                    .map(|(i, uid)| (i as u32 + 1, uid))
                    .collect();
                self.fetch_messages(None, &selected, &new, &how.fetch, Default::default(), None).await;
            }
        }
        // Live searches (RFC 5267 §4.3.3): their additions after the EXISTS.
        self.refresh_contexts().await;
    }

    /// A message added to the selected folder, reported without reading
    /// the store when nothing else happened since the last report (its
    /// MODSEQ is the next one) and it comes after every known UID: `EXISTS`.
    /// Returns whether it could; if not, [`Self::report_changes`] catches up.
    pub(crate) fn announce_arrival(
        &mut self,
        uid: mailroom_types::Uid,
        modseq: mailroom_types::ModSeq,
    ) -> bool {
        let Some(mut selected) = self.selected().cloned() else { return false };
        if selected.seen_modseq.0 + 1 != modseq.0 || selected.uids.last().is_some_and(|last| uid <= last) {
            return false;
        }
        selected.uids.push(uid);
        selected.seen_modseq = modseq;
        let exists = selected.uids.len();
        self.set_selected(Some(selected));
        self.conn.send(&untagged(&format!("{exists} EXISTS")));
        true
    }

    /// `* VANISHED (EARLIER) uids`: what was expunged after `since`, limited
    /// to `within` (RFC 7162 §3.2.5.2, §3.2.6).
    pub(crate) async fn report_vanished_earlier(
        &mut self,
        since: u64,
        within: Option<&imap_codec::imap_types::sequence::SequenceSet>,
    ) {
        let Some(selected) = self.selected().cloned() else { return };
        let since = mailroom_types::ModSeq(since);
        let Ok(gone) = self.server.mail.expunged_since(&selected.target.open, since).await else {
            return;
        };
        let largest = selected.target.folder().uid_next.0.saturating_sub(1);
        let uids: Vec<u32> = gone
            .into_iter()
            .map(|u| u.0)
            .filter(|u| within.is_none_or(|set| crate::sequence::contains(set, *u, largest)))
            .collect();
        if !uids.is_empty() {
            self.conn.send(&untagged(&format!("VANISHED (EARLIER) {}", crate::sequence::compact(&uids))));
        }
    }
}
