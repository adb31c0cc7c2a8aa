//! A message as a person reads it: its text, its HTML, its attachments and
//! inline images, decoded (transfer encodings, charsets, RFC 2047 names) by
//! mail-parser under `catch_unwind`, like the summary. What a reader shows
//! is chosen here once, so the web app never touches MIME.

use std::panic::{AssertUnwindSafe, catch_unwind};

use mail_parser::{MessageParser, MimeHeaders, PartType};

/// The parts of a message worth showing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Readable {
    /// The plain-text body, if the message has one. An HTML-only message
    /// has none here (turning HTML into text costs as much as showing it);
    /// [`plain_text`] makes it when it is wanted (quoting in a reply).
    pub text: Option<String>,
    /// The HTML body, unsanitised: the caller must clean it before showing it.
    pub html: Option<String>,
    /// Attachments and inline parts, in message order.
    pub attachments: Vec<Attachment>,
}

/// An attachment or inline part.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attachment {
    /// Its index among the message's parts ([`part`] finds it again).
    pub part: usize,
    /// The file name, or a name made from the type.
    pub name: String,
    /// `type/subtype`, lower case.
    pub content_type: String,
    pub size: usize,
    /// The `Content-ID` without angle brackets, for `cid:` references.
    pub content_id: Option<String>,
    /// Shown within the text (an image the HTML refers to) rather than listed.
    pub inline: bool,
}

/// A part's decoded content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Part {
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// Reads `message` for display. Never panics: a message mail-parser can't
/// read is shown as its raw text.
pub fn readable(message: &[u8]) -> Readable {
    catch_unwind(AssertUnwindSafe(|| read(message))).ok().flatten().unwrap_or_else(|| Readable {
        text: Some(String::from_utf8_lossy(message).into_owned()),
        ..Readable::default()
    })
}

fn read(message: &[u8]) -> Option<Readable> {
    let parsed = MessageParser::default().parse(message)?;
    // mail-parser turns a text body into HTML when asked for HTML: only a
    // real HTML part is HTML here (a text message is shown as text).
    let has_html = parsed
        .html_body
        .iter()
        .any(|&i| matches!(parsed.parts.get(i as usize).map(|p| &p.body), Some(PartType::Html(_))));
    let html = if has_html { parsed.body_html(0).map(|h| h.into_owned()) } else { None };
    let has_text = parsed
        .text_body
        .iter()
        .any(|&i| matches!(parsed.parts.get(i as usize).map(|p| &p.body), Some(PartType::Text(_))));
    let text = if has_text || !has_html { parsed.body_text(0).map(|t| t.into_owned()) } else { None };
    let body_parts: Vec<u32> = parsed.text_body.iter().chain(parsed.html_body.iter()).copied().collect();
    let mut attachments = Vec::new();
    for (index, part) in parsed.parts.iter().enumerate() {
        let is_body = body_parts.contains(&(index as u32));
        let contents = match &part.body {
            PartType::Binary(b) | PartType::InlineBinary(b) => b.len(),
            PartType::Message(m) => m.raw_message.len(),
            PartType::Text(t) | PartType::Html(t) if !is_body && part.attachment_name().is_some() => t.len(),
            _ => continue,
        };
        let content_type = part
            .content_type()
            .map(|ct| format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or("octet-stream")).to_lowercase())
            .unwrap_or_else(|| "application/octet-stream".into());
        let content_id = part.content_id().map(|id| id.trim_matches(['<', '>']).to_string());
        // An image the HTML can refer to by `cid:` is shown in place, as
        // mail clients do, whatever its disposition says.
        let inline = content_id.is_some() && content_type.starts_with("image/");
        let name = part
            .attachment_name()
            .map(str::to_string)
            .unwrap_or_else(|| format!("part-{index}.{}", content_type.rsplit('/').next().unwrap_or("bin")));
        attachments.push(Attachment { part: index, name, content_type, size: contents, content_id, inline });
    }
    // Nothing to show as text (a message of one unreadable part): its raw text.
    let text = match (&text, &html) {
        (None, None) if attachments.is_empty() => Some(String::from_utf8_lossy(message).into_owned()),
        _ => text,
    };
    Some(Readable { text, html, attachments })
}

/// The message's text, made from its HTML when it has no text part.
pub fn plain_text(message: &[u8]) -> Option<String> {
    catch_unwind(AssertUnwindSafe(|| {
        MessageParser::default().parse(message).and_then(|p| p.body_text(0).map(|t| t.into_owned()))
    }))
    .ok()
    .flatten()
}

/// Characters a preview (IMAP PREVIEW, RFC 8970 §3: at most 256) has.
const PREVIEW_CHARS: usize = 256;

/// The start of a message's text for a list of messages (IMAP PREVIEW,
/// RFC 8970): its text — made from the HTML when it has no text part —
/// with whitespace runs as one space, at most 256 characters; empty when
/// it has no text.
pub fn preview(message: &[u8]) -> String {
    let text = plain_text(message).unwrap_or_default();
    let mut out = String::new();
    for (count, word) in text.split_whitespace().enumerate() {
        if count > 0 {
            out.push(' ');
        }
        out.push_str(word);
        if out.chars().count() >= PREVIEW_CHARS {
            break;
        }
    }
    out.chars().take(PREVIEW_CHARS).collect()
}

/// The most text of one message a search index keeps.
const MAX_SEARCH_TEXT: usize = 1024 * 1024;

/// What a search looks in: the decoded subject, the people (From, To, Cc:
/// names and addresses) and the text with the attachments' names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SearchText {
    pub subject: String,
    pub people: String,
    pub body: String,
}

/// The searchable text of `message`; never panics (a message mail-parser
/// can't read gives its raw text, cut to size).
pub fn search_text(message: &[u8]) -> SearchText {
    let read = catch_unwind(AssertUnwindSafe(|| {
        let parsed = MessageParser::default().parse(message)?;
        let mut people = Vec::new();
        for address in [parsed.from(), parsed.to(), parsed.cc()].into_iter().flatten() {
            for a in address.iter() {
                people.extend(a.name().map(str::to_string));
                people.extend(a.address().map(str::to_string));
            }
        }
        let mut body = parsed.body_text(0).map(|t| t.into_owned()).unwrap_or_default();
        for part in parsed.attachments() {
            if let Some(name) = part.attachment_name() {
                body.push('\n');
                body.push_str(name);
            }
        }
        Some(SearchText {
            subject: parsed.subject().unwrap_or_default().to_string(),
            people: people.join(" "),
            body,
        })
    }))
    .ok()
    .flatten();
    let mut text = read.unwrap_or_else(|| SearchText {
        body: String::from_utf8_lossy(&message[..message.len().min(MAX_SEARCH_TEXT)]).into_owned(),
        ..SearchText::default()
    });
    if text.body.len() > MAX_SEARCH_TEXT {
        let mut cut = MAX_SEARCH_TEXT;
        while !text.body.is_char_boundary(cut) {
            cut -= 1;
        }
        text.body.truncate(cut);
    }
    text
}

/// The most decoded text of one message that SEARCH BODY and TEXT read.
const MAX_BODY_TEXT: usize = 16 * 1024 * 1024;

/// The body of `message` as IMAP SEARCH BODY and TEXT read it (RFC 3501
/// §6.4.4 matches the text, not its encoding): every text part decoded from
/// its transfer encoding and charset — attachments too —, HTML also as
/// plain text, and an attached message's header values and text. Binary
/// parts are left out. `None` when mail-parser can't read the message (the
/// caller then reads the raw body).
pub fn body_search_text(message: &[u8]) -> Option<String> {
    catch_unwind(AssertUnwindSafe(|| {
        let parsed = MessageParser::default().parse(message)?;
        let mut out = String::new();
        collect_text(&parsed.parts, 0, &mut out);
        Some(out)
    }))
    .ok()
    .flatten()
}

/// What IMAP SEARCH BODY (and TEXT, after the header fields) compares a
/// needle with, lower-cased as the comparison is: [`body_search_text`], or
/// the raw body after the header when the message can't be read. The
/// search index keeps exactly this, so an indexed search and a reading one
/// find the same messages.
pub fn body_search_haystack(message: &[u8]) -> String {
    search_fold(&body_search_text(message).unwrap_or_else(|| {
        let start = crate::header::header_end(message);
        String::from_utf8_lossy(&message[start..]).into_owned()
    }))
}

/// Text as BODY and TEXT compare it, the body's and the needle's alike:
/// lower-cased, and NUL, U+FFFE and U+FFFF as U+FFFD — what SQLite's
/// trigram tokenizer makes of them — so the index and a reading search
/// agree on every character.
pub fn search_fold(text: &str) -> String {
    text.to_lowercase().replace(['\0', '\u{FFFE}', '\u{FFFF}'], "\u{FFFD}")
}

/// Appends the text of `parts` (a message's, its root first) to `out`, up
/// to [`MAX_BODY_TEXT`]; the root's header is not body, a nested one is.
fn collect_text(parts: &[mail_parser::MessagePart<'_>], depth: usize, out: &mut String) {
    for (index, part) in parts.iter().enumerate() {
        if out.len() >= MAX_BODY_TEXT {
            return;
        }
        if index == 0 && depth > 0 {
            for header in &part.headers {
                let value = match &header.value {
                    mail_parser::HeaderValue::Text(t) => t.to_string(),
                    mail_parser::HeaderValue::TextList(list) => list.join(", "),
                    mail_parser::HeaderValue::Address(a) => crate::render_addresses(a),
                    _ => continue,
                };
                push_text(out, &value);
            }
        }
        match &part.body {
            PartType::Text(text) => push_text(out, text),
            PartType::Html(html) => push_text(out, &mail_parser::decoders::html::html_to_text(html)),
            // A limit on nesting: mail-parser's own depth bound applies too.
            PartType::Message(nested) if depth < 8 => collect_text(&nested.parts, depth + 1, out),
            _ => {}
        }
    }
}

fn push_text(out: &mut String, text: &str) {
    let room = MAX_BODY_TEXT.saturating_sub(out.len());
    let mut cut = text.len().min(room);
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    out.push_str(&text[..cut]);
    out.push('\n');
}

/// The decoded content of part `index` of `message` (an attachment listed by
/// [`readable`]).
pub fn part(message: &[u8], index: usize) -> Option<Part> {
    catch_unwind(AssertUnwindSafe(|| {
        let parsed = MessageParser::default().parse(message)?;
        let part = parsed.parts.get(index)?;
        let bytes = match &part.body {
            PartType::Binary(b) | PartType::InlineBinary(b) => b.to_vec(),
            PartType::Message(m) => m.raw_message.to_vec(),
            PartType::Text(t) | PartType::Html(t) => t.as_bytes().to_vec(),
            PartType::Multipart(_) => return None,
        };
        let content_type = part
            .content_type()
            .map(|ct| format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or("octet-stream")).to_lowercase())
            .unwrap_or_else(|| "application/octet-stream".into());
        let name = part.attachment_name().map(str::to_string).unwrap_or_else(|| format!("part-{index}"));
        Some(Part { name, content_type, bytes })
    }))
    .ok()
    .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIXED: &[u8] = b"From: a@example.com\r\nSubject: =?utf-8?q?Caf=C3=A9?=\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b1\r\n\r\n--b1\r\nContent-Type: multipart/related; boundary=b2\r\n\r\n--b2\r\nContent-Type: text/html; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n<p>Caf=E9 <img src=3D\"cid:logo@x\"></p>\r\n--b2\r\nContent-Type: image/png\r\nContent-ID: <logo@x>\r\nContent-Disposition: inline\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--b2--\r\n--b1\r\nContent-Type: application/pdf; name=\"report.pdf\"\r\nContent-Disposition: attachment; filename=\"report.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQ=\r\n--b1--\r\n";

    #[test]
    fn previews_are_short_plain_text() {
        let message = "Subject: x\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nHello   Z=C3=BCrich,\r\n\r\nsee you\r\n";
        assert_eq!(preview(message.as_bytes()), "Hello Zürich, see you");
        let long = format!("Subject: x\r\n\r\n{}\r\n", "ü".repeat(300));
        assert_eq!(preview(long.as_bytes()).chars().count(), 256);
        let html = "Subject: x\r\nContent-Type: text/html\r\n\r\n<p>Hi <b>there</b></p>\r\n";
        assert_eq!(preview(html.as_bytes()), "Hi there");
    }

    #[test]
    fn body_search_text_is_decoded() {
        let message = concat!(
            "From: a@example.com\r\nSubject: x\r\nMIME-Version: 1.0\r\n",
            "Content-Type: multipart/mixed; boundary=b\r\n\r\n",
            "--b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n",
            "Meet in Z=C3=BCrich\r\n",
            "--b\r\nContent-Type: text/html; charset=iso-8859-1\r\n\r\n<p>Caf&eacute; <b>au</b> lait</p>\r\n",
            "--b\r\nContent-Type: text/plain; name=notes.txt\r\nContent-Disposition: attachment\r\n",
            "Content-Transfer-Encoding: base64\r\n\r\nbWVldGluZyBub3Rlcw==\r\n",
            "--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n\r\ninner words\r\n",
            "--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nc2VjcmV0IGJ5dGVz\r\n",
            "--b--\r\n"
        );
        let text = body_search_text(message.as_bytes()).unwrap();
        for wanted in ["Zürich", "Café au lait", "meeting notes", "Grüße", "inner words"] {
            assert!(text.contains(wanted), "{wanted:?} in {text:?}");
        }
        for unwanted in ["=C3=BC", "bWVldGluZ", "secret bytes", "Subject: x"] {
            assert!(!text.contains(unwanted), "{unwanted:?} in {text:?}");
        }
    }

    #[test]
    fn bodies_attachments_and_inline_images() {
        let r = readable(MIXED);
        assert!(r.html.as_deref().is_some_and(|h| h.contains("Café")), "{r:?}");
        assert_eq!(r.attachments.len(), 2, "{r:?}");
        let logo = &r.attachments[0];
        assert!(
            logo.inline && logo.content_type == "image/png" && logo.content_id.as_deref() == Some("logo@x")
        );
        let pdf = &r.attachments[1];
        assert_eq!(
            (pdf.name.as_str(), pdf.content_type.as_str(), pdf.inline),
            ("report.pdf", "application/pdf", false)
        );
        let content = part(MIXED, pdf.part).expect("the pdf part");
        assert_eq!(content.bytes, b"%PDF-1.4");
        assert_eq!(part(MIXED, 999), None);
    }

    #[test]
    fn plain_and_broken_messages_are_readable() {
        let r = readable(b"Subject: hi\r\n\r\nHello there.\r\n");
        assert_eq!(r.text.as_deref().map(str::trim), Some("Hello there."));
        assert_eq!(r.html, None, "a text message is text");
        assert!(r.attachments.is_empty());
        let junk = readable(&[0xff, 0xfe, b'\r', b'\n', 0]);
        assert!(junk.text.is_some(), "something is always shown");
    }
}
