//! Parses a message once, at delivery, into the [`MessageSummary`] that IMAP
//! FETCH (ENVELOPE, BODYSTRUCTURE, body sections) and SEARCH read later.
//!
//! The MIME *structure* is found here, by offsets into the raw bytes
//! (RFC 2045 headers, RFC 2046 multipart boundaries and message/rfc822
//! nesting), so that every part's place in the stored message is exact — what
//! `BODY[1.2]` needs. Decoding header *values* (RFC 2047 encoded words,
//! RFC 2231 parameters, address lists, dates) is left to mail-parser, which is
//! good at it; it runs under `catch_unwind` so that no message, however
//! broken, can take a session down (DESIGN.md, chosen crates).
//!
//! Broken MIME never loses the message: what can't be understood is
//! summarised as plain text and flagged `malformed`.

pub mod header;
pub mod readable;
mod transfer;

pub use header::{edit_header, has_field, prepend_fields, without_fields};
pub use transfer::{UnknownEncoding, decode_base64_strict, decode_transfer_encoding, encode_base64};

use std::panic::{AssertUnwindSafe, catch_unwind};

use mail_parser::{Address, HeaderValue, MessageParser};
use mailroom_core::mail::{
    BodyPart, EmbeddedMessage, Envelope, EnvelopeAddress, HeaderProblem, MessageSummary,
};

/// Nesting deeper than this is summarised as an opaque part.
const MAX_DEPTH: usize = 20;
/// Parts beyond this many are not broken down further.
const MAX_PARTS: usize = 5000;
/// Header text kept for SEARCH, per message, besides the key fields.
pub const MAX_HEADER_TEXT: usize = 256 * 1024;
/// The fields SEARCH keys name and the sending rules read (the one `From:`
/// of a submission, the sender of mail from outside). Each has a budget of
/// its own, so it is kept wherever it stands in the header — a field late
/// in a long header is neither hidden from SEARCH nor from the rules.
const KEY_FIELDS: [&str; 11] = [
    "from",
    "sender",
    "reply-to",
    "to",
    "cc",
    "bcc",
    "subject",
    "date",
    "message-id",
    "in-reply-to",
    "references",
];
/// Text kept per key field name.
const MAX_KEY_FIELD_TEXT: usize = 64 * 1024;
/// The key fields a sending rule must see whole; if one is cut, the
/// summary says so ([`HeaderProblem::TooLarge`]).
const SENDER_FIELDS: [&str; 2] = ["from", "sender"];

/// Summarises `message`. Never panics; always describes the whole message.
pub fn summarize(message: &[u8]) -> MessageSummary {
    match catch_unwind(AssertUnwindSafe(|| Summarizer::new(message).run())) {
        Ok(summary) => summary,
        Err(_) => fallback(message),
    }
}

/// The summary of a message nothing could be made of: one text part.
fn fallback(data: &[u8]) -> MessageSummary {
    let len = data.len() as u32;
    let (body_offset, _) = header_bounds(data, 0, data.len());
    MessageSummary {
        body: BodyPart {
            media_type: "text".into(),
            media_subtype: "plain".into(),
            params: vec![("charset".into(), "us-ascii".into())],
            encoding: "7BIT".into(),
            header_offset: 0,
            body_offset: body_offset as u32,
            end_offset: len,
            lines: count_lines(&data[body_offset..]),
            ..Default::default()
        },
        malformed: true,
        // Nothing of the header could be read: no rule can be decided on it.
        header_problem: Some(HeaderProblem::Unreadable),
        ..Default::default()
    }
}

/// Where the header ends: returns (body start, header end). The blank line
/// between them belongs to neither. Without a blank line, all is header.
fn header_bounds(data: &[u8], start: usize, end: usize) -> (usize, usize) {
    let slice = &data[start..end];
    if slice.starts_with(b"\r\n") {
        return (start + 2, start);
    }
    if slice.starts_with(b"\n") {
        return (start + 1, start);
    }
    let mut i = 0;
    while i < slice.len() {
        if slice[i] == b'\n' {
            if slice[i + 1..].starts_with(b"\r\n") {
                return (start + i + 3, start + i + 1);
            }
            if slice[i + 1..].starts_with(b"\n") {
                return (start + i + 2, start + i + 1);
            }
        }
        i += 1;
    }
    (end, end)
}

/// Whether every line is a header field or a folded continuation of one
/// (RFC 5322 §2.2: field name of printable characters, then a colon).
fn is_header_section(header: &[u8]) -> bool {
    header.split(|&b| b == b'\n').filter(|line| !line.is_empty() && *line != b"\r").all(|line| {
        matches!(line.first(), Some(b' ' | b'\t'))
            || line
                .iter()
                .position(|&b| b == b':')
                .is_some_and(|colon| colon > 0 && line[..colon].iter().all(|&b| (33..=126).contains(&b)))
    })
}

/// Lines in a body, counting a last line without a line break.
fn count_lines(body: &[u8]) -> u32 {
    let breaks = body.iter().filter(|&&b| b == b'\n').count();
    let partial = usize::from(!body.is_empty() && !body.ends_with(b"\n"));
    (breaks + partial) as u32
}

/// A header value without folding, trimmed.
fn unfold(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c != '\r' && c != '\n' {
            out.push(c);
        }
    }
    out.trim().to_string()
}

/// A Content-Type (or Content-Disposition) as (type, subtype, parameters).
type MediaType = (String, Option<String>, Vec<(String, String)>);

struct Summarizer<'a> {
    data: &'a [u8],
    parser: MessageParser,
    parts: usize,
    malformed: bool,
}

/// The header fields of one part as mail-parser decoded them, with the raw
/// slice to read undecoded values from.
struct Fields<'a> {
    raw: &'a [u8],
    parsed: Option<mail_parser::Message<'a>>,
}

impl<'a> Fields<'a> {
    fn headers(&self) -> &[mail_parser::Header<'a>] {
        self.parsed.as_ref().and_then(|m| m.parts.first()).map_or(&[], |p| p.headers.as_slice())
    }

    fn find(&self, name: &str) -> Option<&mail_parser::Header<'a>> {
        self.headers().iter().find(|h| h.name.as_str().eq_ignore_ascii_case(name))
    }

    fn raw_value(&self, header: &mail_parser::Header<'_>) -> String {
        let start = (header.offset_start as usize).min(self.raw.len());
        let end = (header.offset_end as usize).clamp(start, self.raw.len());
        unfold(&self.raw[start..end])
    }

    fn raw(&self, name: &str) -> Option<String> {
        self.find(name).map(|h| self.raw_value(h)).filter(|v| !v.is_empty())
    }

    fn text(&self, name: &str) -> Option<String> {
        self.find(name).map(|h| match &h.value {
            HeaderValue::Text(t) => t.to_string(),
            HeaderValue::TextList(list) => list.join(", "),
            _ => self.raw_value(h),
        })
    }

    fn addresses(&self, name: &str) -> Vec<EnvelopeAddress> {
        match self.find(name).map(|h| &h.value) {
            Some(HeaderValue::Address(address)) => envelope_addresses(address),
            _ => Vec::new(),
        }
    }

    /// (type, subtype, parameters) of Content-Type or Content-Disposition.
    fn content_type(&self, name: &str) -> Option<MediaType> {
        match self.find(name).map(|h| &h.value) {
            Some(HeaderValue::ContentType(ct)) => Some((
                ct.c_type.to_ascii_lowercase(),
                ct.c_subtype.as_ref().map(|s| s.to_ascii_lowercase()),
                ct.attributes
                    .as_ref()
                    .map(|attrs| attrs.iter().map(|a| (a.name.to_string(), a.value.to_string())).collect())
                    .unwrap_or_default(),
            )),
            _ => None,
        }
    }

    /// Every field, decoded where it is text, for SEARCH and the sending
    /// rules; and whether a sender field (`From:`, `Sender:`) had to be left
    /// out. Other fields past their budget are left out of SEARCH silently.
    fn all(&self) -> (Vec<(String, String)>, bool) {
        let mut out = Vec::new();
        let mut budget = MAX_HEADER_TEXT;
        let mut key_budgets = [MAX_KEY_FIELD_TEXT; KEY_FIELDS.len()];
        let mut senders_cut = false;
        for h in self.headers() {
            let name = h.name.as_str().trim();
            let key = KEY_FIELDS.iter().position(|key| name.eq_ignore_ascii_case(key));
            let left = match key {
                Some(key) => &mut key_budgets[key],
                None => &mut budget,
            };
            let value = match &h.value {
                HeaderValue::Text(t) => t.to_string(),
                HeaderValue::TextList(list) => list.join(", "),
                HeaderValue::Address(a) => render_addresses(a),
                _ => self.raw_value(h),
            };
            let cost = name.len() + value.len();
            if cost <= *left {
                *left -= cost;
                out.push((name.to_string(), value));
            } else {
                senders_cut |= key.is_some_and(|k| SENDER_FIELDS.contains(&KEY_FIELDS[k]));
            }
        }
        (out, senders_cut)
    }

    /// Whether a field follows where the parser stopped: it reads a line
    /// of only a stray CR (or spaces) as the header's end, while the
    /// header's real end — what IMAP serves as `BODY[HEADER]`, where
    /// clients find `From:` — lies further on. A field here is any line that
    /// a lenient reader takes for one: a name, then a colon, with blanks or
    /// stray CRs allowed before the name and before the colon (RFC 5322's
    /// obsolete syntax has `From :`). Other leftovers (a stray text line, a
    /// message with no header at all) hide nothing.
    fn hides_fields(&self, header_end: usize) -> bool {
        let parsed_end = self.headers().iter().map(|h| h.offset_end as usize).max().unwrap_or(0);
        let rest = &self.raw[parsed_end.min(self.raw.len())..header_end.min(self.raw.len())];
        rest.split(|&b| b == b'\n').any(|line| {
            let line = line.trim_ascii_start();
            let name_end =
                line.iter().position(|&b| !(33..=126).contains(&b) || b == b':').unwrap_or(line.len());
            name_end > 0 && line[name_end..].trim_ascii_start().first() == Some(&b':')
        })
    }
}

fn split_address(address: Option<&str>) -> (Option<String>, Option<String>) {
    match address {
        Some(a) => match a.rsplit_once('@') {
            Some((local, host)) => (Some(local.to_string()), Some(host.to_string())),
            None => (Some(a.to_string()), None),
        },
        None => (None, None),
    }
}

fn envelope_addresses(address: &Address<'_>) -> Vec<EnvelopeAddress> {
    let one = |a: &mail_parser::Addr<'_>| {
        let (mailbox, host) = split_address(a.address.as_deref());
        EnvelopeAddress {
            name: a.name.as_ref().map(|n| n.to_string()).filter(|n| !n.is_empty()),
            mailbox,
            host,
        }
    };
    match address {
        Address::List(list) => list.iter().map(one).collect(),
        Address::Group(groups) => {
            let mut out = Vec::new();
            for group in groups {
                match &group.name {
                    // RFC 9051 §7.5.2: a group is bracketed by a start marker
                    // (host NIL, mailbox the group name) and an end marker.
                    // Only mailboxes are members: a comment alone in a group
                    // (`group2: (foo) ;`, RFC 5322 §3.4) is no address.
                    Some(name) => {
                        out.push(EnvelopeAddress { name: None, mailbox: Some(name.to_string()), host: None });
                        out.extend(group.addresses.iter().filter(|a| a.address.is_some()).map(one));
                        out.push(EnvelopeAddress::default());
                    }
                    None => out.extend(group.addresses.iter().filter(|a| a.address.is_some()).map(one)),
                }
            }
            out
        }
    }
}

fn render_addresses(address: &Address<'_>) -> String {
    let render = |a: &mail_parser::Addr<'_>| match (&a.name, &a.address) {
        (Some(n), Some(addr)) => format!("{n} <{addr}>"),
        (None, Some(addr)) => addr.to_string(),
        (Some(n), None) => n.to_string(),
        (None, None) => String::new(),
    };
    match address {
        Address::List(list) => list.iter().map(render).collect::<Vec<_>>().join(", "),
        // A group keeps its name (RFC 5322 §3.4 `name: members;`): SEARCH
        // TO/CC/FROM and HEADER match it as a reader sees it.
        Address::Group(groups) => groups
            .iter()
            .map(|g| {
                let members = g
                    .addresses
                    .iter()
                    .filter(|a| a.address.is_some())
                    .map(render)
                    .collect::<Vec<_>>()
                    .join(", ");
                match &g.name {
                    Some(name) => format!("{name}: {members};"),
                    None => members,
                }
            })
            .collect::<Vec<_>>()
            .join(", "),
    }
}

impl<'a> Summarizer<'a> {
    fn new(data: &'a [u8]) -> Self {
        Summarizer { data, parser: MessageParser::default(), parts: 0, malformed: false }
    }

    fn run(mut self) -> MessageSummary {
        let data = self.data;
        let (body_offset, header_end) = header_bounds(data, 0, data.len());
        let fields = self.fields(0, header_end);
        let envelope = envelope(&fields);
        let (headers, senders_cut) = fields.all();
        let header_problem = if fields.hides_fields(header_end) {
            Some(HeaderProblem::Unreadable)
        } else if senders_cut {
            Some(HeaderProblem::TooLarge)
        } else {
            None
        };
        let sent_date = fields
            .find("Date")
            .and_then(|h| h.value.as_datetime())
            .filter(|d| d.is_valid())
            .map(|d| d.to_timestamp());
        if !is_header_section(&data[..header_end]) {
            self.malformed = true;
        }
        let body = self.part(0, data.len(), ("text", "plain"), 0, Some(fields), body_offset, header_end);
        MessageSummary {
            envelope,
            body,
            headers,
            header_problem,
            sent_date,
            malformed: self.malformed,
            base_subject: Default::default(),
        }
    }

    fn fields(&self, start: usize, header_end: usize) -> Fields<'a> {
        let raw = &self.data[start..header_end.max(start)];
        Fields { raw, parsed: if raw.is_empty() { None } else { self.parser.parse_headers(raw) } }
    }

    /// Describes the part in `[start, end)`.
    #[allow(clippy::too_many_arguments)]
    fn part(
        &mut self,
        start: usize,
        end: usize,
        default_type: (&str, &str),
        depth: usize,
        known_fields: Option<Fields<'a>>,
        known_body: usize,
        known_header_end: usize,
    ) -> BodyPart {
        self.parts += 1;
        let (body_offset, header_end) = if known_fields.is_some() {
            (known_body, known_header_end)
        } else {
            header_bounds(self.data, start, end)
        };
        let fields = known_fields.unwrap_or_else(|| self.fields(start, header_end));
        let (media_type, media_subtype, mut params) = match fields.content_type("Content-Type") {
            Some((t, Some(s), p)) => (t, s, p),
            Some((t, None, p)) if t == "text" => (t, "plain".to_string(), p),
            Some(_) => {
                // An unusable Content-Type: RFC 2045 §5.2 says treat it as text/plain.
                self.malformed = true;
                ("text".into(), "plain".into(), Vec::new())
            }
            None => (default_type.0.to_string(), default_type.1.to_string(), Vec::new()),
        };
        if media_type == "text" && !params.iter().any(|(k, _)| k.eq_ignore_ascii_case("charset")) {
            params.push(("charset".into(), "us-ascii".into()));
        }
        let encoding = fields
            .raw("Content-Transfer-Encoding")
            .map(|e| e.to_ascii_uppercase())
            .unwrap_or_else(|| "7BIT".into());
        let mut part = BodyPart {
            media_type,
            media_subtype,
            params,
            id: fields.raw("Content-ID"),
            description: fields.text("Content-Description"),
            encoding,
            header_offset: start as u32,
            body_offset: body_offset as u32,
            end_offset: end as u32,
            lines: 0,
            md5: fields.raw("Content-MD5"),
            disposition: fields.content_type("Content-Disposition").map(|(t, _, p)| (t, p)),
            language: fields
                .raw("Content-Language")
                .map(|l| l.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect())
                .unwrap_or_default(),
            location: fields.raw("Content-Location"),
            parts: Vec::new(),
            message: None,
        };
        let deep_enough = depth >= MAX_DEPTH || self.parts >= MAX_PARTS;
        let boundary =
            part.params.iter().find(|(k, _)| k.eq_ignore_ascii_case("boundary")).map(|(_, v)| v.clone());
        if part.media_type == "multipart" && !deep_enough {
            let child_default =
                if part.media_subtype == "digest" { ("message", "rfc822") } else { ("text", "plain") };
            match boundary.filter(|b| !b.is_empty()) {
                Some(boundary) => {
                    for (child_start, child_end) in
                        self.split_multipart(body_offset, end, boundary.as_bytes())
                    {
                        let child = self.part(child_start, child_end, child_default, depth + 1, None, 0, 0);
                        part.parts.push(child);
                    }
                }
                None => self.malformed = true,
            }
            if part.parts.is_empty() {
                // A multipart without parts can't be shown as one; show its body as text.
                self.malformed = true;
                part.media_type = "text".into();
                part.media_subtype = "plain".into();
                part.params = vec![("charset".into(), "us-ascii".into())];
            }
        }
        let is_message =
            part.media_type == "message" && matches!(part.media_subtype.as_str(), "rfc822" | "global");
        if is_message && !deep_enough && matches!(part.encoding.as_str(), "7BIT" | "8BIT" | "BINARY") {
            let (inner_body, inner_header_end) = header_bounds(self.data, body_offset, end);
            let inner_fields = self.fields(body_offset, inner_header_end);
            let inner_envelope = envelope(&inner_fields);
            let inner = self.part(
                body_offset,
                end,
                ("text", "plain"),
                depth + 1,
                Some(inner_fields),
                inner_body,
                inner_header_end,
            );
            part.message = Some(Box::new(EmbeddedMessage { envelope: inner_envelope, body: inner }));
        }
        if part.media_type == "text" || part.message.is_some() {
            part.lines = count_lines(&self.data[body_offset.min(end)..end]);
        }
        part
    }

    /// The `[start, end)` of each body part between `--boundary` delimiter
    /// lines (RFC 2046 §5.1.1): the line break before a delimiter belongs to
    /// the delimiter; preamble and epilogue are not parts.
    fn split_multipart(&mut self, body: usize, end: usize, boundary: &[u8]) -> Vec<(usize, usize)> {
        let mut delimiters: Vec<(usize, usize, bool)> = Vec::new(); // (line start, after line, is close)
        let mut line_start = body;
        while line_start < end {
            let line_end = self.data[line_start..end]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(end, |p| line_start + p + 1);
            let line = &self.data[line_start..line_end];
            if let Some(rest) = line.strip_prefix(b"--").and_then(|r| r.strip_prefix(boundary)) {
                let rest_trimmed: Vec<u8> =
                    rest.iter().copied().filter(|b| !b" \t\r\n".contains(b)).collect();
                if rest_trimmed.is_empty() || rest_trimmed == b"--" {
                    let close = rest_trimmed == b"--";
                    delimiters.push((line_start, line_end, close));
                    if close {
                        break;
                    }
                }
            }
            line_start = line_end;
        }
        if !delimiters.last().is_some_and(|d| d.2) {
            self.malformed = true;
        }
        let mut parts = Vec::new();
        for pair in delimiters.windows(2) {
            let (_, after_first, first_close) = pair[0];
            let (next_start, _, _) = pair[1];
            if first_close {
                break;
            }
            // The CRLF before the next delimiter is part of that delimiter.
            let mut part_end = next_start;
            if part_end > after_first && self.data[part_end - 1] == b'\n' {
                part_end -= 1;
                if part_end > after_first && self.data[part_end - 1] == b'\r' {
                    part_end -= 1;
                }
            }
            parts.push((after_first, part_end.max(after_first)));
        }
        // An unterminated last part runs to the end.
        if let Some(&(_, after, close)) = delimiters.last()
            && !close
        {
            parts.push((after, end));
        }
        parts
    }
}

/// RFC 9051 §7.5.2: a missing Sender or Reply-To takes the From value.
fn envelope(fields: &Fields<'_>) -> Envelope {
    let from = fields.addresses("From");
    let sender = fields.addresses("Sender");
    let reply_to = fields.addresses("Reply-To");
    Envelope {
        date: fields.raw("Date"),
        subject: fields.text("Subject"),
        sender: if sender.is_empty() { from.clone() } else { sender },
        reply_to: if reply_to.is_empty() { from.clone() } else { reply_to },
        from,
        to: fields.addresses("To"),
        cc: fields.addresses("Cc"),
        bcc: fields.addresses("Bcc"),
        in_reply_to: fields.raw("In-Reply-To"),
        message_id: fields.raw("Message-ID"),
    }
}

#[cfg(test)]
mod tests;
