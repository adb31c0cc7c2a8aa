//! LIST-EXTENDED (RFC 5258) and LIST-STATUS (RFC 5819) arguments, which
//! imap-codec's LIST lacks: `LIST [(selection)] reference (patterns)
//! [RETURN (options)]`. Read here (sans-I/O); plain LISTs stay with imap-codec.

use crate::acl::Cursor;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListExtended {
    pub tag: String,
    /// Upper-cased selection options (SUBSCRIBED, SPECIAL-USE, RECURSIVEMATCH, REMOTE).
    pub selection: Vec<String>,
    pub reference: String,
    pub patterns: Vec<String>,
    /// Upper-cased return options (SUBSCRIBED, CHILDREN, SPECIAL-USE, STATUS, MYRIGHTS).
    pub returns: Vec<String>,
    /// The STATUS items of RETURN (STATUS (...)), upper-cased.
    pub status_items: Vec<String>,
}

/// `( item item ... )`: the items, or `None` if the list is malformed.
fn parenthesized<T>(
    c: &mut Cursor<'_>,
    mut item: impl FnMut(&mut Cursor<'_>) -> Option<T>,
) -> Option<Vec<T>> {
    if c.bytes.get(c.at) != Some(&b'(') {
        return None;
    }
    c.at += 1;
    let mut out = Vec::new();
    loop {
        match c.bytes.get(c.at)? {
            b')' => {
                c.at += 1;
                return Some(out);
            }
            b' ' => c.at += 1,
            _ => out.push(item(c)?),
        }
    }
}

fn list_of_atoms(c: &mut Cursor<'_>) -> Option<Vec<String>> {
    parenthesized(c, |c| Some(String::from_utf8_lossy(c.atom()?).to_ascii_uppercase()))
}

/// `Some` for an extended LIST (selection options, several patterns or a
/// RETURN clause), `None` for anything else.
pub fn parse(message: &[u8]) -> Option<Result<ListExtended, &'static str>> {
    let mut c = Cursor { bytes: message, at: 0 };
    let tag = String::from_utf8_lossy(c.atom()?).into_owned();
    if !c.space() || !c.atom()?.eq_ignore_ascii_case(b"LIST") || !c.space() {
        return None;
    }
    let mut request = ListExtended { tag, ..ListExtended::default() };
    let mut extended = false;
    if c.bytes.get(c.at) == Some(&b'(') {
        extended = true;
        let Some(selection) = list_of_atoms(&mut c) else { return Some(Err("Bad selection options")) };
        request.selection = selection;
        if !c.space() {
            return Some(Err("Missing reference"));
        }
    }
    // The empty reference is always quoted: `""`.
    let Some(reference) = c.astring() else {
        return if extended { Some(Err("Missing reference")) } else { None };
    };
    request.reference = reference;
    if !c.space() {
        return if extended { Some(Err("Missing pattern")) } else { None };
    }
    if c.bytes.get(c.at) == Some(&b'(') {
        extended = true;
        match parenthesized(&mut c, list_pattern) {
            Some(patterns) => request.patterns = patterns,
            None => return Some(Err("Bad pattern list")),
        }
    } else {
        match list_pattern(&mut c) {
            Some(p) => request.patterns.push(p),
            None => return if extended { Some(Err("Bad pattern")) } else { None },
        }
    }
    if c.space() {
        let Some(word) = c.atom() else { return Some(Err("Unexpected text after the patterns")) };
        if !word.eq_ignore_ascii_case(b"RETURN") || !c.space() {
            return Some(Err("Unexpected text after the patterns"));
        }
        extended = true;
        let mut status_items = Vec::new();
        let returns = parenthesized(&mut c, |c| {
            let option = String::from_utf8_lossy(c.atom()?).to_ascii_uppercase();
            if option == "STATUS" {
                if !c.space() {
                    return None;
                }
                status_items = list_of_atoms(c)?;
            }
            Some(option)
        });
        match returns {
            Some(returns) => request.returns = returns,
            None => {
                return Some(Err("RETURN needs a list of options, e.g. RETURN (CHILDREN STATUS (MESSAGES))"));
            }
        }
        request.status_items = status_items;
    }
    if !c.at_end() {
        return Some(Err("Unexpected text after the command"));
    }
    if !extended {
        return None;
    }
    Some(request.validate().map(|()| request))
}

/// Selection options we know (RFC 5258 §3.1, RFC 6154 §5.1).
const SELECTION_OPTIONS: [&str; 4] = ["SUBSCRIBED", "REMOTE", "RECURSIVEMATCH", "SPECIAL-USE"];
/// Return options we know (RFC 5258 §3.2, RFC 6154 §5.2, RFC 5819, RFC 8440).
const RETURN_OPTIONS: [&str; 5] = ["SUBSCRIBED", "CHILDREN", "SPECIAL-USE", "STATUS", "MYRIGHTS"];

impl ListExtended {
    /// Whether `option` is among the selection options.
    pub fn selects(&self, option: &str) -> bool {
        self.selection.iter().any(|s| s == option)
    }

    /// RFC 5258 §3: an unknown option is BAD, and so is RECURSIVEMATCH
    /// without an option it could recurse on (alone, or only with REMOTE).
    fn validate(&self) -> Result<(), &'static str> {
        if self.selection.iter().any(|s| !SELECTION_OPTIONS.contains(&s.as_str())) {
            return Err("Unknown selection option (known: SUBSCRIBED REMOTE RECURSIVEMATCH SPECIAL-USE)");
        }
        if self.returns.iter().any(|r| !RETURN_OPTIONS.contains(&r.as_str())) {
            return Err("Unknown RETURN option (known: SUBSCRIBED CHILDREN SPECIAL-USE STATUS MYRIGHTS)");
        }
        if self.selects("RECURSIVEMATCH") && !self.selects("SUBSCRIBED") && !self.selects("SPECIAL-USE") {
            return Err("RECURSIVEMATCH needs another selection option, e.g. (SUBSCRIBED RECURSIVEMATCH)");
        }
        Ok(())
    }
}

/// A list-mailbox: an astring that may also hold `%` and `*`.
fn list_pattern(c: &mut Cursor<'_>) -> Option<String> {
    if matches!(c.bytes.get(c.at), Some(b'"') | Some(b'{')) {
        return c.astring();
    }
    let start = c.at;
    while let Some(&b) = c.bytes.get(c.at) {
        if b <= b' ' || b >= 0x7f || matches!(b, b'(' | b')' | b'{' | b'"' | b'\\') {
            break;
        }
        c.at += 1;
    }
    (c.at > start).then(|| String::from_utf8_lossy(&c.bytes[start..c.at]).into_owned())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn known_answers() {
        assert!(parse(b"a LIST \"\" *\r\n").is_none(), "plain LIST stays with imap-codec");
        let r = parse(
            b"a LIST (SUBSCRIBED) \"\" (INBOX \"Shared/*\") RETURN (CHILDREN STATUS (MESSAGES UNSEEN))\r\n",
        )
        .unwrap()
        .unwrap();
        assert_eq!(r.selection, ["SUBSCRIBED"]);
        assert_eq!(r.patterns, ["INBOX", "Shared/*"]);
        assert_eq!(r.returns, ["CHILDREN", "STATUS"]);
        assert_eq!(r.status_items, ["MESSAGES", "UNSEEN"]);
        let r = parse(b"b list \"\" % return (special-use)\r\n").unwrap().unwrap();
        assert_eq!((r.patterns, r.returns), (vec!["%".to_string()], vec!["SPECIAL-USE".to_string()]));
        assert!(parse(b"c LIST (SUBSCRIBED \"\" *\r\n").unwrap().is_err());
        assert!(parse(b"d LIST \"\" * RETURN CHILDREN\r\n").unwrap().is_err());
        let r = parse(b"e LIST (subscribed recursivematch) \"\" %\r\n").unwrap().unwrap();
        assert!(r.selects("RECURSIVEMATCH") && r.selects("SUBSCRIBED"));
    }

    #[test]
    fn unknown_options_and_lone_recursivematch_are_refused() {
        for bad in [
            &b"a LIST (FOO) \"\" *\r\n"[..],
            b"a LIST (RECURSIVEMATCH) \"\" *\r\n",
            b"a LIST (REMOTE RECURSIVEMATCH) \"\" *\r\n",
            b"a LIST \"\" * RETURN (BAR)\r\n",
        ] {
            assert!(parse(bad).unwrap().is_err(), "{}", String::from_utf8_lossy(bad));
        }
        assert!(parse(b"a LIST (REMOTE) \"\" *\r\n").unwrap().is_ok());
    }
}
