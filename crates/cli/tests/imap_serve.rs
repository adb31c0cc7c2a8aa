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
