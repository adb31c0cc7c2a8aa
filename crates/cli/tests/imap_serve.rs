//! IMAP through `mailroom serve`: a message that arrives by SMTP is read by a
//! member over IMAP with STARTTLS and over implicit TLS (imaplib), with the
//! server's self-signed certificate.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use mailroom_testkit::{Cli, LineClient, python};

const ORG: &str = r#"
New-Mailbox -Name Alice -Alias alice -PrimarySmtpAddress alice@contoso.com -Password 'Alice-pass-123'
New-Mailbox -Shared -Name Info -Alias info -PrimarySmtpAddress info@contoso.com
Add-MailboxPermission info -User alice -AccessRights FullAccess -InheritanceType All
"#;

const READ: &str = r#"
import imaplib, json, ssl, sys
imap_port, imaps_port = int(sys.argv[1]), int(sys.argv[2])
context = ssl.create_default_context(); context.check_hostname = False; context.verify_mode = ssl.CERT_NONE
out = {}
m = imaplib.IMAP4('127.0.0.1', imap_port)
out['starttls_offered'] = 'STARTTLS' in m.capabilities
m.starttls(ssl_context=context)
m.login('alice@contoso.com', 'Alice-pass-123')
m.select('"Shared/info@contoso.com/INBOX"')
out['subject'] = m.fetch('1', '(BODY.PEEK[HEADER.FIELDS (SUBJECT)])')[1][0][1].decode().strip()
m.logout()
s = imaplib.IMAP4_SSL('127.0.0.1', imaps_port, ssl_context=context)
s.login('alice@contoso.com', 'Alice-pass-123')
out['imaps_status'] = s.status('"Shared/info@contoso.com/INBOX"', '(MESSAGES)')[1][0].decode()
s.logout()
print(json.dumps(out))
"#;

#[test]
fn mail_received_by_smtp_is_read_over_imap_and_imaps() {
    let cli = Cli::new(env!("CARGO_BIN_EXE_mailroom"));
    cli.init_contoso();
    cli.run_with_stdin(&["exo", "-"], ORG).ok();
    let server = cli.start_server(&[
        "serve",
        "--smtp-listen",
        "127.0.0.1:0",
        "--imap-listen",
        "127.0.0.1:0",
        "--imaps-listen",
        "127.0.0.1:0",
    ]);
    let imaps = server.listeners["imaps"];
    let mut c = LineClient::smtp(server.smtp());
    assert_eq!(c.cmd("MAIL FROM:<a@fabrikam.example>").code, 250);
    assert_eq!(c.cmd("RCPT TO:<info@contoso.com>").code, 250);
    assert_eq!(c.cmd("DATA").code, 354);
    c.send(b"Subject: over the wire\r\n\r\nhello\r\n.\r\n");
    assert_eq!(c.reply().code, 250);
    let out = python(READ, &[&server.imap().port().to_string(), &imaps.port().to_string()]);
    let out: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(out["starttls_offered"], true);
    assert_eq!(out["subject"], "Subject: over the wire");
    assert_eq!(out["imaps_status"], r#""Shared/info@contoso.com/INBOX" (MESSAGES 1)"#);
}

/// Kibibytes of memory the process holds now (VmRSS).
fn resident_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// The attacker's move: many signed-in sessions start a maximum-size APPEND
/// and never finish it. An announced literal holds nothing; what arrives is
/// charged to the server's memory budget (512 MiB by default, APPEND data
/// counted 4 times over) as it arrives. Once the budget is spent, a new
/// large APPEND is refused before it is sent (`NO [LIMIT]`), a LITERAL+ ends
/// its session, small commands go on for everyone, and the server's memory
/// stays bounded; when the attackers go, the budget comes back.
#[test]
fn unfinished_appends_are_held_within_the_memory_budget() {
    let cli = Cli::new(env!("CARGO_BIN_EXE_mailroom"));
    cli.init_contoso();
    cli.run_with_stdin(&["exo", "-"], ORG).ok();
    let server = cli.serve(&[]);
    let login = |who: &str, password: &str| {
        let mut c = LineClient::connect(server.imap());
        assert!(c.line().unwrap().starts_with("* OK"));
        let reply = c.imap("l", &format!("LOGIN {who} {password}"));
        assert!(reply.last().unwrap().starts_with("l OK"), "{reply:?}");
        c
    };
    let baseline = resident_kib(server.pid());
    // 59 MiB, just under the 64 MiB command limit.
    let huge = 59 * 1024 * 1024;
    let mut attackers: Vec<LineClient> = (0..20)
        .map(|_| {
            let mut c = login("admin@contoso.com", "Admin-pass-123");
            let reply = c.imap("a", &format!("APPEND INBOX {{{huge}}}"));
            assert_eq!(reply.last().unwrap(), "+ Ready for literal data", "an announcement costs nothing");
            c
        })
        .collect();
    // Each sends 8 MiB and stops: 20 x 8 MiB x 4 is more than the budget,
    // so the last to arrive are turned away (BYE [LIMIT]) as it runs out.
    for c in &mut attackers {
        let _ = c.try_send(&vec![b'x'; 8 * 1024 * 1024]);
    }
    // A large APPEND is refused before a byte of it is sent...
    let mut alice = login("alice@contoso.com", "Alice-pass-123");
    let reply = alice.imap("b", &format!("APPEND INBOX {{{huge}}}"));
    assert_eq!(
        reply.last().unwrap(),
        "b NO [LIMIT] The server is receiving too much mail at once; try again in a moment"
    );
    // ...a LITERAL+ can't be, so its session ends...
    let mut plus = login("alice@contoso.com", "Alice-pass-123");
    plus.send(format!("p APPEND INBOX {{{huge}+}}\r\n").as_bytes());
    assert_eq!(
        plus.line().unwrap(),
        "* BYE [LIMIT] The server is receiving too much mail at once; try again in a moment"
    );
    assert!(plus.line().is_none(), "closed");
    // ...and everyone else is served: small commands cost the budget nothing.
    let reply = alice.imap("s", "APPEND INBOX {22}");
    assert_eq!(reply.last().unwrap(), "+ Ready for literal data");
    alice.send(b"Subject: small\r\n\r\nhi\r\n\r\n");
    let done = alice.line().unwrap();
    assert!(done.starts_with("s OK [APPENDUID "), "{done}");
    let status = alice.imap("t", "STATUS INBOX (MESSAGES)");
    assert_eq!(status[0], "* STATUS \"INBOX\" (MESSAGES 1)");
    assert_eq!(
        login("admin@contoso.com", "Admin-pass-123").imap("n", "NOOP").last().unwrap(),
        "n OK NOOP completed"
    );
    // Memory: the budget's share of what was sent (512 MiB / 4), not 20 x 59 MiB.
    let grown_mib = resident_kib(server.pid()).saturating_sub(baseline) / 1024;
    eprintln!("server memory grew by {grown_mib} MiB during the attack");
    assert!(grown_mib < 384, "the server grew by {grown_mib} MiB");
    // The transfers end, their shares come back: the large APPEND gets `+`.
    for c in attackers {
        c.drop_connection();
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let reply = alice.imap("r", &format!("APPEND INBOX {{{huge}}}"));
        if reply.last().unwrap() == "+ Ready for literal data" {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the budget never came back: {reply:?}");
    }
}
