//! `multipart/form-data` bodies (RFC 7578, framed as RFC 2046 §5.1.1):
//! what a browser sends for a form with a file input.
//!
//! The whole body is already in memory (read on the server's memory
//! budget, at most the route's limit), so parts are slices of it: a file's
//! octets are never copied here. Delimiters are found with a linear-time
//! substring search, so a crafted body can't make the scan quadratic.
//!
//! Names and filenames follow the HTML Standard's encoding: UTF-8 as is,
//! with `"`, CR and LF sent as `%22`, `%0D`, `%0A` (only those are decoded).

use bytes::Bytes;

/// The most parts a form may have (fields and files together).
const MAX_PARTS: usize = 256;
/// The most octets of one part's header block.
const MAX_PART_HEAD: usize = 8 * 1024;

/// A file sent with a form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Upload {
    /// The form field it came in.
    pub field: String,
    /// The name the browser gave it (its path removed).
    pub filename: String,
    /// Its declared type, `application/octet-stream` when none or malformed.
    pub content_type: String,
    pub data: Bytes,
}

/// Why a multipart body couldn't be read; worded for the person.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MultipartError {
    #[error("The form's content type names no boundary.")]
    NoBoundary,
    #[error("The form arrived cut short or malformed; send it again.")]
    Malformed,
    #[error("The form has more than {MAX_PARTS} parts.")]
    TooManyParts,
}

/// The boundary parameter of a `multipart/form-data` content type, or
/// `None` for any other type.
pub fn boundary(content_type: &str) -> Option<Result<String, MultipartError>> {
    let mut params = content_type.split(';');
    let kind = params.next()?.trim();
    if !kind.eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    for param in params {
        let Some((name, value)) = param.split_once('=') else { continue };
        if name.trim().eq_ignore_ascii_case("boundary") {
            let value = value.trim().trim_matches('"');
            // RFC 2046 §5.1.1: 1 to 70 characters.
            if (1..=70).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_graphic() || b == b' ') {
                return Some(Ok(value.to_string()));
            }
            return Some(Err(MultipartError::NoBoundary));
        }
    }
    Some(Err(MultipartError::NoBoundary))
}

/// A form's text fields (name, value), in order.
pub type Fields = Vec<(String, String)>;

/// The text fields (in order) and files of a body framed by `boundary`.
pub fn parse(body: &Bytes, boundary: &str) -> Result<(Fields, Vec<Upload>), MultipartError> {
    let dash = format!("--{boundary}");
    let delimiter = format!("\r\n--{boundary}");
    let finder = memchr::memmem::Finder::new(delimiter.as_bytes());
    // The first delimiter may open the body (no CRLF before it); a preamble
    // before it is ignored (RFC 2046 §5.1.1).
    let mut at = if body.starts_with(dash.as_bytes()) {
        dash.len()
    } else {
        finder.find(body).ok_or(MultipartError::Malformed)? + delimiter.len()
    };
    let (mut fields, mut files) = (Vec::new(), Vec::new());
    let mut parts = 0usize;
    loop {
        let rest = &body[at..];
        if rest.starts_with(b"--") {
            return Ok((fields, files)); // the close delimiter; an epilogue is ignored
        }
        // Transport padding, then the CRLF that ends the delimiter line.
        let line_end = memchr::memmem::find(rest, b"\r\n").ok_or(MultipartError::Malformed)?;
        if rest[..line_end].iter().any(|b| *b != b' ' && *b != b'\t') {
            return Err(MultipartError::Malformed);
        }
        let start = at + line_end + 2;
        // A part with no header lines starts its content at once.
        let head_len = if body[start..].starts_with(b"\r\n") {
            0
        } else {
            memchr::memmem::find(&body[start..], b"\r\n\r\n").ok_or(MultipartError::Malformed)? + 2
        };
        if head_len > MAX_PART_HEAD {
            return Err(MultipartError::Malformed);
        }
        let head = &body[start..start + head_len];
        let content = start + head_len + 2;
        let end = content + finder.find(&body[content..]).ok_or(MultipartError::Malformed)?;
        parts += 1;
        if parts > MAX_PARTS {
            return Err(MultipartError::TooManyParts);
        }
        let part = PartHead::read(head);
        match part.filename {
            // A file input left empty still sends a part, with no name.
            Some(filename) if filename.is_empty() && end == content => {}
            Some(filename) => files.push(Upload {
                field: part.name,
                filename,
                content_type: part.content_type,
                data: body.slice(content..end),
            }),
            None => fields.push((part.name, String::from_utf8_lossy(&body[content..end]).into_owned())),
        }
        at = end + delimiter.len();
    }
}

/// What a part's header block says.
struct PartHead {
    name: String,
    filename: Option<String>,
    content_type: String,
}

impl PartHead {
    fn read(head: &[u8]) -> Self {
        let text = String::from_utf8_lossy(head);
        let mut out =
            PartHead { name: String::new(), filename: None, content_type: "application/octet-stream".into() };
        for line in text.split("\r\n") {
            let Some((field, value)) = line.split_once(':') else { continue };
            if field.trim().eq_ignore_ascii_case("content-disposition") {
                for (name, value) in parameters(value) {
                    match name.as_str() {
                        "name" => out.name = value,
                        // Some browsers of old sent the whole path.
                        "filename" => {
                            out.filename = Some(value.rsplit(['/', '\\']).next().unwrap_or("").into())
                        }
                        _ => {}
                    }
                }
            } else if field.trim().eq_ignore_ascii_case("content-type") {
                let kind = value.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
                if is_media_type(&kind) {
                    out.content_type = kind;
                }
            }
        }
        out
    }
}

/// `type/subtype` of token characters only (RFC 2045 §5.1), so it can be
/// written into a message header as it is.
pub fn is_media_type(kind: &str) -> bool {
    let token =
        |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b));
    matches!(kind.split_once('/'), Some((t, s)) if token(t) && token(s))
}

/// The `name=value` parameters after `form-data`, values unquoted.
fn parameters(value: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = value;
    while let Some(semi) = rest.find(';') {
        rest = &rest[semi + 1..];
        let Some(eq) = rest.find('=') else { break };
        // A parameter without a value (`form-data; foo; name="x"`): skipped.
        if rest.find(';').is_some_and(|next| next < eq) {
            continue;
        }
        let name = rest[..eq].trim().to_ascii_lowercase();
        let after = rest[eq + 1..].trim_start();
        let (value, next) = if let Some(quoted) = after.strip_prefix('"') {
            // Browsers escape `"` as %22, so the first quote ends the value;
            // a backslash escape (RFC 2616 quoted-pair) is honoured too.
            let mut value = String::new();
            let mut chars = quoted.char_indices();
            let mut end = quoted.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, escaped)) = chars.next() {
                            value.push(escaped);
                        }
                    }
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    c => value.push(c),
                }
            }
            (value, &quoted[end.min(quoted.len())..])
        } else {
            let end = after.find(';').unwrap_or(after.len());
            (after[..end].trim().to_string(), &after[end..])
        };
        out.push((name, unescape(&value)));
        rest = next;
    }
    out
}

/// The HTML Standard's escapes of a name or filename.
fn unescape(value: &str) -> String {
    value.replace("%22", "\"").replace("%0D", "\r").replace("%0A", "\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(text: &str) -> Bytes {
        Bytes::from(text.replace('\n', "\r\n"))
    }

    #[test]
    fn fields_and_files_as_chromium_sends_them() {
        let sent = body(
            "--XyZ\n\
             Content-Disposition: form-data; bare; name=\"csrf\"\n\n\
             tok\n\
             --XyZ\n\
             Content-Disposition: form-data; name=\"attachment\"; filename=\"r%22e\u{e9}port.pdf\"\n\
             Content-Type: application/pdf\n\n\
             %PDF-1.4\nline two\n\
             --XyZ\n\
             Content-Disposition: form-data; name=\"attachment\"; filename=\"\"\n\
             Content-Type: application/octet-stream\n\n\n\
             --XyZ\n\
             Content-Disposition: form-data; name=\"body\"\n\n\
             Hello\n-- \nnot a delimiter: --XyZ without CRLF before it\n\
             --XyZ--\n",
        );
        assert_eq!(boundary("multipart/form-data; boundary=XyZ"), Some(Ok("XyZ".into())));
        assert_eq!(boundary("application/x-www-form-urlencoded"), None);
        let (fields, files) = parse(&sent, "XyZ").expect("parses");
        assert_eq!(fields[0], ("csrf".to_string(), "tok".to_string()));
        assert_eq!(fields[1].1, "Hello\r\n-- \r\nnot a delimiter: --XyZ without CRLF before it");
        assert_eq!(files.len(), 1, "the empty file input sends nothing");
        assert_eq!(files[0].filename, "r\"e\u{e9}port.pdf");
        assert_eq!(files[0].content_type, "application/pdf");
        assert_eq!(&files[0].data[..], b"%PDF-1.4\r\nline two");
    }

    #[test]
    fn broken_bodies_are_errors_not_panics() {
        assert_eq!(boundary("multipart/form-data"), Some(Err(MultipartError::NoBoundary)));
        assert_eq!(
            boundary(&format!("multipart/form-data; boundary={}", "x".repeat(71))),
            Some(Err(MultipartError::NoBoundary))
        );
        for broken in [
            "",
            "--b",
            "--b\nContent-Disposition: form-data; name=\"a\"\n\nno end",
            "--b\nContent-Disposition: form-data; name=\"a\"",
            "--bjunk\n\nx\n--b--",
            "preamble only",
        ] {
            assert_eq!(parse(&body(broken), "b"), Err(MultipartError::Malformed), "{broken:?}");
        }
        let many: String = (0..=MAX_PARTS)
            .map(|i| format!("--b\nContent-Disposition: form-data; name=\"f{i}\"\n\nv\n"))
            .collect();
        assert_eq!(parse(&body(&format!("{many}--b--\n")), "b"), Err(MultipartError::TooManyParts));
        let huge_head = format!("--b\nX: {}\n\nv\n--b--\n", "h".repeat(MAX_PART_HEAD));
        assert_eq!(parse(&body(&huge_head), "b"), Err(MultipartError::Malformed));
    }

    #[test]
    fn names_types_and_paths() {
        let sent = body(
            "preamble\n--b\n\
             content-disposition: form-data; name=plain; filename=\"C:\\\\Users\\\\a\\\\x.txt\"\n\
             Content-Type: text/plain; charset=utf-8\n\n\
             x\n--b\n\
             Content-Disposition: form-data; name=\"evil\"; filename=\"a.bin\"\n\
             Content-Type: text/html\r\nBcc: x\n\ny\n--b--",
        );
        let (_, files) = parse(&sent, "b").expect("parses");
        assert_eq!(files[0].field, "plain");
        assert_eq!(files[0].filename, "x.txt");
        assert_eq!(files[0].content_type, "text/plain");
        assert!(is_media_type("application/vnd.ms-excel"));
        assert!(!is_media_type("text/html\r\nBcc: x") && !is_media_type("text") && !is_media_type("a/b c"));
    }
}
