//! Automatic replies (SPEC §3, RFC 3834) against a real `mailroom
//! serve`: internal and external texts, one reply per sender per period,
//! schedules, and every "never reply" case — mail arriving by SMTP (port 25)
//! and by submission. A reply is stored in the transaction that accepts the
//! message, so once the sender has its `250` the reply (or its absence) is
//! there to see: no waiting.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use mailroom_testkit::inspect::inbox;
use mailroom_testkit::{Cli, LineClient, Server, python};

const ORG: &str = r#"
New-Mailbox -Name Alice -Alias alice -PrimarySmtpAddress alice@contoso.com -Password 'Alice-pass-123'
New-Mailbox -Shared -Name Info -Alias info -DisplayName 'Info Desk' -PrimarySmtpAddress info@contoso.com
New-DistributionGroup -Name Team -PrimarySmtpAddress team@contoso.com -Members info,alice
Set-MailboxAutoReplyConfiguration info -AutoReplyState Enabled -InternalMessage 'Internal: the desk is closed today.' -ExternalMessage 'External: we answer tomorrow.' -ExternalAudience All
"#;

fn served() -> (Cli, Server) {
    let cli = Cli::new(env!("CARGO_BIN_EXE_mailroom"));
    cli.contoso_with(ORG);
    cli.hold_outbound();
    let server = cli.serve(&[]);
    (cli, server)
}

/// One message over port 25 from `from` (`""` is the null sender) to Info.
fn mx_send(server: &Server, from: &str, extra_headers: &str, subject: &str) {
    let from_header = if from.is_empty() { "mailer-daemon@fabrikam.example" } else { from };
    let header = format!(
        "From: {from_header}\r\nTo: info@contoso.com\r\nSubject: {subject}\r\nMessage-ID: <{subject}@fabrikam.example>\r\n{extra_headers}"
    );
    mailroom_testkit::mx_send(server, from, "info@contoso.com", &header);
}

fn queued_recipients(cli: &Cli) -> Vec<(String, String)> {
    cli.queued()
}

const SUBMIT: &str = r#"
import smtplib, sys
host, port, subject = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = smtplib.SMTP(host, port, timeout=20)
s.login('alice@contoso.com', 'Alice-pass-123')
s.sendmail('alice@contoso.com', ['info@contoso.com'],
    ('From: alice@contoso.com\r\nTo: info@contoso.com\r\nSubject: %s\r\nMessage-ID: <%s@contoso.com>\r\n\r\nhi\r\n' % (subject, subject)).encode())
s.quit()
"#;

#[test]
fn an_internal_sender_gets_the_internal_text_once() {
    let (cli, server) = served();
    let addr = server.submission();
    let (host, port) = (addr.ip().to_string(), addr.port().to_string());
    python(SUBMIT, &[&host, &port, "first"]);
    assert_eq!(inbox(&cli.data(), "alice@contoso.com").len(), 1, "the reply came with the 250");
    let reply = inbox(&cli.data(), "alice@contoso.com")[0].text();
    assert!(reply.contains("From: \"Info Desk\" <info@contoso.com>\r\n"), "{reply}");
    assert!(reply.contains("Subject: Automatic reply: first\r\n"), "{reply}");
    assert!(reply.contains("In-Reply-To: <first@contoso.com>\r\n"), "{reply}");
    assert!(reply.contains("Auto-Submitted: auto-replied\r\n"), "{reply}");
    assert!(reply.contains("Internal: the desk is closed today."), "{reply}");
    assert!(!reply.contains("External:"), "{reply}");
    // The same sender again in the same period: no second reply.
    python(SUBMIT, &[&host, &port, "second"]);
    assert_eq!(inbox(&cli.data(), "alice@contoso.com").len(), 1);
    // A new period (the text changed) answers again.
    cli.exo("Set-MailboxAutoReplyConfiguration info -InternalMessage 'Internal: back on Monday.'").ok();
    python(SUBMIT, &[&host, &port, "third"]);
    assert_eq!(inbox(&cli.data(), "alice@contoso.com").len(), 2, "the reply of the new period");
    // Both copies reached Info itself.
    assert_eq!(inbox(&cli.data(), "info@contoso.com").len(), 3);
}

#[test]
fn external_senders_and_the_never_reply_cases() {
    let (cli, server) = served();
    // These never get a reply (RFC 3834 §2, SPEC §3).
    mx_send(&server, "robot@fabrikam.example", "Auto-Submitted: auto-replied\r\n", "auto");
    mx_send(&server, "news@fabrikam.example", "Precedence: bulk\r\n", "bulk");
    mx_send(&server, "list@fabrikam.example", "List-Id: <team.fabrikam.example>\r\n", "list");
    mx_send(&server, "", "", "bounce");
    // The mailbox itself can't even send to itself from outside: an address
    // of ours is refused on port 25 (it would look like a real Send As).
    let itself = "From: info@contoso.com\r\nTo: info@contoso.com\r\nSubject: itself\r\n";
    assert_eq!(
        mailroom_testkit::mx_refused(&server, "info@contoso.com", "info@contoso.com", itself).code,
        550
    );
    // Mail that reached Info through a group (Info not in To/Cc): no reply,
    // or one message to a big list would draw one from every member.
    let mut c = LineClient::smtp(server.smtp());
    assert_eq!(c.cmd("MAIL FROM:<group@fabrikam.example>").code, 250);
    assert_eq!(c.cmd("RCPT TO:<team@contoso.com>").code, 250);
    assert_eq!(c.cmd("DATA").code, 354);
    c.send(
        b"From: group@fabrikam.example\r\nTo: team@contoso.com\r\nSubject: to the team\r\n\r\nhi\r\n.\r\n",
    );
    assert_eq!(c.reply().code, 250);
    // Software senders (RFC 3834 §2).
    mx_send(&server, "owner-list@fabrikam.example", "", "owner");
    mx_send(&server, "list-request@fabrikam.example", "", "request");
    // An ordinary external sender does, from the null sender, queued for sending.
    mx_send(&server, "ann@fabrikam.example", "", "question");
    assert_eq!(queued_recipients(&cli), [("ann@fabrikam.example".to_string(), "<>".to_string())]);
    // The external audience "Known" means contacts, which don't exist yet: no one.
    cli.exo("Set-MailboxAutoReplyConfiguration info -ExternalAudience Known").ok();
    mx_send(&server, "bea@fabrikam.example", "", "known?");
    assert_eq!(queued_recipients(&cli).len(), 1);
    // Scheduled for later: nothing now.
    cli.exo("Set-MailboxAutoReplyConfiguration info -AutoReplyState Scheduled -ExternalAudience All -StartTime '2099-01-01' -EndTime '2099-01-02'").ok();
    mx_send(&server, "cid@fabrikam.example", "", "scheduled");
    assert_eq!(queued_recipients(&cli).len(), 1);
    // Scheduled around now: answered.
    cli.exo("Set-MailboxAutoReplyConfiguration info -StartTime '2020-01-01' -EndTime '2099-01-02'").ok();
    mx_send(&server, "dan@fabrikam.example", "", "now");
    assert_eq!(queued_recipients(&cli).len(), 2, "the scheduled reply");
    assert_eq!(inbox(&cli.data(), "info@contoso.com").len(), 11, "every message was delivered all the same");
    // A sender naming a group of ours is refused at the door, so no
    // automatic reply can go to its members.
    let group = "From: team@contoso.com\r\nTo: info@contoso.com\r\nSubject: spoofed group\r\n";
    assert_eq!(
        mailroom_testkit::mx_refused(&server, "team@contoso.com", "info@contoso.com", group).code,
        550
    );
    assert_eq!(inbox(&cli.data(), "info@contoso.com").len(), 11);
    assert!(inbox(&cli.data(), "alice@contoso.com").iter().all(|m| !m.text().contains("Automatic reply")));
}

#[test]
fn a_reply_and_a_forwarded_copy_survive_a_kill_right_after_the_250() {
    let (cli, mut server) = served();
    cli.exo("Set-Mailbox info -ForwardingSmtpAddress out@fabrikam.example -DeliverToMailboxAndForward $true")
        .ok();
    mx_send(&server, "ann@fabrikam.example", "", "urgent");
    // SIGKILL the moment the sender has its 250: nothing runs after it.
    server.kill();
    let mut queued = queued_recipients(&cli);
    queued.sort();
    assert_eq!(queued.len(), 2, "{queued:?}");
    assert_eq!(queued[0], ("ann@fabrikam.example".to_string(), "<>".to_string()), "the automatic reply");
    assert_eq!(queued[1].0, "out@fabrikam.example", "the forwarded copy");
    assert!(queued[1].1.starts_with("SRS0="), "forwarded from an SRS address: {queued:?}");
    // After a restart the same sender is not answered twice, and the
    // queue still holds one of each.
    let server = cli.serve(&[]);
    mx_send(&server, "ann@fabrikam.example", "", "urgent-again");
    let after: Vec<_> = queued_recipients(&cli).into_iter().map(|(to, _)| to).collect();
    assert_eq!(after.iter().filter(|to| *to == "ann@fabrikam.example").count(), 1, "{after:?}");
    assert_eq!(after.iter().filter(|to| *to == "out@fabrikam.example").count(), 2, "one copy per message");
    assert_eq!(inbox(&cli.data(), "info@contoso.com").len(), 2);
}
