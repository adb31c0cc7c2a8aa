//! `application/x-www-form-urlencoded` bodies and query strings (the URL
//! Standard's parser): `+` is a space, `%XX` an octet, and a field may come
//! more than once (checkboxes, multi-selects). A form with files comes as
//! `multipart/form-data` ([`crate::multipart`]) and reads the same way.

use bytes::Bytes;

use crate::multipart::{self, MultipartError, Upload};

/// The fields of a form, in order, and the files it carried.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Form {
    fields: Vec<(String, String)>,
    files: Vec<Upload>,
}

impl Form {
    /// A body as its `Content-Type` says: multipart, or else urlencoded.
    pub fn from_body(content_type: &str, body: &Bytes) -> Result<Self, MultipartError> {
        match multipart::boundary(content_type) {
            None => Ok(Form::parse(body)),
            Some(boundary) => {
                let (fields, files) = multipart::parse(body, &boundary?)?;
                Ok(Form { fields, files })
            }
        }
    }

    pub fn parse(input: &[u8]) -> Self {
        let fields = input
            .split(|b| *b == b'&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let mut parts = pair.splitn(2, |b| *b == b'=');
                let name = decode(parts.next().unwrap_or_default());
                let value = decode(parts.next().unwrap_or_default());
                (name, value)
            })
            .collect();
        Form { fields, files: Vec::new() }
    }

    /// The files sent in field `name`.
    pub fn files(&self, name: &str) -> Vec<&Upload> {
        self.files.iter().filter(|f| f.field == name).collect()
    }

    /// The first value of `name`, or empty.
    pub fn get(&self, name: &str) -> &str {
        self.fields.iter().find(|(n, _)| n == name).map_or("", |(_, v)| v.as_str())
    }

    /// Every value of `name`.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.fields.iter().filter(|(n, _)| n == name).map(|(_, v)| v.clone()).collect()
    }

    /// Whether a checkbox named `name` was ticked.
    pub fn checked(&self, name: &str) -> bool {
        self.fields.iter().any(|(n, v)| n == name && v != "false" && v != "off")
    }
}

/// Decodes a URL path segment: `%XX` only. A `+` in a path is a plus
/// (`sales+eu@contoso.com`), unlike in a form or a query.
pub fn decode_path(input: &[u8]) -> String {
    percent_decode(input, false)
}

/// Percent-decoding of form data and queries, `+` as a space; invalid
/// escapes stay as written and invalid UTF-8 becomes U+FFFD, so nothing a
/// client sends is an error here.
pub fn decode(input: &[u8]) -> String {
    percent_decode(input, true)
}

fn percent_decode(input: &[u8], plus_is_space: bool) -> String {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'+' if plus_is_space => out.push(b' '),
            b'%' if i + 2 < input.len() => match (hex(input[i + 1]), hex(input[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encodes a path segment or query value.
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'@') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A parameter value in RFC 5987 / RFC 2231 form (`filename*=utf-8''…`):
/// UTF-8, every octet but attr-char as `%XX`. HTTP's Content-Disposition
/// (RFC 6266) and MIME's (RFC 2231) take the same.
pub fn ext_value(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answers() {
        let form =
            Form::parse(b"name=Info+Desk&address=info%40contoso.com&roles=a&roles=b&x=%zz&y=%4&empty=&flag");
        assert_eq!(form.get("name"), "Info Desk");
        assert_eq!(form.get("address"), "info@contoso.com");
        assert_eq!(form.all("roles"), vec!["a", "b"]);
        assert_eq!(form.get("x"), "%zz");
        assert_eq!(form.get("y"), "%4");
        assert_eq!(form.get("empty"), "");
        assert_eq!(form.get("missing"), "");
        assert!(form.checked("flag"));
        assert!(!form.checked("missing"));
        assert_eq!(decode(b"%C3%A9t%C3%A9"), "été");
        assert_eq!(decode(b"%FF"), "\u{FFFD}");
        assert_eq!(encode("a b/é@x"), "a%20b%2F%C3%A9@x");
        assert_eq!(ext_value("a b/é@x.pdf"), "a%20b%2F%C3%A9%40x.pdf");
        assert_eq!(decode_path(b"sales+eu%40contoso.com"), "sales+eu@contoso.com");
    }
}
