//! Parsed message summaries, kept in memory by body: FETCH ENVELOPE, SORT,
//! THREAD and header SEARCH of a folder read every message's summary, and
//! parsing each from its JSON was much of what those commands cost.
//!
//! Bodies are content-addressed (a body's key is its SHA-256), so a summary
//! kept under its body's key is right forever: nothing is ever invalidated,
//! and every folder holding the same body shares it. Both stores use it (on
//! PostgreSQL a body never changes either, whichever node stored it).
//!
//! Memory is bounded by the summaries' size as stored (their JSON, a fair
//! measure of what the parsed form holds): [`BUDGET`] in all, and a summary
//! larger than [`LARGEST`] (a message with huge headers) isn't kept. When
//! the budget is reached, a quarter of the entries (whichever the map yields
//! first) make room.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use mailroom_core::mail::MessageSummary;

/// Octets of summaries (as stored) kept at most.
pub(crate) const BUDGET: usize = 32 << 20;
/// A summary larger than this is parsed each time, never kept.
pub(crate) const LARGEST: usize = 64 << 10;

#[derive(Default)]
pub(crate) struct SummaryCache {
    inner: Mutex<Entries>,
}

#[derive(Default)]
struct Entries {
    map: HashMap<Vec<u8>, (Arc<MessageSummary>, usize)>,
    bytes: usize,
}

impl SummaryCache {
    /// The summary of the body `key`, if it is kept.
    pub(crate) fn get(&self, key: &[u8]) -> Option<Arc<MessageSummary>> {
        self.lock().map.get(key).map(|(found, _)| Arc::clone(found))
    }

    /// The summary of the body `key`, parsed from `json` if it isn't kept
    /// yet (and then kept, if small enough); `None` for JSON that doesn't
    /// parse.
    pub(crate) fn get_or_parse(&self, key: &[u8], json: &[u8]) -> Option<Arc<MessageSummary>> {
        if let Some((found, _)) = self.lock().map.get(key) {
            return Some(Arc::clone(found));
        }
        let parsed: Arc<MessageSummary> = Arc::new(serde_json::from_slice(json).ok()?);
        let size = json.len() + key.len();
        if json.len() > LARGEST {
            return Some(parsed);
        }
        let mut entries = self.lock();
        if entries.bytes + size > BUDGET {
            let evict: Vec<Vec<u8>> = entries.map.keys().take(entries.map.len() / 4 + 1).cloned().collect();
            for key in evict {
                if let Some((_, size)) = entries.map.remove(&key) {
                    entries.bytes -= size;
                }
            }
        }
        if entries.map.insert(key.to_vec(), (Arc::clone(&parsed), size)).is_none() {
            entries.bytes += size;
        }
        Some(parsed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn kept_by_body_and_bounded() {
        let cache = SummaryCache::default();
        let json = serde_json::to_vec(&MessageSummary::default()).unwrap();
        let first = cache.get_or_parse(b"a", &json).unwrap();
        // Kept: the same summary comes back without parsing (garbage JSON).
        assert!(Arc::ptr_eq(&first, &cache.get_or_parse(b"a", b"not json").unwrap()));
        assert!(cache.get_or_parse(b"b", b"not json").is_none(), "bad JSON is not kept");
        // Far past the budget: the kept octets stay within it.
        let mut big = MessageSummary::default();
        big.headers.push(("X-Pad".into(), "x".repeat(LARGEST - 200)));
        let big = serde_json::to_vec(&big).unwrap();
        for i in 0..2 * BUDGET / big.len() {
            cache.get_or_parse(format!("k{i}").as_bytes(), &big).unwrap();
        }
        {
            let entries = cache.lock();
            assert!(entries.bytes <= BUDGET, "{}", entries.bytes);
            assert_eq!(entries.bytes, entries.map.values().map(|(_, s)| s).sum::<usize>());
        }
        // A summary past LARGEST is answered, not kept.
        let mut huge = MessageSummary::default();
        huge.headers.push(("X-Pad".into(), "x".repeat(LARGEST)));
        let huge = serde_json::to_vec(&huge).unwrap();
        let once = cache.get_or_parse(b"huge", &huge).unwrap();
        assert!(!Arc::ptr_eq(&once, &cache.get_or_parse(b"huge", &huge).unwrap()));
    }
}
