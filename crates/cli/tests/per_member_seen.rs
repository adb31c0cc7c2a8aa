//! Per-member read state through `mailroom serve` (SPEC §5, ours): with
//! `Set-Mailbox info -SharedSeenState PerMember`, Alice reading a message of
//! the shared info@ mailbox over IMAP (Python's imaplib) leaves it unread for
//! Bob — in IMAP's FLAGS, SEARCH UNSEEN and STATUS, and in the web app
//! (headless Chromium, `tests/browser/seen.py`) — while Bob's own reads are
//! his. Switched back to `Shared`, what anyone read is read for everyone.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use mailroom_testkit::{Cli, INFO_TEAM, browse, mx_send_message, python};

/// What a member's IMAP session shows of the shared Inbox; with a second
/// argument `read N`, the member first reads message N (FETCH BODY[]).
const LOOK: &str = r#"
import imaplib, json, sys
port, user, password = sys.argv[1:4]
m = imaplib.IMAP4('127.0.0.1', int(port))
m.login(user, password)
inbox = '"Shared/info@contoso.com/INBOX"'
out = {}
out['status'] = m.status(inbox, '(MESSAGES UNSEEN)')[1][0].decode()
m.select(inbox)
if len(sys.argv) > 4:
    m.fetch(sys.argv[4], '(BODY[])')
out['unseen'] = m.search(None, 'UNSEEN')[1][0].decode()
out['flags'] = [l.decode() for l in m.fetch('1:*', '(FLAGS)')[1]]
out['status_after'] = m.status(inbox, '(UNSEEN)')[1][0].decode()
m.logout()
print(json.dumps(out))
"#;

/// Alice flags message 1; prints the server's answer.
const FLAG_ONE: &str = r#"
import imaplib, sys
m = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
m.login('alice@contoso.com', 'Alice-pass-123')
m.select('"Shared/info@contoso.com/INBOX"')
print(m.store('1', '+FLAGS', '(\\Flagged)')[1][0].decode())
m.logout()
"#;

fn look(port: &str, who: &str, read: Option<&str>) -> serde_json::Value {
    let (user, password) = match who {
        "alice" => ("alice@contoso.com", "Alice-pass-123"),
        _ => ("bob@contoso.com", "Bob-pass-123"),
    };
    let mut args = vec![port, user, password];
    args.extend(read);
    serde_json::from_str(python(LOOK, &args).trim()).unwrap()
}

#[test]
fn alice_reads_and_bob_still_sees_it_unread() {
    let cli = Cli::new(env!("CARGO_BIN_EXE_mailroom"));
    cli.contoso_with(INFO_TEAM);
    assert_eq!(
        cli.exo_json("Get-Mailbox info")[0]["SharedSeenState"],
        "Shared",
        "Exchange's behaviour unless set"
    );
    cli.run(&["exo", "Set-Mailbox info -SharedSeenState PerMember"]).ok();
    assert_eq!(cli.exo_json("Get-Mailbox info")[0]["SharedSeenState"], "PerMember");
    cli.run(&["exo", "Set-Mailbox info -SharedSeenState Mine"]).fails_with(1, "Mine");
    let server = cli.serve(&[]);
    let port = server.imap().port().to_string();
    for n in 1..=3 {
        mx_send_message(
            &server,
            "customer@fabrikam.example",
            "info@contoso.com",
            &format!(
                "From: customer@fabrikam.example\r\nTo: info@contoso.com\r\nSubject: Question {n}\r\n\r\n?\r\n"
            ),
        );
    }

    let alice = look(&port, "alice", Some("1"));
    assert_eq!(alice["unseen"], "2 3", "read for her: {alice}");
    assert!(alice["flags"][0].as_str().unwrap().contains("\\Seen"), "{alice}");
    assert!(alice["status_after"].as_str().unwrap().contains("UNSEEN 2"), "{alice}");

    // A STORE of another flag answers with her own \Seen, not the mailbox's.
    let flagged = python(FLAG_ONE, &[&port]);
    assert!(flagged.contains("\\Seen") && flagged.contains("\\Flagged"), "{flagged}");

    let bob = look(&port, "bob", None);
    assert_eq!(bob["unseen"], "1 2 3", "still unread for him: {bob}");
    assert!(bob["status"].as_str().unwrap().contains("UNSEEN 3"), "{bob}");
    assert!(!bob["flags"][0].as_str().unwrap().contains("\\Seen"), "{bob}");

    // In the web app, too; opening Question 2 reads it for him alone.
    let shots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    let seen = browse(
        concat!(
            include_str!("browser/chromium.py"),
            include_str!("browser/mail_app.py"),
            include_str!("browser/seen.py")
        ),
        &server,
        &shots,
        &[],
    );
    // Question 1 carries Alice's flag: that one is the mailbox's.
    assert_eq!(
        seen["unread_rows"],
        serde_json::json!(["Question 3", "Question 2", "⚑ Question 1"]),
        "{seen}"
    );
    assert_eq!(seen["inbox_link"], "Inbox 3", "{seen}");
    assert_eq!(seen["unread_after_opening"], serde_json::json!(["Question 3", "⚑ Question 1"]), "{seen}");
    let alice = look(&port, "alice", None);
    assert_eq!(alice["unseen"], "2 3", "Bob's read is his: {alice}");

    // Each member's first read is on the trail.
    let readers: Vec<String> = cli
        .exo_json("Search-MailboxAuditLog info -Operations Read")
        .iter()
        .rev()
        .map(|r| r["LogonUserDisplayName"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(readers, ["Alice Jones", "Bob Smith"]);

    // One read state again: what anyone read is read for everyone.
    cli.run(&["exo", "Set-Mailbox info -SharedSeenState Shared"]).ok();
    let bob = look(&port, "bob", None);
    assert_eq!(bob["unseen"], "3", "{bob}");
    let alice = look(&port, "alice", None);
    assert_eq!(alice["unseen"], "3", "{alice}");
}
