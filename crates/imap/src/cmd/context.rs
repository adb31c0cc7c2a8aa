//! CONTEXT=SEARCH and CONTEXT=SORT (RFC 5267 §4): a SEARCH or SORT with
//! `RETURN (UPDATE)` stays live while its folder is selected. Whenever the
//! folder changes — another member's flag change, a delivery, an expunge,
//! this session's own STORE — the search runs again and the client is told
//! what entered and left its result, as `* ESEARCH (TAG "t") ADDTO (…)` and
//! `REMOVEFROM (…)`, so a client can show "unread" or "flagged" without
//! searching again. CANCELUPDATE ends one; leaving the folder ends all.
//!
//! - SEARCH results are in mailbox order: positions are `0` (§4.3.3).
//! - SORT results keep their order: each message comes with its position,
//!   removals from the end first, additions from the start, so applying the
//!   pairs in order gives the new result (§4.3.2). The sort keys are
//!   headers, arrival, size: a message that stays never moves.
//! - With message numbers (SEARCH, not UID SEARCH), a message leaving by
//!   expunge is removed *before* its EXPUNGE (§4.3.4), while its number is
//!   still valid; a message arriving is added after its EXISTS (§4.3.3).
//! - Message numbers in the criteria mean the messages they named when the
//!   command came (§4.3): they are turned into those UIDs.
//! - At most [`MAX_CONTEXTS`] per session; past that the command is answered
//!   as usual with `* NO [NOUPDATE "t"]` (§4.3.1). A tag already in use by
//!   a live context is `BAD` (§4.3).
//!
//! Each refresh is a whole search of the folder, only when its MODSEQ moved
//! and only for sessions that asked; the cost is the search's.

use std::collections::HashSet;

use imap_codec::imap_types::extensions::sort::SortCriterion;
use imap_codec::imap_types::search::SearchKey;
use imap_codec::imap_types::sequence::SequenceSet;
use mailroom_types::{ModSeq, Uid};

use crate::respond::{Status, quoted, status, untagged};
use crate::session::Session;
use crate::uidmap::UidMap;

/// Live contexts per session.
pub(crate) const MAX_CONTEXTS: usize = 8;

/// One live SEARCH or SORT.
#[derive(Clone, Debug)]
pub(crate) struct UpdateContext {
    pub tag: String,
    pub by_uid: bool,
    pub criteria: Vec<SearchKey<'static>>,
    /// SORT's order; `None` for SEARCH (mailbox order, positions 0).
    pub sort: Option<Vec<SortCriterion>>,
    /// The result as the client holds it, in its order.
    pub result: Vec<Uid>,
    /// The folder's MODSEQ when the result was computed.
    pub modseq: ModSeq,
}

/// `criteria` with every message-number set replaced by the UIDs it named
/// in `uids` (RFC 5267 §4.3: evaluated when the command is received).
pub(crate) fn freeze(criteria: &[SearchKey<'static>], uids: &UidMap) -> Vec<SearchKey<'static>> {
    criteria.iter().map(|key| freeze_key(key, uids)).collect()
}

fn freeze_key(key: &SearchKey<'static>, uids: &UidMap) -> SearchKey<'static> {
    match key {
        SearchKey::SequenceSet(set) => {
            let largest = uids.len() as u32;
            let named: Vec<u32> = uids
                .iter()
                .enumerate()
                .filter(|&(index, _)| crate::sequence::contains(set, index as u32 + 1, largest))
                .map(|(_, uid)| uid.0)
                .collect();
            match SequenceSet::try_from(crate::sequence::compact(&named).as_str()) {
                Ok(set) if !named.is_empty() => SearchKey::Uid(set),
                // Nothing: a key no message matches.
                _ => SearchKey::Not(Box::new(SearchKey::All)),
            }
        }
        SearchKey::Not(inner) => SearchKey::Not(Box::new(freeze_key(inner, uids))),
        SearchKey::Or(a, b) => SearchKey::Or(Box::new(freeze_key(a, uids)), Box::new(freeze_key(b, uids))),
        SearchKey::And(keys) => {
            let frozen: Vec<SearchKey<'static>> = keys.as_ref().iter().map(|k| freeze_key(k, uids)).collect();
            match imap_codec::imap_types::core::Vec1::try_from(frozen) {
                Ok(keys) => SearchKey::And(keys),
                Err(_) => key.clone(),
            }
        }
        other => other.clone(),
    }
}

/// A CANCELUPDATE: its tag and the tags of the contexts to end.
pub(crate) type CancelUpdate = (String, Vec<String>);

/// Pairs of an update: a position (0 for SEARCH) and the messages there.
type Pairs = Vec<(usize, Vec<u32>)>;

/// A CANCELUPDATE line (RFC 5267 §5: `"CANCELUPDATE" 1*(SP quoted)`), which
/// imap-codec doesn't know: `Some(Ok((tag, tags)))`, `Some(Err((tag,
/// reason)))` when malformed, `None` for any other command.
pub(crate) fn parse_cancel(line: &[u8]) -> Option<Result<CancelUpdate, (String, &'static str)>> {
    let mut c = crate::acl::Cursor { bytes: line, at: 0 };
    let tag = String::from_utf8_lossy(c.atom()?).into_owned();
    if !c.space() || !c.atom()?.eq_ignore_ascii_case(b"CANCELUPDATE") {
        return None;
    }
    let mut tags = Vec::new();
    while c.space() {
        if c.bytes.get(c.at) != Some(&b'"') {
            return Some(Err((tag, "CANCELUPDATE takes quoted tags")));
        }
        match c.astring() {
            Some(quoted) => tags.push(quoted),
            None => return Some(Err((tag, "CANCELUPDATE takes quoted tags"))),
        }
        if tags.len() > MAX_CONTEXTS {
            return Some(Err((tag, "More tags than live searches")));
        }
    }
    if tags.is_empty() || !c.at_end() {
        return Some(Err((tag, "CANCELUPDATE takes one or more quoted tags")));
    }
    Some(Ok((tag, tags)))
}

/// The pairs that turn `old` into `new` (RFC 5267 §4.3.2), as
/// `(REMOVEFROM pairs, ADDTO pairs)`; `number` gives what the client
/// sees of a message (its UID or its number).
fn changes(old: &[Uid], new: &[Uid], sorted: bool, number: impl Fn(Uid) -> Option<u32>) -> (Pairs, Pairs) {
    let (old_set, new_set): (HashSet<Uid>, HashSet<Uid>) =
        (old.iter().copied().collect(), new.iter().copied().collect());
    if !sorted {
        let numbers = |list: &[Uid], other: &HashSet<Uid>| -> Vec<u32> {
            let mut n: Vec<u32> =
                list.iter().filter(|u| !other.contains(u)).filter_map(|&u| number(u)).collect();
            n.sort_unstable();
            n
        };
        let (gone, came) = (numbers(old, &new_set), numbers(new, &old_set));
        let pair = |n: Vec<u32>| if n.is_empty() { Vec::new() } else { vec![(0, n)] };
        return (pair(gone), pair(came));
    }
    // From the end first, so each position is still right when applied.
    let removed = old
        .iter()
        .enumerate()
        .rev()
        .filter(|(_, u)| !new_set.contains(u))
        .filter_map(|(i, &u)| Some((i + 1, vec![number(u)?])))
        .collect();
    // From the start: each lands at its final position.
    let added = new
        .iter()
        .enumerate()
        .filter(|(_, u)| !old_set.contains(u))
        .filter_map(|(i, &u)| Some((i + 1, vec![number(u)?])))
        .collect();
    (removed, added)
}

fn pairs(name: &str, list: &[(usize, Vec<u32>)]) -> Option<String> {
    if list.is_empty() {
        return None;
    }
    let items: Vec<String> = list
        .iter()
        .map(|(position, numbers)| format!("{position} {}", crate::sequence::compact(numbers)))
        .collect();
    Some(format!("{name} ({})", items.join(" ")))
}

fn update_line(
    context: &UpdateContext,
    removed: &[(usize, Vec<u32>)],
    added: &[(usize, Vec<u32>)],
) -> Option<String> {
    let parts: Vec<String> =
        [pairs("REMOVEFROM", removed), pairs("ADDTO", added)].into_iter().flatten().collect();
    if parts.is_empty() {
        return None;
    }
    let uid = if context.by_uid { " UID" } else { "" };
    Some(format!("ESEARCH (TAG {}){uid} {}", quoted(&context.tag), parts.join(" ")))
}

impl Session {
    /// Whether `tag` names a live context (a new one may not reuse it).
    pub(crate) fn context_tag_in_use(&self, tag: &str) -> bool {
        self.contexts.iter().any(|c| c.tag == tag)
    }

    /// Keeps a SEARCH or SORT with `RETURN (UPDATE)` live, or says it
    /// can't (`NOUPDATE`); the command's own answer follows either way.
    pub(crate) async fn start_context(
        &mut self,
        tag: &str,
        by_uid: bool,
        criteria: &[SearchKey<'static>],
        sort: Option<Vec<SortCriterion>>,
        result: Vec<Uid>,
    ) {
        let Some(selected) = self.selected() else { return };
        if self.contexts.len() >= MAX_CONTEXTS {
            let response =
                format!("NO [NOUPDATE {}] Too many live searches (at most {MAX_CONTEXTS})", quoted(tag));
            self.conn.send(&untagged(&response));
            return;
        }
        let criteria = freeze(criteria, &selected.uids);
        // The search saw the folder as the session does: up to here.
        let modseq = selected.seen_modseq;
        self.contexts.push(UpdateContext { tag: tag.to_string(), by_uid, criteria, sort, result, modseq });
    }

    /// Before the EXPUNGEs of `gone` go out (numbered by `uids`, as the
    /// client still sees them): each context that held one of them says
    /// so while its number is valid (RFC 5267 §4.3.4), and forgets it.
    pub(crate) fn contexts_lose(&mut self, gone: &[Uid], uids: &UidMap) {
        let gone: HashSet<Uid> = gone.iter().copied().collect();
        let mut contexts = std::mem::take(&mut self.contexts);
        for context in contexts.iter_mut() {
            if !context.result.iter().any(|u| gone.contains(u)) {
                continue;
            }
            let kept: Vec<Uid> = context.result.iter().copied().filter(|u| !gone.contains(u)).collect();
            let by_uid = context.by_uid;
            let number =
                |uid: Uid| if by_uid { Some(uid.0) } else { uids.position(uid).map(|i| i as u32 + 1) };
            let (removed, _) = changes(&context.result, &kept, context.sort.is_some(), number);
            if let Some(line) = update_line(context, &removed, &[]) {
                self.conn.send(&untagged(&line));
            }
            context.result = kept;
        }
        self.contexts = contexts;
    }

    /// Runs every live context again if the folder changed since it last
    /// ran, and tells the client what entered and left each result.
    pub(crate) async fn refresh_contexts(&mut self) {
        if self.contexts.is_empty() {
            return;
        }
        // What the session has told the client of: a change it hasn't
        // reported yet (and the messages it hasn't announced) waits for the
        // report, which refreshes again.
        let Some(now) = self.selected().map(|s| s.seen_modseq) else { return };
        let contexts = self.contexts.clone();
        for context in contexts.iter().filter(|c| c.modseq != now) {
            let Ok(Some(mut hits)) = self.find_matches(&context.criteria, context.sort.is_some()).await
            else {
                // The store failed: tried again after the next change.
                continue;
            };
            if let Some(criteria) = &context.sort {
                super::sort::sort_hits(&mut hits, criteria);
            }
            let result: Vec<Uid> = hits.iter().map(|h| h.uid).collect();
            let Some(current) = self.selected() else { return };
            let by_uid = context.by_uid;
            let uids = &current.uids;
            let number =
                |uid: Uid| if by_uid { Some(uid.0) } else { uids.position(uid).map(|i| i as u32 + 1) };
            let (removed, added) = changes(&context.result, &result, context.sort.is_some(), number);
            let line = update_line(context, &removed, &added);
            if let Some(line) = line {
                self.conn.send(&untagged(&line));
            }
            if let Some(live) = self.contexts.iter_mut().find(|c| c.tag == context.tag) {
                live.result = result;
                live.modseq = now;
            }
        }
    }

    /// CANCELUPDATE (RFC 5267 §4.3.5): ends the named contexts — all of
    /// them, or none when one isn't live.
    pub(crate) fn cancel_update(&mut self, tag: &str, tags: &[String]) {
        if self.selected().is_none() {
            self.fail(status(Some(tag), Status::Bad, None, "CANCELUPDATE needs a selected folder"));
            return;
        }
        if let Some(unknown) = tags.iter().find(|t| !self.contexts.iter().any(|c| &c.tag == *t)) {
            let text = format!("No live search has the tag {}", quoted(unknown));
            self.fail(status(Some(tag), Status::No, None, &text));
            return;
        }
        self.contexts.retain(|c| !tags.contains(&c.tag));
        self.conn.send(&status(Some(tag), Status::Ok, None, "CANCELUPDATE completed"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uids(list: &[u32]) -> Vec<Uid> {
        list.iter().map(|&u| Uid(u)).collect()
    }

    #[test]
    fn cancelupdate_lines() {
        assert_eq!(
            parse_cancel(b"b4 CANCELUPDATE \"B01\" \"x y\"\r\n"),
            Some(Ok(("b4".into(), vec!["B01".into(), "x y".into()])))
        );
        assert!(parse_cancel(b"b4 cancelupdate B01\r\n").unwrap().is_err(), "quoted only");
        assert!(parse_cancel(b"b4 CANCELUPDATE\r\n").unwrap().is_err());
        assert!(parse_cancel(b"b4 CANCELUPDATE \"a\" junk\r\n").unwrap().is_err());
        assert!(parse_cancel(b"b4 NOOP\r\n").is_none());
    }

    #[test]
    fn search_changes_are_sets_at_position_zero() {
        let (removed, added) = changes(&uids(&[1, 3, 5, 7]), &uids(&[1, 5, 8, 9]), false, |u| Some(u.0));
        assert_eq!(removed, [(0, vec![3, 7])]);
        assert_eq!(added, [(0, vec![8, 9])]);
        let (removed, added) = changes(&uids(&[1]), &uids(&[1]), false, |u| Some(u.0));
        assert!(removed.is_empty() && added.is_empty());
    }

    /// Applying the pairs in order to the old result gives the new one.
    #[test]
    fn sort_changes_apply_in_order() {
        let old = uids(&[9, 4, 7, 2, 5]);
        let new = uids(&[8, 9, 7, 6, 5, 1]);
        let (removed, added) = changes(&old, &new, true, |u| Some(u.0));
        let mut list: Vec<u32> = old.iter().map(|u| u.0).collect();
        for (position, numbers) in &removed {
            for _ in numbers {
                list.remove(position - 1);
            }
        }
        for (position, numbers) in &added {
            for (i, n) in numbers.iter().enumerate() {
                list.insert(position - 1 + i, *n);
            }
        }
        assert_eq!(list, [8, 9, 7, 6, 5, 1]);
        assert_eq!(removed, [(4, vec![2]), (2, vec![4])], "from the end first");
    }
}
