//! Encoding message data for FETCH: ENVELOPE and BODYSTRUCTURE from the
//! summary parsed at delivery (RFC 9051 §7.5.2), strings as quoted or
//! literal, dates, and body sections by the stored MIME offsets.

use mailroom_core::mail::{BodyPart, Envelope, EnvelopeAddress};

/// `NIL`, a quoted string, or a literal when the text needs one (8-bit,
/// CR/LF, or too long to quote comfortably).
pub(crate) fn nstring(out: &mut Vec<u8>, text: Option<&str>) {
    match text {
        None => out.extend_from_slice(b"NIL"),
        Some(text) => string(out, text.as_bytes()),
    }
}

pub(crate) fn string(out: &mut Vec<u8>, bytes: &[u8]) {
    let quotable = bytes.len() < 1024 && bytes.iter().all(|&b| (0x20..0x7f).contains(&b));
    if quotable {
        out.push(b'"');
        for &b in bytes {
            if b == b'"' || b == b'\\' {
                out.push(b'\\');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        literal(out, bytes);
    }
}

pub(crate) fn literal(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(format!("{{{}}}\r\n", bytes.len()).as_bytes());
    let start = out.len();
    out.extend_from_slice(bytes);
    // RFC 9051 §4.3: a literal carries any octet but NUL. Stored mail may
    // hold NULs (SMTP stores what it was sent); in a plain literal each
    // becomes 0x80, as Dovecot does, so sizes and offsets stay exact. The
    // octets themselves are served by BINARY, in a literal8.
    for byte in &mut out[start..] {
        if *byte == 0 {
            *byte = 0x80;
        }
    }
}

/// A literal for decoded content: `~{n}` (literal8, RFC 3516 §4.2) when it
/// holds a NUL, which a plain literal may not carry.
pub(crate) fn literal8(out: &mut Vec<u8>, bytes: &[u8]) {
    if bytes.contains(&0) {
        out.push(b'~');
        out.extend_from_slice(format!("{{{}}}\r\n", bytes.len()).as_bytes());
        out.extend_from_slice(bytes);
    } else {
        literal(out, bytes);
    }
}

/// `"17-Jul-1996 02:44:25 +0000"` (RFC 9051 date-time).
pub(crate) fn internal_date(unix: i64) -> String {
    let date = chrono::DateTime::from_timestamp(unix, 0).unwrap_or_default();
    format!("\"{}\"", date.format("%d-%b-%Y %H:%M:%S +0000"))
}

/// Header text for ENVELOPE and BODYSTRUCTURE: the summary keeps it
/// decoded, while IMAP gives header fields in their 7-bit header form (RFC
/// 9051 §7.5.2; the client decodes). Non-ASCII text goes out as RFC 2047
/// encoded words, `=?UTF-8?B?...?=`, each at most 75 characters.
pub(crate) fn header_text(out: &mut Vec<u8>, text: Option<&str>) {
    let Some(text) = text.filter(|t| !t.is_ascii()) else { return nstring(out, text) };
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in text.chars() {
        // 45 bytes encode to 60 characters: 72 with the markers.
        if chunk.len() + c.len_utf8() > 45 {
            words.push(encoded_word(&chunk));
            chunk.clear();
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        words.push(encoded_word(&chunk));
    }
    string(out, words.join(" ").as_bytes());
}

fn encoded_word(text: &str) -> String {
    format!("=?UTF-8?B?{}?=", mailroom_mime::encode_base64(text.as_bytes()))
}

fn addresses(out: &mut Vec<u8>, list: &[EnvelopeAddress]) {
    if list.is_empty() {
        out.extend_from_slice(b"NIL");
        return;
    }
    out.push(b'(');
    for a in list {
        out.push(b'(');
        header_text(out, a.name.as_deref());
        out.extend_from_slice(b" NIL ");
        nstring(out, a.mailbox.as_deref());
        out.push(b' ');
        nstring(out, a.host.as_deref());
        out.push(b')');
    }
    out.push(b')');
}

pub(crate) fn envelope(out: &mut Vec<u8>, e: &Envelope) {
    out.push(b'(');
    nstring(out, e.date.as_deref());
    out.push(b' ');
    header_text(out, e.subject.as_deref());
    // RFC 9051 §7.5.2: sender and reply-to default to from.
    let sender = if e.sender.is_empty() { &e.from } else { &e.sender };
    let reply_to = if e.reply_to.is_empty() { &e.from } else { &e.reply_to };
    for list in [&e.from, sender, reply_to, &e.to, &e.cc, &e.bcc] {
        out.push(b' ');
        addresses(out, list);
    }
    out.push(b' ');
    nstring(out, e.in_reply_to.as_deref());
    out.push(b' ');
    nstring(out, e.message_id.as_deref());
    out.push(b')');
}

fn params(out: &mut Vec<u8>, params: &[(String, String)]) {
    if params.is_empty() {
        out.extend_from_slice(b"NIL");
        return;
    }
    out.push(b'(');
    for (i, (k, v)) in params.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        string(out, k.to_ascii_uppercase().as_bytes());
        out.push(b' ');
        header_text(out, Some(v));
    }
    out.push(b')');
}

/// BODY (basic) or BODYSTRUCTURE (`extended`).
pub(crate) fn body_structure(out: &mut Vec<u8>, part: &BodyPart, extended: bool) {
    out.push(b'(');
    if part.media_type.eq_ignore_ascii_case("multipart") && !part.parts.is_empty() {
        for child in &part.parts {
            body_structure(out, child, extended);
        }
        out.push(b' ');
        string(out, part.media_subtype.to_ascii_uppercase().as_bytes());
        if extended {
            out.push(b' ');
            params(out, &part.params);
            extension_fields(out, part);
        }
        out.push(b')');
        return;
    }
    let media_type = if part.media_type.is_empty() { "TEXT" } else { &part.media_type };
    let subtype = if part.media_subtype.is_empty() { "PLAIN" } else { &part.media_subtype };
    string(out, media_type.to_ascii_uppercase().as_bytes());
    out.push(b' ');
    string(out, subtype.to_ascii_uppercase().as_bytes());
    out.push(b' ');
    params(out, &part.params);
    out.push(b' ');
    nstring(out, part.id.as_deref());
    out.push(b' ');
    header_text(out, part.description.as_deref());
    out.push(b' ');
    let encoding = if part.encoding.is_empty() { "7BIT" } else { &part.encoding };
    string(out, encoding.as_bytes());
    out.extend_from_slice(format!(" {}", part.body_size()).as_bytes());
    if media_type.eq_ignore_ascii_case("message") && subtype.eq_ignore_ascii_case("rfc822") {
        // The grammar needs envelope, body and lines for message/rfc822 even
        // when the inner message couldn't be parsed (encoded, too deep):
        // an empty envelope and an empty text body keep every client's parser whole.
        out.push(b' ');
        match &part.message {
            Some(inner) => {
                envelope(out, &inner.envelope);
                out.push(b' ');
                body_structure(out, &inner.body, extended);
            }
            None => {
                envelope(out, &Envelope::default());
                out.extend_from_slice(b" (\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 0 0)");
            }
        }
        out.extend_from_slice(format!(" {}", part.lines).as_bytes());
    } else if media_type.eq_ignore_ascii_case("text") {
        out.extend_from_slice(format!(" {}", part.lines).as_bytes());
    }
    if extended {
        out.push(b' ');
        nstring(out, part.md5.as_deref());
        extension_fields(out, part);
    }
    out.push(b')');
}

/// body-fld-dsp, body-fld-lang, body-fld-loc.
fn extension_fields(out: &mut Vec<u8>, part: &BodyPart) {
    out.push(b' ');
    match &part.disposition {
        Some((kind, p)) => {
            out.push(b'(');
            string(out, kind.to_ascii_uppercase().as_bytes());
            out.push(b' ');
            params(out, p);
            out.push(b')');
        }
        None => out.extend_from_slice(b"NIL"),
    }
    out.push(b' ');
    match part.language.as_slice() {
        [] => out.extend_from_slice(b"NIL"),
        [one] => string(out, one.as_bytes()),
        many => {
            out.push(b'(');
            for (i, l) in many.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                string(out, l.as_bytes());
            }
            out.push(b')');
        }
    }
    out.push(b' ');
    nstring(out, part.location.as_deref());
}

/// The part a section path (1-based numbers) names (RFC 9051 §6.4.5).
/// The top level numbers its body's parts — a non-multipart message's
/// body, message/rfc822 included, is its part 1; below it, a
/// message/rfc822 part numbers the parts of the message it encapsulates.
/// So in a message that *is* a message/rfc822, `1` is the whole
/// encapsulated message and `1.1` its first part.
pub(crate) fn part_at<'a>(root: &'a BodyPart, path: &[u32]) -> Option<&'a BodyPart> {
    let mut part = root;
    for (depth, &n) in path.iter().enumerate() {
        let index = usize::try_from(n.checked_sub(1)?).ok()?;
        if depth > 0
            && let Some(inner) = &part.message
        {
            part = &inner.body;
        }
        part = if part.media_type.eq_ignore_ascii_case("multipart") {
            part.parts.get(index)?
        } else if index == 0 {
            part
        } else {
            return None;
        };
    }
    Some(part)
}

/// Header fields of a header block, kept or dropped by name.
pub(crate) fn header_fields(header: &[u8], names: &[String], keep: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let mut current: Option<bool> = None;
    for line in header.split_inclusive(|&b| b == b'\n') {
        if line == b"\r\n" || line == b"\n" {
            break;
        }
        if line.first().is_some_and(|b| *b == b' ' || *b == b'\t') {
            if current == Some(true) {
                out.extend_from_slice(line);
            }
            continue;
        }
        let name = line.split(|&b| b == b':').next().unwrap_or_default();
        let listed = names.iter().any(|n| n.as_bytes().eq_ignore_ascii_case(name.trim_ascii()));
        let wanted = listed == keep;
        current = Some(wanted);
        if wanted {
            out.extend_from_slice(line);
        }
    }
    out.extend_from_slice(b"\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_and_dates() {
        let mut out = Vec::new();
        string(&mut out, b"a \"b\"");
        assert_eq!(out, b"\"a \\\"b\\\"\"");
        let mut out = Vec::new();
        string(&mut out, "Grüße".as_bytes());
        assert_eq!(out, "{7}\r\nGrüße".as_bytes());
        assert_eq!(internal_date(0), "\"01-Jan-1970 00:00:00 +0000\"");
    }

    #[test]
    fn non_ascii_header_text_is_encoded_words() {
        let mut out = Vec::new();
        header_text(&mut out, Some("Grüße"));
        assert_eq!(String::from_utf8(out).unwrap_or_default(), "\"=?UTF-8?B?R3LDvMOfZQ==?=\"");
        let mut out = Vec::new();
        header_text(&mut out, Some("plain"));
        assert_eq!(out, b"\"plain\"");
        let mut out = Vec::new();
        header_text(&mut out, None);
        assert_eq!(out, b"NIL");
        // Long text: several words, each within RFC 2047's 75 characters.
        let long = "ü".repeat(60);
        let mut out = Vec::new();
        header_text(&mut out, Some(&long));
        let text = String::from_utf8(out).unwrap_or_default();
        let words: Vec<&str> = text.trim_matches('"').split(' ').collect();
        assert_eq!(words.len(), 3, "{text}");
        assert!(words.iter().all(|w| w.len() <= 75 && w.starts_with("=?UTF-8?B?") && w.ends_with("?=")));
    }

    #[test]
    fn an_unparsed_embedded_message_keeps_the_grammar() {
        let part = BodyPart {
            media_type: "message".into(),
            media_subtype: "rfc822".into(),
            encoding: "BASE64".into(),
            body_offset: 10,
            end_offset: 20,
            ..BodyPart::default()
        };
        let mut out = Vec::new();
        body_structure(&mut out, &part, false);
        assert_eq!(
            String::from_utf8(out).unwrap_or_default(),
            "(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"BASE64\" 10 (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) (\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 0 0) 0)"
        );
    }

    #[test]
    fn header_field_selection() {
        let header = b"Subject: hi\r\nX-A: 1\r\n continued\r\nFrom: a@b\r\n\r\nbody";
        assert_eq!(
            header_fields(header, &["subject".into(), "x-a".into()], true),
            b"Subject: hi\r\nX-A: 1\r\n continued\r\n\r\n"
        );
        assert_eq!(header_fields(header, &["X-A".into()], false), b"Subject: hi\r\nFrom: a@b\r\n\r\n");
    }
}
