//! SPEC §2, "effective immediately", across processes: what an admin changes
//! with the CLI (its own process, writing the same store) reaches the
//! running server's open sessions through the change log — no restart, no
//! re-check timer.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::time::{Duration, Instant};

use mailroom_testkit::{Cli, LineClient, Server, python};

const ORG: &str = r#"
New-Mailbox -Name Alice -Alias alice -PrimarySmtpAddress alice@contoso.com -Password 'Alice-pass-123'
New-Mailbox -Name Bob -Alias bob -PrimarySmtpAddress bob@contoso.com -Password 'Bob-pass-123'
New-Mailbox -Shared -Name Info -Alias info -PrimarySmtpAddress info@contoso.com
Add-MailboxPermission info -User alice -AccessRights FullAccess -InheritanceType All
Add-RecipientPermission info -Trustee alice -AccessRights SendAs -Confirm:$false
"#;

/// contoso.com with the organisation above, served.
fn served() -> (Cli, Server) {
    let cli = Cli::new(env!("CARGO_BIN_EXE_mailroom"));
    cli.contoso_with(ORG);
    let server = cli.serve(&[]);
    (cli, server)
}

/// How soon a session must hear of an admin's change (the goal of SPEC §2).
const AT_ONCE: Duration = Duration::from_secs(1);

fn imap_signed_in(cli_server: &Server, login: &str, password: &str) -> LineClient {
    let mut c = LineClient::connect(cli_server.imap());
    assert!(c.line().unwrap().starts_with("* OK"));
    let done = c.imap("a", &format!("LOGIN {login} {password}"));
    assert!(done.last().unwrap().starts_with("a OK"), "{done:?}");
    c
}

fn submission_signed_in(server: &Server, login: &str, password: &str) -> LineClient {
    let mut c = LineClient::smtp(server.submission());
    let plain = mailroom_mime::encode_base64(format!("\0{login}\0{password}").as_bytes());
    assert_eq!(c.cmd(&format!("AUTH PLAIN {plain}")).code, 235);
    c
}

/// Sends one message in an open submission session; the final reply.
fn submit(c: &mut LineClient, from: &str, to: &str) -> mailroom_testkit::SmtpReply {
    assert_eq!(c.cmd(&format!("MAIL FROM:<{from}>")).code, 250);
    assert_eq!(c.cmd(&format!("RCPT TO:<{to}>")).code, 250);
    assert_eq!(c.cmd("DATA").code, 354);
    c.send(format!("From: <{from}>\r\nTo: <{to}>\r\nSubject: hello\r\n\r\nhi\r\n.\r\n").as_bytes());
    c.reply()
}

#[test]
fn an_idle_member_removed_by_the_cli_is_told_at_once() {
    let (cli, server) = served();
    let mut alice = imap_signed_in(&server, "alice@contoso.com", "Alice-pass-123");
    let selected = alice.imap("b", "SELECT \"Shared/info@contoso.com/INBOX\"");
    assert!(selected.last().unwrap().starts_with("b OK"), "{selected:?}");
    assert_eq!(alice.imap("c", "IDLE").last().unwrap(), "+ idling");

    cli.exo("Remove-MailboxPermission -Identity Info -User alice@contoso.com -AccessRights FullAccess -InheritanceType All -Confirm:$false").ok();
    let committed = Instant::now();
    assert_eq!(alice.line().unwrap(), "* BYE Access to Shared/info@contoso.com/INBOX was removed");
    let heard = committed.elapsed();
    assert!(heard < AT_ONCE, "the member heard of the removal after {heard:?}");
    assert!(alice.closed());
}

#[test]
fn sessions_of_an_account_blocked_by_the_cli_end_at_once() {
    let (cli, server) = served();
    // Signed in, between commands (not idling), and a submission session.
    let mut imap = imap_signed_in(&server, "bob@contoso.com", "Bob-pass-123");
    let mut smtp = submission_signed_in(&server, "bob@contoso.com", "Bob-pass-123");
    assert_eq!(submit(&mut smtp, "bob@contoso.com", "alice@contoso.com").code, 250);

    cli.exo("Set-Mailbox bob -AccountDisabled $true").ok();
    let committed = Instant::now();
    assert_eq!(imap.line().unwrap(), "* BYE Your account can no longer sign in");
    let heard = committed.elapsed();
    assert!(heard < AT_ONCE, "the IMAP session ended {heard:?} after the block");
    assert!(imap.closed());
    // The submission session sends nothing more, to colleagues or outside.
    let refused = submit(&mut smtp, "bob@contoso.com", "alice@contoso.com");
    assert_eq!(
        refused.to_string(),
        "550 5.7.1 This account can no longer sign in or send mail; ask your administrator."
    );
    assert_eq!(smtp.cmd("MAIL FROM:<bob@contoso.com>").code, 530, "a new transaction needs a sign-in first");
    // Alice got the one message sent before the block, and no other.
    let count = python(
        r#"
import imaplib, sys
m = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
m.login('alice@contoso.com', 'Alice-pass-123')
print(m.select('INBOX')[1][0].decode())
"#,
        &[&server.imap().port().to_string()],
    );
    assert_eq!(count.trim(), "1");
}

#[test]
fn a_grant_made_by_the_cli_shows_in_the_next_list_and_caldav_home() {
    let (cli, server) = served();
    let mut bob = imap_signed_in(&server, "bob@contoso.com", "Bob-pass-123");
    let before = bob.imap("b", "LIST \"\" \"Shared/*\"");
    assert_eq!(before.len(), 1, "no shared mailbox yet: {before:?}");

    cli.exo("Add-MailboxPermission info -User bob -AccessRights FullAccess -InheritanceType All").ok();
    let after = bob.imap("c", "LIST \"\" \"Shared/info@contoso.com/INBOX\"");
    assert!(
        after.iter().any(|l| l.starts_with("* LIST") && l.contains("Shared/info@contoso.com/INBOX")),
        "{after:?}"
    );
    // The same session's CalDAV home lists Info's calendar.
    let home = python(
        r#"
import caldav, sys
client = caldav.DAVClient(url=f"http://127.0.0.1:{sys.argv[1]}/dav/", username="bob@contoso.com", password="Bob-pass-123")
print("|".join(sorted(c.get_display_name() for c in client.principal().calendars())))
"#,
        &[&server.http().port().to_string()],
    );
    assert!(home.trim().split('|').any(|name| name == "Info"), "{home}");
}

#[test]
fn a_send_as_removal_refuses_the_next_message_of_an_open_submission_session() {
    let (cli, server) = served();
    let mut alice = submission_signed_in(&server, "alice@contoso.com", "Alice-pass-123");
    assert_eq!(submit(&mut alice, "info@contoso.com", "bob@contoso.com").code, 250);

    cli.exo("Remove-RecipientPermission info -Trustee alice -AccessRights SendAs -Confirm:$false").ok();
    let refused = submit(&mut alice, "info@contoso.com", "bob@contoso.com");
    assert_eq!(
        refused.to_string(),
        "550 5.7.60 You don't have permission to send the message on behalf of the specified user."
    );
    // Her own address still works in the same session.
    assert_eq!(submit(&mut alice, "alice@contoso.com", "bob@contoso.com").code, 250);
}
