//! The members' web app in a real browser (headless Chromium driven by
//! Selenium, `tests/browser/web_app.py`) against a real `mailroom serve`,
//! at phone and desktop sizes: Alice reads her own and the shared info@
//! Inbox, a message delivered over SMTP, and a hostile HTML message whose
//! script, handlers, `javascript:` link and remote image neither run nor
//! load (asserted in the browser); what she does shows over IMAP; Carol,
//! without rights, neither sees info@ nor reaches it by URL (`404`).
//! Screenshots land in the target directory's `screenshots/`.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use mailroom_testkit::{Cli, Server, http, python, web_sign_in};

const ORG: &str = r#"
New-Mailbox -Name Alice -Alias alice -DisplayName 'Alice Jones' -PrimarySmtpAddress alice@contoso.com -Password 'Alice-pass-123'
New-Mailbox -Name Carol -Alias carol -DisplayName 'Carol White' -PrimarySmtpAddress carol@contoso.com -Password 'Carol-pass-123'
New-Mailbox -Shared -Name Info -Alias info -PrimarySmtpAddress info@contoso.com
Add-MailboxPermission info -User alice -AccessRights FullAccess
"#;

const HOSTILE: &str = "From: Mallory <mallory@fabrikam.com>\r\nTo: alice@contoso.com\r\nSubject: Hostile offer\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Dear Alice, <b>great offer</b>.</p><script>window.__pwned = 1</script>\r\n<img src=\"x\" onerror=\"window.__pwned = 2\"><img src=\"https://tracker.example/pixel.gif\">\r\n<a href=\"javascript:window.__pwned = 3\">Claim it</a> <a href=\"https://example.com/terms\">Terms</a>\r\n<svg onload=\"window.__pwned = 4\"></svg><iframe src=\"https://evil.example/\"></iframe>\r\n";

fn deliver(server: &Server, from: &str, to: &str, message: &str) {
    mailroom_testkit::mx_send_message(server, from, to, message);
}

#[test]
fn members_read_their_own_and_the_team_inbox_in_a_browser() {
    let cli = Cli::new(env!("CARGO_BIN_EXE_mailroom"));
    cli.contoso_with(ORG);
    cli.exo("Add-RecipientPermission info -Trustee alice -AccessRights SendAs -Confirm:$false");
    cli.hold_outbound();
    let server = cli.serve(&[]);
    deliver(
        &server,
        "customer@fabrikam.com",
        "info@contoso.com",
        "From: Customer <customer@fabrikam.com>\r\nTo: info@contoso.com\r\nSubject: Order 1234\r\nMessage-ID: <order-1234@fabrikam.com>\r\n\r\nWhere is my order 1234?\r\n",
    );
    deliver(&server, "mallory@fabrikam.com", "alice@contoso.com", HOSTILE);
    let shots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    let out = python(
        concat!(
            include_str!("browser/chromium.py"),
            include_str!("browser/mail_app.py"),
            include_str!("browser/web_app.py")
        ),
        &[
            &format!("http://{}", server.http()),
            shots.to_str().unwrap(),
            &server.smtp().ip().to_string(),
            &server.smtp().port().to_string(),
        ],
    );
    let seen: serde_json::Value = serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"));
    eprintln!("screenshots in {}", shots.display());

    // Delivered over SMTP while the list was open: shown within 2 s, unreloaded.
    assert!(seen["live_seconds"].as_f64().unwrap() < 2.0, "{seen}");
    assert_eq!(seen["live_rows"], serde_json::json!(["Arrived live", "Hostile offer"]));
    for size in ["desktop", "phone"] {
        assert_eq!(seen[format!("{size}_landing")], "Inbox", "{seen}");
        assert_eq!(seen[format!("{size}_mailboxes")], serde_json::json!(["My mailbox", "Info"]), "{seen}");
        assert_eq!(seen[format!("{size}_info_rows")], serde_json::json!(["Order 1234"]));
    }
    assert_eq!(seen["desktop_inbox_rows"], serde_json::json!(["Hostile offer"]));
    assert_eq!(seen["phone_inbox_rows"], serde_json::json!(["Arrived live", "Hostile offer"]));
    assert_eq!(seen["desktop_info_unread_badge"], "Inbox 1", "one unread in the team inbox");
    assert_eq!(seen["order_heading"], "Order 1234");
    assert_eq!(seen["order_body"], "Where is my order 1234?");
    assert_eq!(seen["order_from"], "Customer <customer@fabrikam.com>");
    // The reply goes out as info@, with no trace of Alice.
    assert_eq!(seen["reply_from_default"], "Info <info@contoso.com>");
    assert_eq!(
        seen["reply_from_choices"],
        serde_json::json!(["Alice Jones <alice@contoso.com>", "Info <info@contoso.com>"])
    );
    assert_eq!(seen["reply_to"], "customer@fabrikam.com");
    assert_eq!(seen["reply_subject"], "Re: Order 1234");
    assert_eq!(seen["after_send_notice"], "Your message was sent.");
    let queued = mailroom_testkit::inspect::queued_messages(&cli.data());
    assert_eq!(queued.len(), 1, "{queued:?}");
    let (rcpt, bytes) = &queued[0];
    let text = String::from_utf8_lossy(bytes);
    assert_eq!(rcpt, "customer@fabrikam.com");
    assert!(text.contains("From: \"Info\" <info@contoso.com>\r\n"), "{text}");
    assert!(text.contains("In-Reply-To: <order-1234@fabrikam.com>"), "{text}");
    assert!(text.contains("Your order ships tomorrow."), "{text}");
    assert!(!text.to_lowercase().contains("alice"), "Send As leaves no trace of the person: {text}");

    // Nothing in the hostile message ran, loaded or kept a handler.
    assert_eq!(seen["hostile_pwned"], serde_json::Value::Null, "{seen}");
    assert_eq!(seen["hostile_scripts"], 0);
    assert_eq!(seen["hostile_handlers"], 0);
    assert_eq!(seen["hostile_remote_images"], 0);
    assert_eq!(
        seen["hostile_links"],
        serde_json::json!([null, "https://example.com/terms"]),
        "no javascript: link"
    );
    assert!(seen["hostile_text"].as_str().unwrap().contains("great offer"), "{seen}");
    assert!(seen["images_notice"].as_str().unwrap().starts_with("Pictures from the internet are hidden"));

    assert_eq!(seen["after_flag"], "Unflag");
    assert_eq!(seen["after_delete_rows"], serde_json::json!(["Arrived live"]));
    assert_eq!(seen["deleted_items_rows"], serde_json::json!(["⚑ Hostile offer"]));
    assert_eq!(seen["calendar_heading"], "Week of 7 December 2026");
    assert_eq!(seen["calendar_zone"], "Times in Asia/Tokyo", "the browser's zone");
    assert_eq!(
        seen["calendar_names"],
        serde_json::json!(["Calendar", "Info"]),
        "her own and the automapped team calendar"
    );
    assert_eq!(seen["calendar_days"], 7);
    assert_eq!(seen["carol_mailboxes"], serde_json::json!(["My mailbox"]));
    assert_eq!(seen["carol_crafted_heading"], "Not found");
    for (page, overflow) in seen["overflow"].as_object().unwrap() {
        assert!(overflow.as_i64().unwrap() <= 0, "{page} scrolls sideways by {overflow} px");
    }

    // What Alice did is the mailbox's state over IMAP too: the order she
    // read is \Seen for the team; the hostile one is flagged in Deleted Items.
    let flags = python(
        r#"
import imaplib, json, sys
m = imaplib.IMAP4(sys.argv[1], int(sys.argv[2]))
m.login('alice@contoso.com', 'Alice-pass-123')
out = {}
for box in ('"Shared/info@contoso.com/INBOX"', '"Deleted Items"', 'INBOX'):
    m.select(box, readonly=True)
    typ, data = m.fetch('1:*', '(FLAGS)')
    out[box] = [d.decode() for d in data if d]
print(json.dumps(out))
"#,
        &[&server.imap().ip().to_string(), &server.imap().port().to_string()],
    );
    let flags: serde_json::Value = serde_json::from_str(flags.trim()).unwrap();
    assert!(flags["\"Shared/info@contoso.com/INBOX\""][0].as_str().unwrap().contains("\\Seen"), "{flags}");
    assert!(flags["\"Deleted Items\""][0].as_str().unwrap().contains("\\Flagged"), "{flags}");
    assert_eq!(flags["INBOX"].as_array().unwrap().len(), 1, "only the live one is left: {flags}");
}

#[test]
fn mailboxes_and_parts_a_person_may_not_open_are_not_found() {
    let cli = Cli::new(env!("CARGO_BIN_EXE_mailroom"));
    cli.contoso_with(ORG);
    let server = cli.serve(&[]);
    deliver(
        &server,
        "customer@fabrikam.com",
        "info@contoso.com",
        "From: c@fabrikam.com\r\nSubject: Attached\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nSee the file.\r\n--b\r\nContent-Type: text/html; name=page.html\r\nContent-Disposition: attachment; filename=page.html\r\n\r\n<script>alert(1)</script>\r\n--b--\r\n",
    );
    let alice = web_sign_in(server.http(), "alice@contoso.com", "Alice-pass-123").unwrap();
    let carol = web_sign_in(server.http(), "carol@contoso.com", "Carol-pass-123").unwrap();
    let get = |cookie: &str, path: &str| http(server.http(), "GET", path, None, &[("Cookie", cookie)], b"");
    let inbox = get(&alice, "/mail/").header("location").unwrap().to_string();
    let info_inbox = mailroom_testkit::web_inbox_of(server.http(), &alice, "info@contoso.com");
    let info_mailbox = info_inbox.split('/').nth(2).unwrap().to_string();
    let list = get(&alice, &info_inbox);
    assert!(list.body.contains("Attached"), "{}", list.body);
    let message = format!("{info_inbox}/1");
    let page = get(&alice, &message);
    assert_eq!(page.status, 200);
    assert!(page.body.contains("page.html"), "the attachment is listed");
    let part = page
        .body
        .split(&format!("{message}/part/"))
        .nth(1)
        .unwrap()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>();
    // The attachment downloads; its HTML is never rendered by us.
    let download = get(&alice, &format!("{message}/part/{part}"));
    assert_eq!(download.status, 200);
    assert_eq!(download.header("content-type"), Some("application/octet-stream"));
    assert!(
        download.header("content-disposition").unwrap().starts_with("attachment; filename=\"page.html\"")
    );
    assert!(download.header("content-security-policy").unwrap().contains("sandbox"));
    assert!(download.body.contains("<script>"), "the bytes as sent");
    // Carol: every one of those URLs is simply not there.
    for path in [
        info_inbox.clone(),
        message.clone(),
        format!("{message}/part/{part}"),
        format!("/mail/{info_mailbox}"),
    ] {
        assert_eq!(get(&carol, &path).status, 404, "{path}");
    }
    let carol_csrf = mailroom_testkit::hidden_field(&get(&carol, "/mail/compose").body, "csrf");
    let post = |cookie: &str, path: &str, body: String| {
        mailroom_testkit::web_post(server.http(), cookie, path, &body)
    };
    assert_eq!(
        post(&carol, &format!("{message}/delete"), "csrf=x".into()).status,
        403,
        "a forged form is refused"
    );
    // With her own valid token, still nothing: the message isn't hers to touch.
    for action in ["delete", "flag", "archive", "unread"] {
        let reply = post(&carol, &format!("{message}/{action}"), format!("csrf={carol_csrf}"));
        assert_eq!(reply.status, 404, "{action}");
    }
    assert_eq!(get(&carol, &format!("{info_inbox}/changes?after=0")).status, 404, "no news of it either");
    // Alice can't move the team's message into her own mailbox's folder.
    let own_folder = inbox.rsplit('/').next().unwrap();
    let alice_csrf = mailroom_testkit::hidden_field(&get(&alice, "/mail/compose").body, "csrf");
    let moved = post(&alice, &format!("{message}/move"), format!("csrf={alice_csrf}&to={own_folder}"));
    assert_eq!(moved.status, 404, "a folder of another mailbox isn't a target");
    // Part numbers that aren't listed attachments (the root, the text body) are not served.
    assert_eq!(get(&alice, &format!("{message}/part/0")).status, 404);
    assert_eq!(get(&alice, &format!("{message}/part/1")).status, 404);
    assert_eq!(get(&alice, &format!("{message}/part/99")).status, 404);
    assert_eq!(get(&alice, &format!("{info_inbox}/999")).status, 404);
    // Removed from the team: the mailbox is gone from her at once.
    cli.exo("Remove-MailboxPermission info -User alice -AccessRights FullAccess -Confirm:$false");
    assert_eq!(get(&alice, &info_inbox).status, 404);
    assert!(!get(&alice, &inbox).body.contains("info@contoso.com"));
}

/// Dave holds Send on Behalf (and Full Access to read): his reply from the
/// web app says so in `Sender:`, as submission would; Carol, who holds
/// neither, is refused with core's words at the From field.
#[test]
fn the_from_chooser_offers_what_core_allows_and_core_decides() {
    let cli = Cli::new(env!("CARGO_BIN_EXE_mailroom"));
    cli.contoso_with(ORG);
    cli.exo("New-Mailbox -Name Dave -Alias dave -DisplayName 'Dave Lee' -PrimarySmtpAddress dave@contoso.com -Password 'Dave-pass-1234'");
    cli.exo("Add-MailboxPermission info -User dave -AccessRights FullAccess");
    cli.exo("Set-Mailbox info -GrantSendOnBehalfTo dave -MessageCopyForSendOnBehalfEnabled $true");
    cli.hold_outbound();
    let server = cli.serve(&[]);
    let dave = web_sign_in(server.http(), "dave@contoso.com", "Dave-pass-1234").unwrap();
    let compose = http(server.http(), "GET", "/mail/compose", None, &[("Cookie", &dave)], b"");
    assert_eq!(compose.status, 200);
    assert!(
        text_of(&compose.body).contains("Info <info@contoso.com> — on behalf, as Dave Lee"),
        "{}",
        compose.body
    );
    let csrf = mailroom_testkit::hidden_field(&compose.body, "csrf");
    let post = |cookie: &str, csrf: &str, from: &str, to: &str| {
        let body = format!(
            "csrf={csrf}&action=send&from={}&to={}&subject=Shipping&body=It+ships+today.",
            from.replace('@', "%40"),
            to.replace('@', "%40")
        );
        http(
            server.http(),
            "POST",
            "/mail/compose",
            None,
            &[("Cookie", cookie), ("Content-Type", "application/x-www-form-urlencoded")],
            body.as_bytes(),
        )
    };
    let sent = post(&dave, &csrf, "info@contoso.com", "customer@fabrikam.com");
    assert_eq!(sent.status, 303, "{}", sent.body);
    let queued = mailroom_testkit::inspect::queued_messages(&cli.data());
    let text = String::from_utf8_lossy(&queued[0].1).into_owned();
    assert!(text.contains("From: \"Info\" <info@contoso.com>"), "{text}");
    assert!(
        text.contains("Sender: \"Dave Lee\" <dave@contoso.com>")
            || text.contains("Sender: Dave Lee <dave@contoso.com>"),
        "{text}"
    );
    // Sent Items of info@ got its copy (MessageCopyForSendOnBehalfEnabled).
    let sent_items =
        mailroom_testkit::inspect::folder_messages(&cli.data(), "info@contoso.com", "Sent Items");
    assert_eq!(sent_items.len(), 1);
    // The sender's own Sent Items got its copy too (the web app is the client).
    assert_eq!(
        mailroom_testkit::inspect::folder_messages(&cli.data(), "dave@contoso.com", "Sent Items").len(),
        1
    );
    // Bcc recipients get it; no Bcc: is written. An address given twice is sent once.
    let body = format!(
        "csrf={csrf}&action=send&from=dave%40contoso.com&to=customer%40fabrikam.com&cc=Customer+%3Ccustomer%40fabrikam.com%3E&bcc=carol%40contoso.com&subject=Copy&body=Hi"
    );
    let sent = http(
        server.http(),
        "POST",
        "/mail/compose",
        None,
        &[("Cookie", &dave), ("Content-Type", "application/x-www-form-urlencoded")],
        body.as_bytes(),
    );
    assert_eq!(sent.status, 303, "{}", sent.body);
    let carol_inbox = mailroom_testkit::inspect::inbox(&cli.data(), "carol@contoso.com");
    assert_eq!(carol_inbox.len(), 1, "the Bcc recipient got it");
    assert!(!carol_inbox[0].text().contains("Bcc:"), "{}", carol_inbox[0].text());
    let queued = mailroom_testkit::inspect::queued_messages(&cli.data());
    assert_eq!(
        queued.iter().filter(|(_, m)| String::from_utf8_lossy(m).contains("Subject: Copy")).count(),
        1,
        "once, not twice"
    );
    // An unknown local recipient is named at its field; nothing is sent.
    let unknown = post(&dave, &csrf, "dave@contoso.com", "nobody@contoso.com");
    assert_eq!(unknown.status, 422);
    assert!(
        text_of(&unknown.body).contains("There is no mailbox nobody@contoso.com here."),
        "{}",
        unknown.body
    );
    // Carol may not send as info@: core refuses, in its words, at From.
    let carol = web_sign_in(server.http(), "carol@contoso.com", "Carol-pass-123").unwrap();
    let form = http(server.http(), "GET", "/mail/compose", None, &[("Cookie", &carol)], b"");
    assert!(!form.body.contains("info@contoso.com"), "not offered to Carol");
    let carol_csrf = mailroom_testkit::hidden_field(&form.body, "csrf");
    let refused = post(&carol, &carol_csrf, "info@contoso.com", "customer@fabrikam.com");
    assert_eq!(refused.status, 422);
    assert!(
        text_of(&refused.body)
            .contains("You don't have permission to send the message on behalf of the specified user."),
        "{}",
        refused.body
    );
    assert_eq!(mailroom_testkit::inspect::queued_messages(&cli.data()).len(), 2, "nothing more was queued");
    // A draft lands in the person's Drafts.
    let draft = http(
        server.http(),
        "POST",
        "/mail/compose",
        None,
        &[("Cookie", &carol), ("Content-Type", "application/x-www-form-urlencoded")],
        format!("csrf={carol_csrf}&action=draft&from=carol%40contoso.com&to=&subject=Later&body=Not+yet")
            .as_bytes(),
    );
    assert_eq!(draft.status, 303, "{}", draft.body);
    assert_eq!(
        mailroom_testkit::inspect::folder_messages(&cli.data(), "carol@contoso.com", "Drafts").len(),
        1
    );
}

/// A page's text with the escapes a template writes undone.
fn text_of(html: &str) -> String {
    html.replace("&#60;", "<")
        .replace("&lt;", "<")
        .replace("&#62;", ">")
        .replace("&gt;", ">")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&apos;", "'")
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

/// The search box looks in the text, the people and the subject, by word
/// prefix: right after delivery (the body read directly) and once the
/// background indexer has caught up (the index, whose word prefixes a
/// substring like "jord" doesn't match).
#[test]
fn the_search_box_finds_words_in_the_text_before_and_after_indexing() {
    let cli = Cli::new(env!("CARGO_BIN_EXE_mailroom"));
    cli.contoso_with(ORG);
    let server = cli.serve(&[]);
    deliver(
        &server,
        "guide@fabrikam.com",
        "alice@contoso.com",
        "From: Nils Guide <guide@fabrikam.com>\r\nTo: alice@contoso.com\r\nSubject: Your trip\r\n\r\nThe fjord tour is booked for Friday.\r\n",
    );
    deliver(
        &server,
        "shop@fabrikam.com",
        "alice@contoso.com",
        "From: shop@fabrikam.com\r\nSubject: Receipt\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Thank you for your <b>Bestellung</b> at the Café.</p>\r\n--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=quittung-2026.pdf\r\n\r\n%PDF\r\n--b--\r\n",
    );
    let alice = web_sign_in(server.http(), "alice@contoso.com", "Alice-pass-123").unwrap();
    let inbox = http(server.http(), "GET", "/mail/", None, &[("Cookie", &alice)], b"")
        .header("location")
        .unwrap()
        .to_string();
    let found = |q: &str| -> Vec<String> {
        let page = http(server.http(), "GET", &format!("{inbox}?q={q}"), None, &[("Cookie", &alice)], b"");
        assert_eq!(page.status, 200, "{page:?}");
        page.body
            .split("class=\"subject\">")
            .skip(1)
            .map(|s| s.split('<').next().unwrap().trim().to_string())
            .collect()
    };
    // At once: found whether or not the indexer has been by.
    assert_eq!(found("fjord"), ["Your trip"]);
    // Wait for the indexer (its backlog on /metrics), then search its index.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let metrics = http(server.http(), "GET", "/metrics", None, &[], b"").body;
        let value = |name: &str| -> u64 {
            metrics
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{name} ")))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0)
        };
        if value("mailroom_search_backlog") == 0 && value("mailroom_search_indexed_total") >= 2 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the indexer didn't catch up: {metrics}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(found("FJO"), ["Your trip"], "a word prefix, any case");
    assert_eq!(found("tour+friday"), ["Your trip"], "every word");
    assert!(found("jord").is_empty(), "the index matches words by their start");
    assert_eq!(found("nils"), ["Your trip"], "the sender's name");
    assert_eq!(found("bestellung+cafe"), ["Receipt"], "HTML text, accents ignored");
    assert_eq!(found("quittung"), ["Receipt"], "an attachment's name");
    assert!(found("tour+receipt").is_empty());
    assert_eq!(found("%22%29+OR+NEAR%28"), Vec::<String>::new(), "typed syntax is just words");
}
