//! The activity trail through `mailroom serve` (SPEC §5), driven by real
//! clients: Alice reads, flags, answers and files a message of the shared
//! info@ mailbox over IMAP (Python's imaplib) and sends as info@ over SMTP
//! submission (smtplib); Bob reads and deletes it, Alice restores it. Each
//! action is on the mailbox's trail with the member who did it:
//! `Search-MailboxAuditLog` returns them, and in headless Chromium
//! (`tests/browser/trail.py`) Bob sees them under the message and in the
//! mailbox's feed, his web reply among them. `-AuditEnabled $false` stops
//! the recording. Screenshots land in the target directory's `screenshots/`.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use mailroom_testkit::{Cli, INFO_TEAM, browse, mx_send_message, python};

/// Alice may also send as info@.
const EXTRA: &str = "Add-RecipientPermission info -Trustee alice -AccessRights SendAs -Confirm:$false\n";

/// Alice reads the invoice (FETCH BODY[] sets \Seen), flags it, marks it
/// answered as her client does after a reply, and files it in "Done".
const ALICE_HANDLES: &str = r#"
import imaplib, sys
m = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
m.login('alice@contoso.com', 'Alice-pass-123')
done = '"Shared/info@contoso.com/Done"'
print(m.create(done)[0])
m.select('"Shared/info@contoso.com/INBOX"')
print(m.fetch('1', '(BODY[])')[0])
print(m.store('1', '+FLAGS', '(\\Flagged)')[0])
print(m.store('1', '+FLAGS', '(\\Answered)')[0])
print(m.uid('MOVE', m.uid('SEARCH', None, 'ALL')[1][0].decode(), done)[0])
m.logout()
"#;

/// Alice writes to Bob as info@ (Send As) over SMTP submission (to a
/// colleague: mail to another domain could come back as a bounce to info@
/// while the test reads the trail).
const ALICE_SENDS: &str = r#"
import smtplib, sys
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=20)
s.login('alice@contoso.com', 'Alice-pass-123')
msg = 'From: Info <info@contoso.com>\r\nTo: bob@contoso.com\r\nSubject: Re: Invoice 42\r\n\r\nWe have it.\r\n'
print(s.sendmail('info@contoso.com', ['bob@contoso.com'], msg))
s.quit()
"#;

/// Bob reads the filed invoice (unread again first, so that the read is
/// his), then deletes it.
const BOB_DELETES: &str = r#"
import imaplib, sys
m = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
m.login('bob@contoso.com', 'Bob-pass-123')
m.select('"Shared/info@contoso.com/Done"')
print(m.store('1', '-FLAGS', '(\\Seen)')[0])
print(m.fetch('1', '(BODY[])')[0])
print(m.store('1', '+FLAGS', '(\\Deleted)')[0])
print(m.expunge()[0])
m.logout()
"#;

/// Alice restores it from Recoverable Items into "Done".
const ALICE_RESTORES: &str = r#"
import imaplib, sys
m = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
m.login('alice@contoso.com', 'Alice-pass-123')
m.select('"Shared/info@contoso.com/Recoverable Items"')
print(m.uid('MOVE', m.uid('SEARCH', None, 'ALL')[1][0].decode(), '"Shared/info@contoso.com/Done"')[0])
m.logout()
"#;

/// Alice flags whatever is in "Done".
const ALICE_FLAGS: &str = r#"
import imaplib, sys
m = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
m.login('alice@contoso.com', 'Alice-pass-123')
m.select('"Shared/info@contoso.com/Done"')
print(m.store('1:*', '-FLAGS', '(\\Flagged)')[0], m.store('1:*', '+FLAGS', '(\\Flagged)')[0])
m.logout()
"#;

/// (Operation, who) of the trail, oldest first.
fn trail(cli: &Cli, pipeline: &str) -> Vec<(String, String)> {
    let mut entries: Vec<(String, String)> = cli
        .exo_json(pipeline)
        .iter()
        .map(|e| {
            (
                e["Operation"].as_str().unwrap_or_default().to_string(),
                e["LogonUserDisplayName"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    entries.reverse();
    entries
}

fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

#[test]
fn every_action_on_a_shared_mailbox_is_on_its_trail() {
    let cli = Cli::new(env!("CARGO_BIN_EXE_mailroom"));
    cli.contoso_with(&format!("{INFO_TEAM}{EXTRA}"));
    let shown = &cli.exo_json("Get-Mailbox info")[0];
    assert_eq!(
        (shown["AuditEnabled"].as_bool(), shown["AuditLogAgeLimit"].as_str()),
        (Some(true), Some("90.00:00:00"))
    );
    let server = cli.serve(&[]);
    let imap = server.imap().port().to_string();
    mx_send_message(
        &server,
        "customer@fabrikam.example",
        "info@contoso.com",
        "From: Customer <customer@fabrikam.example>\r\nTo: info@contoso.com\r\nSubject: Invoice 42\r\n\r\nPlease pay.\r\n",
    );
    let said = |script: &str, port: &str| {
        python(script, &[port]).split_whitespace().map(String::from).collect::<Vec<_>>()
    };
    assert!(said(ALICE_HANDLES, &imap).iter().all(|s| s == "OK"));
    assert_eq!(said(ALICE_SENDS, &server.submission().port().to_string()), ["{}"]);
    assert!(said(BOB_DELETES, &imap).iter().all(|s| s == "OK"));
    assert!(said(ALICE_RESTORES, &imap).iter().all(|s| s == "OK"));

    let expected = [
        ("Delivered", "Mailroom"),
        ("Read", "Alice Jones"),
        ("Flagged", "Alice Jones"),
        ("Replied", "Alice Jones"),
        ("Moved", "Alice Jones"),
        ("Sent", "Alice Jones"),
        ("Read", "Bob Smith"),
        ("Deleted", "Bob Smith"),
        ("Restored", "Alice Jones"),
    ];
    assert_eq!(trail(&cli, "Search-MailboxAuditLog info"), owned(&expected));
    let records = cli.exo_json("Search-MailboxAuditLog info -Operations Sent,Moved,Delivered");
    let details: Vec<(&str, &str, &str)> = records
        .iter()
        .map(|r| {
            (
                r["Operation"].as_str().unwrap(),
                r["ItemSubject"].as_str().unwrap(),
                r["Detail"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        details,
        [
            ("Sent", "Re: Invoice 42", "as info@contoso.com to bob@contoso.com"),
            ("Moved", "Invoice 42", "to Done"),
            ("Delivered", "Invoice 42", "from Customer <customer@fabrikam.example>"),
        ]
    );
    assert_eq!(records[0]["LogonUserPrincipalName"], "alice@contoso.com");
    assert_eq!(records[0]["MailboxOwnerUPN"], "info@contoso.com");
    assert_eq!(
        trail(&cli, "Search-MailboxAuditLog info -Operations Read"),
        owned(&[("Read", "Alice Jones"), ("Read", "Bob Smith")])
    );
    assert_eq!(cli.exo_json("Search-MailboxAuditLog info -ResultSize 2").len(), 2);
    assert!(cli.exo_json("Search-MailboxAuditLog info -StartDate 2999-01-01").is_empty());
    // Bob's own mailbox has its own trail: Alice's note arrived there.
    assert_eq!(trail(&cli, "Search-MailboxAuditLog bob"), owned(&[("Delivered", "Mailroom")]));
    cli.run(&["exo", "Search-MailboxAuditLog info -Operations Bogus"])
        .fails_with(1, "isn't an operation on the trail");
    cli.run(&["exo", "Search-MailboxAuditLog nobody"]).fails_with(1, "nobody");
    cli.run(&["exo", "Search-MailboxAuditLog info -ResultSize 0"]).fails_with(1, "ResultSize");

    // In the browser: Bob reads what the team did, replies, and his reply
    // is on the trail too.
    let shots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    let seen = browse(
        concat!(
            include_str!("browser/chromium.py"),
            include_str!("browser/mail_app.py"),
            include_str!("browser/trail.py")
        ),
        &server,
        &shots,
        &[],
    );
    let lines = |name: &str| -> Vec<String> {
        seen[name].as_array().unwrap().iter().map(|l| l.as_str().unwrap().to_string()).collect()
    };
    assert_eq!(seen["trail_heading"], "Activity");
    let before: Vec<String> =
        lines("trail_before").iter().map(|l| l.split(" 20").next().unwrap().to_string()).collect();
    assert_eq!(
        before,
        [
            "Alice Jones restored it to Done",
            "You deleted it from Done",
            "You read it",
            "Alice Jones moved it to Done",
            "Alice Jones replied",
            "Alice Jones flagged it",
            "Alice Jones read it",
            "Arrived from Customer <customer@fabrikam.example>",
        ],
        "{seen}"
    );
    assert!(lines("trail_before").iter().all(|l| l.ends_with(" UTC")), "{seen}");
    let after = lines("trail_after");
    assert!(
        after[0].starts_with("You replied "),
        "the web app's reply is on the trail: {after:?} {}",
        seen["reply_notice"]
    );
    assert_eq!(after.len(), before.len() + 1);
    assert_eq!(seen["feed_heading"], "Activity");
    let feed = lines("feed");
    assert!(feed[0].starts_with("You replied Invoice 42 "), "{feed:?}");
    assert!(
        feed.iter()
            .any(|l| l
                .starts_with("Alice Jones sent it as info@contoso.com to bob@contoso.com Re: Invoice 42")),
        "{feed:?}"
    );
    assert_eq!(feed.len(), expected.len() + 1);
    assert_eq!(seen["own_trail"], serde_json::json!([]), "no trail shown in one's own mailbox");
    assert_eq!(seen["own_feed_link"], false, "nor a feed");
    // Bob opening his own copy is on his mailbox's trail, shown to nobody
    // but an admin (a bounce of his reply to the customer may come too).
    let bob_trail = trail(&cli, "Search-MailboxAuditLog bob");
    assert_eq!(bob_trail[0], ("Delivered".to_string(), "Mailroom".to_string()));
    assert!(bob_trail.contains(&("Read".to_string(), "Bob Smith".to_string())), "{bob_trail:?}");
    let with_reply = trail(&cli, "Search-MailboxAuditLog info");
    assert_eq!(with_reply.last().unwrap(), &("Replied".to_string(), "Bob Smith".to_string()));

    // Auditing off: the actions happen, unrecorded; on again, recorded.
    cli.run(&["exo", "Set-Mailbox info -AuditEnabled $false -AuditLogAgeLimit 180"]).ok();
    let shown = &cli.exo_json("Get-Mailbox info")[0];
    assert_eq!(
        (shown["AuditEnabled"].as_bool(), shown["AuditLogAgeLimit"].as_str()),
        (Some(false), Some("180.00:00:00"))
    );
    assert_eq!(said(ALICE_FLAGS, &imap), ["OK", "OK"]);
    assert_eq!(trail(&cli, "Search-MailboxAuditLog info"), with_reply, "nothing recorded while off");
    cli.run(&["exo", "Set-Mailbox info -AuditEnabled $true"]).ok();
    assert_eq!(said(ALICE_FLAGS, &imap), ["OK", "OK"]);
    let on_again = trail(&cli, "Search-MailboxAuditLog info -Operations Flagged,Unflagged");
    assert_eq!(
        &on_again[on_again.len() - 2..],
        owned(&[("Unflagged", "Alice Jones"), ("Flagged", "Alice Jones")])
    );
    cli.run(&["exo", "Set-Mailbox info -AuditLogAgeLimit 90days"]).fails_with(1, "isn't a time span");
}
