//! Text search on PostgreSQL: the web app's word-prefix search and IMAP's
//! substring search of bodies, and the indexer's queue of bodies to index.
//!
//! One row of `message_text` per body (by its `text_key`) holds both
//! indexes: `words`, a `tsvector`, and `search_body`, the lower-cased text
//! IMAP compares substrings with (`LIKE`, answered by a trigram index when
//! `pg_trgm` is there). Bodies not indexed yet are listed in
//! `text_pending`; until the indexer has read them, a search hands them to
//! the caller to read.
//!
//! **Words are cut here, not by PostgreSQL's text-search parser**, to find
//! what the SQLite store's FTS5 index (`unicode61 remove_diacritics 2`)
//! finds: a word is a run of letters and digits, lower-cased, without its
//! accents. The parser keeps `ann@fabrikam.example` or `contoso.com` whole
//! (an email, a host), where "fabrikam" must find them, and what it
//! counts as a letter depends on the database's locale. So the words go to
//! the database as a `tsvector` value with their positions — the
//! `'simple'` configuration in effect: no stemming, no stop words — and a
//! search as a `tsquery` value built of quoted lexemes (never query
//! syntax): each typed word a prefix, all required, one the tokenizer
//! splits a phrase of its parts. Accents are folded by the database in the
//! same statement, for words and query alike (Unicode decomposition,
//! combining marks dropped: Rust's standard library has no decomposition
//! tables); marks already apart are dropped here, so no word folds to
//! nothing.

use std::collections::HashMap;

use deadpool_postgres::GenericClient;
use mailroom_core::mail::TextQuery;
use mailroom_core::store::{BodyHits, MessageText, PendingText, StoreResult, TextHits};
use mailroom_types::{FolderId, Uid};

use super::mail::corrupt;
use super::{PgStore, backend, begin_read, begin_write, exec, row, rows};

/// The combining diacritical marks that words lose (the blocks of Latin,
/// Greek and Cyrillic accents), as code point ranges. [`fold!`] drops the
/// same ones after decomposition.
const MARKS: [(char, char); 5] = [
    ('\u{0300}', '\u{036f}'),
    ('\u{1ab0}', '\u{1aff}'),
    ('\u{1dc0}', '\u{1dff}'),
    ('\u{20d0}', '\u{20ff}'),
    ('\u{fe20}', '\u{fe2f}'),
];

/// SQL folding the accents of the text in parameter `$n` (a `tsvector` or
/// `tsquery` value as text): decomposed, [`MARKS`] removed, composed again.
/// PostgreSQL's `normalize` needs a UTF8 database.
macro_rules! fold {
    ($param:literal) => {
        concat!(
            "normalize(regexp_replace(normalize(",
            $param,
            "::TEXT, NFD), '[\\u0300-\\u036f\\u1ab0-\\u1aff\\u1dc0-\\u1dff\\u20d0-\\u20ff\\ufe20-\\ufe2f]', '', 'g'), NFC)"
        )
    };
}

/// PostgreSQL's longest lexeme, in bytes.
const MAX_LEXEME_BYTES: usize = 2047;
/// How many bytes one body's `tsvector` may take, its lexemes and their
/// positions as PostgreSQL counts them (it refuses one of a mebibyte):
/// words and positions beyond are left out.
const MAX_VECTOR_BYTES: usize = 1_000_000;
/// What a position takes in a `tsvector`.
const POSITION_BYTES: usize = 2;
/// PostgreSQL's highest word position (later words share it).
const MAX_POSITION: u32 = 16_383;
/// Positions PostgreSQL keeps per lexeme.
const MAX_POSITIONS: usize = 256;

pub(super) async fn search_text(
    store: &PgStore,
    folder: FolderId,
    query: &TextQuery,
    max_hits: usize,
    max_unindexed: usize,
) -> StoreResult<TextHits> {
    let expression = words_query(query);
    let mut client = store.client().await?;
    let tx = begin_read(&mut client).await?;
    let uids = match expression {
        Some(expression) => rows(
            &tx,
            concat!(
                "SELECT m.uid FROM message_text t
                 JOIN blobs b ON b.text_key = t.text_key
                 JOIN messages m ON m.blob_id = b.id
                 WHERE t.words @@ ",
                fold!("$1"),
                "::TSQUERY AND m.folder_id = $2
                 ORDER BY m.uid DESC LIMIT $3"
            ),
            &[&expression, &folder.0, &as_limit(max_hits)],
        )
        .await?
        .iter()
        .map(|r| Uid(r.get::<_, i64>(0) as u32))
        .collect(),
        None => Vec::new(),
    };
    // From the (usually empty) list of bodies waiting: nothing to walk
    // when the indexer is up to date.
    let unindexed = rows(
        &tx,
        "SELECT m.uid, b.size FROM text_pending p
         JOIN blobs b ON b.text_key = p.text_key
         JOIN messages m ON m.blob_id = b.id
         WHERE m.folder_id = $1
         ORDER BY m.uid DESC LIMIT $2",
        &[&folder.0, &as_limit(max_unindexed)],
    )
    .await?
    .iter()
    .map(|r| (Uid(r.get::<_, i64>(0) as u32), r.get::<_, i64>(1) as u64))
    .collect();
    tx.commit().await.map_err(backend)?;
    Ok(TextHits { uids, unindexed })
}

pub(super) async fn search_body(store: &PgStore, folder: FolderId, needle: &str) -> StoreResult<BodyHits> {
    let pattern = format!("%{}%", like_escaped(&without_nul(needle)));
    let mut client = store.client().await?;
    let tx = begin_read(&mut client).await?;
    let uids = rows(
        &tx,
        "SELECT m.uid FROM message_text t
         JOIN blobs b ON b.text_key = t.text_key
         JOIN messages m ON m.blob_id = b.id
         WHERE t.search_body LIKE $1 ESCAPE '\\' AND m.folder_id = $2
         ORDER BY m.uid",
        &[&pattern, &folder.0],
    )
    .await?
    .iter()
    .map(|r| Uid(r.get::<_, i64>(0) as u32))
    .collect();
    // From the folder's messages: after a reindex every body on the server
    // waits, and this folder's few are what matter.
    let unindexed = rows(
        &tx,
        "SELECT m.uid FROM messages m
         JOIN blobs b ON b.id = m.blob_id
         WHERE m.folder_id = $1 AND b.text_key IN (SELECT text_key FROM text_pending)
         ORDER BY m.uid",
        &[&folder.0],
    )
    .await?
    .iter()
    .map(|r| Uid(r.get::<_, i64>(0) as u32))
    .collect();
    tx.commit().await.map_err(backend)?;
    Ok(BodyHits { uids, unindexed })
}

pub(super) async fn requeue_text(store: &PgStore) -> StoreResult<u64> {
    let mut client = store.client().await?;
    let tx = begin_write(&mut client).await?;
    exec(
        &tx,
        "INSERT INTO text_pending (text_key) SELECT text_key FROM blobs WHERE text_key IS NOT NULL
         ON CONFLICT DO NOTHING",
        &[],
    )
    .await?;
    let pending = backlog(&tx).await?;
    store.committed(tx).await?;
    Ok(pending)
}

pub(super) async fn pending_text(
    store: &PgStore,
    limit: usize,
    max_bytes: usize,
) -> StoreResult<Vec<PendingText>> {
    let mut client = store.client().await?;
    let tx = begin_read(&mut client).await?;
    let listed = rows(
        &tx,
        "SELECT p.text_key, b.id, b.size FROM text_pending p
         JOIN blobs b ON b.text_key = p.text_key
         ORDER BY p.text_key LIMIT $1",
        &[&as_limit(limit)],
    )
    .await?;
    // As many as `max_bytes` allows, at least one.
    let mut chosen: Vec<(i64, Vec<u8>, i64)> = Vec::new();
    let mut total = 0usize;
    for r in &listed {
        let size: i64 = r.get(2);
        if !chosen.is_empty() && total.saturating_add(size as usize) > max_bytes {
            break;
        }
        total = total.saturating_add(size as usize);
        chosen.push((r.get(0), r.get(1), size));
    }
    // Their bodies in one read, each in order of its chunks.
    let ids: Vec<&[u8]> = chosen.iter().map(|(_, id, _)| id.as_slice()).collect();
    let mut bodies: HashMap<Vec<u8>, Vec<u8>> = HashMap::new();
    for r in rows(
        &tx,
        "SELECT blob_id, data FROM blob_chunks WHERE blob_id = ANY($1) ORDER BY blob_id, chunk",
        &[&ids],
    )
    .await?
    {
        let data: &[u8] = r.get(1);
        bodies.entry(r.get(0)).or_default().extend_from_slice(data);
    }
    tx.commit().await.map_err(backend)?;
    Ok(chosen
        .into_iter()
        .map(|(key, id, size)| {
            let bytes = bodies.remove(&id).unwrap_or_default();
            // A body that isn't whole is indexed as empty, so the indexer
            // goes on past it instead of trying it forever.
            if bytes.len() as u64 != size as u64 {
                let err = corrupt(format!("body of {size} octets has {} in its chunks", bytes.len()));
                tracing::warn!(key, error = %err, "a message body couldn't be read for the search index");
                return PendingText { key, bytes: Vec::new() };
            }
            PendingText { key, bytes }
        })
        .collect())
}

pub(super) async fn store_text(store: &PgStore, texts: Vec<(i64, MessageText)>) -> StoreResult<()> {
    // The words are cut before the write lock is taken.
    let texts: Vec<(i64, String, String)> = texts
        .into_iter()
        .map(|(key, text)| (key, words_vector(&text), without_nul(&text.search_body).into_owned()))
        .collect();
    let mut client = store.client().await?;
    let tx = begin_write(&mut client).await?;
    for (key, words, search_body) in &texts {
        // Keys are never handed out twice: one still listed is the body
        // that was read. A row from before (listed again by
        // `requeue_text`) is replaced.
        if exec(&tx, "DELETE FROM text_pending WHERE text_key = $1", &[key]).await? == 1 {
            exec(
                &tx,
                concat!(
                    "INSERT INTO message_text (text_key, words, search_body) VALUES ($1, ",
                    fold!("$2"),
                    "::TSVECTOR, $3)
                     ON CONFLICT (text_key) DO UPDATE SET words = EXCLUDED.words, search_body = EXCLUDED.search_body"
                ),
                &[key, words, search_body],
            )
            .await?;
        }
    }
    store.committed(tx).await?;
    Ok(())
}

pub(super) async fn text_backlog(store: &PgStore) -> StoreResult<u64> {
    let client = store.client().await?;
    backlog(&client).await
}

/// How many bodies wait to be indexed.
async fn backlog<C: GenericClient>(client: &C) -> StoreResult<u64> {
    Ok(row(client, "SELECT count(*) FROM text_pending", &[]).await?.get::<_, i64>(0) as u64)
}

/// A `LIMIT` for a count.
fn as_limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// `text` without NUL characters (spaces instead), which a TEXT value can't hold.
fn without_nul(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains('\0') { text.replace('\0', " ").into() } else { text.into() }
}

/// `text` matched literally by `LIKE … ESCAPE '\'`.
fn like_escaped(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

fn is_mark(c: char) -> bool {
    MARKS.iter().any(|&(low, high)| (low..=high).contains(&c))
}

/// Calls `each` with every word of `text`: a run of letters and digits,
/// lower-cased, without the combining marks written apart (which don't end
/// a word).
fn for_each_word(text: &str, mut each: impl FnMut(&str)) {
    let mut word = String::new();
    for c in text.chars() {
        if c.is_alphanumeric() || is_mark(c) {
            word.extend(c.to_lowercase().filter(|&l| !is_mark(l)));
        } else if !word.is_empty() {
            each(&word);
            word.clear();
        }
    }
    if !word.is_empty() {
        each(&word);
    }
}

/// The most bytes `word` may take once the database has folded it: Unicode
/// decomposition at most triples UTF-8, and ASCII stays as it is.
fn folded_bound(word: &str) -> usize {
    word.bytes().map(|b| if b.is_ascii() { 1 } else { 3 }).sum()
}

/// `word` as a quoted lexeme of a `tsvector` or `tsquery` value.
fn lexeme(word: &str) -> String {
    let mut quoted = String::with_capacity(word.len() + 2);
    quoted.push('\'');
    for c in word.chars() {
        match c {
            '\'' => quoted.push_str("''"),
            '\\' => quoted.push_str("\\\\"),
            c => quoted.push(c),
        }
    }
    quoted.push('\'');
    quoted
}

/// The words of a message as a `tsvector` value (before folding): subject,
/// people and body, with a gap between them so that no phrase spans two,
/// as FTS5 keeps its columns apart. Words too long for a lexeme are left
/// out but keep their place; once [`MAX_VECTOR_BYTES`] are used, new words
/// are left out.
fn words_vector(text: &MessageText) -> String {
    let mut order: Vec<String> = Vec::new();
    let mut positions: HashMap<String, Vec<u16>> = HashMap::new();
    let mut budget = MAX_VECTOR_BYTES;
    let mut position = 0u32;
    for field in [&text.subject, &text.people, &text.body] {
        for_each_word(field, |word| {
            position = position.saturating_add(1);
            let at = position.min(MAX_POSITION) as u16;
            if let Some(list) = positions.get_mut(word) {
                if list.len() < MAX_POSITIONS && list.last() != Some(&at) && budget >= POSITION_BYTES {
                    budget -= POSITION_BYTES;
                    list.push(at);
                }
                return;
            }
            let bound = folded_bound(word);
            // Aligned to two bytes, then the count of positions and the first.
            let cost = bound + bound % 2 + 2 + POSITION_BYTES;
            if bound <= MAX_LEXEME_BYTES && cost <= budget {
                budget -= cost;
                order.push(word.to_string());
                positions.insert(word.to_string(), vec![at]);
            }
        });
        position = position.saturating_add(1);
    }
    let mut vector = String::new();
    for word in &order {
        if !vector.is_empty() {
            vector.push(' ');
        }
        vector.push_str(&lexeme(word));
        let list = positions.get(word).map(Vec::as_slice).unwrap_or_default();
        for (n, at) in list.iter().enumerate() {
            vector.push(if n == 0 { ':' } else { ',' });
            vector.push_str(&at.to_string());
        }
    }
    vector
}

/// A `tsquery` value (before folding) for `query`, as SQLite's FTS5 query:
/// each word a prefix (a single letter a word of its own), all of them
/// required; a word the tokenizer splits (`alice@contoso.com`) a phrase of
/// its parts, the last a prefix. `None` when nothing indexed can match.
fn words_query(query: &TextQuery) -> Option<String> {
    let mut phrases = Vec::new();
    for term in &query.terms {
        let mut parts = Vec::new();
        for_each_word(term, |word| parts.push(word.to_string()));
        // FTS5 drops an empty phrase from a query.
        if parts.is_empty() {
            continue;
        }
        // Words this long were never indexed.
        if parts.iter().any(|part| folded_bound(part) > MAX_LEXEME_BYTES) {
            return None;
        }
        // One letter matches itself only: as a prefix it would be every
        // word that starts with it.
        let star = if term.chars().count() > 1 { ":*" } else { "" };
        let phrase = parts.iter().map(|part| lexeme(part)).collect::<Vec<_>>().join(" <-> ");
        phrases.push(format!("({phrase}{star})"));
    }
    (!phrases.is_empty()).then(|| phrases.join(" & "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        let mut all = Vec::new();
        for_each_word(text, |w| all.push(w.to_string()));
        all
    }

    #[test]
    fn words_are_runs_of_letters_and_digits() {
        assert_eq!(
            words("Ann Lee <ann@Fabrikam.example>, 77"),
            ["ann", "lee", "ann", "fabrikam", "example", "77"]
        );
        assert_eq!(
            words("cafe\u{301}s \u{301} Ça"),
            ["cafes", "ça"],
            "marks apart are dropped, not split on"
        );
        assert!(words("-- \u{300} ...").is_empty());
    }

    #[test]
    fn the_fold_drops_the_marks_words_drop() {
        let ranges: String = MARKS
            .iter()
            .map(|&(low, high)| format!("\\u{:04x}-\\u{:04x}", low as u32, high as u32))
            .collect();
        assert!(fold!("$1").contains(&format!("'[{ranges}]'")), "{}", fold!("$1"));
    }

    #[test]
    fn a_vector_keeps_fields_apart_and_quotes_lexemes() {
        let text = MessageText {
            subject: "Lunch lunch".into(),
            people: "ann@fabrikam.example".into(),
            body: "it's".into(),
            search_body: String::new(),
        };
        assert_eq!(words_vector(&text), "'lunch':1,2 'ann':4 'fabrikam':5 'example':6 'it':8 's':9");
        assert_eq!(lexeme("a'b\\c"), "'a''b\\\\c'");
    }

    #[test]
    fn a_vector_stays_within_postgresql_limits() {
        let long = "x".repeat(MAX_LEXEME_BYTES + 1);
        let text = MessageText { body: format!("{long} after"), ..MessageText::default() };
        // (Positions 1 and 2: the gaps after the empty subject and people.)
        assert_eq!(words_vector(&text), "'after':4", "a long word keeps its place");
        let many = MessageText { body: "w ".repeat(20_000), ..MessageText::default() };
        let vector = words_vector(&many);
        assert_eq!(vector.matches(',').count(), MAX_POSITIONS - 1);
        let huge =
            MessageText { body: (0..300_000).map(|n| format!("w{n} ")).collect(), ..MessageText::default() };
        // As PostgreSQL counts: each lexeme two-byte aligned, then its
        // count of positions and the positions.
        let bytes: usize = words_vector(&huge)
            .split(' ')
            .map(|entry| {
                let (word, positions) = entry.split_once(':').unwrap_or((entry, ""));
                let len = word.len() - 2;
                len + len % 2 + 2 + 2 * positions.split(',').count()
            })
            .sum();
        assert!(bytes <= MAX_VECTOR_BYTES, "{bytes}");
    }

    #[test]
    fn a_query_is_prefixes_and_phrases_never_syntax() {
        let query = |typed: &str| words_query(&TextQuery::parse(typed));
        assert_eq!(query("INV p").as_deref(), Some("('inv':*) & ('p')"));
        assert_eq!(query("ann@fabrikam.example").as_deref(), Some("('ann' <-> 'fabrikam' <-> 'example':*)"));
        assert_eq!(
            query("\"quoted\" OR NEAR(x").as_deref(),
            Some("('quoted':*) & ('or':*) & ('near' <-> 'x':*)")
        );
        assert_eq!(query(""), None);
        assert_eq!(words_query(&TextQuery { terms: vec!["\u{301}".into()] }), None);
    }

    #[test]
    fn like_patterns_are_literal() {
        assert_eq!(like_escaped("50%_a\\b"), "50\\%\\_a\\\\b");
    }
}
