//! Recoverable Items through `mailroom serve` (SPEC §5), driven by Python's
//! imaplib and the cmdlets: a member whose Full Access is NoPurge expunges
//! over IMAP and the message waits in the read-only folder
//! `Recoverable Items`, which that member can't purge; another member
//! restores it by moving it out; an administrator lists and restores with
//! `Get-RecoverableItems` / `Restore-RecoverableItems`; and once the
//! mailbox's `RetainDeletedItemsFor` has passed, the server's sweep purges it.
//! In headless Chromium (`tests/browser/recover.py`), members find what was
//! deleted under "Recover deleted items" and restore it; only a member who
//! may purge is offered "Delete permanently". Screenshots land in the
//! target directory's `screenshots/`.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::time::{Duration, Instant};

use mailroom_testkit::{Cli, Server, mx_send, python};

const ORG: &str = r#"
New-Mailbox -Name Alice -Alias alice -DisplayName 'Alice Jones' -PrimarySmtpAddress alice@contoso.com -Password 'Alice-pass-123'
New-Mailbox -Name Bob -Alias bob -DisplayName 'Bob Smith' -PrimarySmtpAddress bob@contoso.com -Password 'Bob-pass-123'
New-Mailbox -Shared -Name Info -Alias info -PrimarySmtpAddress info@contoso.com
Add-MailboxPermission info -User alice -AccessRights FullAccess -NoPurge
Add-MailboxPermission info -User bob -AccessRights FullAccess
"#;

/// Alice (NoPurge) deletes "first" from the shared Inbox, then tries
/// everything Recoverable Items refuses her.
const ALICE_DELETES: &str = r#"
import imaplib, json, sys
out = {}
m = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
m.login('alice@contoso.com', 'Alice-pass-123')
inbox = '"Shared/info@contoso.com/INBOX"'
bin = '"Shared/info@contoso.com/Recoverable Items"'
out['listed'] = [l.decode() for l in m.list('""', '"Shared/info@contoso.com/*"')[1]]
m.select(inbox)
typ, data = m.search(None, 'SUBJECT', '"first"')
m.store(data[0].decode(), '+FLAGS', '(\\Deleted)')
out['expunge'] = m.expunge()[0]
out['inbox_left'] = m.status(inbox, '(MESSAGES)')[1][0].decode()
out['myrights'] = m.myrights(bin)[1][0].decode()
def select_bin():
    # imaplib raises `readonly` when a SELECT comes back READ-ONLY; the
    # folder is selected all the same.
    try:
        m.select(bin)
        return 'READ-WRITE'
    except imaplib.IMAP4.readonly:
        m.is_readonly = True
        return 'READ-ONLY'
out['bin_mode'] = select_bin()
out['bin_count'] = m.response('EXISTS')[1][-1].decode()
out['permanentflags'] = m.response('PERMANENTFLAGS')[1][-1].decode()
out['bin_subject'] = m.fetch('1', '(BODY.PEEK[HEADER.FIELDS (SUBJECT)])')[1][0][1].decode().strip()
out['bin_flags'] = m.fetch('1', '(FLAGS)')[1][0].decode()
for name, call in [
    ('store_deleted', lambda: m.store('1', '+FLAGS', '(\\Deleted)')),
    ('store_flagged', lambda: m.store('1', '+FLAGS', '(\\Flagged)')),
    ('expunge_bin', lambda: m.expunge()),
    ('append_bin', lambda: m.append(bin, None, None, b'Subject: sneaked in\r\n\r\nx\r\n')),
    ('copy_into_bin', lambda: (m.select(inbox), m.copy('1', bin))[1]),
    ('create_under_bin', lambda: m.create('"Shared/info@contoso.com/Recoverable Items/Sub"')),
    ('delete_bin', lambda: m.delete(bin)),
    ('close_bin', lambda: (select_bin(), m.close())[1]),
]:
    try:
        typ, data = call()
        out[name] = typ + ' ' + b' '.join(d for d in data if isinstance(d, bytes)).decode()
    except imaplib.IMAP4.error as e:
        # imaplib raises for BAD (and returns NO): never a refusal.
        out[name] = 'ERROR ' + str(e)
# Restoring needs only reading: a MOVE out works from the READ-ONLY folder.
select_bin()
typ, data = m.uid('SEARCH', None, 'ALL')
out['alice_move'] = m.uid('MOVE', data[0].decode(), inbox)[0]
out['bin_after_move'] = m.status(bin, '(MESSAGES)')[1][0].decode()
m.logout()
print(json.dumps(out))
"#;

/// Bob (no NoPurge) sees the right to purge, and restores by moving out.
const BOB_RESTORES: &str = r#"
import imaplib, json, sys
out = {}
m = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
m.login('bob@contoso.com', 'Bob-pass-123')
bin = '"Shared/info@contoso.com/Recoverable Items"'
out['myrights'] = m.myrights(bin)[1][0].decode()
m.select(bin)
typ, data = m.uid('SEARCH', None, 'ALL')
out['move'] = m.uid('MOVE', data[0].decode(), '"Shared/info@contoso.com/INBOX"')[0]
out['bin_after'] = m.status(bin, '(MESSAGES)')[1][0].decode()
m.select('"Shared/info@contoso.com/INBOX"', readonly=True)
typ, data = m.search(None, 'SUBJECT', '"first"')
out['first_back'] = len(data[0].split())
m.logout()
print(json.dumps(out))
"#;

/// A member deletes everything with the given subject and reports how many
/// messages Recoverable Items then holds.
const DELETE_SUBJECT: &str = r#"
import imaplib, sys
m = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
m.login(sys.argv[2], sys.argv[3])
m.select('"Shared/info@contoso.com/INBOX"')
typ, data = m.search(None, 'SUBJECT', '"%s"' % sys.argv[4])
for n in data[0].split():
    m.store(n.decode(), '+FLAGS', '(\\Deleted)')
m.expunge()
print(m.status('"Shared/info@contoso.com/Recoverable Items"', '(MESSAGES)')[1][0].decode())
m.logout()
"#;

/// Bob purges what he marks `\Deleted` in Recoverable Items.
const BOB_PURGES: &str = r#"
import imaplib, sys
m = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
m.login('bob@contoso.com', 'Bob-pass-123')
bin = '"Shared/info@contoso.com/Recoverable Items"'
m.select(bin)
m.store('1:*', '+FLAGS', '(\\Deleted)')
print(m.expunge()[0], m.status(bin, '(MESSAGES)')[1][0].decode())
m.logout()
"#;

fn bin_count(server: &Server) -> String {
    let script = r#"
import imaplib, sys
m = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
m.login('bob@contoso.com', 'Bob-pass-123')
print(m.status('"Shared/info@contoso.com/Recoverable Items"', '(MESSAGES)')[1][0].decode())
m.logout()
"#;
    python(script, &[&server.imap().port().to_string()]).trim().to_string()
}

fn delete_subject(server: &Server, user: &str, password: &str, subject: &str) -> String {
    python(DELETE_SUBJECT, &[&server.imap().port().to_string(), user, password, subject]).trim().to_string()
}

#[test]
fn deletes_wait_in_recoverable_items_until_restored_or_expired() {
    let cli = Cli::new(env!("CARGO_BIN_EXE_mailroom"));
    cli.init_contoso();
    cli.run_with_stdin(&["exo", "-"], ORG).ok();
    let grants = cli.exo_json("Get-MailboxPermission info");
    let no_purge = |user: &str| {
        grants.iter().find(|g| g["User"].as_str().unwrap_or_default().to_lowercase().contains(user)).unwrap()
            ["NoPurge"]
            .clone()
    };
    assert_eq!((no_purge("alice"), no_purge("bob")), (true.into(), false.into()));
    let mut server = cli.serve(&[]);
    let port = server.imap().port().to_string();
    for subject in ["first", "second", "third"] {
        mx_send(&server, "sender@fabrikam.example", "info@contoso.com", &format!("Subject: {subject}"));
    }

    // Alice deletes: the message waits in Recoverable Items, which she can
    // read but not change, add to or purge.
    let out: serde_json::Value = serde_json::from_str(python(ALICE_DELETES, &[&port]).trim()).unwrap();
    let listed = out["listed"].to_string();
    assert!(listed.contains("Shared/info@contoso.com/Recoverable Items"), "{listed}");
    assert_eq!(out["expunge"], "OK");
    assert_eq!(out["inbox_left"], r#""Shared/info@contoso.com/INBOX" (MESSAGES 2)"#);
    assert_eq!(out["myrights"], r#""Shared/info@contoso.com/Recoverable Items" lra"#);
    assert_eq!(out["bin_count"], "1");
    assert_eq!(out["permanentflags"], "()", "nothing she may change there");
    assert_eq!(out["bin_mode"], "READ-ONLY", "RFC 4314 §5.2: none of i, e, s, w, t");
    assert_eq!(out["bin_subject"], "Subject: first");
    assert!(!out["bin_flags"].as_str().unwrap().contains("Deleted"), "{}", out["bin_flags"]);
    for refused in ["store_deleted", "expunge_bin"] {
        let text = out[refused].as_str().unwrap();
        assert!(
            text.starts_with("NO") && text.contains("READ-ONLY") && text.contains("NoPurge"),
            "{refused}: {text}"
        );
    }
    for refused in ["store_flagged", "append_bin", "copy_into_bin", "create_under_bin", "delete_bin"] {
        let text = out[refused].as_str().unwrap();
        assert!(text.starts_with("NO"), "{refused} should be refused: {text}");
    }
    let close = out["close_bin"].as_str().unwrap();
    assert!(close.starts_with("OK"), "CLOSE without the right to expunge just closes: {close}");
    assert_eq!(out["alice_move"], "OK");
    assert_eq!(out["bin_after_move"], r#""Shared/info@contoso.com/Recoverable Items" (MESSAGES 0)"#);

    // Bob deletes it again, and restores it by moving it out.
    assert!(delete_subject(&server, "bob@contoso.com", "Bob-pass-123", "first").ends_with("(MESSAGES 1)"));
    let out: serde_json::Value = serde_json::from_str(python(BOB_RESTORES, &[&port]).trim()).unwrap();
    assert_eq!(out["myrights"], r#""Shared/info@contoso.com/Recoverable Items" lrtea"#);
    assert_eq!(out["move"], "OK");
    assert_eq!(out["bin_after"], r#""Shared/info@contoso.com/Recoverable Items" (MESSAGES 0)"#);
    assert_eq!(out["first_back"], 1);

    // An administrator sees who deleted what, and restores it.
    assert!(
        delete_subject(&server, "alice@contoso.com", "Alice-pass-123", "second").ends_with("(MESSAGES 1)")
    );
    let items = cli.exo_json("Get-RecoverableItems info");
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["Subject"], "second");
    assert_eq!(items[0]["DeletedBy"], "alice@contoso.com");
    assert_eq!(items[0]["LastParentPath"], "Inbox");
    assert!(cli.exo_json("Get-RecoverableItems info -SubjectContains nothing-like-it").is_empty());
    cli.run(&["exo", "Restore-RecoverableItems info -EntryID abc"]).fails_with(1, "isn't an EntryID");
    let what_if = cli.run(&["exo", "Restore-RecoverableItems info -WhatIf"]).ok();
    let said = format!("{}{}", what_if.stdout, what_if.stderr);
    assert!(said.contains("Restore Recoverable Items") && said.contains("1 item(s) of Info"), "{said}");
    assert_eq!(cli.exo_json("Get-RecoverableItems info").len(), 1, "-WhatIf restored nothing");
    let restored = cli.exo_json("Restore-RecoverableItems info -SubjectContains SECOND");
    assert_eq!(
        (restored[0]["ResultType"].as_str(), restored[0]["RestoredToFolder"].as_str()),
        (Some("Succeeded"), Some("Inbox"))
    );
    assert!(cli.exo_json("Get-RecoverableItems info").is_empty());
    assert_eq!(bin_count(&server), r#""Shared/info@contoso.com/Recoverable Items" (MESSAGES 0)"#);

    // Bob (no NoPurge) purges at once.
    assert!(delete_subject(&server, "bob@contoso.com", "Bob-pass-123", "third").ends_with("(MESSAGES 1)"));
    let purged = python(BOB_PURGES, &[&port]);
    assert_eq!(purged.trim(), r#"OK "Shared/info@contoso.com/Recoverable Items" (MESSAGES 0)"#);

    // With a retention of one second, the server's sweep (it runs when the
    // server starts, then hourly) purges what has waited longer.
    let out = cli.run(&["exo", "Set-Mailbox info -RetainDeletedItemsFor 0.00:00:01"]).ok();
    assert!(out.stderr.is_empty(), "{}", out.stderr);
    let shown = &cli.exo_json("Get-Mailbox info")[0];
    assert_eq!(shown["RetainDeletedItemsFor"], "0.00:00:01");
    assert_eq!(shown["RecoverableItemsQuota"], "30 GB (32,212,254,720 bytes)", "Exchange Online's default");
    cli.run(&["exo", "Set-Mailbox info -RetainDeletedItemsFor 14days"]).fails_with(1, "isn't a time span");
    assert!(
        delete_subject(&server, "alice@contoso.com", "Alice-pass-123", "first").ends_with("(MESSAGES 1)")
    );
    let deleted_at = std::time::SystemTime::now();
    // The deletion time is kept in whole seconds: two seconds later it has
    // certainly waited one.
    while deleted_at.elapsed().unwrap() < Duration::from_secs(2) {
        std::thread::sleep(Duration::from_millis(100));
    }
    server.terminate();
    let server = cli.serve(&[]);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let count = bin_count(&server);
        if count.ends_with("(MESSAGES 0)") {
            break;
        }
        assert!(Instant::now() < deadline, "still there after the sweep: {count}");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(cli.exo_json("Get-RecoverableItems info").is_empty());
}

#[test]
fn members_recover_deleted_items_in_a_browser() {
    let cli = Cli::new(env!("CARGO_BIN_EXE_mailroom"));
    cli.contoso_with(ORG);
    let server = cli.serve(&[]);
    mailroom_testkit::mx_send_message(
        &server,
        "customer@fabrikam.example",
        "info@contoso.com",
        "From: Customer <customer@fabrikam.example>\r\nTo: info@contoso.com\r\nSubject: Refund request\r\n\r\nPlease refund order 1234.\r\n",
    );
    let shots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    let out = python(
        concat!(
            include_str!("browser/chromium.py"),
            include_str!("browser/mail_app.py"),
            include_str!("browser/recover.py")
        ),
        &[&format!("http://{}", server.http()), shots.to_str().unwrap()],
    );
    let seen: serde_json::Value = serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"));
    eprintln!("screenshots in {}", shots.display());

    assert_eq!(seen["deleted_items_after"], serde_json::json!([]), "{seen}");
    assert_eq!(seen["recover_heading"], "Recover deleted items");
    assert_eq!(
        seen["recover_note"],
        "Messages deleted from this mailbox stay here for 14 days, then they are gone for good. Open one to restore it."
    );
    assert_eq!(seen["recover_rows"], serde_json::json!(["Refund request"]));
    let note = seen["alice_note"].as_str().unwrap();
    assert!(
        note.starts_with("Deleted from Deleted Items by Alice Jones on ") && note.ends_with(" UTC."),
        "{note}"
    );
    assert_eq!(seen["alice_buttons"], serde_json::json!(["Restore"]), "NoPurge: nothing to destroy with");
    assert_eq!(seen["alice_purge_heading"], "That didn't work");
    assert!(seen["alice_purge_text"].as_str().unwrap().contains("doesn't include purging"), "{seen}");
    // Back where it was deleted from.
    assert_eq!(seen["restored_heading"], "Refund request");
    assert_eq!(seen["restored_folder"], "Deleted Items");
    assert_eq!(seen["recover_rows_after_restore"], serde_json::json!([]));
    assert!(seen["bob_note"].as_str().unwrap().contains("by Bob Smith"), "{seen}");
    assert_eq!(seen["bob_buttons"], serde_json::json!(["Restore", "Delete permanently"]));
    assert_eq!(seen["recover_rows_after_purge"], serde_json::json!([]));
    assert_eq!(seen["deleted_items_after_purge"], serde_json::json!([]), "purged, not moved");
    for (name, overflow) in seen["overflow"].as_object().unwrap() {
        assert!(overflow.as_i64().unwrap() <= 0, "{name} scrolls sideways by {overflow} px");
    }
    assert!(cli.exo_json("Get-RecoverableItems info").is_empty(), "purged for good");
}
