use super::*;

fn slice(data: &[u8], start: u32, end: u32) -> &str {
    std::str::from_utf8(&data[start as usize..end as usize]).unwrap()
}

fn assert_bounds(part: &BodyPart, len: u32) {
    assert!(part.header_offset <= part.body_offset, "{part:?}");
    assert!(part.body_offset <= part.end_offset, "{part:?}");
    assert!(part.end_offset <= len, "{part:?}");
    for child in &part.parts {
        assert!(child.header_offset >= part.body_offset && child.end_offset <= part.end_offset);
        assert_bounds(child, len);
    }
    if let Some(m) = &part.message {
        assert_bounds(&m.body, len);
    }
}

const SIMPLE: &[u8] = b"From: \"Alice Example\" <alice@contoso.com>\r\n\
To: info@contoso.com, Bob <bob@fabrikam.com>\r\n\
Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?= from Alice\r\n\
Date: Tue, 24 Nov 2026 10:00:00 +0100\r\n\
Message-ID: <m1@contoso.com>\r\n\
\r\n\
Hello,\r\nsecond line\r\n";

#[test]
fn simple_message_envelope_and_body() {
    let s = summarize(SIMPLE);
    assert!(!s.malformed);
    assert_eq!(s.envelope.subject.as_deref(), Some("Grüße from Alice"), "RFC 2047 decoded");
    assert_eq!(s.envelope.date.as_deref(), Some("Tue, 24 Nov 2026 10:00:00 +0100"), "raw date");
    assert_eq!(s.envelope.message_id.as_deref(), Some("<m1@contoso.com>"));
    assert_eq!(s.envelope.from.len(), 1);
    assert_eq!(s.envelope.from[0].name.as_deref(), Some("Alice Example"));
    assert_eq!(s.envelope.from[0].mailbox.as_deref(), Some("alice"));
    assert_eq!(s.envelope.from[0].host.as_deref(), Some("contoso.com"));
    assert_eq!(s.envelope.sender, s.envelope.from, "missing Sender takes From");
    assert_eq!(s.envelope.reply_to, s.envelope.from);
    assert_eq!(s.envelope.to.len(), 2);
    assert_eq!(s.envelope.to[1].name.as_deref(), Some("Bob"));
    assert_eq!(s.sent_date, Some(1_795_510_800));
    assert_eq!(s.body.media_type, "text");
    assert_eq!(s.body.media_subtype, "plain");
    assert_eq!(s.body.params, vec![("charset".to_string(), "us-ascii".to_string())]);
    assert_eq!(slice(SIMPLE, s.body.body_offset, s.body.end_offset), "Hello,\r\nsecond line\r\n");
    assert_eq!(s.body.lines, 2);
    assert!(s.headers.iter().any(|(k, v)| k == "Subject" && v == "Grüße from Alice"));
}

const MULTIPART: &[u8] = b"From: a@contoso.com\r\n\
Subject: parts\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"outer\"\r\n\
\r\n\
preamble\r\n\
--outer\r\n\
Content-Type: multipart/alternative; boundary=inner\r\n\
\r\n\
--inner\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
\r\n\
plain text\r\n\
--inner\r\n\
Content-Type: text/html\r\n\
Content-Transfer-Encoding: quoted-printable\r\n\
\r\n\
<p>html</p>\r\n\
--inner--\r\n\
--outer\r\n\
Content-Type: message/rfc822\r\n\
Content-Disposition: attachment; filename=\"fwd.eml\"\r\n\
\r\n\
From: Carol <carol@fabrikam.com>\r\n\
Subject: inner message\r\n\
\r\n\
inner body\r\n\
--outer\r\n\
Content-Type: application/pdf; name=x.pdf\r\n\
Content-Transfer-Encoding: base64\r\n\
Content-ID: <pdf1>\r\n\
\r\n\
JVBERi0=\r\n\
--outer--\r\n\
epilogue\r\n";

#[test]
fn nested_multipart_offsets_are_exact() {
    let s = summarize(MULTIPART);
    let len = MULTIPART.len() as u32;
    assert!(!s.malformed, "{s:?}");
    assert_bounds(&s.body, len);
    let root = &s.body;
    assert_eq!((root.media_type.as_str(), root.media_subtype.as_str()), ("multipart", "mixed"));
    assert_eq!(root.parts.len(), 3);

    let alt = &root.parts[0];
    assert_eq!(alt.media_subtype, "alternative");
    assert_eq!(alt.parts.len(), 2);
    let plain = &alt.parts[0];
    assert_eq!(slice(MULTIPART, plain.body_offset, plain.end_offset), "plain text");
    assert_eq!(plain.params, vec![("charset".to_string(), "utf-8".to_string())]);
    assert_eq!(
        slice(MULTIPART, plain.header_offset, plain.body_offset),
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
    );
    let html = &alt.parts[1];
    assert_eq!(html.encoding, "QUOTED-PRINTABLE");
    assert_eq!(slice(MULTIPART, html.body_offset, html.end_offset), "<p>html</p>");
    assert_eq!(html.lines, 1);

    let forwarded = &root.parts[1];
    assert_eq!((forwarded.media_type.as_str(), forwarded.media_subtype.as_str()), ("message", "rfc822"));
    assert_eq!(
        forwarded.disposition,
        Some(("attachment".into(), vec![("filename".into(), "fwd.eml".into())]))
    );
    let inner = forwarded.message.as_ref().expect("embedded message");
    assert_eq!(inner.envelope.subject.as_deref(), Some("inner message"));
    assert_eq!(inner.envelope.from[0].name.as_deref(), Some("Carol"));
    assert_eq!(slice(MULTIPART, inner.body.body_offset, inner.body.end_offset), "inner body");
    assert_eq!(forwarded.lines, 4);

    let pdf = &root.parts[2];
    assert_eq!(pdf.id.as_deref(), Some("<pdf1>"));
    assert_eq!(pdf.encoding, "BASE64");
    assert_eq!(slice(MULTIPART, pdf.body_offset, pdf.end_offset), "JVBERi0=");
    assert_eq!(pdf.lines, 0, "lines only for text and message parts");
}

#[test]
fn broken_mime_is_kept_and_flagged() {
    let unterminated =
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nno end";
    let s = summarize(unterminated);
    assert!(s.malformed);
    assert_eq!(s.body.parts.len(), 1);
    assert_eq!(slice(unterminated, s.body.parts[0].body_offset, s.body.parts[0].end_offset), "no end");

    let no_boundary = b"Content-Type: multipart/mixed\r\n\r\nbody";
    let s = summarize(no_boundary);
    assert!(s.malformed);
    assert_eq!(s.body.media_type, "text", "shown as text when it can't be split");

    let no_header = b"just some text without any header";
    let s = summarize(no_header);
    assert!(s.malformed);
    assert_eq!(s.body.end_offset as usize, no_header.len());

    let binary: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
    let s = summarize(&binary);
    assert_bounds(&s.body, binary.len() as u32);

    let s = summarize(b"");
    assert_eq!(s.body.end_offset, 0);
}

#[test]
fn groups_become_imap_group_markers() {
    let msg = b"From: a@contoso.com\r\nTo: Team: x@contoso.com, y@contoso.com;\r\n\r\nbody\r\n";
    let s = summarize(msg);
    let to = &s.envelope.to;
    assert_eq!(to.first().and_then(|a| a.mailbox.as_deref()), Some("Team"));
    assert_eq!(to.first().and_then(|a| a.host.as_deref()), None);
    assert_eq!(to.last(), Some(&EnvelopeAddress::default()));
    assert_eq!(to.len(), 4);
}

#[test]
fn lf_only_messages_are_understood() {
    let msg = b"From: a@contoso.com\nContent-Type: multipart/mixed; boundary=z\n\n--z\n\npart one\n--z--\n";
    let s = summarize(msg);
    assert_eq!(s.body.parts.len(), 1);
    assert_eq!(slice(msg, s.body.parts[0].body_offset, s.body.parts[0].end_offset), "part one");
}

#[test]
fn key_fields_are_kept_wherever_they_stand_and_a_cut_is_reported() {
    use mailroom_core::mail::HeaderProblem;
    let padding: String = (0..300).map(|i| format!("X-Pad-{i}: {}\r\n", "p".repeat(1000))).collect();
    let message =
        format!("From: a@fabrikam.example\r\n{padding}From: b@contoso.com\r\nSubject: late\r\n\r\nx\r\n");
    let s = summarize(message.as_bytes());
    let named = |s: &mailroom_core::mail::MessageSummary, name: &str| {
        s.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)).count()
    };
    assert_eq!(named(&s, "From"), 2, "both From: fields, the second 300 KiB down");
    assert_eq!(named(&s, "Subject"), 1);
    assert!(named(&s, "X-Pad-0") == 1 && named(&s, "X-Pad-299") == 0, "padding past the budget left out");
    assert_eq!(s.header_problem, None, "nothing a sending rule reads was cut");
    // A huge Cc: cut from SEARCH, nothing more.
    let cc: String = (0..3000).map(|i| format!("person{i}@fabrikam.example, ")).collect();
    let s = summarize(format!("From: a@fabrikam.example\r\nCc: {cc}\r\n\r\nx").as_bytes());
    assert_eq!((named(&s, "Cc"), s.header_problem), (0, None));
    // From: fields past their own budget: the rules can't count them.
    let froms: String =
        (0..100).map(|i| format!("From: {}{i}@fabrikam.example\r\n", "f".repeat(1000))).collect();
    let s = summarize(format!("{froms}\r\nx").as_bytes());
    assert_eq!(s.header_problem, Some(HeaderProblem::TooLarge));
    let small = summarize(b"From: a@fabrikam.example\r\nSubject: x\r\n\r\nbody\r\n");
    assert_eq!(small.header_problem, None);
}

#[test]
fn fields_the_parser_would_skip_are_reported() {
    use mailroom_core::mail::HeaderProblem;
    // A line of only a stray CR (or a CR and a space) ends the header for the
    // parser, not for IMAP's BODY[HEADER]: the From: after it would be shown
    // by a client and seen by no rule.
    for hidden in [
        &b"X-A: 1\r\n\r\r\nFrom: Info <info@contoso.com>\r\n\r\nbody"[..],
        b"X-A: 1\r\n\r \r\nFrom: i@c.com\r\n\r\nb",
        b"X-A: 1\r\n\r\r\nFrom : i@c.com\r\n\r\nb",
        b"X-A: 1\r\n\r\r\nFrom\t: i@c.com\r\n\r\nb",
        b"X-A: 1\r\n\r\r\n\rFrom: i@c.com\r\n\r\nb",
        b"\r\r\nFrom: i@c.com\r\n\r\nb",
    ] {
        let s = summarize(hidden);
        assert_eq!(
            s.header_problem,
            Some(HeaderProblem::Unreadable),
            "{:?}",
            String::from_utf8_lossy(hidden)
        );
    }
    // A stray text line, or no header at all, hides no field.
    for fine in [
        &b"Subject: one\r\nhello\r\n"[..],
        b"just text, no headers\r\n",
        b"X-A: 1\r\n\r\r\nnot a field\r\n\r\nb",
    ] {
        assert_eq!(summarize(fine).header_problem, None, "{:?}", String::from_utf8_lossy(fine));
    }
    // Folded whitespace is a continuation, not an end: nothing hidden.
    for fine in [
        &b"X-A: 1\r\n \r\nFrom: i@c.com\r\n\r\nb"[..],
        b"X-A: 1\r\nFrom: i@c.com\r\n\r\nb",
        b"no header at all",
    ] {
        assert_eq!(summarize(fine).header_problem, None, "{:?}", String::from_utf8_lossy(fine));
    }
}

proptest::proptest! {
    #[test]
    fn any_bytes_summarise_within_bounds(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2048)) {
        let s = summarize(&data);
        assert_bounds(&s.body, data.len() as u32);
    }

    #[test]
    fn mime_like_soup_summarises_within_bounds(data in "(Content-Type: (multipart/mixed; boundary=b|message/rfc822|text/plain)\r\n|--b\r\n|--b--\r\n|\r\n|x)*") {
        let s = summarize(data.as_bytes());
        assert_bounds(&s.body, data.len() as u32);
    }
}

#[test]
fn a_comment_in_a_group_is_not_an_address() {
    // RFC 5322 §3.4: a group's list may be empty, with only CFWS in it.
    let msg =
        b"From: a@contoso.com\r\nCc: group:;, group2: (foo) ;, team: (lead) x@contoso.com;\r\n\r\nbody\r\n";
    let cc = summarize(msg).envelope.cc;
    let marker = |name: &str| EnvelopeAddress { name: None, mailbox: Some(name.into()), host: None };
    let end = EnvelopeAddress::default();
    assert_eq!(cc.len(), 7, "{cc:?}");
    assert_eq!(&cc[..5], &[marker("group"), end.clone(), marker("group2"), end.clone(), marker("team")]);
    assert_eq!((cc[5].mailbox.as_deref(), cc[5].host.as_deref()), (Some("x"), Some("contoso.com")));
    assert_eq!(cc[6], end);
}
