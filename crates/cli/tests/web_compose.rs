//! Writing mail in the web app with files, against a real `mailroom
//! serve`: in headless Chromium (`tests/browser/web_compose.py`) a forward
//! keeps the original's attachment and adds an upload, a refused send keeps
//! its upload, a draft with a file is opened again and sent, and Dave
//! replies on behalf of info@ — each read back from the outbound queue.
//! Over raw HTTP, the attacker's side: a form larger than allowed is
//! refused before it is read, a broken multipart body gets a clear error,
//! a message over the size limit is named at the attachment field, and
//! Carol can't attach a file of a mailbox she can't open.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::io::{Read, Write};

use mailroom_testkit::{Cli, http, python, web_post_multipart, web_sign_in};

const ORG: &str = r#"
New-Mailbox -Name Alice -Alias alice -DisplayName 'Alice Jones' -PrimarySmtpAddress alice@contoso.com -Password 'Alice-pass-123'
New-Mailbox -Name Carol -Alias carol -DisplayName 'Carol White' -PrimarySmtpAddress carol@contoso.com -Password 'Carol-pass-123'
New-Mailbox -Name Dave -Alias dave -DisplayName 'Dave Lee' -PrimarySmtpAddress dave@contoso.com -Password 'Dave-pass-123'
New-Mailbox -Shared -Name Info -Alias info -PrimarySmtpAddress info@contoso.com
Add-MailboxPermission info -User alice -AccessRights FullAccess
Add-MailboxPermission info -User dave -AccessRights FullAccess
Set-Mailbox info -GrantSendOnBehalfTo dave
"#;

/// Octets no text encoding would leave alone: every value, over and over.
fn invoice_pdf(size: usize) -> Vec<u8> {
    let mut pdf = b"%PDF-1.4\n".to_vec();
    pdf.extend((0..=255u8).cycle().take(size));
    pdf
}

/// "Invoice 77" to info@, with a PDF of about `size` octets.
fn invoice_message(size: usize) -> String {
    format!(
        "From: Customer <customer@fabrikam.com>\r\nTo: info@contoso.com\r\nSubject: Invoice 77\r\nMessage-ID: <invoice-77@fabrikam.com>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nPlease find the invoice attached.\r\n--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=invoice.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--b--\r\n",
        // Lines of 76 characters, as RFC 2045 §6.8 has it.
        invoice_pdf(size).chunks(57).map(mailroom_mime::encode_base64).collect::<Vec<_>>().join("\r\n")
    )
}

/// The attachments of a message: (name, type, octets).
fn attachments(message: &[u8]) -> Vec<(String, String, Vec<u8>)> {
    mailroom_mime::readable::readable(message)
        .attachments
        .iter()
        .map(|a| {
            let part = mailroom_mime::readable::part(message, a.part).unwrap();
            (part.name, part.content_type, part.bytes)
        })
        .collect()
}

/// The queued message for `rcpt`.
fn queued_for(cli: &Cli, rcpt: &str) -> Vec<u8> {
    let queued = mailroom_testkit::inspect::queued_messages(&cli.data());
    let found = queued.iter().find(|(r, _)| r == rcpt).map(|(_, b)| b.clone());
    found.unwrap_or_else(|| {
        panic!("a message queued for {rcpt}: {:?}", queued.iter().map(|q| &q.0).collect::<Vec<_>>())
    })
}

#[test]
fn files_go_out_with_forwards_drafts_and_refused_sends_in_a_browser() {
    let cli = Cli::new(env!("CARGO_BIN_EXE_mailroom"));
    cli.contoso_with(ORG);
    cli.exo("Add-RecipientPermission info -Trustee alice -AccessRights SendAs -Confirm:$false");
    cli.hold_outbound();
    let server = cli.serve(&[]);
    mailroom_testkit::mx_send_message(
        &server,
        "customer@fabrikam.com",
        "info@contoso.com",
        &invoice_message(3000),
    );
    let shots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    let files = cli.root().join("files");
    std::fs::create_dir_all(&files).unwrap();
    let out = python(
        concat!(
            include_str!("browser/chromium.py"),
            include_str!("browser/mail_app.py"),
            include_str!("browser/web_compose.py")
        ),
        &[&format!("http://{}", server.http()), shots.to_str().unwrap(), files.to_str().unwrap()],
    );
    let seen: serde_json::Value = serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"));
    eprintln!("screenshots in {}", shots.display());

    // The forward: the invoice ticked to keep, a file of Alice's added.
    assert_eq!(seen["invoice_attachments"], serde_json::json!(["invoice.pdf"]));
    assert_eq!(seen["forward_kept"], serde_json::json!([["invoice.pdf 2.9 KB", true]]), "{seen}");
    assert_eq!(seen["forward_limit"], "The message may be up to 36 MB with its attachments.");
    assert_eq!(seen["forward_notice"], "Your message was sent.");
    let forward = queued_for(&cli, "partner@fabrikam.com");
    let text = String::from_utf8_lossy(&forward);
    assert!(text.contains("From: \"Info\" <info@contoso.com>\r\n"), "{text}");
    assert!(text.contains("Subject: Fw: Invoice 77\r\n"), "{text}");
    assert_eq!(
        attachments(&forward),
        vec![
            ("notes.txt".to_string(), "text/plain".to_string(), b"Notes for the partner.\n".to_vec()),
            ("invoice.pdf".to_string(), "application/pdf".to_string(), invoice_pdf(3000)),
        ],
        "the upload, then the original's file, octet for octet"
    );

    // Refused for the address, not for the file: it was kept and went out.
    assert_eq!(seen["mistyped_error"], "\"bob at fabrikam\" isn't an email address.");
    assert_eq!(seen["mistyped_to_kept"], "bob at fabrikam");
    assert_eq!(seen["mistyped_kept"], serde_json::json!([["plan.csv 19 B", true]]), "{seen}");
    assert_eq!(seen["mended_notice"], "Your message was sent.");
    let plan = queued_for(&cli, "bob@fabrikam.com");
    assert_eq!(
        attachments(&plan),
        vec![("plan.csv".into(), "text/csv".into(), b"week,task\n1,launch\n".to_vec())]
    );

    // The draft: saved with its file, opened again, sent, and gone from Drafts.
    assert_eq!(seen["draft_notice"], "Your draft was saved.");
    assert_eq!(
        seen["drafts_rows"],
        serde_json::json!(["Draft with file"]),
        "the refused send's draft went with it"
    );
    assert_eq!(seen["draft_heading"], "Draft");
    assert_eq!(seen["draft_to"], "x@fabrikam.com");
    assert_eq!(seen["draft_body"], "Finish me later.");
    assert_eq!(seen["draft_kept"], serde_json::json!([["draft.txt 8 B", true]]));
    assert_eq!(seen["draft_sent_notice"], "Your message was sent.");
    assert_eq!(seen["drafts_after_send"], serde_json::json!([]));
    let drafted = queued_for(&cli, "x@fabrikam.com");
    assert_eq!(attachments(&drafted), vec![("draft.txt".into(), "text/plain".into(), b"drafted\n".to_vec())]);
    assert!(
        mailroom_testkit::inspect::folder_messages(&cli.data(), "alice@contoso.com", "Drafts").is_empty()
    );

    // Dave, on behalf of info@: the chooser starts there, Sender: names him.
    assert_eq!(seen["dave_from_default"], "Info <info@contoso.com> — on behalf, as Dave Lee");
    assert_eq!(seen["dave_notice"], "Your message was sent.");
    let reply = queued_for(&cli, "customer@fabrikam.com");
    let text = String::from_utf8_lossy(&reply);
    assert!(text.contains("From: \"Info\" <info@contoso.com>\r\n"), "{text}");
    assert!(
        text.contains("Sender: \"Dave Lee\" <dave@contoso.com>\r\n")
            || text.contains("Sender: Dave Lee <dave@contoso.com>\r\n"),
        "{text}"
    );
    assert!(text.contains("In-Reply-To: <invoice-77@fabrikam.com>"), "{text}");
    for (page, overflow) in seen["overflow"].as_object().unwrap() {
        assert!(overflow.as_i64().unwrap() <= 0, "{page} scrolls sideways by {overflow} px");
    }
}

#[test]
fn forms_with_files_are_bounded_and_checked() {
    let cli = Cli::new(env!("CARGO_BIN_EXE_mailroom"));
    cli.contoso_with(ORG);
    // A smaller limit than the default, so a message over it is cheap to make.
    let config = cli.data().join("mailroom.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    let limited = text
        .lines()
        .map(|l| {
            if l.starts_with("max_message_size = ") {
                "max_message_size = 1048576".to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert_ne!(text, limited, "the limit is in the file");
    std::fs::write(&config, limited).unwrap();
    cli.hold_outbound();
    let server = cli.serve(&[]);
    mailroom_testkit::mx_send_message(
        &server,
        "customer@fabrikam.com",
        "info@contoso.com",
        &invoice_message(300_000),
    );
    let alice = web_sign_in(server.http(), "alice@contoso.com", "Alice-pass-123").unwrap();
    let carol = web_sign_in(server.http(), "carol@contoso.com", "Carol-pass-123").unwrap();
    let get = |cookie: &str, path: &str| http(server.http(), "GET", path, None, &[("Cookie", cookie)], b"");
    let csrf = |cookie: &str| mailroom_testkit::hidden_field(&get(cookie, "/mail/compose").body, "csrf");
    let (alice_csrf, carol_csrf) = (csrf(&alice), csrf(&carol));
    let compose = |cookie: &str, fields: &[(&str, &str)], files: &[mailroom_testkit::FormFile<'_>]| {
        web_post_multipart(server.http(), cookie, "/mail/compose", fields, files)
    };

    // A declared body over the form's limit (72% of 1 MiB) is refused
    // before a byte of it is read.
    let mut stream = std::net::TcpStream::connect(server.http()).unwrap();
    write!(
        stream,
        "POST /mail/compose HTTP/1.1\r\nHost: x\r\nCookie: {alice}\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 800000\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("at most 737 KiB"), "{answer}");

    // A body that isn't the multipart it claims: a clear error, and the
    // session goes on.
    let broken = http(
        server.http(),
        "POST",
        "/mail/compose",
        None,
        &[("Cookie", &alice), ("Content-Type", "multipart/form-data; boundary=b")],
        format!("--b\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{alice_csrf}\r\n--b\r\nContent-Disposition: form-data; name=\"to\"\r\n\r\ncut short").as_bytes(),
    );
    assert_eq!(broken.status, 400, "{broken:?}");
    assert!(
        broken.body.contains("The form arrived cut short or malformed; send it again."),
        "{}",
        broken.body
    );
    assert_eq!(get(&alice, "/mail/").status, 303, "still signed in");

    // The 300 KB invoice kept and 600 KB uploaded: 1.2 MB once encoded,
    // over the 1 MiB limit, and named at the attachment field.
    let info_inbox = mailroom_testkit::web_inbox_of(server.http(), &alice, "info@contoso.com");
    let original = info_inbox.trim_start_matches("/mail/").to_string() + "/1";
    let forward = get(&alice, &format!("/mail/compose?in={original}&mode=forward")).body;
    let keep = mailroom_testkit::hidden_field(&forward, "keep");
    assert!(keep.starts_with("in:"), "{keep}");
    let big = vec![b'z'; 600_000];
    let over = compose(
        &alice,
        &[
            ("csrf", &alice_csrf),
            ("from", "info@contoso.com"),
            ("to", "p@fabrikam.com"),
            ("in", &original),
            ("mode", "forward"),
            ("keep", &keep),
            ("action", "send"),
        ],
        &[("attachment", "big.bin", "application/octet-stream", &big)],
    );
    assert_eq!(over.status, 422, "{}", over.body);
    assert!(over.body.contains("the most that may be sent is 1 MB. Remove an attachment."), "{}", over.body);
    assert!(over.body.contains("id=\"attachment-error\""), "named at its field");
    assert!(mailroom_testkit::inspect::queued_messages(&cli.data()).is_empty(), "nothing was sent");

    // Carol names info@'s invoice to keep, with her own valid token: the
    // file isn't hers, and she learns nothing of it.
    let stolen = compose(
        &carol,
        &[
            ("csrf", &carol_csrf),
            ("from", "carol@contoso.com"),
            ("to", "c@fabrikam.com"),
            ("in", &original),
            ("mode", "forward"),
            ("keep", &keep),
            ("action", "send"),
        ],
        &[],
    );
    assert_eq!(stolen.status, 422, "{}", stolen.body);
    assert!(stolen.body.contains("A file to keep is no longer there; attach it again."), "{}", stolen.body);
    assert!(!stolen.body.contains("invoice.pdf"), "{}", stolen.body);
    assert!(mailroom_testkit::inspect::queued_messages(&cli.data()).is_empty(), "nothing was sent");

    // The same file kept three times is attached once; the same form sent
    // urlencoded may not be large.
    let urlencoded = http(
        server.http(),
        "POST",
        "/mail/compose",
        None,
        &[("Cookie", &alice), ("Content-Type", "application/x-www-form-urlencoded")],
        format!("csrf={alice_csrf}&{}", "keep=in%3A2&".repeat(40_000)).as_bytes(),
    );
    assert_eq!(urlencoded.status, 413, "{urlencoded:?}");
    let thrice = compose(
        &alice,
        &[
            ("csrf", &alice_csrf),
            ("from", "alice@contoso.com"),
            ("to", "twice@fabrikam.com"),
            ("in", &original),
            ("mode", "forward"),
            ("keep", &keep),
            ("keep", &keep),
            ("keep", &keep),
            ("action", "send"),
        ],
        &[],
    );
    assert_eq!(thrice.status, 303, "{}", thrice.body);
    assert_eq!(attachments(&queued_for(&cli, "twice@fabrikam.com")).len(), 1);

    // A crafted `draft=` naming a message of her Inbox opens nothing, and
    // sending with it deletes nothing: only drafts in Drafts are replaced.
    mailroom_testkit::mx_send(&server, "x@fabrikam.com", "alice@contoso.com", "Subject: Keep me\r\n");
    let own_inbox = get(&alice, "/mail/").header("location").unwrap().to_string();
    let crafted = format!("{}/1", own_inbox.trim_start_matches("/mail/"));
    assert_eq!(get(&alice, &format!("/mail/compose?draft={crafted}")).status, 404);
    let sent = compose(
        &alice,
        &[
            ("csrf", &alice_csrf),
            ("from", "alice@contoso.com"),
            ("to", "y@fabrikam.com"),
            ("draft", &crafted),
            ("action", "send"),
        ],
        &[],
    );
    assert_eq!(sent.status, 303, "{}", sent.body);
    let inbox = mailroom_testkit::inspect::inbox(&cli.data(), "alice@contoso.com");
    assert_eq!(inbox.len(), 1, "the Inbox message is still there");
    assert_eq!(inbox[0].summary.field("subject"), "Keep me");

    // A file named in UTF-8 (as browsers send it) goes out, its name intact.
    let sent = compose(
        &alice,
        &[
            ("csrf", &alice_csrf),
            ("from", "alice@contoso.com"),
            ("to", "p@fabrikam.com"),
            ("subject", "One file"),
            ("action", "send"),
        ],
        &[("attachment", "Übersicht März.txt", "text/plain", "Grüße".as_bytes())],
    );
    assert_eq!(sent.status, 303, "{}", sent.body);
    let queued = queued_for(&cli, "p@fabrikam.com");
    assert_eq!(
        attachments(&queued),
        vec![("Übersicht März.txt".into(), "text/plain".into(), "Grüße".as_bytes().to_vec())]
    );
}
