//! FETCH items imap-codec doesn't know, read here and taken out of the
//! command before it parses the rest: `PREVIEW` (RFC 8970, with or without
//! `(LAZY)`), `EMAILID` and `THREADID` (RFC 8474, OBJECTID) and `SAVEDATE`
//! (RFC 8514). The FETCH that runs adds them to each message it answers; a
//! FETCH that asked for nothing else asks imap-codec for UID instead.

/// The items taken out of a FETCH.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Extra {
    pub preview: bool,
    pub email_id: bool,
    pub thread_id: bool,
    pub save_date: bool,
}

impl Extra {
    pub fn any(&self) -> bool {
        self.preview || self.email_id || self.thread_id || self.save_date
    }
}

const NAMES: [&str; 4] = ["PREVIEW", "EMAILID", "THREADID", "SAVEDATE"];

/// `Some(Ok((rebuilt, extra)))` for a single-line FETCH or UID FETCH that
/// names one of these items (without them now), `Some(Err)` for a PREVIEW
/// modifier we don't know, `None` for anything else (left to imap-codec as
/// it is).
pub fn split(message: &[u8]) -> Option<Result<(Vec<u8>, Extra), &'static str>> {
    let line = message.strip_suffix(b"\r\n")?;
    // One line only: a command with a literal isn't rewritten.
    if line.contains(&b'\n') || line.contains(&b'{') {
        return None;
    }
    let line = std::str::from_utf8(line).ok()?;
    let (tag, rest) = line.split_once(' ')?;
    let (first, rest) = rest.split_once(' ')?;
    let (command, rest) = if first.eq_ignore_ascii_case("UID") {
        let (fetch, rest) = rest.split_once(' ')?;
        (format!("{first} {fetch}"), rest)
    } else {
        (first.to_string(), rest)
    };
    if !command.rsplit(' ').next()?.eq_ignore_ascii_case("FETCH") {
        return None;
    }
    let (set, items) = rest.split_once(' ')?;
    let mut extra = Extra::default();
    // One pass finds them all, one more rebuilds the list: a long list of
    // repeated items costs its length, not its square.
    let found = find_items(items);
    let mut removed: Vec<(usize, usize)> = Vec::with_capacity(found.len());
    let mut alone = None;
    for (start, end, is_alone, name) in found {
        if name == "PREVIEW" {
            let modifiers = items[start + name.len()..end].trim();
            if let Some(list) = modifiers.strip_prefix('(').and_then(|m| m.strip_suffix(')'))
                && !list.split_whitespace().all(|m| m.eq_ignore_ascii_case("LAZY"))
            {
                return Some(Err("Unknown PREVIEW modifier (known: LAZY)"));
            }
        }
        match name {
            "PREVIEW" => extra.preview = true,
            "EMAILID" => extra.email_id = true,
            "THREADID" => extra.thread_id = true,
            _ => extra.save_date = true,
        }
        if is_alone {
            alone = Some((start, end));
            break;
        }
        // With one space next to it, so the list stays well-formed.
        // (The space before it only if the item removed before didn't take it.)
        let (mut start, mut end) = (start, end);
        if items[..start].ends_with(' ') && removed.last().is_none_or(|last| last.1 < start) {
            start -= 1;
        } else if items[end..].starts_with(' ') {
            end += 1;
        }
        match removed.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => removed.push((start, end)),
        }
    }
    let items = match alone {
        // The only item: UID stands in its place.
        Some((start, end)) => format!("{}UID{}", &items[..start], &items[end..]),
        None => {
            let mut kept = String::with_capacity(items.len());
            let mut from = 0;
            for (start, end) in removed {
                kept.push_str(&items[from..start]);
                from = end;
            }
            kept.push_str(&items[from..]);
            kept
        }
    };
    if !extra.any() {
        return None;
    }
    let items = match items.trim() {
        trimmed if trimmed.starts_with("()") => format!("(UID){}", &trimmed[2..]),
        trimmed => trimmed.to_string(),
    };
    Some(Ok((format!("{tag} {command} {set} {items}\r\n").into_bytes(), extra)))
}

/// The PARTIAL modifier of a FETCH (RFC 9394 §3.3: `FETCH set items
/// (PARTIAL m:n)`, a window of the messages the set names), taken out of
/// its modifier list: `Some(Ok((rebuilt, window)))`, `Some(Err)` for a
/// malformed range, `None` for a FETCH without it (or anything else).
pub fn split_partial(message: &[u8]) -> Option<Result<(Vec<u8>, crate::esearch::Partial), &'static str>> {
    let line = std::str::from_utf8(message.strip_suffix(b"\r\n")?).ok()?;
    if line.contains(['\n', '{']) || !line.ends_with(')') {
        return None;
    }
    let mut words = line.split(' ');
    let _tag = words.next()?;
    let first = words.next()?;
    let name = if first.eq_ignore_ascii_case("UID") { words.next()? } else { first };
    if !name.eq_ignore_ascii_case("FETCH") {
        return None;
    }
    // The last parenthesized group: the modifiers, if something (the
    // items) stands between it and the set.
    let open = line.rfind('(')?;
    let group = &line[open + 1..line.len() - 1];
    let upper = group.to_ascii_uppercase();
    let tokens: Vec<&str> = group.split(' ').collect();
    let at = upper.split(' ').position(|t| t == "PARTIAL")?;
    let before = line[..open].trim_end();
    // `tag [UID] FETCH set` before it: it is the item list, not modifiers.
    // Inside a section (`HEADER.FIELDS (...)`), it is a field name.
    if before.split(' ').count() <= if first.eq_ignore_ascii_case("UID") { 4 } else { 3 }
        || before.ends_with('(')
        || before.matches('[').count() != before.matches(']').count()
    {
        return None;
    }
    let Some(window) = tokens.get(at + 1).and_then(|r| crate::esearch::Partial::parse(r)) else {
        return Some(Err("PARTIAL takes a range like 1:100 or -1:-100"));
    };
    let rest: Vec<&str> =
        tokens.iter().enumerate().filter(|(i, _)| *i != at && *i != at + 1).map(|(_, t)| *t).collect();
    let rebuilt = if rest.iter().all(|t| t.is_empty()) {
        format!("{before}\r\n")
    } else {
        format!("{before} ({})\r\n", rest.join(" "))
    };
    Some(Ok((rebuilt.into_bytes(), window)))
}

/// Where these items (PREVIEW with its modifier list, if any) stand among
/// the fetch items, in order: outside `[...]` sections, as whole words;
/// and whether each stands alone, outside a parenthesized list.
fn find_items(items: &str) -> Vec<(usize, usize, bool, &'static str)> {
    let bytes = items.as_bytes();
    let (mut brackets, mut parens) = (0usize, 0usize);
    let mut found = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let b = bytes[at];
        match b {
            b'[' => brackets += 1,
            b']' => brackets = brackets.saturating_sub(1),
            b'(' if brackets == 0 => parens += 1,
            b')' if brackets == 0 => parens = parens.saturating_sub(1),
            // The first letter first: `at` is then a character boundary.
            _ if brackets == 0 && (at == 0 || matches!(bytes[at - 1], b' ' | b'(')) => {
                let name = NAMES.into_iter().find(|name| {
                    bytes.len() >= at + name.len()
                        && bytes[at..at + name.len()].eq_ignore_ascii_case(name.as_bytes())
                });
                if let Some(name) = name {
                    let after = at + name.len();
                    if matches!(bytes.get(after), None | Some(b' ') | Some(b')')) {
                        let mut end = after;
                        // A modifier list: " (LAZY)". PREVIEW alone, outside
                        // a list of items, may be followed by the FETCH's own
                        // modifiers instead: "FETCH 1 PREVIEW (CHANGEDSINCE 4)".
                        if name == "PREVIEW"
                            && items[after..].starts_with(" (")
                            && let Some(close) = items[after..].find(')')
                        {
                            let lazy = items[after + 2..after + close]
                                .split_whitespace()
                                .all(|m| m.eq_ignore_ascii_case("LAZY"));
                            if parens > 0 || lazy {
                                end = after + close + 1;
                            }
                        }
                        found.push((at, end, parens == 0, name));
                        at = end;
                        continue;
                    }
                }
            }
            _ => {}
        }
        at += 1;
    }
    found
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn rebuilt(command: &str) -> String {
        String::from_utf8(split(command.as_bytes()).unwrap().unwrap().0).unwrap()
    }

    #[test]
    fn preview_is_taken_out() {
        assert_eq!(rebuilt("a FETCH 1:* (FLAGS PREVIEW)\r\n"), "a FETCH 1:* (FLAGS)\r\n");
        assert_eq!(rebuilt("a FETCH 1 (PREVIEW (LAZY) UID)\r\n"), "a FETCH 1 (UID)\r\n");
        assert_eq!(rebuilt("a uid fetch 1:5 preview\r\n"), "a uid fetch 1:5 UID\r\n");
        assert_eq!(rebuilt("a FETCH 1 (PREVIEW)\r\n"), "a FETCH 1 (UID)\r\n");
        assert_eq!(
            rebuilt("a FETCH 1 (BODY.PEEK[HEADER.FIELDS (PREVIEW)] PREVIEW) (CHANGEDSINCE 4)\r\n"),
            "a FETCH 1 (BODY.PEEK[HEADER.FIELDS (PREVIEW)]) (CHANGEDSINCE 4)\r\n"
        );
        assert!(split(b"a FETCH 1 (FLAGS)\r\n").is_none());
        assert!(split(b"a SEARCH PREVIEW\r\n").is_none());
        assert!(split(b"a FETCH 1 (PREVIEWS)\r\n").is_none());
        assert!(split(b"a FETCH 1 (PREVIEW (FUZZY))\r\n").unwrap().is_err());
        assert_eq!(rebuilt("a FETCH 1 PREVIEW (CHANGEDSINCE 4)\r\n"), "a FETCH 1 UID (CHANGEDSINCE 4)\r\n");
        assert_eq!(rebuilt("a FETCH 1 PREVIEW (LAZY)\r\n"), "a FETCH 1 UID\r\n");
    }

    #[test]
    fn object_ids_and_save_dates_are_taken_out() {
        let (rebuilt, extra) =
            split(b"a UID FETCH 1:* (FLAGS EMAILID THREADID SAVEDATE)\r\n").unwrap().unwrap();
        assert_eq!(rebuilt, b"a UID FETCH 1:* (FLAGS)\r\n");
        assert_eq!(extra, Extra { preview: false, email_id: true, thread_id: true, save_date: true });
        let (rebuilt, extra) = split(b"a FETCH 2 SAVEDATE\r\n").unwrap().unwrap();
        assert_eq!((rebuilt.as_slice(), extra.save_date), (&b"a FETCH 2 UID\r\n"[..], true));
        let (rebuilt, _) = split(b"a FETCH 2 (EMAILID PREVIEW)\r\n").unwrap().unwrap();
        assert_eq!(rebuilt, b"a FETCH 2 (UID)\r\n");
        assert!(split(b"a FETCH 1 (BODY[HEADER.FIELDS (EMAILID)])\r\n").is_none());
        assert!(split(b"a FETCH 1 (EMAILIDS)\r\n").is_none());
    }

    #[test]
    fn the_partial_modifier_is_taken_out() {
        let (rebuilt, window) =
            split_partial(b"a UID FETCH 1:* (UID FLAGS) (PARTIAL -1:-3)\r\n").unwrap().unwrap();
        assert_eq!(rebuilt, b"a UID FETCH 1:* (UID FLAGS)\r\n");
        assert_eq!(window, crate::esearch::Partial { first: -1, last: -3 });
        let (rebuilt, _) =
            split_partial(b"a FETCH 1:* FLAGS (CHANGEDSINCE 4 PARTIAL 1:10)\r\n").unwrap().unwrap();
        assert_eq!(rebuilt, b"a FETCH 1:* FLAGS (CHANGEDSINCE 4)\r\n");
        assert!(split_partial(b"a FETCH 1:* (FLAGS PARTIAL)\r\n").is_none(), "an item list, not modifiers");
        assert!(split_partial(b"a FETCH 1:* (FLAGS)\r\n").is_none());
        assert!(split_partial(b"a FETCH 1 (BODY.PEEK[HEADER.FIELDS (PARTIAL X)])\r\n").is_none());
        assert!(split_partial(b"a FETCH 1 FLAGS (PARTIAL 0:3)\r\n").unwrap().is_err());
    }

    #[test]
    fn many_repeated_items_are_taken_out_in_one_pass() {
        let items = vec!["SAVEDATE EMAILID"; 50_000].join(" ");
        let command = format!("a FETCH 1 (FLAGS {items} UID)\r\n");
        let (line, extra) = split(command.as_bytes()).unwrap().unwrap();
        assert_eq!(line, b"a FETCH 1 (FLAGS UID)\r\n");
        assert!(extra.save_date && extra.email_id && !extra.preview);
        // Several at the start of the list, before other items.
        for (command, expected) in [
            ("a FETCH 1 (SAVEDATE EMAILID FLAGS)\r\n", "a FETCH 1 (FLAGS)\r\n"),
            (
                "a FETCH 1 (EMAILID THREADID UID FLAGS) (CHANGEDSINCE 4)\r\n",
                "a FETCH 1 (UID FLAGS) (CHANGEDSINCE 4)\r\n",
            ),
            ("a FETCH 1 (PREVIEW (LAZY) EMAILID FLAGS)\r\n", "a FETCH 1 (FLAGS)\r\n"),
            ("a FETCH 1 (FLAGS EMAILID SAVEDATE UID)\r\n", "a FETCH 1 (FLAGS UID)\r\n"),
        ] {
            assert_eq!(rebuilt(command), expected);
        }
    }
}
