//! IMAP4rev1's `\Recent` (RFC 3501 §2.3.2): a message is recent in exactly
//! one session, the first to see it with its folder open read-write, and
//! only for that session's life. The folder's mark in the store says how
//! far sessions have claimed ([`mailroom_core::mail::Mail::claim_recent`]);
//! a session keeps the UIDs it claimed. IMAP4rev2 dropped the flag (RFC 9051
//! §2.3.2): a session that enabled it neither sees nor claims recent
//! messages, so it takes none away from IMAP4rev1 clients.

use std::collections::HashMap;
use std::sync::Mutex;

use mailroom_types::{FolderId, Uid};

use crate::respond::untagged;
use crate::session::Session;

/// The recent marks this process has seen, per folder: a mark only goes
/// up, so a claim at or below a known mark is answered here without a
/// write — the first of many sessions idling on one folder claims a new
/// message, the others learn it's taken for free.
#[derive(Debug, Default)]
pub(crate) struct RecentMarks(Mutex<HashMap<FolderId, Uid>>);

impl RecentMarks {
    fn known(&self, folder: FolderId) -> Option<Uid> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).get(&folder).copied()
    }

    fn raise(&self, folder: FolderId, mark: Uid) {
        let mut marks = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let known = marks.entry(folder).or_insert(mark);
        *known = (*known).max(mark);
    }
}

/// What a session knows of `\Recent` in its selected folder: the UID
/// ranges it claimed, `(after, through]` each — a few pairs however many
/// messages, so the selection stays cheap to copy per command.
#[derive(Clone, Debug, Default)]
pub(crate) struct Recent {
    pub ranges: Vec<(Uid, Uid)>,
    /// UIDs up to here have been considered (claimed, or found taken).
    pub through: Uid,
}

impl Recent {
    pub fn contains(&self, uid: Uid) -> bool {
        self.ranges.iter().any(|&(after, through)| after < uid && uid <= through)
    }

    /// The recent messages still in the folder.
    pub fn count(&self, uids: &crate::uidmap::UidMap) -> usize {
        self.ranges.iter().map(|&(after, through)| uids.count_between(after, through)).sum()
    }

    fn add(&mut self, after: Uid, through: Uid) {
        if after < through {
            self.ranges.push((after, through));
        }
    }
}

impl Session {
    /// `\Recent` as a folder opens: claimed up to its last message by
    /// SELECT; EXAMINE changes nothing (RFC 3501 §6.3.2) and sees as
    /// recent what nobody claimed yet.
    pub(crate) async fn open_recent(
        &self,
        folder: &mailroom_core::mail::OpenFolder,
        index: &mailroom_core::mail::FolderIndex,
        read_only: bool,
    ) -> Recent {
        let Some(&last) = index.uids.last() else { return Recent::default() };
        let mut recent = Recent { ranges: Vec::new(), through: last };
        if !self.rev2 {
            let mark =
                if read_only { index.recent_mark } else { self.claim(folder, index.recent_mark, last).await };
            recent.add(mark, last);
        }
        recent
    }

    /// Claims `\Recent` up to `last` from the folder's mark (at least
    /// `floor`); returns the mark before, above which the messages are ours.
    async fn claim(&self, folder: &mailroom_core::mail::OpenFolder, floor: Uid, last: Uid) -> Uid {
        let marks = &self.server.recent_marks;
        let known = marks.known(folder.id()).unwrap_or(floor).max(floor);
        if known >= last {
            return last;
        }
        match self.server.mail.claim_recent(folder, last).await {
            Ok(before) => {
                marks.raise(folder.id(), before.max(last));
                before
            }
            Err(err) => {
                // Unknowable: RFC 3501 §2.3.2 says to count it recent then.
                tracing::warn!(session = self.id, error = %err, "recent mark unreadable");
                known
            }
        }
    }

    /// After new messages were announced (EXISTS): claim them and send the
    /// RECENT count (RFC 3501 §7.3.2). Nothing for IMAP4rev2.
    pub(crate) async fn report_recent(&mut self) {
        if self.rev2 {
            return;
        }
        let Some(selected) = self.selected() else { return };
        let Some(last) = selected.uids.last() else { return };
        let mut recent = selected.recent.clone();
        if last > recent.through {
            let folder = selected.target.open.clone();
            let read_only = selected.read_only;
            let mark = if read_only {
                self.server.recent_marks.known(folder.id()).unwrap_or(recent.through)
            } else {
                self.claim(&folder, recent.through, last).await
            };
            recent.add(mark.max(recent.through), last);
            recent.through = last;
        }
        let Some(selected) = self.selected() else { return };
        let count = recent.count(&selected.uids);
        if let crate::session::State::Authenticated { selected: Some(selected), .. } = &mut self.state {
            selected.recent = recent;
        }
        self.conn.send(&untagged(&format!("{count} RECENT")));
    }

    /// Whether a message is recent in this session (FETCH FLAGS, SEARCH).
    pub(crate) fn is_recent(&self, uid: Uid) -> bool {
        !self.rev2 && self.selected().is_some_and(|s| s.recent.contains(uid))
    }
}
