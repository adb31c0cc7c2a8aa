//! SEARCH and UID SEARCH (RFC 9051 §6.4.4) over flags, sizes, dates and
//! the headers parsed at delivery; BODY and TEXT read the stored message,
//! decoded: its text parts from their transfer encodings and charsets, so
//! "zürich" is found in quoted-printable and base64 alike.
//! Matching is case-insensitive substring, as the RFC asks. Header keys
//! with an ASCII needle (nearly all of them) are answered by the store in
//! one query each; the rest read each message's summary.

use std::collections::{HashMap, HashSet};

use imap_codec::imap_types::search::SearchKey;
use mailroom_core::mail::{MessageSummary, StoredMessage, SystemFlag};
use mailroom_types::Uid;

use crate::respond::{Status, status, untagged};
use crate::sequence::contains as in_set;
use crate::session::Session;

/// The charsets SEARCH accepts (RFC 9051 §6.4.4 requires both).
const SEARCH_CHARSETS: [&str; 2] = ["US-ASCII", "UTF-8"];

struct Candidate<'a> {
    seq: u32,
    message: &'a StoredMessage,
    summary: std::sync::Arc<MessageSummary>,
    /// The body as BODY and TEXT compare it, lower-case
    /// ([`mailroom_mime::readable::body_search_haystack`]): read only where
    /// the substring index can't answer (a message not indexed yet, a
    /// needle shorter than three characters).
    body: Option<String>,
}

/// BODY and TEXT needles (lower-case) the substring index answered → the
/// UIDs whose body contains them.
type BodyHits = HashMap<String, HashSet<Uid>>;

/// The shortest needle the substring index answers: its terms are trigrams.
const MIN_INDEXED_NEEDLE: usize = 3;
/// A longer needle is looked up by its first this many characters (each
/// character of a phrase is a term SQLite allocates), and the bodies found
/// are read to confirm.
const MAX_INDEXED_NEEDLE: usize = 64;
/// More distinct needles than this in one search, or a folder this small,
/// and the bodies are read instead: each needle is a query over the whole
/// index, which a handful of bodies don't need.
const MAX_INDEXED_NEEDLES: usize = 16;
const MIN_INDEXED_FOLDER: usize = 64;

/// Header keys the store answered, each named by its address in the
/// criteria (which outlive the search) → the UIDs that match. Found by
/// address, a key costs no allocation per candidate; a search has a
/// handful of them.
type HeaderHits = Vec<(usize, std::sync::Arc<HashSet<Uid>>)>;

/// The address that names a key in [`HeaderHits`].
fn key_address(key: &SearchKey<'_>) -> usize {
    std::ptr::from_ref(key) as usize
}

/// What every candidate is matched against.
struct Context<'a> {
    uids: &'a crate::uidmap::UidMap,
    hits: &'a HeaderHits,
    body_hits: &'a BodyHits,
    /// The messages recent in this session (RFC 3501 §2.3.2).
    recent: &'a crate::recent::Recent,
    /// The time of the search, Unix seconds (OLDER, YOUNGER).
    now: i64,
}

/// The (header, needle) a key searches, when the store can answer it: an
/// ASCII needle, which its ASCII case folding compares exactly as here.
fn header_query(key: &SearchKey<'_>) -> Option<(String, String)> {
    let (name, needle) = match key {
        SearchKey::Subject(s) => ("subject".to_string(), text(s)),
        SearchKey::From(s) => ("from".to_string(), text(s)),
        SearchKey::To(s) => ("to".to_string(), text(s)),
        SearchKey::Cc(s) => ("cc".to_string(), text(s)),
        SearchKey::Bcc(s) => ("bcc".to_string(), text(s)),
        SearchKey::Header(name, value) => match placeholder(name, value) {
            Some(_) => return None,
            None => (text(name), text(value)),
        },
        _ => return None,
    };
    (name.is_ascii() && needle.is_ascii()).then(|| (name.to_ascii_lowercase(), needle.to_ascii_lowercase()))
}

/// Every store-answerable header key in a criteria tree.
fn header_queries(key: &SearchKey<'_>, into: &mut Vec<(usize, (String, String))>) {
    match key {
        SearchKey::Not(k) => header_queries(k, into),
        SearchKey::Or(a, b) => {
            header_queries(a, into);
            header_queries(b, into);
        }
        SearchKey::And(keys) => keys.as_ref().iter().for_each(|k| header_queries(k, into)),
        key => into.extend(header_query(key).map(|query| (key_address(key), query))),
    }
}

fn contains(haystack: &str, needle: &str) -> bool {
    haystack.to_lowercase().contains(&needle.to_lowercase())
}

fn text(a: &impl AsRef<[u8]>) -> String {
    String::from_utf8_lossy(a.as_ref()).into_owned()
}

fn header(summary: &MessageSummary, name: &str, needle: &str) -> bool {
    summary.headers.iter().any(|(n, v)| n.eq_ignore_ascii_case(name) && contains(v, needle))
}

/// The BODY and TEXT needles of a criteria tree, lower-case.
fn body_needles(key: &SearchKey<'_>, into: &mut Vec<String>) {
    match key {
        SearchKey::Body(s) | SearchKey::Text(s) => into.push(mailroom_mime::readable::search_fold(&text(s))),
        SearchKey::Not(k) => body_needles(k, into),
        SearchKey::Or(a, b) => {
            body_needles(a, into);
            body_needles(b, into);
        }
        SearchKey::And(keys) => keys.as_ref().iter().for_each(|k| body_needles(k, into)),
        _ => {}
    }
}

/// Whether the message's body contains `needle`: from its text when it was
/// read, else from the substring index.
fn body_contains(c: &Candidate<'_>, context: &Context<'_>, needle: &str) -> bool {
    let needle = mailroom_mime::readable::search_fold(needle);
    match &c.body {
        Some(body) => body.contains(&needle),
        None => context.body_hits.get(&needle).is_some_and(|hits| hits.contains(&c.message.uid)),
    }
}

/// Whether a criterion reads `\Seen`: only then does a search need the
/// member's own read states (per-member read state) applied to every message.
fn names_seen(key: &SearchKey<'_>) -> bool {
    match key {
        SearchKey::Seen | SearchKey::Unseen | SearchKey::New => true,
        SearchKey::Not(k) => names_seen(k),
        SearchKey::Or(a, b) => names_seen(a) || names_seen(b),
        SearchKey::And(keys) => keys.as_ref().iter().any(names_seen),
        _ => false,
    }
}

/// Whether a MODSEQ criterion is among the keys: the answer then names the
/// highest MODSEQ of what it found (RFC 7162 §3.1.5).
fn names_modseq(key: &SearchKey<'_>) -> bool {
    match key {
        SearchKey::ModSequence { .. } => true,
        SearchKey::Not(k) => names_modseq(k),
        SearchKey::Or(a, b) => names_modseq(a) || names_modseq(b),
        SearchKey::And(keys) => keys.as_ref().iter().any(names_modseq),
        _ => false,
    }
}

/// Keys that read the parsed summary (the rest need only the index row,
/// or the store's answer for a header).
fn needs_summary(key: &SearchKey<'_>) -> bool {
    match key {
        SearchKey::Subject(_)
        | SearchKey::From(_)
        | SearchKey::To(_)
        | SearchKey::Cc(_)
        | SearchKey::Bcc(_) => header_query(key).is_none(),
        SearchKey::Header(name, value) => placeholder(name, value).is_none() && header_query(key).is_none(),
        SearchKey::Text(_) | SearchKey::SentBefore(_) | SearchKey::SentOn(_) | SearchKey::SentSince(_) => {
            true
        }
        SearchKey::Not(k) => needs_summary(k),
        SearchKey::Or(a, b) => needs_summary(a) || needs_summary(b),
        SearchKey::And(keys) => keys.as_ref().iter().any(needs_summary),
        _ => false,
    }
}

/// A key `crate::search_keys` rewrote into a HEADER key, if this is one.
fn placeholder(name: &impl AsRef<[u8]>, value: &impl AsRef<[u8]>) -> Option<crate::search_keys::Placeholder> {
    crate::search_keys::Placeholder::read(&text(name), &text(value))
}

fn day(unix: i64) -> Option<chrono::NaiveDate> {
    chrono::DateTime::from_timestamp(unix, 0).map(|d| d.date_naive())
}

/// The day a message's `Date:` names, in its own zone (RFC 3501 §6.4.4:
/// SENTBEFORE/SENTON/SENTSINCE disregard time and timezone): "Sun, 6 Dec
/// 2026 23:30 -0800" is the 6th, though it is the 7th in UTC. A date the
/// parser can't read as RFC 5322 falls back to its UTC day.
fn sent_day(summary: &mailroom_core::mail::MessageSummary) -> Option<chrono::NaiveDate> {
    let field = summary.field("Date");
    // Comments such as "(PST)" after the zone aren't RFC 2822's business.
    let text = field.split('(').next().unwrap_or(field).trim();
    chrono::DateTime::parse_from_rfc2822(text)
        .map(|d| d.date_naive())
        .ok()
        .or_else(|| summary.sent_date.and_then(day))
}

fn matches(key: &SearchKey<'_>, c: &Candidate<'_>, context: &Context<'_>) -> bool {
    let address = key_address(key);
    if let Some((_, hits)) = context.hits.iter().find(|(at, _)| *at == address) {
        return hits.contains(&c.message.uid);
    }
    let uids = context.uids;
    let m = c.message;
    let flag = |f: SystemFlag| m.flags.has(f);
    match key {
        SearchKey::All => true,
        SearchKey::And(keys) => keys.as_ref().iter().all(|k| matches(k, c, context)),
        SearchKey::Or(a, b) => matches(a, c, context) || matches(b, c, context),
        SearchKey::Not(k) => !matches(k, c, context),
        SearchKey::SequenceSet(set) => in_set(set, c.seq, uids.len() as u32),
        SearchKey::Uid(set) => in_set(set, m.uid.0, uids.last().map_or(0, |u| u.0)),
        SearchKey::Answered => flag(SystemFlag::Answered),
        SearchKey::Unanswered => !flag(SystemFlag::Answered),
        SearchKey::Deleted => flag(SystemFlag::Deleted),
        SearchKey::Undeleted => !flag(SystemFlag::Deleted),
        SearchKey::Draft => flag(SystemFlag::Draft),
        SearchKey::Undraft => !flag(SystemFlag::Draft),
        SearchKey::Flagged => flag(SystemFlag::Flagged),
        SearchKey::Unflagged => !flag(SystemFlag::Flagged),
        SearchKey::Seen => flag(SystemFlag::Seen),
        SearchKey::Unseen => !flag(SystemFlag::Seen),
        // RFC 3501 §6.4.4: NEW is RECENT UNSEEN, OLD is NOT RECENT.
        SearchKey::Recent => context.recent.contains(m.uid),
        SearchKey::New => context.recent.contains(m.uid) && !flag(SystemFlag::Seen),
        SearchKey::Old => !context.recent.contains(m.uid),
        SearchKey::Keyword(k) => m.flags.keywords.iter().any(|have| have.eq_ignore_ascii_case(k.inner())),
        SearchKey::Unkeyword(k) => !m.flags.keywords.iter().any(|have| have.eq_ignore_ascii_case(k.inner())),
        SearchKey::Larger(n) => m.size > u64::from(*n),
        SearchKey::Smaller(n) => m.size < u64::from(*n),
        SearchKey::Subject(s) => header(&c.summary, "Subject", &text(s)),
        SearchKey::From(s) => header(&c.summary, "From", &text(s)),
        SearchKey::To(s) => header(&c.summary, "To", &text(s)),
        SearchKey::Cc(s) => header(&c.summary, "Cc", &text(s)),
        SearchKey::Bcc(s) => header(&c.summary, "Bcc", &text(s)),
        SearchKey::Header(name, value) => match placeholder(name, value) {
            Some(wanted) => {
                use crate::search_keys::Placeholder as P;
                match wanted {
                    // RFC 8514 §4.3: the day, disregarding time and zone.
                    P::SavedBefore(d) => day(m.saved_at).is_some_and(|x| x < d),
                    P::SavedOn(d) => day(m.saved_at).is_some_and(|x| x == d),
                    P::SavedSince(d) => day(m.saved_at).is_some_and(|x| x >= d),
                    // RFC 8474 §5: exact, case-sensitive.
                    P::EmailId(id) => super::fetch::email_id(&m.blob) == id,
                    // No thread ids here: RFC 8474 §5.2 says nothing matches.
                    P::ThreadId(_) => false,
                }
            }
            None => {
                let value = text(value);
                if value.is_empty() {
                    c.summary.headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(&text(name)))
                } else {
                    header(&c.summary, &text(name), &value)
                }
            }
        },
        SearchKey::Body(s) => body_contains(c, context, &text(s)),
        // The header's fields as decoded at delivery, then the body.
        SearchKey::Text(s) => {
            let needle = text(s);
            c.summary.headers.iter().any(|(n, v)| contains(&format!("{n}: {v}"), &needle))
                || body_contains(c, context, &needle)
        }
        SearchKey::Before(d) => day(m.internal_date).is_some_and(|x| x < *d.as_ref()),
        SearchKey::On(d) => day(m.internal_date).is_some_and(|x| x == *d.as_ref()),
        SearchKey::Since(d) => day(m.internal_date).is_some_and(|x| x >= *d.as_ref()),
        SearchKey::SentBefore(d) => sent_day(&c.summary).is_some_and(|x| x < *d.as_ref()),
        SearchKey::SentOn(d) => sent_day(&c.summary).is_some_and(|x| x == *d.as_ref()),
        SearchKey::SentSince(d) => sent_day(&c.summary).is_some_and(|x| x >= *d.as_ref()),
        SearchKey::ModSequence { modseq, .. } => m.modseq.0 >= *modseq,
        // RFC 5032 WITHIN: the arrival time against the server's clock.
        SearchKey::Older(seconds) => m.internal_date <= context.now - i64::from(seconds.get()),
        SearchKey::Younger(seconds) => m.internal_date >= context.now - i64::from(seconds.get()),
    }
}

/// One message a search found, with what SORT and THREAD order by.
pub(crate) struct Hit {
    pub seq: u32,
    pub uid: Uid,
    pub modseq: u64,
    pub internal_date: i64,
    pub size: u64,
    /// Read only when asked for ([`Session::matching`]); empty otherwise.
    pub summary: std::sync::Arc<MessageSummary>,
}

impl Session {
    /// The messages of the selected folder that match every criterion, in
    /// order. On failure the client has been answered (`BADCHARSET`, a store
    /// error) and `None` is returned. `with_summaries` keeps each hit's
    /// parsed summary (SORT and THREAD order by its fields).
    pub(crate) async fn matching(
        &mut self,
        tag: &str,
        charset: Option<&str>,
        criteria: &[SearchKey<'static>],
        with_summaries: bool,
    ) -> Option<Vec<Hit>> {
        let name = self.selected()?.target.name.clone();
        if let Some(charset) = charset.filter(|c| !SEARCH_CHARSETS.iter().any(|s| s.eq_ignore_ascii_case(c)))
        {
            // RFC 9051 §6.4.4: an unknown charset is NO (not BAD), with the
            // BADCHARSET code listing the ones we have. Strings arrive as
            // UTF-8 (of which US-ASCII is a subset) and are compared as such.
            tracing::debug!(session = self.id, charset, "search charset refused");
            let code = format!("BADCHARSET ({})", SEARCH_CHARSETS.join(" "));
            self.fail(status(Some(tag), Status::No, Some(&code), "Search in US-ASCII or UTF-8"));
            return None;
        }
        match self.find_matches(criteria, with_summaries).await {
            Ok(found) => found,
            Err(err) => {
                self.store_error(tag, &name, err);
                None
            }
        }
    }

    /// [`Self::matching`] without answering the client: `None` when nothing
    /// is selected, `Err` when the store failed (CONTEXT updates re-run
    /// searches between commands, where there is no tag to answer).
    pub(crate) async fn find_matches(
        &mut self,
        criteria: &[SearchKey<'static>],
        with_summaries: bool,
    ) -> Result<Option<Vec<Hit>>, mailroom_core::CoreError> {
        let Some(selected) = self.selected().cloned() else { return Ok(None) };
        let mail = self.server.mail.clone();
        let folder = &selected.target.open;
        let messages = mail.messages_for_search(folder, criteria.iter().any(names_seen)).await?;
        let mut queries = Vec::new();
        criteria.iter().for_each(|k| header_queries(k, &mut queries));
        // The store answers each distinct query once.
        let mut answered: HashMap<(String, String), std::sync::Arc<HashSet<Uid>>> = HashMap::new();
        let mut hits = HeaderHits::new();
        for (address, query) in queries {
            let uids = match answered.get(&query) {
                Some(uids) => std::sync::Arc::clone(uids),
                None => {
                    let found = mail.search_header(folder, &query.0, &query.1).await?;
                    let uids = std::sync::Arc::new(found.into_iter().collect());
                    answered.insert(query, std::sync::Arc::clone(&uids));
                    uids
                }
            };
            hits.push((address, uids));
        }
        let no_recent = crate::recent::Recent::default();
        // IMAP4rev2 has no \Recent: nothing is, for its sessions.
        let recent = if self.rev2 { &no_recent } else { &selected.recent };
        let now = chrono::Utc::now().timestamp();
        // BODY and TEXT: the substring index answers needles of three
        // characters or more for the bodies it has; the others are read.
        let mut needles = Vec::new();
        criteria.iter().for_each(|k| body_needles(k, &mut needles));
        needles.sort();
        needles.dedup();
        let read_all = needles.len() > MAX_INDEXED_NEEDLES
            || messages.len() < MIN_INDEXED_FOLDER
            || needles.iter().any(|n| n.chars().count() < MIN_INDEXED_NEEDLE);
        let mut body_hits = BodyHits::new();
        // Read these bodies: not indexed yet, or found by a long needle's start.
        let mut to_read = HashSet::new();
        if !read_all {
            for needle in &needles {
                let (lookup, confirm) = match needle.char_indices().nth(MAX_INDEXED_NEEDLE) {
                    Some((cut, _)) => (&needle[..cut], true),
                    None => (needle.as_str(), false),
                };
                let found = mail.search_body(folder, lookup).await?;
                to_read.extend(found.unindexed);
                if confirm {
                    to_read.extend(found.uids.iter().copied());
                }
                body_hits.insert(needle.clone(), found.uids.into_iter().collect());
            }
        }
        // A body read is compared whole; one not read is answered by the index.
        let reads_body = |uid: &Uid| !needles.is_empty() && (read_all || to_read.contains(uid));
        let context = Context { uids: &selected.uids, hits: &hits, body_hits: &body_hits, recent, now };
        let with_summary = with_summaries || criteria.iter().any(needs_summary);
        let summaries = if with_summary { mail.folder_summaries(folder).await? } else { Vec::new() };
        let blank = std::sync::Arc::new(MessageSummary::default());
        let mut found = Vec::new();
        // The session's UIDs, the folder's messages and the summaries are
        // all in UID order: one walk pairs them.
        let (mut next_message, mut next_summary) = (0, 0);
        for (index, uid) in selected.uids.iter().enumerate() {
            while messages.get(next_message).is_some_and(|m| m.uid < uid) {
                next_message += 1;
            }
            let Some(message) = messages.get(next_message).filter(|m| m.uid == uid) else { continue };
            while summaries.get(next_summary).is_some_and(|(u, _)| *u < uid) {
                next_summary += 1;
            }
            let summary = match summaries.get(next_summary).filter(|(u, _)| *u == uid) {
                Some((_, summary)) => std::sync::Arc::clone(summary),
                None => std::sync::Arc::clone(&blank),
            };
            let body = if reads_body(&uid) {
                // A body that can't be read matches no needle.
                Some(match mail.body(folder, message).await {
                    Ok(bytes) => mailroom_mime::readable::body_search_haystack(&bytes),
                    Err(_) => String::new(),
                })
            } else {
                None
            };
            let candidate = Candidate { seq: index as u32 + 1, message, summary, body };
            if criteria.iter().all(|k| matches(k, &candidate, &context)) {
                found.push(Hit {
                    seq: candidate.seq,
                    uid,
                    modseq: message.modseq.0,
                    internal_date: message.internal_date,
                    size: message.size,
                    summary: if with_summaries { candidate.summary } else { std::sync::Arc::clone(&blank) },
                });
            }
        }
        Ok(Some(found))
    }

    pub(crate) async fn search(
        &mut self,
        tag: &str,
        charset: Option<&str>,
        criteria: &[SearchKey<'static>],
        by_uid: bool,
        search_return: Option<crate::esearch::ReturnOptions>,
    ) {
        if self.selected().is_none() {
            return;
        }
        if search_return.is_some_and(|o| o.update) && self.context_tag_in_use(tag) {
            // RFC 5267 §4.3: a tag live in another context is refused.
            self.fail(status(Some(tag), Status::Bad, None, "Tag reuse: a live search already has this tag"));
            return;
        }
        if search_return.is_some_and(|o| o.save) {
            // RFC 5182 §2.1: a SEARCH that fails leaves `$` empty.
            self.saved.clear();
        }
        let Some(matched) = self.matching(tag, charset, criteria, false).await else { return };
        let hits: Vec<(u32, Uid)> = matched.iter().map(|h| (h.seq, h.uid)).collect();
        let found: Vec<u32> = hits.iter().map(|&(seq, uid)| if by_uid { uid.0 } else { seq }).collect();
        // RFC 7162 §3.1.5: with a MODSEQ criterion, the highest MODSEQ of
        // the messages returned (a PARTIAL window's: RFC 4731 §3.2), nothing
        // when none is.
        let returned = match &search_return {
            Some(options) => options.returned(&matched.iter().map(|h| (h.uid, h.modseq)).collect::<Vec<_>>()),
            None => matched.iter().map(|h| (h.uid, h.modseq)).collect(),
        };
        let modseq = (criteria.iter().any(names_modseq) && !returned.is_empty())
            .then(|| returned.iter().map(|&(_, modseq)| modseq).max().unwrap_or(0));
        if let Some(options) = &search_return
            && options.save
        {
            self.saved = options.to_save(&hits).into_iter().map(|(_, uid)| uid).collect();
        }
        // RFC 9051 §6.4.4: with IMAP4rev2 every SEARCH is answered by ESEARCH.
        let search_return = match search_return {
            None if self.rev2 => Some(crate::esearch::ReturnOptions { all: true, ..Default::default() }),
            other => other,
        };
        if let Some(options) = search_return.filter(|o| o.answers()) {
            // RFC 4731 §3.1: one ESEARCH response, correlated by tag.
            self.conn.send(&untagged(&crate::esearch::answer(tag, by_uid, &options, &found, modseq)));
        } else if search_return.is_none() {
            let list: Vec<String> = found.iter().map(u32::to_string).collect();
            let mut line =
                if list.is_empty() { "SEARCH".to_string() } else { format!("SEARCH {}", list.join(" ")) };
            if let Some(modseq) = modseq {
                line.push_str(&format!(" (MODSEQ {modseq})"));
            }
            self.conn.send(&untagged(&line));
        }
        if search_return.is_some_and(|o| o.update) {
            // After the answer, as RFC 5267 §4.3.1 shows NOUPDATE.
            let result = matched.iter().map(|h| h.uid).collect();
            self.start_context(tag, by_uid, criteria, None, result).await;
        }
        let command = if by_uid { "UID SEARCH" } else { "SEARCH" };
        self.conn.send(&status(Some(tag), Status::Ok, None, &format!("{command} completed")));
    }
}
