//! STORE and UID STORE (RFC 9051 §6.4.6): `\Seen` and deletes in a shared
//! folder are shared by all members (SPEC §5: shared `\Seen` is Exchange's default).

use imap_codec::imap_types::flag::{Flag, StoreResponse, StoreType};
use imap_codec::imap_types::sequence::SequenceSet;
use mailroom_core::mail::{Flags, SystemFlag};
use mailroom_core::store::FlagChange;

use super::fetch::flag_list;
use crate::respond::{Status, status};
use crate::sequence::pick;
use crate::session::Session;

/// Our flags from the client's list (`\Recent` and unknown system flags are refused).
pub(crate) fn to_flags(list: &[Flag<'_>]) -> Result<Flags, String> {
    let mut flags = Flags::default();
    for flag in list {
        match flag {
            Flag::Seen => flags = flags.with(SystemFlag::Seen),
            Flag::Answered => flags = flags.with(SystemFlag::Answered),
            Flag::Flagged => flags = flags.with(SystemFlag::Flagged),
            Flag::Deleted => flags = flags.with(SystemFlag::Deleted),
            Flag::Draft => flags = flags.with(SystemFlag::Draft),
            Flag::Keyword(atom) => {
                flags.keywords.insert(atom.inner().to_string());
            }
            Flag::Extension(other) => return Err(format!("Unknown system flag {other:?}")),
        }
    }
    Ok(flags)
}

/// A STORE command's arguments (RFC 9051 §6.4.6, RFC 7162 §3.1.3).
pub(crate) struct StoreRequest {
    pub set: SequenceSet,
    pub kind: StoreType,
    pub response: StoreResponse,
    pub flags: Vec<Flag<'static>>,
    pub by_uid: bool,
    pub unchanged_since: Option<u64>,
}

impl Session {
    pub(crate) async fn store(&mut self, tag: &str, request: StoreRequest) {
        let StoreRequest { set, kind, response, flags, by_uid, unchanged_since } = request;
        let set = &set;
        let flags = flags.as_slice();
        let Some(selected) = self.selected_for(tag, Some((set, by_uid)), true) else { return };
        let flags = match to_flags(flags) {
            Ok(flags) => flags,
            Err(text) => return self.fail(status(Some(tag), Status::Bad, None, &text)),
        };
        let change = match kind {
            StoreType::Add => FlagChange::Add,
            StoreType::Remove => FlagChange::Remove,
            StoreType::Replace => FlagChange::Replace,
        };
        let picked = pick(set, &selected.uids, by_uid);
        let uids: Vec<_> = picked.iter().map(|(_, uid)| *uid).collect();
        let target = &selected.target;
        if unchanged_since.is_some() {
            self.condstore = true;
        }
        let since = unchanged_since.map(mailroom_types::ModSeq);
        let outcome = match self.server.mail.store_flags(&target.open, &uids, change, &flags, since).await {
            Ok(outcome) => outcome,
            Err(err) => return self.name_error(tag, &target.name, err.into()),
        };
        if let Some(update) = outcome.updated.first() {
            // One MODSEQ for every message this STORE changed.
            self.note_own_change(update.modseq);
        }
        // The server keeps the assignment keywords consistent (naming an
        // assignee adds `$Assigned` and drops another name): a STORE that
        // touches them may change more than it said, so even `.SILENT` is
        // told the result (RFC 3501 §6.4.6 asks silence only of what the
        // client already knows).
        let touches_assignment = mailroom_core::mail::assignment::touches_assignment(&flags);
        if response == StoreResponse::Answer || touches_assignment {
            self.announce_keywords(outcome.updated.iter().map(|u| &u.flags));
            for update in &outcome.updated {
                if let Some((seq, _)) = picked.iter().find(|(_, uid)| *uid == update.uid) {
                    let uid_item = if by_uid { format!("UID {} ", update.uid.0) } else { String::new() };
                    let modseq =
                        if self.condstore { format!(" MODSEQ ({})", update.modseq.0) } else { String::new() };
                    let line = format!(
                        "* {seq} FETCH ({uid_item}FLAGS {}{modseq})\r\n",
                        flag_list(&update.flags, self.is_recent(update.uid))
                    );
                    self.conn.send(line.as_bytes());
                }
            }
        }
        let command = if by_uid { "UID STORE" } else { "STORE" };
        // RFC 7162 §3.1.3: what changed since UNCHANGEDSINCE is named in MODIFIED.
        let modified: Vec<u32> = outcome
            .modified
            .iter()
            .filter_map(|uid| {
                if by_uid { Some(uid.0) } else { picked.iter().find(|(_, u)| u == uid).map(|(seq, _)| *seq) }
            })
            .collect();
        let code =
            (!modified.is_empty()).then(|| format!("MODIFIED {}", crate::sequence::compact(&modified)));
        self.conn.send(&status(Some(tag), Status::Ok, code.as_deref(), &format!("{command} completed")));
    }
}
