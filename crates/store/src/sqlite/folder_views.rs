//! Each folder's message list, kept in memory and brought up to date from
//! what changed since: busy IMAP sessions list the selected folder for
//! every SEARCH, STATUS and SORT, and reading its thousands of rows each
//! time was a fifth of what a persistent session cost the server.
//!
//! A view is right for one state of its folder, named by the folder's
//! UIDVALIDITY, UIDNEXT and HIGHESTMODSEQ. Every change to a folder's
//! messages raises its HIGHESTMODSEQ (a new message, a flag change and an
//! expunge each take a new MODSEQ: `message_ops`), and UIDVALIDITY only
//! grows, so a view whose name matches the folder's row in the reader's
//! snapshot is that snapshot's list. One that is behind is patched from the
//! messages whose MODSEQ is above its own and the UIDs expunged since,
//! then checked against the folder's message count; anything else (a
//! recreated folder, a count that disagrees) reads the folder whole.
//!
//! Memory is bounded by rows ([`BUDGET`] in all) and folders ([`MAX_VIEWS`]);
//! a folder larger than [`LARGEST`] isn't kept: read whole when all of it is
//! wanted, by UID or counted in SQL otherwise. A view's summaries are
//! shared with the cache of parsed summaries, not copies, and views keep at
//! most [`SUMMARY_BUDGET`] of them.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use mailroom_core::mail::{FolderCounts, MessageSummary, StoredMessage, SystemFlag};
use mailroom_core::store::StoreResult;
use mailroom_types::{FolderId, ModSeq, Uid};
use rusqlite::{Connection, OptionalExtension, params};

use super::mail::{MESSAGE_COLUMNS, by_uid, corrupt, hex_key, message_rows, messages_changed_since};
use super::message_ops::expunged_since;
use super::{CachedSql, backend};
use crate::summary_cache::SummaryCache;

/// Message rows kept at most, over every folder (about 120 bytes each).
pub(crate) const BUDGET: usize = 400_000;
/// By default, a folder with more messages than this is never kept
/// ([`FolderViews::set_largest`]).
pub(crate) const LARGEST: usize = BUDGET / 4;
/// Folders kept at most (each costs a little even when empty).
pub(crate) const MAX_VIEWS: usize = 10_000;
/// Summaries views keep at most, in all: they are shared with the cache of
/// parsed summaries, but a view keeps one alive after the cache let it go.
pub(crate) const SUMMARY_BUDGET: usize = 50_000;

/// A folder's messages in UID order, as of one state of the folder.
#[derive(Debug)]
pub(crate) struct FolderView {
    pub(crate) messages: Arc<Vec<StoredMessage>>,
    /// The UID below which messages are `\Recent`-claimed (RFC 3501 STATUS
    /// RECENT); read with the state, not part of its name.
    pub(crate) recent_mark: i64,
    /// Each message's summary, in the same order, once something asked
    /// (header SEARCH, SORT, THREAD) and the budget allowed: a patched view
    /// carries them over.
    summaries: OnceLock<KeptSummaries>,
    /// Summaries kept by all views, against [`SUMMARY_BUDGET`].
    held: Arc<AtomicUsize>,
    state: FolderState,
}

/// Summaries a view keeps, counted in [`FolderViews`]' total while kept.
#[derive(Debug)]
struct KeptSummaries {
    /// Shared by the views of one folder while its messages stay the same
    /// (a flag change makes a new view, not new summaries).
    list: Arc<Vec<Arc<MessageSummary>>>,
    held: Arc<AtomicUsize>,
}

impl KeptSummaries {
    /// `list` counted in, if the total stays within [`SUMMARY_BUDGET`].
    fn within_budget(list: Arc<Vec<Arc<MessageSummary>>>, held: &Arc<AtomicUsize>) -> Option<Self> {
        let count = list.len();
        let admitted = held
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |now| {
                (now + count <= SUMMARY_BUDGET).then_some(now + count)
            })
            .is_ok();
        admitted.then(|| KeptSummaries { list, held: Arc::clone(held) })
    }
}

impl Clone for KeptSummaries {
    fn clone(&self) -> Self {
        self.held.fetch_add(self.list.len(), Ordering::Relaxed);
        KeptSummaries { list: Arc::clone(&self.list), held: Arc::clone(&self.held) }
    }
}

impl Drop for KeptSummaries {
    fn drop(&mut self) {
        self.held.fetch_sub(self.list.len(), Ordering::Relaxed);
    }
}

impl FolderView {
    /// What STATUS counts, from the list.
    pub(crate) fn counts(&self) -> FolderCounts {
        let mut counts = FolderCounts::default();
        for message in self.messages.iter() {
            let deleted = message.flags.has(SystemFlag::Deleted);
            counts.messages += 1;
            counts.size += message.size;
            counts.unseen += u64::from(!message.flags.has(SystemFlag::Seen));
            counts.deleted += u64::from(deleted);
            counts.deleted_size += if deleted { message.size } else { 0 };
            counts.recent += u64::from(i64::from(message.uid.0) > self.recent_mark);
        }
        counts
    }

    /// The message `uid`, if the folder holds it.
    pub(crate) fn find(&self, uid: Uid) -> Option<&StoredMessage> {
        by_uid(&self.messages, uid)
    }

    /// Every message's summary, in the order of [`Self::messages`]: kept
    /// with the view while the budget allows, else looked up each time.
    pub(crate) fn summaries(
        &self,
        conn: &Connection,
        cache: &SummaryCache,
    ) -> StoreResult<Cow<'_, [Arc<MessageSummary>]>> {
        if let Some(kept) = self.summaries.get() {
            return Ok(Cow::Borrowed(&kept.list));
        }
        let loaded: Vec<_> =
            self.messages.iter().map(|m| summary_of(conn, cache, m)).collect::<StoreResult<_>>()?;
        match KeptSummaries::within_budget(Arc::new(loaded.clone()), &self.held) {
            Some(kept) => match self.summaries.set(kept) {
                Ok(()) => Ok(self.summaries.get().map_or(Cow::Owned(loaded), |k| Cow::Borrowed(&k.list))),
                // Another reader kept them first: ours is dropped (and uncounted).
                Err(_) => Ok(Cow::Owned(loaded)),
            },
            None => Ok(Cow::Owned(loaded)),
        }
    }
}

/// A message's summary: from the cache of parsed summaries, or read by its
/// body's key (and kept there).
pub(crate) fn summary_of(
    conn: &Connection,
    cache: &SummaryCache,
    message: &StoredMessage,
) -> StoreResult<Arc<MessageSummary>> {
    if let Some(summary) = cache.get(&message.blob.0) {
        return Ok(summary);
    }
    let mut stmt = conn.prepare_cached("SELECT summary FROM blobs WHERE id = ?1").map_err(backend)?;
    let found = stmt
        .query_row([&message.blob.0[..]], |r| {
            Ok(cache.get_or_parse(&message.blob.0, r.get_ref(0)?.as_bytes()?))
        })
        .optional()
        .map_err(backend)?
        .flatten();
    found.ok_or_else(|| corrupt(format!("summary of body {}", hex_key(&message.blob.0))))
}

/// The folder row's fields that name a state of its messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FolderState {
    uid_validity: i64,
    uid_next: i64,
    highest_modseq: i64,
}

pub(crate) struct FolderViews {
    inner: Mutex<Views>,
    /// Summaries kept by views ([`SUMMARY_BUDGET`]).
    held: Arc<AtomicUsize>,
    /// Folders with more messages than this are never kept ([`LARGEST`]).
    largest: AtomicUsize,
}

impl Default for FolderViews {
    fn default() -> Self {
        FolderViews { inner: Mutex::default(), held: Arc::default(), largest: AtomicUsize::new(LARGEST) }
    }
}

#[derive(Default)]
struct Views {
    map: HashMap<i64, Arc<FolderView>>,
    rows: usize,
}

impl FolderViews {
    /// Folders with more messages than `rows` are not kept from now on.
    pub(crate) fn set_largest(&self, rows: usize) {
        self.largest.store(rows.min(BUDGET), Ordering::Relaxed);
    }

    fn largest(&self) -> usize {
        self.largest.load(Ordering::Relaxed)
    }

    /// The messages of `folder` as `conn`'s transaction sees them; an
    /// unknown folder has none. A folder too large to keep is read whole.
    pub(crate) fn current(
        &self,
        conn: &Connection,
        folder: FolderId,
        cache: &SummaryCache,
    ) -> StoreResult<Arc<FolderView>> {
        let view = self.view(conn, folder, cache, true)?;
        Ok(view.unwrap_or_else(|| self.empty()))
    }

    /// [`Self::current`], or `None` for a folder too large to keep: a
    /// caller that needs a few of its messages reads those instead.
    pub(crate) fn current_unless_large(
        &self,
        conn: &Connection,
        folder: FolderId,
        cache: &SummaryCache,
    ) -> StoreResult<Option<Arc<FolderView>>> {
        self.view(conn, folder, cache, false)
    }

    fn empty(&self) -> Arc<FolderView> {
        Arc::new(FolderView {
            messages: Arc::default(),
            recent_mark: 0,
            summaries: OnceLock::new(),
            held: Arc::clone(&self.held),
            state: FolderState { uid_validity: 0, uid_next: 0, highest_modseq: 0 },
        })
    }

    fn view(
        &self,
        conn: &Connection,
        folder: FolderId,
        cache: &SummaryCache,
        large_too: bool,
    ) -> StoreResult<Option<Arc<FolderView>>> {
        let row = conn
            .row(
                "SELECT uid_validity, uid_next, highest_modseq, message_count, recent_uid FROM folders WHERE id = ?1",
                [folder.0],
                |r| {
                    let state =
                        FolderState { uid_validity: r.get(0)?, uid_next: r.get(1)?, highest_modseq: r.get(2)? };
                    Ok((state, r.get::<_, i64>(3)?, r.get::<_, i64>(4)?))
                },
            )
            .optional()
            .map_err(backend)?;
        let Some((state, count, recent_mark)) = row else {
            // Deleted (or never was): a view kept for it goes.
            self.forget(folder);
            return Ok(Some(self.empty()));
        };
        if count > self.largest() as i64 && !large_too {
            return Ok(None);
        }
        let kept = self.lock().map.get(&folder.0).cloned();
        if let Some(view) = &kept
            && view.state == state
        {
            if view.recent_mark == recent_mark {
                return Ok(Some(Arc::clone(view)));
            }
            // Only the \Recent mark moved (a session claimed them).
            let moved = FolderView {
                messages: Arc::clone(&view.messages),
                recent_mark,
                summaries: view.summaries.clone(),
                held: Arc::clone(&self.held),
                state,
            };
            return Ok(Some(self.keep(folder, moved)));
        }
        let patched = match &kept {
            Some(view)
                if view.state.uid_validity == state.uid_validity
                    && view.state.highest_modseq <= state.highest_modseq =>
            {
                Some(patch(conn, folder, view)?).filter(|messages| messages.len() as i64 == count)
            }
            _ => None,
        };
        let summaries = OnceLock::new();
        let messages = match patched {
            Some(messages) => {
                if let Some(view) = &kept
                    && let Some(carried) = self.carry_summaries(conn, cache, view, &messages)
                {
                    let _ = summaries.set(carried);
                }
                messages
            }
            None => message_rows(
                conn,
                &format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE folder_id = ?1 ORDER BY uid"),
                params![folder.0],
                folder,
            )?,
        };
        let view = FolderView {
            messages: Arc::new(messages),
            recent_mark,
            summaries,
            held: Arc::clone(&self.held),
            state,
        };
        Ok(Some(self.keep(folder, view)))
    }

    /// The summaries of a patched list, from those `view` kept (a message's
    /// body never changes) and, for new messages, the cache. `None` when
    /// `view` kept none, one can't be read (the listing must not fail for
    /// it: STATUS never needs summaries) or the budget is spent.
    fn carry_summaries(
        &self,
        conn: &Connection,
        cache: &SummaryCache,
        view: &FolderView,
        messages: &[StoredMessage],
    ) -> Option<KeptSummaries> {
        let old = &view.summaries.get()?.list;
        if messages.len() == view.messages.len()
            && messages.iter().zip(view.messages.iter()).all(|(a, b)| a.uid == b.uid)
        {
            // The same messages (only flags changed): the same summaries.
            return KeptSummaries::within_budget(Arc::clone(old), &self.held);
        }
        let carried = messages
            .iter()
            .map(|m| match view.messages.binary_search_by_key(&m.uid, |k| k.uid) {
                Ok(at) => old.get(at).cloned().ok_or_else(|| corrupt("a view's summaries")),
                Err(_) => summary_of(conn, cache, m),
            })
            .collect::<StoreResult<Vec<_>>>()
            .ok()?;
        KeptSummaries::within_budget(Arc::new(carried), &self.held)
    }

    /// Keeps `view` (when it fits the budget) and hands it out.
    fn keep(&self, folder: FolderId, view: FolderView) -> Arc<FolderView> {
        let view = Arc::new(view);
        let rows = view.messages.len();
        let mut views = self.lock();
        if let Some(old) = views.map.remove(&folder.0) {
            views.rows -= old.messages.len();
        }
        if rows > self.largest() {
            return view;
        }
        // Whichever the map yields first make room: a folder not kept is
        // only read whole again.
        while !views.map.is_empty() && (views.rows + rows > BUDGET || views.map.len() >= MAX_VIEWS) {
            let evict: Vec<i64> = views.map.keys().take(views.map.len() / 4 + 1).copied().collect();
            for id in evict {
                if let Some(old) = views.map.remove(&id) {
                    views.rows -= old.messages.len();
                }
            }
        }
        views.rows += rows;
        views.map.insert(folder.0, Arc::clone(&view));
        view
    }

    fn forget(&self, folder: FolderId) {
        let mut views = self.lock();
        if let Some(old) = views.map.remove(&folder.0) {
            views.rows -= old.messages.len();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Views> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// `view`'s messages brought up to the snapshot: the rows changed since its
/// HIGHESTMODSEQ replace or join the kept ones, the UIDs expunged since
/// leave.
fn patch(conn: &Connection, folder: FolderId, view: &FolderView) -> StoreResult<Vec<StoredMessage>> {
    let since = ModSeq(view.state.highest_modseq as u64);
    let changed = messages_changed_since(conn, folder, since)?;
    let gone: std::collections::HashSet<_> = expunged_since(conn, folder, since)?.into_iter().collect();
    let mut messages = Vec::with_capacity(view.messages.len() + changed.len());
    let mut changed = changed.into_iter().peekable();
    for kept in view.messages.iter().filter(|m| !gone.contains(&m.uid)) {
        while let Some(newer) = changed.next_if(|c| c.uid < kept.uid) {
            messages.push(newer);
        }
        match changed.next_if(|c| c.uid == kept.uid) {
            Some(newer) => messages.push(newer),
            None => messages.push(kept.clone()),
        }
    }
    messages.extend(changed);
    Ok(messages)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn summaries(n: usize) -> Arc<Vec<Arc<MessageSummary>>> {
        let one = Arc::new(MessageSummary::default());
        Arc::new(vec![one; n])
    }

    /// Kept summaries are counted while kept (copies too) and the budget
    /// refuses what would pass it.
    #[test]
    fn kept_summaries_are_counted_against_the_budget() {
        let held = Arc::new(AtomicUsize::new(0));
        let kept = KeptSummaries::within_budget(summaries(10), &held).unwrap();
        let copy = kept.clone();
        assert_eq!(held.load(Ordering::Relaxed), 20);
        assert!(KeptSummaries::within_budget(summaries(SUMMARY_BUDGET - 19), &held).is_none());
        assert_eq!(held.load(Ordering::Relaxed), 20, "a refused list isn't counted");
        drop(kept);
        drop(copy);
        assert_eq!(held.load(Ordering::Relaxed), 0);
        let full = KeptSummaries::within_budget(summaries(SUMMARY_BUDGET), &held).unwrap();
        assert!(KeptSummaries::within_budget(summaries(1), &held).is_none());
        drop(full);
        assert!(KeptSummaries::within_budget(summaries(1), &held).is_some());
    }
}
