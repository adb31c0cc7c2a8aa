//! Forwarding (SPEC §3) against a real `mailroom serve`: to a
//! recipient of the organisation (a user, a distribution group) or to any
//! address, with and without keeping a copy; SRS for external forwards;
//! loops broken inside the organisation and when a forwarded copy comes back.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use mailroom_testkit::inspect::inbox;
use mailroom_testkit::{Cli, LineClient, Server};

const ORG: &str = r#"
New-Mailbox -Name Alice -Alias alice -PrimarySmtpAddress alice@contoso.com -Password 'Alice-pass-123'
New-Mailbox -Name Bob -Alias bob -PrimarySmtpAddress bob@contoso.com -Password 'Bob-pass-1234'
New-Mailbox -Name Carol -Alias carol -PrimarySmtpAddress carol@contoso.com -Password 'Carol-pass-123'
New-Mailbox -Shared -Name Info -Alias info -PrimarySmtpAddress info@contoso.com
New-Mailbox -Shared -Name Sales -Alias sales -PrimarySmtpAddress sales@contoso.com
New-DistributionGroup -Name Team -PrimarySmtpAddress team@contoso.com -Members alice,carol
"#;

fn served() -> (Cli, Server) {
    let cli = Cli::new(env!("CARGO_BIN_EXE_mailroom"));
    cli.contoso_with(ORG);
    cli.hold_outbound();
    let server = cli.serve(&[]);
    (cli, server)
}

fn mx_send(server: &Server, to: &str, extra_headers: &str, subject: &str) {
    let header = format!("From: ann@fabrikam.example\r\nTo: {to}\r\nSubject: {subject}\r\n{extra_headers}");
    mailroom_testkit::mx_send(server, "ann@fabrikam.example", to, &header);
}

fn queued(cli: &Cli) -> Vec<(String, String)> {
    cli.queued()
}

#[test]
fn internal_forwarding_with_and_without_a_copy() {
    let (cli, server) = served();
    // Deliver and forward to a user.
    cli.exo("Set-Mailbox info -ForwardingAddress bob -DeliverToMailboxAndForward $true").ok();
    mx_send(&server, "info@contoso.com", "", "keep-and-forward");
    assert_eq!(inbox(&cli.data(), "info@contoso.com").len(), 1);
    assert_eq!(inbox(&cli.data(), "bob@contoso.com").len(), 1);
    // Forward only, to a distribution group: Sales keeps nothing, its members get it.
    cli.exo("Set-Mailbox sales -ForwardingAddress team -DeliverToMailboxAndForward $false").ok();
    mx_send(&server, "sales@contoso.com", "", "forward-only");
    assert!(inbox(&cli.data(), "sales@contoso.com").is_empty());
    assert_eq!(inbox(&cli.data(), "alice@contoso.com").len(), 1);
    assert_eq!(inbox(&cli.data(), "carol@contoso.com").len(), 1);
    // ForwardingAddress wins over ForwardingSmtpAddress (as in Exchange).
    cli.exo("Set-Mailbox info -ForwardingSmtpAddress someone@fabrikam.example").ok();
    mx_send(&server, "info@contoso.com", "", "address-wins");
    assert_eq!(inbox(&cli.data(), "bob@contoso.com").len(), 2);
    assert!(queued(&cli).is_empty(), "nothing went outside");
}

#[test]
fn a_loop_inside_the_organisation_keeps_the_message() {
    let (cli, server) = served();
    // Alice forwards to Bob, Bob to Alice, neither keeps a copy.
    cli.exo("Set-Mailbox alice -ForwardingAddress bob -DeliverToMailboxAndForward $false").ok();
    cli.exo("Set-Mailbox bob -ForwardingAddress alice -DeliverToMailboxAndForward $false").ok();
    mx_send(&server, "alice@contoso.com", "", "round and round");
    let (alice, bob) = (inbox(&cli.data(), "alice@contoso.com"), inbox(&cli.data(), "bob@contoso.com"));
    assert_eq!(alice.len() + bob.len(), 1, "delivered exactly once, not lost, not looping");
    assert_eq!(bob.len(), 1, "kept where the loop closed");
}

#[test]
fn external_forwarding_uses_srs_and_a_returning_copy_is_not_forwarded_again() {
    let (cli, server) = served();
    cli.exo("Set-Mailbox sales -ForwardingSmtpAddress partner@fabrikam.example -DeliverToMailboxAndForward $false").ok();
    mx_send(&server, "sales@contoso.com", "", "to the partner");
    assert!(inbox(&cli.data(), "sales@contoso.com").is_empty());
    let queue = queued(&cli);
    assert_eq!(queue.len(), 1, "{queue:?}");
    assert_eq!(queue[0].0, "partner@fabrikam.example");
    // The envelope sender is ours (SPF), and names the original sender.
    let from = &queue[0].1;
    assert!(from.starts_with("SRS0=") && from.ends_with("=fabrikam.example=ann@contoso.com"), "{from}");
    // A bounce to that SRS address goes back to the original sender (from
    // the null sender); the same address from anyone else, or a forged one,
    // is refused: no relaying through SRS.
    let srs = from.clone();
    let mut c = LineClient::smtp(server.smtp());
    assert_eq!(c.cmd("MAIL FROM:<spammer@elsewhere.example>").code, 250);
    assert_eq!(c.cmd(&format!("RCPT TO:<{srs}>")).code, 550);
    assert_eq!(c.cmd("RSET").code, 250);
    assert_eq!(c.cmd("MAIL FROM:<>").code, 250);
    assert_eq!(c.cmd("RCPT TO:<SRS0=zzzzzzzzzzzzzzzz=aa=fabrikam.example=ann@contoso.com>").code, 550);
    assert_eq!(c.cmd(&format!("RCPT TO:<{srs}>")).code, 250);
    assert_eq!(c.cmd("DATA").code, 354);
    c.send(b"From: MAILER-DAEMON@fabrikam.example\r\nSubject: Undeliverable\r\n\r\nbounce\r\n.\r\n");
    assert_eq!(c.reply().code, 250);
    let queue = queued(&cli);
    assert!(queue.contains(&("ann@fabrikam.example".to_string(), "<>".to_string())), "{queue:?}");
    let before = queue.len();
    // The copy carries the signed loop marker.
    let copies = mailroom_testkit::inspect::queued_messages(&cli.data());
    let copy = String::from_utf8_lossy(&copies[0].1).into_owned();
    let marker = copy.lines().find(|l| l.starts_with("X-Mailroom-Forwarded-By: ")).unwrap().to_string();
    assert!(marker.starts_with("X-Mailroom-Forwarded-By: <sales@contoso.com> t="), "{marker}");
    assert!(marker.contains(" h="), "{marker}");
    // A forged marker (no valid hash) doesn't stop forwarding...
    mx_send(&server, "sales@contoso.com", "X-Mailroom-Forwarded-By: <sales@contoso.com>\r\n", "forged");
    assert!(inbox(&cli.data(), "sales@contoso.com").is_empty());
    assert_eq!(queued(&cli).len(), before + 1, "forwarded despite the forged marker");
    // ...the genuine one, on the copy coming back (the partner forwards to us), does: Sales keeps it.
    mx_send(&server, "sales@contoso.com", &format!("{marker}\r\n"), "came back");
    assert_eq!(inbox(&cli.data(), "sales@contoso.com").len(), 1);
    assert_eq!(queued(&cli).len(), before + 1, "not forwarded a second time");

    // Our own addresses can't be claimed from outside — except by what we
    // signed: a copy coming back from its SRS address, or from the mailbox
    // its genuine loop marker names (an original sender too long for SRS).
    let back =
        format!("From: ann@fabrikam.example\r\nTo: sales@contoso.com\r\nSubject: back\r\n{marker}\r\n");
    mailroom_testkit::mx_send(&server, &srs, "sales@contoso.com", &back);
    mailroom_testkit::mx_send(&server, "sales@contoso.com", "sales@contoso.com", &back);
    assert_eq!(inbox(&cli.data(), "sales@contoso.com").len(), 3);
    let forged_srs = "SRS0=zzzzzzzzzzzzzzzz=aa=fabrikam.example=ann@contoso.com";
    let plain = "From: ann@fabrikam.example\r\nTo: sales@contoso.com\r\nSubject: forged\r\n";
    for envelope in [forged_srs, "sales@contoso.com"] {
        let refused = mailroom_testkit::mx_refused(&server, envelope, "sales@contoso.com", plain);
        assert_eq!(refused.code, 550, "{envelope}: {}", refused.text());
    }
    let forged_marker =
        format!("{plain}X-Mailroom-Forwarded-By: <sales@contoso.com> t=20000 h=abcdefghabcdefgh\r\n");
    let refused =
        mailroom_testkit::mx_refused(&server, "sales@contoso.com", "sales@contoso.com", &forged_marker);
    assert_eq!(refused.code, 550, "{}", refused.text());
    // The marker proves where a copy left, not who wrote it: our From: is refused with it too.
    let ours = format!("From: alice@contoso.com\r\nTo: sales@contoso.com\r\nSubject: ours\r\n{marker}\r\n");
    let refused = mailroom_testkit::mx_refused(&server, &srs, "sales@contoso.com", &ours);
    assert_eq!(refused.code, 550, "{}", refused.text());
    assert_eq!(inbox(&cli.data(), "sales@contoso.com").len(), 3);
}

#[test]
fn submitted_mail_is_forwarded_too() {
    let (cli, server) = served();
    cli.exo("Set-Mailbox info -ForwardingAddress bob -DeliverToMailboxAndForward $false").ok();
    let addr = server.submission();
    mailroom_testkit::python(
        r#"
import smtplib, sys
s = smtplib.SMTP(sys.argv[1], int(sys.argv[2]), timeout=20)
s.login('alice@contoso.com', 'Alice-pass-123')
s.sendmail('alice@contoso.com', ['info@contoso.com'], b'From: alice@contoso.com\r\nTo: info@contoso.com\r\nSubject: inside\r\n\r\nhi\r\n')
s.quit()
"#,
        &[&addr.ip().to_string(), &addr.port().to_string()],
    );
    assert!(inbox(&cli.data(), "info@contoso.com").is_empty());
    assert_eq!(inbox(&cli.data(), "bob@contoso.com").len(), 1);
}
