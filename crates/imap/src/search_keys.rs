//! Search keys imap-codec doesn't know: `SAVEDBEFORE`, `SAVEDON`,
//! `SAVEDSINCE` and `SAVEDATESUPPORTED` (RFC 8514), `EMAILID` and
//! `THREADID` (RFC 8474). In SEARCH, SORT and THREAD they are rewritten,
//! on the command's bytes and wherever they stand (inside `OR`, `NOT` and
//! parentheses too), into a `HEADER` key on a field name no message can
//! have (a field name has no `:`), which the search then reads back
//! ([`Placeholder`]). Their arguments are checked here: a malformed one is
//! `BAD`, as imap-codec would answer for its own keys.

use crate::searchres::{KEYS_WITH_ARGUMENT, tokens};

/// The field-name prefix of a rewritten key.
const PREFIX: &str = "mailroom:";

/// What a rewritten key asks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Placeholder {
    SavedBefore(chrono::NaiveDate),
    SavedOn(chrono::NaiveDate),
    SavedSince(chrono::NaiveDate),
    EmailId(String),
    ThreadId(String),
}

impl Placeholder {
    /// The key a `HEADER name value` stands for, if it is a rewritten one.
    pub fn read(name: &str, value: &str) -> Option<Placeholder> {
        let key = name.strip_prefix(PREFIX)?;
        Some(match key {
            "savedbefore" => Placeholder::SavedBefore(date(value)?),
            "savedon" => Placeholder::SavedOn(date(value)?),
            "savedsince" => Placeholder::SavedSince(date(value)?),
            "emailid" => Placeholder::EmailId(value.to_string()),
            "threadid" => Placeholder::ThreadId(value.to_string()),
            _ => return None,
        })
    }
}

/// A search `date` (RFC 3501 §9: `d-Mon-yyyy`, perhaps quoted).
fn date(text: &str) -> Option<chrono::NaiveDate> {
    let text = text.trim_matches('"');
    chrono::NaiveDate::parse_from_str(text, "%d-%b-%Y").ok()
}

/// RFC 8474 §7: `objectid = 1*255(ALPHA / DIGIT / "_" / "-")`.
fn is_object_id(text: &str) -> bool {
    (1..=255).contains(&text.len())
        && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// `Some(Ok(rebuilt))` for a SEARCH, SORT or THREAD that uses these keys,
/// `Some(Err((tag, reason)))` for one whose argument is malformed, `None`
/// for anything else.
pub fn rewrite(message: &[u8]) -> Option<Result<Vec<u8>, (String, &'static str)>> {
    // The command's name first, without copying it: most are no search.
    let mut c = crate::acl::Cursor { bytes: message, at: 0 };
    let tag = String::from_utf8_lossy(c.atom()?).into_owned();
    if !c.space() {
        return None;
    }
    let mut name = c.atom()?;
    if name.eq_ignore_ascii_case(b"UID") {
        if !c.space() {
            return None;
        }
        name = c.atom()?;
    }
    if ![&b"SEARCH"[..], b"SORT", b"THREAD"].iter().any(|n| name.eq_ignore_ascii_case(n)) {
        return None;
    }
    let mentions = |word: &[u8]| message.windows(word.len()).any(|w| w.eq_ignore_ascii_case(word));
    if !mentions(b"SAVED") && !mentions(b"EMAILID") && !mentions(b"THREADID") {
        return None;
    }
    let tokens = tokens(message);
    let word =
        |i: usize| tokens.get(i).map(|&(s, e)| String::from_utf8_lossy(&message[s..e]).to_ascii_uppercase());
    let name_at = if word(1).as_deref() == Some("UID") { 2 } else { 1 };
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    let mut i = name_at + 1;
    // Key by key: a key's arguments are skipped, so `SUBJECT to SAVEDON
    // 1-Jan-2027` reads "to" as SUBJECT's and SAVEDON as a key.
    while i < tokens.len() {
        let current = word(i).unwrap_or_default();
        let (start, end) = tokens[i];
        let argument = tokens.get(i + 1).map(|&(s, e)| String::from_utf8_lossy(&message[s..e]).into_owned());
        match current.as_str() {
            "SAVEDATESUPPORTED" => {
                edits.push((start, end, "ALL".to_string()));
                i += 1;
            }
            "SAVEDBEFORE" | "SAVEDON" | "SAVEDSINCE" => {
                let Some(argument) = argument.filter(|a| date(a).is_some()) else {
                    return Some(Err((
                        tag,
                        "SAVEDBEFORE, SAVEDON and SAVEDSINCE take a date, e.g. 1-Feb-2027",
                    )));
                };
                let day = argument.trim_matches('"');
                let text = format!("HEADER \"{PREFIX}{}\" \"{day}\"", current.to_ascii_lowercase());
                edits.push((start, tokens[i + 1].1, text));
                i += 2;
            }
            "EMAILID" | "THREADID" => {
                let Some(argument) = argument.filter(|a| is_object_id(a)) else {
                    return Some(Err((
                        tag,
                        "EMAILID and THREADID take an object id (letters, digits, _ and -)",
                    )));
                };
                let text = format!("HEADER \"{PREFIX}{}\" \"{argument}\"", current.to_ascii_lowercase());
                edits.push((start, tokens[i + 1].1, text));
                i += 2;
            }
            "HEADER" => i += 3,
            other if KEYS_WITH_ARGUMENT.contains(&other) => i += 2,
            _ => i += 1,
        }
    }
    if edits.is_empty() {
        return None;
    }
    let mut rebuilt = Vec::with_capacity(message.len() + 64 * edits.len());
    let mut from = 0;
    for (start, end, text) in edits {
        rebuilt.extend_from_slice(&message[from..start]);
        rebuilt.extend_from_slice(text.as_bytes());
        from = end;
    }
    rebuilt.extend_from_slice(&message[from..]);
    Some(Ok(rebuilt))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn rebuilt(command: &str) -> String {
        String::from_utf8(rewrite(command.as_bytes()).unwrap().unwrap()).unwrap()
    }

    #[test]
    fn keys_become_placeholders_wherever_they_stand() {
        assert_eq!(
            rebuilt("a SEARCH SAVEDSINCE 1-Feb-2027 UNSEEN\r\n"),
            "a SEARCH HEADER \"mailroom:savedsince\" \"1-Feb-2027\" UNSEEN\r\n"
        );
        assert_eq!(
            rebuilt("a UID SEARCH OR EMAILID M1a2b (NOT SAVEDON \"7-Dec-2026\")\r\n"),
            "a UID SEARCH OR HEADER \"mailroom:emailid\" \"M1a2b\" (NOT HEADER \"mailroom:savedon\" \"7-Dec-2026\")\r\n"
        );
        assert_eq!(rebuilt("a SEARCH SAVEDATESUPPORTED\r\n"), "a SEARCH ALL\r\n");
        assert_eq!(
            rebuilt("a SORT (DATE) UTF-8 THREADID T1\r\n"),
            "a SORT (DATE) UTF-8 HEADER \"mailroom:threadid\" \"T1\"\r\n"
        );
        assert_eq!(
            Placeholder::read("mailroom:savedbefore", "1-Feb-2027"),
            Some(Placeholder::SavedBefore(chrono::NaiveDate::from_ymd_opt(2027, 2, 1).unwrap()))
        );
        assert_eq!(Placeholder::read("subject", "x"), None);
    }

    #[test]
    fn arguments_and_other_commands_are_left_alone() {
        assert!(rewrite(b"a SEARCH SUBJECT EMAILID\r\n").is_none());
        assert!(rewrite(b"a SEARCH HEADER X-Saved SAVEDON\r\n").is_none());
        assert!(rewrite(b"a FETCH 1 (SAVEDATE)\r\n").is_none());
        assert!(rewrite(b"a SEARCH SUBJECT \"SAVEDON 1-Jan-2027\"\r\n").is_none());
        assert!(rewrite(b"a SEARCH UNSEEN\r\n").is_none());
        assert_eq!(
            rebuilt("a SEARCH SUBJECT to SAVEDSINCE 1-Jan-2027\r\n"),
            "a SEARCH SUBJECT to HEADER \"mailroom:savedsince\" \"1-Jan-2027\"\r\n",
            "a key's argument that is itself a key name"
        );
        assert_eq!(
            rebuilt("a SEARCH EMAILID EMAILID\r\n"),
            "a SEARCH HEADER \"mailroom:emailid\" \"EMAILID\"\r\n",
            "an argument that looks like a key is an argument"
        );
    }

    #[test]
    fn malformed_arguments_are_refused() {
        for bad in [
            "a SEARCH SAVEDON yesterday\r\n",
            "a SEARCH SAVEDBEFORE\r\n",
            "a SEARCH EMAILID\r\n",
            "a SEARCH EMAILID \"has space\"\r\n",
            "a SEARCH THREADID M:1\r\n",
        ] {
            assert!(rewrite(bad.as_bytes()).unwrap().is_err(), "{bad}");
        }
    }
}
