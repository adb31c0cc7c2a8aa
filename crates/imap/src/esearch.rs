//! ESEARCH (RFC 4731): `SEARCH RETURN (MIN MAX COUNT ALL) ...`, and the same
//! for SORT (ESORT, RFC 5267 §3), with PARTIAL (RFC 9394: a window of the
//! result, counted from its start or, negative, from its end). imap-codec's
//! SEARCH and SORT have no return options, so the RETURN clause is read here
//! and the rest of the command handed to imap-codec unchanged (sans-I/O).

/// A PARTIAL window (RFC 9394 §3): positions in the result, from 1, or
/// from its end with negative numbers (-1 is the last).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Partial {
    /// As the client wrote them; answered as they came.
    pub first: i64,
    pub last: i64,
}

impl Partial {
    /// `m:n`, both positive or both negative, never 0 nor `*`.
    pub fn parse(text: &str) -> Option<Partial> {
        let (a, b) = text.split_once(':')?;
        let number = |s: &str| -> Option<i64> {
            let digits = s.strip_prefix('-').unwrap_or(s);
            // nz-number: digits, no leading zero.
            if digits.is_empty()
                || digits.len() > 10
                || digits.starts_with('0')
                || !digits.bytes().all(|b| b.is_ascii_digit())
            {
                return None;
            }
            let n: i64 = s.parse().ok()?;
            (n != 0 && n.unsigned_abs() <= u64::from(u32::MAX)).then_some(n)
        };
        let (first, last) = (number(a)?, number(b)?);
        (first.signum() == last.signum()).then_some(Partial { first, last })
    }

    /// The part of `found` (in result order) the window covers.
    pub fn window<'a, T>(&self, found: &'a [T]) -> &'a [T] {
        let len = found.len() as i64;
        let (low, high) = (self.first.abs().min(self.last.abs()), self.first.abs().max(self.last.abs()));
        let (start, end) = if self.first > 0 { (low - 1, high) } else { (len - high, len - low + 1) };
        let (start, end) = (start.clamp(0, len) as usize, end.clamp(0, len) as usize);
        if start >= end { &found[0..0] } else { &found[start..end] }
    }
}

/// Which results the client asked for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReturnOptions {
    pub min: bool,
    pub max: bool,
    pub count: bool,
    pub all: bool,
    /// SEARCHRES (RFC 5182): keep the result for `$`.
    pub save: bool,
    /// RFC 9394: only this window of the result.
    pub partial: Option<Partial>,
    /// CONTEXT=SEARCH/SORT (RFC 5267 §4.3): keep the result up to date
    /// with ADDTO/REMOVEFROM while the folder stays selected.
    pub update: bool,
}

impl ReturnOptions {
    /// The found messages a PARTIAL answer names (without COUNT or ALL,
    /// which name them all): the window, with the first and last when MIN
    /// and MAX are asked, in order, each once.
    pub fn returned<T: Copy + PartialEq>(&self, found: &[T]) -> Vec<T> {
        let Some(partial) = self.partial.filter(|_| !self.count && !self.all) else { return found.to_vec() };
        let window = partial.window(found);
        let mut kept = Vec::with_capacity(window.len() + 2);
        if let (true, Some(first)) = (self.min, found.first())
            && window.first() != Some(first)
        {
            kept.push(*first);
        }
        kept.extend_from_slice(window);
        if let (true, Some(last)) = (self.max, found.last())
            && kept.last() != Some(last)
        {
            kept.push(*last);
        }
        kept
    }

    /// RFC 5182 §2.1: SAVE alone answers no ESEARCH. UPDATE alone answers
    /// one without data (RFC 5267 §4.3: the updates are the results).
    pub fn answers(&self) -> bool {
        self.min || self.max || self.count || self.all || self.partial.is_some() || self.update
    }

    /// The found messages SAVE keeps: only MIN and/or MAX when those are
    /// all that was asked, else all of them (RFC 5182 §2.1).
    pub fn to_save<T: Copy + PartialEq>(&self, found: &[T]) -> Vec<T> {
        if !self.save {
            return Vec::new();
        }
        if self.partial.is_some() && !self.count {
            // RFC 9394 §3.2: the window, and MIN/MAX when asked.
            return self.returned(found);
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

/// The ESEARCH line answering a SEARCH or SORT with RETURN options
/// (RFC 4731 §3.1, RFC 5267 §3.2): `found` in result order — ascending for
/// SEARCH, sorted for SORT, where MIN and MAX are the first and last of the
/// order and runs are joined only where they ascend.
pub fn answer(
    tag: &str,
    by_uid: bool,
    options: &ReturnOptions,
    found: &[u32],
    modseq: Option<u64>,
) -> String {
    let mut line = format!("ESEARCH (TAG {})", crate::respond::quoted(tag));
    if by_uid {
        line.push_str(" UID");
    }
    if let (true, Some(min)) = (options.min, found.first()) {
        line.push_str(&format!(" MIN {min}"));
    }
    if let (true, Some(max)) = (options.max, found.last()) {
        line.push_str(&format!(" MAX {max}"));
    }
    if options.count {
        line.push_str(&format!(" COUNT {}", found.len()));
    }
    if options.all && !found.is_empty() {
        line.push_str(&format!(" ALL {}", crate::sequence::compact(found)));
    }
    if let Some(partial) = options.partial {
        // RFC 9394 §3.1: the range as asked, then what it holds or NIL.
        let window = partial.window(found);
        let set = if window.is_empty() { "NIL".to_string() } else { crate::sequence::compact(window) };
        line.push_str(&format!(" PARTIAL ({}:{} {set})", partial.first, partial.last));
    }
    if let Some(modseq) = modseq {
        line.push_str(&format!(" MODSEQ {modseq}"));
    }
    line
}

/// The command without its RETURN clause, and the options; `None` when the
/// line isn't a SEARCH or SORT with RETURN. `Err` for a malformed RETURN.
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
    let sort = command.eq_ignore_ascii_case("SORT");
    if !command.eq_ignore_ascii_case("SEARCH") && !sort {
        return None;
    }
    let rest = line.get(rest_start..)?;
    let after = rest.get(..7).filter(|w| w.eq_ignore_ascii_case("RETURN "))?;
    let _ = after;
    let options = &rest[7..];
    let Some(body) = options.strip_prefix('(') else { return Some(Err("RETURN needs a parenthesized list")) };
    let Some(close) = body.find(')') else { return Some(Err("RETURN list isn't closed")) };
    let mut chosen = ReturnOptions::default();
    let mut options = body[..close].split_whitespace();
    while let Some(option) = options.next() {
        match option.to_ascii_uppercase().as_str() {
            "MIN" => chosen.min = true,
            "MAX" => chosen.max = true,
            "COUNT" => chosen.count = true,
            "ALL" => chosen.all = true,
            // RFC 5267 §4.2: a hint that the client may ask for updates, which
            // servers may ignore.
            "CONTEXT" => {}
            "UPDATE" if chosen.update => return Some(Err("UPDATE twice in one RETURN")),
            "UPDATE" => chosen.update = true,
            "SAVE" if sort => return Some(Err("SAVE is for SEARCH, not SORT")),
            "SAVE" => chosen.save = true,
            "PARTIAL" => {
                let Some(range) = options.next().and_then(Partial::parse) else {
                    return Some(Err("PARTIAL takes a range like 1:100 or -1:-100"));
                };
                if chosen.partial.replace(range).is_some() {
                    return Some(Err("Only one PARTIAL in a RETURN"));
                }
            }
            _ => {
                return Some(Err(
                    "Unsupported RETURN option (MIN, MAX, COUNT, ALL, SAVE, PARTIAL, UPDATE, CONTEXT)",
                ));
            }
        }
    }
    if chosen.all && chosen.partial.is_some() {
        // RFC 9394 §3.1: "MUST NOT contain more than one PARTIAL or ALL".
        return Some(Err("RETURN takes ALL or PARTIAL, not both"));
    }
    if chosen == ReturnOptions::default() {
        // RFC 4731 §3.1: RETURN () means ALL (and CONTEXT alone, a hint, is as empty).
        chosen.all = true;
    }
    let criteria = body[close + 1..].trim_start();
    let name = if sort { "SORT" } else { "SEARCH" };
    let mut rebuilt = format!("{tag} {}{name} {criteria}", if uid { "UID " } else { "" }).into_bytes();
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
        assert!(split_return(b"f SEARCH RETURN MIN ALL\r\n").unwrap().is_err());
        // CONTEXT (RFC 5267 §4.2): UPDATE keeps the result live, alone it
        // answers without data; CONTEXT is a hint; UPDATE twice is BAD.
        let (_, opts) = split_return(b"g UID SORT RETURN (UPDATE) (DATE) UTF-8 ALL\r\n").unwrap().unwrap();
        assert!(opts.update && !opts.all && opts.answers());
        let (_, opts) = split_return(b"h SEARCH RETURN (CONTEXT) ALL\r\n").unwrap().unwrap();
        assert!(opts.all && !opts.update, "CONTEXT alone is as empty: ALL");
        let (_, opts) = split_return(b"h SEARCH RETURN (CONTEXT UPDATE COUNT) ALL\r\n").unwrap().unwrap();
        assert!(opts.update && opts.count && !opts.all);
        assert!(split_return(b"i SEARCH RETURN (UPDATE UPDATE) ALL\r\n").unwrap().is_err());
    }

    #[test]
    fn partial_and_esort() {
        let (line, opts) =
            split_return(b"a UID SEARCH RETURN (PARTIAL -1:-100) UNDELETED\r\n").unwrap().unwrap();
        assert_eq!(line, b"a UID SEARCH UNDELETED\r\n");
        assert_eq!(opts.partial, Some(Partial { first: -1, last: -100 }));
        for bad in [
            &b"a SEARCH RETURN (PARTIAL 1:*) ALL\r\n"[..],
            b"a SEARCH RETURN (PARTIAL 0:10) ALL\r\n",
            b"a SEARCH RETURN (PARTIAL -1:10) ALL\r\n",
            b"a SEARCH RETURN (PARTIAL) ALL\r\n",
            b"a SEARCH RETURN (PARTIAL 1:5 PARTIAL 6:9) ALL\r\n",
            b"a SEARCH RETURN (ALL PARTIAL 1:5) ALL\r\n",
            b"a SORT RETURN (SAVE) (DATE) UTF-8 ALL\r\n",
        ] {
            assert!(split_return(bad).unwrap().is_err(), "{}", String::from_utf8_lossy(bad));
        }
        assert!(Partial::parse("01:05").is_none(), "nz-number: no leading zero");
        let opts = ReturnOptions {
            partial: Some(Partial { first: 1, last: 2 }),
            min: true,
            max: true,
            ..Default::default()
        };
        assert_eq!(opts.returned(&[10, 11, 12, 13, 14]), [10, 11, 14], "MIN inside the window once");
        let (line, opts) =
            split_return(b"b UID SORT RETURN (MIN MAX) (REVERSE DATE) UTF-8 ALL\r\n").unwrap().unwrap();
        assert_eq!(line, b"b UID SORT (REVERSE DATE) UTF-8 ALL\r\n");
        assert!(opts.min && opts.max && !opts.all);
        let found = [10, 11, 12, 13, 14];
        let window = |a, b| Partial { first: a, last: b }.window(&found).to_vec();
        assert_eq!(window(1, 2), [10, 11]);
        assert_eq!(window(4, 2), [11, 12, 13], "500:400 is 400:500");
        assert_eq!(window(-1, -2), [13, 14], "from the end");
        assert_eq!(window(4, 9), [13, 14]);
        assert!(window(6, 9).is_empty() && window(-6, -9).is_empty());
        let line = answer(
            "t",
            true,
            &ReturnOptions { partial: Some(Partial { first: 6, last: 9 }), ..Default::default() },
            &found,
            None,
        );
        assert_eq!(line, "ESEARCH (TAG \"t\") UID PARTIAL (6:9 NIL)");
        let sorted = [23765, 23764, 23763, 23761, 5, 6, 7];
        let line = answer(
            "e",
            true,
            &ReturnOptions { all: true, min: true, max: true, ..Default::default() },
            &sorted,
            None,
        );
        assert_eq!(line, "ESEARCH (TAG \"e\") UID MIN 23765 MAX 7 ALL 23765,23764,23763,23761,5:7");
    }
}
