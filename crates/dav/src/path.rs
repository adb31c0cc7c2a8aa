//! The URL space, and the percent-encoding of its segments.
//!
//! ```text
//! /.well-known/caldav                   → redirect to /dav/ (RFC 6764 §5)
//! /dav/                                 the root: who am I (current-user-principal)
//! /dav/principals/<address>/            a mailbox's principal
//! /dav/calendars/<address>/             its calendar home
//! /dav/calendars/<address>/<calendar>/  a calendar: a slug, or in a person's own
//!                                       home the address of an automapped shared
//!                                       mailbox (its calendar, with no setup)
//! /dav/calendars/<address>/<calendar>/<name>   one iCalendar resource
//! ```
//!
//! Mailboxes are named by address, so a URL says whose calendar it is.

pub const ROOT: &str = "/dav/";
pub const WELL_KNOWN: &str = "/.well-known/caldav";

/// What a request path names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Root,
    /// `/dav/principals/` (the principal collection).
    Principals,
    Principal(String),
    Home(String),
    Calendar {
        home: String,
        calendar: String,
    },
    Object {
        home: String,
        calendar: String,
        name: String,
    },
}

/// Parses a request path (no query). `None`: outside our URL space, or not
/// decodable, which the caller answers with `404`.
pub fn parse(path: &str) -> Option<Target> {
    if path == "/" {
        return Some(Target::Root);
    }
    let rest = path.strip_prefix("/dav")?;
    let rest = rest.strip_prefix('/').unwrap_or(rest);
    let mut segments = Vec::new();
    for raw in rest.split('/').filter(|s| !s.is_empty()) {
        segments.push(decode(raw)?);
    }
    let target = match segments.as_slice() {
        [] => Target::Root,
        [p] if p == "principals" => Target::Principals,
        [p, who] if p == "principals" => Target::Principal(who.clone()),
        [c, home] if c == "calendars" => Target::Home(home.clone()),
        [c, home, calendar] if c == "calendars" => {
            Target::Calendar { home: home.clone(), calendar: calendar.clone() }
        }
        [c, home, calendar, name] if c == "calendars" => {
            Target::Object { home: home.clone(), calendar: calendar.clone(), name: name.clone() }
        }
        _ => return None,
    };
    if segments.iter().any(|s| s == "." || s == "..") {
        return None;
    }
    Some(target)
}

/// An href from a URL: its path, whether absolute (`http://host/dav/...`) or not.
pub fn path_of_href(href: &str) -> &str {
    let href = href.trim();
    if let Some(after_scheme) = href.split_once("://").map(|(_, rest)| rest) {
        return after_scheme.find('/').map_or("/", |i| &after_scheme[i..]);
    }
    href
}

pub fn principal(address: &str) -> String {
    format!("/dav/principals/{}/", encode(address))
}

pub fn home(address: &str) -> String {
    format!("/dav/calendars/{}/", encode(address))
}

pub fn calendar(home_address: &str, segment: &str) -> String {
    format!("/dav/calendars/{}/{}/", encode(home_address), encode(segment))
}

pub fn object(home_address: &str, segment: &str, name: &str) -> String {
    format!("/dav/calendars/{}/{}/{}", encode(home_address), encode(segment), encode(name))
}

/// Percent-encodes one path segment: RFC 3986 `pchar` stays (so an
/// address keeps its `@`), everything else becomes `%XX`.
pub fn encode(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        let keep = byte.is_ascii_alphanumeric()
            || matches!(
                byte,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'@'
                    | b'!'
                    | b'$'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b':'
            );
        if keep {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Decodes `%XX` escapes; `None` for a bad escape or bytes that aren't UTF-8.
pub fn decode(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = segment.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_kind_of_path() {
        assert_eq!(parse("/"), Some(Target::Root));
        assert_eq!(parse("/dav"), Some(Target::Root));
        assert_eq!(parse("/dav/"), Some(Target::Root));
        assert_eq!(parse("/dav/principals/"), Some(Target::Principals));
        assert_eq!(parse("/dav/principals/a%40b.com/"), Some(Target::Principal("a@b.com".into())));
        assert_eq!(parse("/dav/calendars/a@b.com"), Some(Target::Home("a@b.com".into())));
        assert_eq!(
            parse("/dav/calendars/a@b.com/info@b.com/"),
            Some(Target::Calendar { home: "a@b.com".into(), calendar: "info@b.com".into() })
        );
        assert_eq!(
            parse("/dav/calendars/a@b.com/calendar/x%20y.ics"),
            Some(Target::Object {
                home: "a@b.com".into(),
                calendar: "calendar".into(),
                name: "x y.ics".into()
            })
        );
        for bad in
            ["/other", "/dav/x/y", "/dav/calendars/a/b/c/d", "/dav/calendars/a/%zz/", "/dav/calendars/a/../b"]
        {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn encoding_round_trips() {
        for segment in ["info@contoso.com", "a b/c?d#e%f", "ünï.ics"] {
            assert_eq!(decode(&encode(segment)).as_deref(), Some(segment));
        }
        assert_eq!(encode("info@contoso.com"), "info@contoso.com");
        assert_eq!(path_of_href("http://h:1/dav/x"), "/dav/x");
        assert_eq!(path_of_href("/dav/x"), "/dav/x");
    }
}
