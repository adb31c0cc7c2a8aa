//! Editing a message's top-level header section as raw bytes: what a
//! submission server must do (drop a client's `Sender:`, write its own,
//! add a missing `Date:` or `Message-ID:` — RFC 6409 §8) without touching
//! anything else. Fields are found by name at the start of a line; their
//! folded continuation lines (RFC 5322 §2.2.3) go with them.

/// Where the header section ends: the offset of the empty line that
/// separates it from the body (or the message's end, if there is none).
pub(crate) fn header_end(message: &[u8]) -> usize {
    let mut at = 0;
    while at < message.len() {
        let line_end = message[at..].iter().position(|&b| b == b'\n').map_or(message.len(), |p| at + p + 1);
        let line = &message[at..line_end];
        if line == b"\r\n" || line == b"\n" {
            return at;
        }
        at = line_end;
    }
    message.len()
}

/// The header section's fields: (name, start, end), each with its
/// continuation lines.
fn fields(message: &[u8]) -> Vec<(String, usize, usize)> {
    let end = header_end(message);
    let mut out: Vec<(String, usize, usize)> = Vec::new();
    let mut at = 0;
    while at < end {
        let line_end = message[at..end].iter().position(|&b| b == b'\n').map_or(end, |p| at + p + 1);
        let line = &message[at..line_end];
        if matches!(line.first(), Some(b' ' | b'\t')) {
            if let Some(last) = out.last_mut() {
                last.2 = line_end;
            }
        } else {
            let name = line.iter().position(|&b| b == b':').map_or(&line[..0], |p| &line[..p]);
            out.push((String::from_utf8_lossy(name).trim().to_ascii_lowercase(), at, line_end));
        }
        at = line_end;
    }
    out
}

/// Whether the header section has a field named `name` (any case).
pub fn has_field(message: &[u8], name: &str) -> bool {
    fields(message).iter().any(|(n, _, _)| n.eq_ignore_ascii_case(name))
}

/// `message` without the header fields named in `remove` (any case) and
/// with `add` (complete `Name: value` fields, no line ending) appended to
/// its header section. The body is untouched.
pub fn edit_header(message: &[u8], remove: &[&str], add: &[String]) -> Vec<u8> {
    let end = header_end(message);
    let mut out = Vec::with_capacity(message.len() + add.iter().map(|f| f.len() + 2).sum::<usize>());
    let mut kept_until = 0;
    for (name, start, stop) in fields(message) {
        if remove.iter().any(|r| r.eq_ignore_ascii_case(&name)) {
            out.extend_from_slice(&message[kept_until..start]);
            kept_until = stop;
        }
    }
    out.extend_from_slice(&message[kept_until..end]);
    // A header section that doesn't end in a line break gets one first.
    if end > 0 && message[end - 1] != b'\n' {
        out.extend_from_slice(b"\r\n");
    }
    for field in add {
        out.extend_from_slice(field.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if end == message.len() {
        // No body separator was there: the header was the whole message.
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(&message[end..]);
    out
}

/// `message` without the header fields for which `unwanted(name, field)`
/// says so (`name` in lower case, `field` its raw bytes with continuation
/// lines); `None` when there were none (the message needn't be copied).
pub fn without_fields(message: &[u8], unwanted: impl Fn(&str, &[u8]) -> bool) -> Option<Vec<u8>> {
    let gone: Vec<(usize, usize)> = fields(message)
        .into_iter()
        .filter(|(name, start, end)| unwanted(name, &message[*start..*end]))
        .map(|(_, start, end)| (start, end))
        .collect();
    if gone.is_empty() {
        return None;
    }
    let mut out = Vec::with_capacity(message.len());
    let mut kept_until = 0;
    for (start, end) in gone {
        out.extend_from_slice(&message[kept_until..start]);
        kept_until = end;
    }
    out.extend_from_slice(&message[kept_until..]);
    Some(out)
}

/// Puts `fields` (complete fields, each ending in CRLF) on top of
/// `message`, and into its `summary` — whose offsets move down with
/// everything after them — without parsing the message again.
pub fn prepend_fields(
    message: &mut Vec<u8>,
    summary: &mut mailroom_core::mail::MessageSummary,
    fields: &str,
) {
    fn shift(part: &mut mailroom_core::mail::BodyPart, by: u32, root: bool) {
        if !root {
            part.header_offset += by;
        }
        part.body_offset += by;
        part.end_offset += by;
        for child in &mut part.parts {
            shift(child, by, false);
        }
        if let Some(embedded) = &mut part.message {
            shift(&mut embedded.body, by, false);
        }
    }
    message.splice(0..0, fields.bytes());
    shift(&mut summary.body, fields.len() as u32, true);
    let mut added = Vec::new();
    for line in fields.split("\r\n").filter(|l| !l.is_empty()) {
        match (line.starts_with([' ', '\t']), added.last_mut()) {
            (true, Some((_, value))) => {
                // As the parser keeps a folded value: with its line breaks.
                let value: &mut String = value;
                value.push_str("\r\n");
                value.push_str(line);
            }
            _ => {
                let (name, value) = line.split_once(':').unwrap_or((line, ""));
                added.push((name.trim().to_string(), value.trim_start().to_string()));
            }
        }
    }
    summary.headers.splice(0..0, added);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_removed_with_their_continuations_and_added_at_the_end() {
        let m = b"From: a@b\r\nSender: x@y\r\n  (folded)\r\nSubject: hi\r\nsender: again\r\n\r\nSender: in the body\r\n";
        let edited = edit_header(m, &["Sender"], &["Sender: Alice <alice@contoso.com>".into()]);
        assert_eq!(
            String::from_utf8(edited).unwrap(),
            "From: a@b\r\nSubject: hi\r\nSender: Alice <alice@contoso.com>\r\n\r\nSender: in the body\r\n"
        );
        assert!(has_field(m, "SUBJECT"));
        assert!(!has_field(m, "Date"));
    }

    #[test]
    fn odd_shapes() {
        // Bare LF, no body, no final line break.
        assert_eq!(edit_header(b"A: 1\nB: 2\n\nbody", &["a"], &[]), b"B: 2\n\nbody");
        assert_eq!(edit_header(b"A: 1", &[], &["B: 2".into()]), b"A: 1\r\nB: 2\r\n\r\n");
        assert_eq!(edit_header(b"", &[], &["B: 2".into()]), b"B: 2\r\n\r\n");
    }

    #[test]
    fn fields_removed_by_a_rule_and_prepended_with_the_summary_moved() {
        let m = b"X-A: 1\r\nX-B: 2\r\n\tmore\r\nX-a: 3\r\n\r\nX-A: body\r\n";
        let kept = without_fields(m, |name, field| name == "x-a" && !field.ends_with(b"3\r\n"))
            .expect("one removed");
        assert_eq!(kept, b"X-B: 2\r\n\tmore\r\nX-a: 3\r\n\r\nX-A: body\r\n");
        assert!(without_fields(m, |name, _| name == "x-c").is_none());

        let original = b"Subject: hi\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\none\r\n--b--\r\n".to_vec();
        let mut message = original.clone();
        let mut summary = crate::summarize(&message);
        prepend_fields(
            &mut message,
            &mut summary,
            "Authentication-Results: mx;\r\n\tspf=pass\r\nX-Two: 2\r\n",
        );
        let fresh = crate::summarize(&message);
        assert_eq!(summary.body, fresh.body, "offsets as a new parse finds them");
        assert_eq!(summary.headers, fresh.headers);
        assert_eq!(
            summary.headers[0],
            ("Authentication-Results".to_string(), "mx;\r\n\tspf=pass".to_string())
        );
    }
}
