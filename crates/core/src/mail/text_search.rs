//! Full-text search of a folder: the words a person types, matched as word
//! prefixes (as Outlook's search box does) in a message's subject, its
//! people (From, To, Cc: names and addresses) and its text, ignoring case
//! and accents.
//!
//! The store keeps an index of every body, filled in the background by the
//! server's indexer ([`Mail::text_to_index`], [`Mail::index_text`]): the
//! text is extracted from MIME outside `core` (by the caller's extractor, as
//! summaries are), so delivery never waits for it. A body not indexed yet is
//! read and matched directly when searched, so a search never misses a
//! message that has just arrived.
//!
//! IMAP's SEARCH BODY and TEXT match substrings, not words: a second index
//! of each body's IMAP search text, by trigrams ([`Mail::search_body`]),
//! finds exactly the bodies containing a needle of three characters or
//! more; shorter needles, and bodies not indexed yet, are read.

use mailroom_types::Uid;

use super::{Mail, OpenFolder};
use crate::CoreResult;
use crate::store::{BodyHits, MessageText, PendingText};

/// Words a search may have: more are ignored.
const MAX_TERMS: usize = 16;
/// Characters a word may have: the rest is cut.
const MAX_TERM_CHARS: usize = 64;
/// Bodies not indexed yet that one search reads, newest first, and their
/// octets at most: after a large import the indexer needs a while, and a
/// search mustn't read the whole folder (on the caller's thread) meanwhile.
const MAX_UNINDEXED_READ: usize = 500;
const MAX_UNINDEXED_BYTES: u64 = 8 * 1024 * 1024;
/// Matches a search returns at most, the newest.
pub const MAX_HITS: usize = 1000;

/// What a search found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TextFound {
    /// The matching messages, ascending.
    pub uids: Vec<Uid>,
    /// More bodies of the folder than a search reads are waiting for the
    /// indexer: older messages may be missing from `uids` for now.
    pub incomplete: bool,
    /// More than [`MAX_HITS`] matched: `uids` are the newest of them.
    pub truncated: bool,
}

/// What a person typed, as words (lower case, each with a letter or digit).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TextQuery {
    pub terms: Vec<String>,
}

impl TextQuery {
    pub fn parse(typed: &str) -> Self {
        let terms = typed
            .split_whitespace()
            .filter(|t| t.chars().any(char::is_alphanumeric))
            .take(MAX_TERMS)
            .map(|t| t.chars().take(MAX_TERM_CHARS).collect::<String>().to_lowercase())
            .collect();
        TextQuery { terms }
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// Whether a body not indexed yet matches: every word is in its text
    /// (ignoring case; a little broader than the index's word prefixes,
    /// and only until the indexer has caught up).
    pub fn matches(&self, text: &MessageText) -> bool {
        let all = format!("{}\n{}\n{}", text.subject, text.people, text.body).to_lowercase();
        self.terms.iter().all(|t| all.contains(t.as_str()))
    }
}

/// Turns a message's octets into its searchable text (MIME decoding,
/// outside `core`).
pub type TextExtractor = fn(&[u8]) -> MessageText;

impl Mail {
    /// The messages of `folder` matching `query`.
    pub async fn search_text(
        &self,
        folder: &OpenFolder,
        query: &TextQuery,
        extract: TextExtractor,
    ) -> CoreResult<TextFound> {
        super::open::require_right(folder.opened(), |r| r.read)?;
        if query.is_empty() {
            return Ok(TextFound::default());
        }
        let hits = self.store.search_text(folder.id(), query, MAX_HITS + 1, MAX_UNINDEXED_READ + 1).await?;
        let mut incomplete = hits.unindexed.len() > MAX_UNINDEXED_READ;
        let mut uids = hits.uids;
        let mut read = 0u64;
        for (uid, size) in hits.unindexed.into_iter().take(MAX_UNINDEXED_READ) {
            read = read.saturating_add(size);
            if read > MAX_UNINDEXED_BYTES {
                incomplete = true;
                break;
            }
            let bytes = self.store.message_body(folder.id(), uid).await?;
            if query.matches(&extract(&bytes)) {
                uids.push(uid);
            }
        }
        uids.sort_unstable_by(|a, b| b.cmp(a));
        uids.dedup();
        let truncated = uids.len() > MAX_HITS;
        uids.truncate(MAX_HITS);
        uids.reverse();
        Ok(TextFound { uids, incomplete, truncated })
    }

    /// Bodies waiting for the indexer, oldest first: at most `limit`, and
    /// fewer when they add up to more than `max_bytes` (at least one).
    pub async fn text_to_index(&self, limit: usize, max_bytes: usize) -> CoreResult<Vec<PendingText>> {
        Ok(self.store.pending_text(limit, max_bytes).await?)
    }

    /// The messages of an opened folder whose body contains `needle`
    /// (lower-case, three characters or more), from the substring index,
    /// and those not indexed yet (the caller reads them).
    pub async fn search_body(&self, folder: &OpenFolder, needle: &str) -> CoreResult<BodyHits> {
        Ok(self.store.search_body(folder.id(), needle).await?)
    }

    /// Lists every stored body for the indexer again (`mailroom reindex`);
    /// returns how many wait.
    pub async fn reindex_all(&self) -> CoreResult<u64> {
        Ok(self.store.requeue_text().await?)
    }

    /// How many bodies wait for the indexer.
    pub async fn text_backlog(&self) -> CoreResult<u64> {
        Ok(self.store.text_backlog().await?)
    }

    /// Stores what the indexer extracted; a body removed meanwhile is skipped.
    pub async fn index_text(&self, texts: Vec<(i64, MessageText)>) -> CoreResult<()> {
        Ok(self.store.store_text(texts).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_words_become_terms() {
        let query = TextQuery::parse("  Invoice  -- 77 Ünïcode ");
        assert_eq!(query.terms, vec!["invoice", "77", "ünïcode"]);
        assert!(TextQuery::parse(" ... ").is_empty());
        assert_eq!(TextQuery::parse(&"w ".repeat(40)).terms.len(), MAX_TERMS);
        assert_eq!(TextQuery::parse(&"x".repeat(100)).terms[0].len(), MAX_TERM_CHARS);
        let text = MessageText {
            subject: "Invoice 77".into(),
            people: "Customer <c@fabrikam.com>".into(),
            body: "Pay soon".into(),
            search_body: "pay soon".into(),
        };
        assert!(TextQuery::parse("invoice FABRIKAM pay").matches(&text));
        assert!(!TextQuery::parse("invoice refund").matches(&text));
    }
}
