//! SEARCHRES (RFC 5182, part of IMAP4rev2 — RFC 9051 §6.4.4.1, §7.1):
//! `SEARCH RETURN (SAVE)` keeps the result in the session and `$` names it
//! in a later FETCH, STORE, COPY, MOVE, UID EXPUNGE or SEARCH.
//!
//! imap-codec knows no `$`, so — like the RETURN clause (esearch.rs) — it is
//! resolved here, on the command's bytes, before imap-codec parses them:
//! a standalone `$` outside quoted strings and literals becomes the saved
//! messages written as a set that command understands (UIDs for the UID
//! forms, message numbers for the others, `UID n,m` as a SEARCH key).

use crate::uidmap::UidMap;
use mailroom_types::Uid;

/// What became of a command that may name the saved result.
#[derive(Debug, PartialEq, Eq)]
pub enum Expanded {
    /// No `$` in it: run as it came.
    Unchanged,
    /// `$` replaced by the saved messages.
    Rewritten(Vec<u8>),
    /// Written out, the command would be too big (many `$`, each a long
    /// set): refused rather than built.
    TooBig { tag: String },
}

/// A UID no message has: UIDs are 32-bit and given out upwards from 1.
/// Where `$` names nothing, the command runs on this UID — so it still
/// gets every check (syntax, READ-ONLY, TRYCREATE) and finds no message,
/// which is what RFC 5182 §2.1 asks of an empty `$`.
const NO_SUCH_UID: &str = "4294967295";

/// How much longer than the command `$` may make it.
const MAX_GROWTH: usize = 1024 * 1024;

/// Search keys followed by an argument: a `$` after one is that argument
/// (e.g. `SUBJECT $`), not the saved result. (A key word that is itself
/// an argument, as in `SUBJECT HEADER $`, isn't told apart: such a `$` is
/// taken for the saved result.)
pub(crate) const KEYS_WITH_ARGUMENT: &[&str] = &[
    "BCC",
    "BEFORE",
    "BODY",
    "CC",
    "FROM",
    "KEYWORD",
    "LARGER",
    "ON",
    "SENTBEFORE",
    "SENTON",
    "SENTSINCE",
    "SINCE",
    "SMALLER",
    "SUBJECT",
    "TEXT",
    "TO",
    "UNKEYWORD",
    "HEADER",
    "MODSEQ",
    "OLDER",
    "YOUNGER",
    "SAVEDBEFORE",
    "SAVEDON",
    "SAVEDSINCE",
    "EMAILID",
    "THREADID",
];

/// Replaces `$` in `message` by `saved` (UIDs, ascending), read against the
/// selected folder's `uids`.
pub fn expand(message: &[u8], saved: &[Uid], uids: &UidMap) -> Expanded {
    if !message.contains(&b'$') {
        return Expanded::Unchanged;
    }
    let tokens = tokens(message);
    let word =
        |i: usize| tokens.get(i).map(|&(s, e)| String::from_utf8_lossy(&message[s..e]).to_ascii_uppercase());
    let Some(tag) = tokens.first().map(|&(s, e)| String::from_utf8_lossy(&message[s..e]).into_owned()) else {
        return Expanded::Unchanged;
    };
    let (by_uid, name_at) = if word(1).as_deref() == Some("UID") { (true, 2) } else { (false, 1) };
    let Some(name) = word(name_at) else { return Expanded::Unchanged };
    let is_search = name == "SEARCH";
    let takes_set =
        matches!(name.as_str(), "FETCH" | "STORE" | "COPY" | "MOVE") || (by_uid && name == "EXPUNGE");
    if !is_search && !takes_set {
        return Expanded::Unchanged;
    }
    // Where `$` may stand: the set argument, or any search key position.
    let dollars: Vec<usize> = tokens
        .iter()
        .enumerate()
        .skip(name_at + 1)
        .filter(|&(i, &(s, e))| {
            &message[s..e] == b"$"
                && if is_search {
                    let before = |back: usize| i.checked_sub(back).and_then(&word);
                    let is_argument = before(1).is_some_and(|w| KEYS_WITH_ARGUMENT.contains(&w.as_str()))
                        // HEADER takes two arguments.
                        || before(2).as_deref() == Some("HEADER");
                    !is_argument
                } else {
                    i == name_at + 1
                }
        })
        .map(|(i, _)| i)
        .collect();
    if dollars.is_empty() {
        return Expanded::Unchanged;
    }
    let set: Vec<u32> =
        if is_search || by_uid { saved.iter().map(|u| u.0).collect() } else { message_numbers(saved, uids) };
    let compact = crate::sequence::compact(&set);
    // Each `$` becomes (start, end, text) over the original bytes.
    let mut edits: Vec<(usize, usize, String)> = Vec::with_capacity(dollars.len());
    for i in dollars {
        let (s, e) = tokens[i];
        let after_uid = is_search && i > 0 && word(i - 1).as_deref() == Some("UID");
        edits.push(match (is_search, set.is_empty()) {
            // `UID $`: the set alone; nothing saved matches nothing.
            (true, false) if after_uid => (s, e, compact.clone()),
            (true, true) if after_uid => (tokens[i - 1].0, e, "NOT ALL".into()),
            (true, false) => (s, e, format!("UID {compact}")),
            (true, true) => (s, e, "NOT ALL".into()),
            (false, false) => (s, e, compact.clone()),
            // Nothing to name (by message number: run the UID form).
            (false, true) => (s, e, NO_SUCH_UID.into()),
        });
    }
    let growth: usize = edits.iter().map(|(_, _, text)| text.len()).sum();
    if growth > MAX_GROWTH {
        return Expanded::TooBig { tag };
    }
    let mut rebuilt = Vec::with_capacity(message.len() + growth);
    let mut from = 0;
    if !is_search && !by_uid && set.is_empty() {
        let (name_start, _) = tokens[name_at];
        rebuilt.extend_from_slice(&message[..name_start]);
        rebuilt.extend_from_slice(b"UID ");
        from = name_start;
    }
    for (s, e, text) in edits {
        rebuilt.extend_from_slice(&message[from..s]);
        rebuilt.extend_from_slice(text.as_bytes());
        from = e;
    }
    rebuilt.extend_from_slice(&message[from..]);
    Expanded::Rewritten(rebuilt)
}

/// The message numbers of the saved UIDs still in the folder, ascending:
/// one walk over both sorted lists.
fn message_numbers(saved: &[Uid], uids: &UidMap) -> Vec<u32> {
    let mut numbers = Vec::new();
    let mut wanted = saved.iter().peekable();
    for (index, uid) in uids.iter().enumerate() {
        while wanted.next_if(|w| **w < uid).is_some() {}
        if wanted.next_if(|w| **w == uid).is_some() {
            numbers.push(index as u32 + 1);
        }
        if wanted.peek().is_none() {
            break;
        }
    }
    numbers
}

/// The atoms of a command (start, end), skipping quoted strings and
/// literals; parentheses separate atoms. Enough to find `$` and the words
/// before it, not a parser.
pub(crate) fn tokens(message: &[u8]) -> Vec<(usize, usize)> {
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < message.len() {
        match message[i] {
            b' ' | b'(' | b')' | b'\r' | b'\n' => i += 1,
            b'"' => {
                // A quoted string: one token, escapes honoured.
                let start = i;
                i += 1;
                while i < message.len() && message[i] != b'"' {
                    i += if message[i] == b'\\' { 2 } else { 1 };
                }
                i = (i + 1).min(message.len());
                tokens.push((start, i));
            }
            b'{' | b'~' if message[i] == b'{' || message.get(i + 1) == Some(&b'{') => {
                // A literal announcement `{n}` / `{n+}` / `~{n}`: skip its bytes.
                let start = i;
                let close = message[i..].iter().position(|&b| b == b'}').map(|p| i + p);
                let digits = close.map(|c| &message[start..c]).unwrap_or_default();
                let length: usize = String::from_utf8_lossy(digits)
                    .trim_start_matches(['~', '{'])
                    .trim_end_matches('+')
                    .parse()
                    .unwrap_or(0);
                let Some(close) = close else { break };
                // `}` CRLF, then the literal's bytes.
                let data = close + 1 + if message.get(close + 1) == Some(&b'\r') { 2 } else { 1 };
                tokens.push((start, data.saturating_add(length).min(message.len())));
                i = data.saturating_add(length);
            }
            _ => {
                let start = i;
                while i < message.len() && !matches!(message[i], b' ' | b'(' | b')' | b'\r' | b'\n') {
                    i += 1;
                }
                tokens.push((start, i));
            }
        }
    }
    tokens
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn map(uids: &[u32]) -> UidMap {
        UidMap::from_sorted(uids.iter().map(|&u| Uid(u)))
    }

    fn rewritten(e: Expanded) -> String {
        match e {
            Expanded::Rewritten(bytes) => String::from_utf8(bytes).unwrap(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn dollar_becomes_uids_or_message_numbers() {
        let uids = map(&[3, 5, 8, 9]);
        let saved = [Uid(5), Uid(8), Uid(9)];
        assert_eq!(
            rewritten(expand(b"a UID FETCH $ FLAGS\r\n", &saved, &uids)),
            "a UID FETCH 5,8:9 FLAGS\r\n"
        );
        assert_eq!(rewritten(expand(b"b FETCH $ (FLAGS)\r\n", &saved, &uids)), "b FETCH 2:4 (FLAGS)\r\n");
        assert_eq!(
            rewritten(expand(b"c STORE $ +FLAGS (\\Seen)\r\n", &saved, &uids)),
            "c STORE 2:4 +FLAGS (\\Seen)\r\n"
        );
        assert_eq!(rewritten(expand(b"d UID EXPUNGE $\r\n", &saved, &uids)), "d UID EXPUNGE 5,8:9\r\n");
        assert_eq!(
            rewritten(expand(b"e SEARCH OR $ FLAGGED NOT $\r\n", &saved, &uids)),
            "e SEARCH OR UID 5,8:9 FLAGGED NOT UID 5,8:9\r\n"
        );
        // A saved message expunged since is simply gone.
        assert_eq!(rewritten(expand(b"f FETCH $ FLAGS\r\n", &saved, &map(&[3, 9]))), "f FETCH 2 FLAGS\r\n");
    }

    #[test]
    fn dollar_as_an_argument_or_inside_strings_stays() {
        let uids = map(&[1]);
        let saved = [Uid(1)];
        for line in [
            &b"a SEARCH SUBJECT $\r\n"[..],
            b"a SEARCH HEADER $ $\r\n",
            b"a SEARCH KEYWORD $Forwarded\r\n",
            b"a SEARCH SUBJECT \"$\"\r\n",
            b"a SEARCH BODY {1}\r\n$\r\n",
            b"a COPY 1 $\r\n",
            b"a LIST \"\" $\r\n",
            b"a FETCH 1 FLAGS\r\n",
        ] {
            assert_eq!(expand(line, &saved, &uids), Expanded::Unchanged, "{}", String::from_utf8_lossy(line));
        }
    }

    #[test]
    fn nothing_saved_runs_on_a_uid_no_message_has() {
        let uids = map(&[1, 2]);
        assert_eq!(
            rewritten(expand(b"a UID COPY $ Archive\r\n", &[], &uids)),
            "a UID COPY 4294967295 Archive\r\n"
        );
        assert_eq!(rewritten(expand(b"a FETCH $ FLAGS\r\n", &[], &uids)), "a UID FETCH 4294967295 FLAGS\r\n");
        assert_eq!(
            rewritten(expand(b"a FETCH $ FLAGS\r\n", &[Uid(7)], &uids)),
            "a UID FETCH 4294967295 FLAGS\r\n"
        );
        assert_eq!(rewritten(expand(b"b SEARCH $\r\n", &[], &uids)), "b SEARCH NOT ALL\r\n");
        assert_eq!(rewritten(expand(b"c SEARCH UID $ SEEN\r\n", &[], &uids)), "c SEARCH NOT ALL SEEN\r\n");
        assert_eq!(rewritten(expand(b"d SEARCH UID $\r\n", &[Uid(2)], &uids)), "d SEARCH UID 2\r\n");
    }

    #[test]
    fn a_command_that_would_grow_too_much_is_refused() {
        let saved: Vec<Uid> = (1..20_000).step_by(2).map(Uid).collect();
        let uids = UidMap::from_sorted(saved.iter().copied());
        let mut line = b"t SEARCH".to_vec();
        for _ in 0..100 {
            line.extend_from_slice(b" $");
        }
        line.extend_from_slice(b"\r\n");
        assert_eq!(expand(&line, &saved, &uids), Expanded::TooBig { tag: "t".into() });
    }
}
