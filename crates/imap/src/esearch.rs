//! ESEARCH (RFC 4731): `SEARCH RETURN (MIN MAX COUNT ALL) ...`. imap-codec's
//! SEARCH has no return options, so the RETURN clause is read here and the
//! rest of the command handed to imap-codec unchanged (sans-I/O).

/// Which results the client asked for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReturnOptions {
    pub min: bool,
    pub max: bool,
    pub count: bool,
    pub all: bool,
    /// SEARCHRES (RFC 5182): keep the result for `$`.
    pub save: bool,
}

impl ReturnOptions {
    /// RFC 5182 §2.1: SAVE alone answers no ESEARCH.
    pub fn answers(&self) -> bool {
        self.min || self.max || self.count || self.all
    }

    /// The found messages SAVE keeps: only MIN and/or MAX when those are
    /// all that was asked, else all of them (RFC 5182 §2.1).
    pub fn to_save<T: Copy>(&self, found: &[T]) -> Vec<T> {
        if !self.save {
            return Vec::new();
        }
        if (self.min || self.max) && !self.all && !self.count {
            let mut kept = Vec::new();
            if let (true, Some(first)) = (self.min, found.first()) {
                kept.push(*first);
            }
            if let (true, Some(last)) = (self.max, found.last())
                && (found.len() > 1 || !self.min)
            {
                kept.push(*last);
            }
            return kept;
        }
        found.to_vec()
    }
}

/// The command without its RETURN clause, and the options; `None` when the
/// line isn't a SEARCH with RETURN. `Err` for a malformed RETURN.
pub fn split_return(message: &[u8]) -> Option<Result<(Vec<u8>, ReturnOptions), &'static str>> {
    let line_end = message.iter().position(|&b| b == b'\n').unwrap_or(message.len());
    let line = std::str::from_utf8(&message[..line_end]).ok()?;
    let mut words = line.splitn(4, ' ');
    let tag = words.next()?;
    let mut command = words.next()?;
    let mut rest_start = tag.len() + 1 + command.len() + 1;
    let uid = command.eq_ignore_ascii_case("UID");
    if uid {
        command = words.next()?;
        rest_start += command.len() + 1;
    }
    if !command.eq_ignore_ascii_case("SEARCH") {
        return None;
    }
    let rest = line.get(rest_start..)?;
    let after = rest.get(..7).filter(|w| w.eq_ignore_ascii_case("RETURN "))?;
    let _ = after;
    let options = &rest[7..];
    let Some(body) = options.strip_prefix('(') else { return Some(Err("RETURN needs a parenthesized list")) };
    let Some(close) = body.find(')') else { return Some(Err("RETURN list isn't closed")) };
    let mut chosen = ReturnOptions::default();
    for option in body[..close].split_whitespace() {
        match option.to_ascii_uppercase().as_str() {
            "MIN" => chosen.min = true,
            "MAX" => chosen.max = true,
            "COUNT" => chosen.count = true,
            "ALL" => chosen.all = true,
            "SAVE" => chosen.save = true,
            _ => return Some(Err("Unsupported RETURN option (MIN, MAX, COUNT, ALL, SAVE)")),
        }
    }
    if chosen == ReturnOptions::default() {
        // RFC 4731 §3.1: RETURN () means ALL.
        chosen.all = true;
    }
    let criteria = body[close + 1..].trim_start();
    let mut rebuilt = format!("{tag} {}SEARCH {criteria}", if uid { "UID " } else { "" }).into_bytes();
    rebuilt.extend_from_slice(&message[line_end..]);
    Some(Ok((rebuilt, chosen)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn return_clauses() {
        let (line, opts) = split_return(b"a UID SEARCH RETURN (MIN COUNT) UNSEEN\r\n").unwrap().unwrap();
        assert_eq!(line, b"a UID SEARCH UNSEEN\r\n");
        assert_eq!(opts, ReturnOptions { min: true, count: true, ..Default::default() });
        let (line, opts) = split_return(b"b search return () SUBJECT {3}\r\nfoo\r\n").unwrap().unwrap();
        assert_eq!(line, b"b SEARCH SUBJECT {3}\r\nfoo\r\n");
        assert!(opts.all);
        assert!(split_return(b"c SEARCH UNSEEN\r\n").is_none());
        assert!(split_return(b"d FETCH 1 FLAGS\r\n").is_none());
        let (_, opts) = split_return(b"e SEARCH RETURN (SAVE) ALL\r\n").unwrap().unwrap();
        assert!(opts.save && !opts.answers());
        assert_eq!(opts.to_save(&[1, 2, 3]), [1, 2, 3]);
        let (_, opts) = split_return(b"e SEARCH RETURN (SAVE MIN MAX) ALL\r\n").unwrap().unwrap();
        assert_eq!(opts.to_save(&[1, 2, 3]), [1, 3]);
        assert_eq!(opts.to_save(&[2]), [2]);
        assert!(split_return(b"e SEARCH RETURN (PARTIAL 1:10) ALL\r\n").unwrap().is_err());
        assert!(split_return(b"f SEARCH RETURN MIN ALL\r\n").unwrap().is_err());
    }
}
