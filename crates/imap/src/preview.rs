//! The PREVIEW fetch item (RFC 8970), which imap-codec doesn't know: read
//! here and taken out of the command (`PREVIEW` or `PREVIEW (LAZY)`); the
//! FETCH that runs adds `PREVIEW "..."` to each message it answers. A FETCH
//! that asked for PREVIEW alone asks imap-codec for UID instead.

/// `Some(Ok(rebuilt))` for a single-line FETCH or UID FETCH that names
/// PREVIEW (without it now), `Some(Err)` for a PREVIEW modifier we don't
/// know, `None` for anything else (left to imap-codec as it is).
pub fn split(message: &[u8]) -> Option<Result<Vec<u8>, &'static str>> {
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
    let mut items = items.to_string();
    let mut found = false;
    while let Some((start, end, alone)) = find_preview(&items) {
        let modifiers = items[start + "PREVIEW".len()..end].trim();
        if let Some(list) = modifiers.strip_prefix('(').and_then(|m| m.strip_suffix(')'))
            && !list.split_whitespace().all(|m| m.eq_ignore_ascii_case("LAZY"))
        {
            return Some(Err("Unknown PREVIEW modifier (known: LAZY)"));
        }
        found = true;
        if alone {
            // The only item: UID stands in its place.
            items.replace_range(start..end, "UID");
            break;
        }
        let (mut start, mut end) = (start, end);
        if items[..start].ends_with(' ') {
            start -= 1;
        } else if items[end..].starts_with(' ') {
            end += 1;
        }
        items.replace_range(start..end, "");
    }
    if !found {
        return None;
    }
    let items = match items.trim() {
        trimmed if trimmed.starts_with("()") => format!("(UID){}", &trimmed[2..]),
        trimmed => trimmed.to_string(),
    };
    Some(Ok(format!("{tag} {command} {set} {items}\r\n").into_bytes()))
}

/// Where a PREVIEW item (with its modifier list, if any) stands among the
/// fetch items: outside `[...]` sections, as a whole word.
/// Also whether it stands alone, outside a parenthesized list.
fn find_preview(items: &str) -> Option<(usize, usize, bool)> {
    let upper = items.to_ascii_uppercase();
    let bytes = upper.as_bytes();
    let (mut brackets, mut parens) = (0usize, 0usize);
    for (at, &b) in bytes.iter().enumerate() {
        match b {
            b'[' => brackets += 1,
            b']' => brackets = brackets.saturating_sub(1),
            b'(' if brackets == 0 => parens += 1,
            b')' if brackets == 0 => parens = parens.saturating_sub(1),
            b'P' if brackets == 0 && upper[at..].starts_with("PREVIEW") => {
                let before_ok = at == 0 || matches!(bytes[at - 1], b' ' | b'(');
                let after = at + "PREVIEW".len();
                let after_ok = matches!(bytes.get(after), None | Some(b' ') | Some(b')'));
                if !(before_ok && after_ok) {
                    continue;
                }
                // A modifier list: " (LAZY)". PREVIEW alone, outside a
                // list of items, may be followed by the FETCH's own
                // modifiers instead: "FETCH 1 PREVIEW (CHANGEDSINCE 4)".
                if upper[after..].starts_with(" (")
                    && let Some(close) = upper[after..].find(')')
                {
                    let lazy = upper[after + 2..after + close].split_whitespace().all(|m| m == "LAZY");
                    if parens > 0 || lazy {
                        return Some((at, after + close + 1, parens == 0));
                    }
                }
                return Some((at, after, parens == 0));
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn rebuilt(command: &str) -> String {
        String::from_utf8(split(command.as_bytes()).unwrap().unwrap()).unwrap()
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
}
