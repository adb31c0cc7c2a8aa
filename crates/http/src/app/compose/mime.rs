//! The message written in the web app, as RFC 5322 / MIME: addresses are
//! parsed before they get here and written back bare (so no header can be
//! injected), the subject is RFC 2047-encoded when it isn't ASCII, the text
//! is quoted-printable (RFC 2045 §6.7) in UTF-8, and attachments follow it
//! in base64 in a `multipart/mixed` (RFC 2046 §5.1.3), their names in
//! RFC 2231 form when they aren't ASCII.

use bytes::Bytes;
use mailroom_types::EmailAddress;

/// A file to attach: uploaded with the form, or kept from the message
/// forwarded or the draft edited.
#[derive(Clone, Debug)]
pub(crate) struct FileToAttach {
    pub name: String,
    /// `type/subtype` of token characters (checked where it was read).
    pub content_type: String,
    pub data: Bytes,
}

/// What the form says the message is.
pub(crate) struct Written<'a> {
    pub from_name: &'a str,
    pub from: &'a EmailAddress,
    pub to: &'a [EmailAddress],
    pub cc: &'a [EmailAddress],
    /// Written into a draft only: a message that is sent never shows it.
    pub bcc: &'a [EmailAddress],
    pub subject: &'a str,
    pub body: &'a str,
    pub in_reply_to: &'a str,
    pub references: &'a str,
    /// `<…>`.
    pub message_id: &'a str,
    pub files: &'a [FileToAttach],
    /// Random letters for the multipart boundary.
    pub boundary: &'a str,
}

/// The message's octets.
pub(crate) fn build(w: &Written<'_>) -> Vec<u8> {
    let join = |list: &[EmailAddress]| fold(&list.iter().map(|a| a.to_string()).collect::<Vec<_>>(), ",");
    let mut head = format!("From: {} <{}>\r\n", phrase(w.from_name), w.from);
    for (name, list) in [("To", w.to), ("Cc", w.cc), ("Bcc", w.bcc)] {
        if !list.is_empty() {
            head.push_str(&format!("{name}: {}\r\n", join(list)));
        }
    }
    head.push_str(&format!("Subject: {}\r\n", encoded_word(w.subject)));
    head.push_str(&format!("Date: {}\r\n", chrono::Utc::now().format("%a, %d %b %Y %H:%M:%S +0000")));
    head.push_str(&format!("Message-ID: {}\r\n", w.message_id));
    // Message ids only: `<…>` tokens, nothing else gets into the header.
    let ids = |text: &str| -> Vec<String> {
        text.split_whitespace()
            .filter(|t| t.starts_with('<') && t.ends_with('>') && t.bytes().all(|b| b.is_ascii_graphic()))
            .map(str::to_string)
            .collect()
    };
    if !ids(w.in_reply_to).is_empty() {
        head.push_str(&format!("In-Reply-To: {}\r\n", fold(&ids(w.in_reply_to), "")));
    }
    if !ids(w.references).is_empty() {
        head.push_str(&format!("References: {}\r\n", fold(&ids(w.references), "")));
    }
    head.push_str("MIME-Version: 1.0\r\n");
    const TEXT: &str =
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n";
    if w.files.is_empty() {
        head.push_str(TEXT);
        head.push_str("\r\n");
        let mut message = head.into_bytes();
        message.extend_from_slice(quoted_printable(w.body).as_bytes());
        return message;
    }
    // The boundary can't occur in base64 or quoted-printable text: `=_`
    // starts no quoted-printable escape and isn't in the base64 alphabet.
    let boundary = format!("=_mailroom_{}", w.boundary);
    head.push_str(&format!("Content-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\n"));
    let encoded: usize = w.files.iter().map(|f| f.data.len() / 57 * 78 + 300).sum();
    let mut message = Vec::with_capacity(head.len() + w.body.len() * 3 + encoded);
    message.extend_from_slice(head.as_bytes());
    message.extend_from_slice(format!("--{boundary}\r\n{TEXT}\r\n").as_bytes());
    message.extend_from_slice(quoted_printable(w.body).as_bytes());
    for file in w.files {
        message.extend_from_slice(
            format!(
                "\r\n--{boundary}\r\nContent-Type: {}\r\nContent-Disposition: attachment;\r\n {}\r\nContent-Transfer-Encoding: base64\r\n\r\n",
                file.content_type,
                filename_parameter(&file.name)
            )
            .as_bytes(),
        );
        // Lines of 76 characters (RFC 2045 §6.8): 57 octets each.
        for chunk in file.data.chunks(57) {
            message.extend_from_slice(mailroom_mime::encode_base64(chunk).as_bytes());
            message.extend_from_slice(b"\r\n");
        }
    }
    message.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    message
}

/// `filename="…"` for a short ASCII name, else RFC 2231's
/// `filename*=utf-8''…` (continuations split it so no line grows long).
fn filename_parameter(name: &str) -> String {
    let clean: String = name.chars().filter(|c| !c.is_control()).collect();
    let clean = if clean.trim().is_empty() { "attachment".to_string() } else { clean };
    if clean.is_ascii() && clean.len() <= 60 {
        return format!("filename=\"{}\"", clean.replace('\\', "\\\\").replace('"', "\\\""));
    }
    let encoded = crate::form::ext_value(&clean);
    // Pieces of at most 50 characters, never splitting a `%XX`.
    let mut pieces = Vec::new();
    let mut piece = String::new();
    let mut chars = encoded.chars().peekable();
    while let Some(c) = chars.next() {
        let unit: String = if c == '%' {
            [c, chars.next().unwrap_or('0'), chars.next().unwrap_or('0')].iter().collect()
        } else {
            c.to_string()
        };
        if piece.len() + unit.len() > 50 {
            pieces.push(std::mem::take(&mut piece));
        }
        piece.push_str(&unit);
    }
    pieces.push(piece);
    if pieces.len() == 1 {
        return format!("filename*=utf-8''{}", pieces[0]);
    }
    pieces
        .iter()
        .enumerate()
        .map(|(i, p)| if i == 0 { format!("filename*0*=utf-8''{p}") } else { format!("filename*{i}*={p}") })
        .collect::<Vec<_>>()
        .join(";\r\n ")
}

/// Items of a header value, `sep`arated, folded (RFC 5322 §2.2.3) so no
/// line grows past 78 characters where it can be helped.
fn fold(items: &[String], sep: &str) -> String {
    let mut out = String::new();
    let mut line = 12; // the field name before it
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
            if line + item.len() + 2 > 78 {
                out.push_str("\r\n ");
                line = 1;
            } else {
                out.push(' ');
                line += sep.len() + 1;
            }
        }
        out.push_str(item);
        line += item.len();
    }
    out
}

/// A display name as an RFC 5322 phrase: quoted, or encoded when not ASCII.
fn phrase(name: &str) -> String {
    let clean: String = name.chars().filter(|c| !c.is_control()).collect();
    if clean.is_ascii() && clean.len() <= 900 {
        format!("\"{}\"", clean.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        encoded_word(&clean)
    }
}

/// RFC 2047 `=?utf-8?b?…?=` when the text isn't plain ASCII, or is too
/// long for one line (RFC 5322 §2.1.1: 998 octets; encoded words fold);
/// controls dropped.
fn encoded_word(text: &str) -> String {
    let clean: String = text.chars().filter(|c| !c.is_control()).collect();
    if clean.is_ascii() && clean.len() <= 900 {
        return clean;
    }
    // Words of at most 45 octets of UTF-8 (60 base64 characters), split on
    // character boundaries, each its own encoded word (RFC 2047 §5).
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in clean.chars() {
        if chunk.len() + c.len_utf8() > 45 {
            words.push(std::mem::take(&mut chunk));
        }
        chunk.push(c);
    }
    words.push(chunk);
    words
        .iter()
        .map(|w| format!("=?utf-8?b?{}?=", mailroom_mime::encode_base64(w.as_bytes())))
        .collect::<Vec<_>>()
        .join("\r\n ")
}

/// Quoted-printable (RFC 2045 §6.7) with CRLF line ends and soft breaks
/// before 76 characters.
fn quoted_printable(text: &str) -> String {
    let mut out = String::new();
    for line in text.replace("\r\n", "\n").split('\n') {
        let mut width = 0;
        let bytes = line.as_bytes();
        for (i, &b) in bytes.iter().enumerate() {
            let last = i + 1 == bytes.len();
            let literal = (b == b' ' || b == b'\t') && !last || (33..=126).contains(&b) && b != b'=';
            let piece = if literal { (b as char).to_string() } else { format!("={b:02X}") };
            if width + piece.len() > 75 {
                out.push_str("=\r\n");
                width = 0;
            }
            width += piece.len();
            out.push_str(&piece);
        }
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written<'a>(
        from: &'a EmailAddress,
        to: &'a [EmailAddress],
        subject: &'a str,
        body: &'a str,
        files: &'a [FileToAttach],
    ) -> Written<'a> {
        Written {
            from_name: "Info \"Desk\"",
            from,
            to,
            cc: &[],
            bcc: &[],
            subject,
            body,
            in_reply_to: "<a@b>\r\nX-Injected: 1",
            references: "",
            message_id: "<id@host>",
            files,
            boundary: "k3y",
        }
    }

    #[test]
    fn messages_are_built_without_injection() {
        let from = EmailAddress::parse("info@contoso.com").expect("address");
        let to = vec![EmailAddress::parse("c@fabrikam.com").expect("address")];
        let message =
            build(&written(&from, &to, "Re: Café\r\nBcc: evil@example.com", "Grüße =\r\nline two", &[]));
        let text = String::from_utf8(message.clone()).expect("ascii");
        assert!(
            text.starts_with("From: \"Info \\\"Desk\\\"\" <info@contoso.com>\r\nTo: c@fabrikam.com\r\n"),
            "{text}"
        );
        assert!(!text.contains("\r\nBcc:") && !text.contains("X-Injected"), "{text}");
        assert!(text.contains("Subject: =?utf-8?b?"), "{text}");
        assert!(text.contains("In-Reply-To: <a@b>\r\n"), "{text}");
        let summary = mailroom_mime::summarize(&message);
        assert_eq!(summary.field("subject"), "Re: CaféBcc: evil@example.com");
        assert_eq!(
            mailroom_mime::readable::readable(&message).text.as_deref().map(str::trim_end),
            Some("Grüße =\r\nline two")
        );
    }

    #[test]
    fn attachments_read_back_as_sent() {
        let from = EmailAddress::parse("info@contoso.com").expect("address");
        let binary: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
        let long_name = format!("Übersicht {} März.pdf", "sehr lang ".repeat(8));
        let files = vec![
            FileToAttach {
                name: "report \"Q3\".csv".into(),
                content_type: "text/csv".into(),
                data: Bytes::from_static(b"a,b\r\n1,2\r\n"),
            },
            FileToAttach {
                name: long_name.clone(),
                content_type: "application/pdf".into(),
                data: Bytes::from(binary.clone()),
            },
        ];
        let message = build(&written(&from, &[], "Files", "See attached.", &files));
        let text = String::from_utf8(message.clone()).expect("ascii");
        assert!(text.lines().all(|l| l.len() <= 998), "no line over RFC 5322's limit");
        assert!(
            text.lines()
                .filter(|l| !l.starts_with(' '))
                .all(|l| l.len() <= 78 || l.starts_with("Content-Type: multipart")),
            "{text}"
        );
        let read = mailroom_mime::readable::readable(&message);
        assert_eq!(read.text.as_deref().map(str::trim_end), Some("See attached."));
        let names: Vec<&str> = read.attachments.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, vec!["report \"Q3\".csv", long_name.as_str()]);
        let at_sign = build(&written(
            &from,
            &[],
            &"x".repeat(2000),
            "",
            &[FileToAttach {
                name: format!("{}@home.txt", "n".repeat(70)),
                content_type: "text/plain".into(),
                data: Bytes::from_static(b"x"),
            }],
        ));
        let text = String::from_utf8(at_sign.clone()).expect("ascii");
        assert!(text.lines().all(|l| l.len() <= 998), "a long subject folds");
        assert!(text.contains("%40home.txt"), "@ is encoded in RFC 2231 values: {text}");
        let long = mailroom_mime::readable::readable(&at_sign);
        assert_eq!(long.attachments[0].name, format!("{}@home.txt", "n".repeat(70)));
        assert_eq!(mailroom_mime::summarize(&at_sign).field("subject"), "x".repeat(2000));
        let pdf = mailroom_mime::readable::part(&message, read.attachments[1].part).expect("part");
        assert_eq!(pdf.bytes, binary);
        assert_eq!(pdf.content_type, "application/pdf");
    }

    #[test]
    fn lines_stay_short() {
        let many: Vec<String> = (0..20).map(|i| format!("person{i}@fabrikam.com")).collect();
        assert!(fold(&many, ",").split("\r\n").all(|l| l.len() <= 78));
        let long = "x".repeat(200);
        assert!(quoted_printable(&long).lines().all(|l| l.len() <= 76));
    }
}
