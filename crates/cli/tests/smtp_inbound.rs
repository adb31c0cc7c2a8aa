//! Inbound SMTP against a real `mailroom serve` on 127.0.0.1:0, driven by
//! Python's smtplib, swaks and a raw line client; every case asserts the
//! exact reply codes and then what the store holds (SPEC §3).

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use mailroom_testkit::inspect::{Delivered, inbox};
use mailroom_testkit::{Cli, LineClient, Server, python};

/// contoso.com with Alice and Bob (users), Info (shared, Alice has Full
/// Access), Team (distribution group: Alice, Bob) and All (Team and Info,
/// nested), and Small (shared, tiny quotas).
const ORG: &str = r#"
New-Mailbox -Name Alice -Alias alice -PrimarySmtpAddress alice@contoso.com -Password 'Alice-pass-123'
New-Mailbox -Name Bob -Alias bob -PrimarySmtpAddress bob@contoso.com -Password 'Bob-pass-1234'
New-Mailbox -Shared -Name Info -Alias info -PrimarySmtpAddress info@contoso.com
Add-MailboxPermission info -User alice -AccessRights FullAccess -InheritanceType All
New-DistributionGroup -Name Team -PrimarySmtpAddress team@contoso.com -Members alice,bob
New-DistributionGroup -Name All -PrimarySmtpAddress all@contoso.com -Members Team,info
New-Mailbox -Shared -Name Small -Alias small -PrimarySmtpAddress small@contoso.com
Set-Mailbox small -IssueWarningQuota 3KB -ProhibitSendQuota 7KB -ProhibitSendReceiveQuota 9KB
"#;

fn org() -> Cli {
    let cli = Cli::new(env!("CARGO_BIN_EXE_mailroom"));
    cli.init_contoso();
    cli.run_with_stdin(&["exo", "-"], ORG).ok();
    cli
}

/// An organisation with `toml` as its `[smtp]` settings, served.
fn served_with(smtp_settings: &str) -> (Cli, Server) {
    let cli = org();
    let config = cli.data().join("mailroom.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text = text.replace("[smtp]\n", &format!("[smtp]\n{smtp_settings}\n"));
    // The file's own defaults for the keys we set go.
    let mut seen = std::collections::HashSet::new();
    text = text
        .lines()
        .filter(|line| {
            let key = line.split('=').next().unwrap_or("").trim().to_string();
            !line.contains('=') || key.starts_with('#') || seen.insert(key)
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&config, text).unwrap();
    let server = cli.serve(&[]);
    (cli, server)
}

fn served() -> (Cli, Server) {
    let cli = org();
    let server = cli.serve(&[]);
    (cli, server)
}

fn message(subject: &str, body: &str) -> String {
    format!(
        "From: Sender <sender@fabrikam.example>\r\nTo: info@contoso.com\r\nSubject: {subject}\r\nMessage-ID: <{subject}@fabrikam.example>\r\n\r\n{body}\r\n"
    )
}

/// Sends one message with the raw client and returns the reply to its end.
fn send_raw(server: &Server, rcpts: &[&str], data: &[u8]) -> mailroom_testkit::SmtpReply {
    let mut c = LineClient::smtp(server.smtp());
    assert_eq!(c.cmd("MAIL FROM:<sender@fabrikam.example>").code, 250);
    for rcpt in rcpts {
        assert_eq!(c.cmd(&format!("RCPT TO:<{rcpt}>")).code, 250, "RCPT {rcpt}");
    }
    assert_eq!(c.cmd("DATA").code, 354);
    c.send(data);
    let reply = c.reply();
    assert_eq!(c.cmd("QUIT").code, 221);
    reply
}

const SMTPLIB_SEND: &str = r#"
import json, smtplib, sys
host, port, sender, rcpts, body = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4].split(','), sys.argv[5]
opts = sys.argv[6].split(',') if len(sys.argv) > 6 and sys.argv[6] else []
out = {}
with smtplib.SMTP(host, port, timeout=30) as s:
    out['ehlo'] = s.ehlo()[0]
    try:
        refused = s.sendmail(sender, rcpts, body.encode('utf-8'), mail_options=opts)
        out['refused'] = {k: [v[0], v[1].decode()] for k, v in refused.items()}
    except smtplib.SMTPRecipientsRefused as e:
        out['all_refused'] = {k: [v[0], v[1].decode()] for k, v in e.recipients.items()}
    except smtplib.SMTPSenderRefused as e:
        out['sender_refused'] = [e.smtp_code, e.smtp_error.decode()]
    except smtplib.SMTPDataError as e:
        out['data_error'] = [e.smtp_code, e.smtp_error.decode()]
print(json.dumps(out))
"#;

fn smtplib(server: &Server, sender: &str, rcpts: &[&str], body: &str, options: &[&str]) -> serde_json::Value {
    let addr = server.smtp();
    let out = python(
        SMTPLIB_SEND,
        &[
            &addr.ip().to_string(),
            &addr.port().to_string(),
            sender,
            &rcpts.join(","),
            body,
            &options.join(","),
        ],
    );
    serde_json::from_str(out.trim()).unwrap()
}

#[test]
fn smtplib_delivers_once_to_shared_mailbox_users_and_nested_groups() {
    let (cli, server) = served();
    let body = message("hello", "One message for everyone.");
    let out = smtplib(
        &server,
        "sender@fabrikam.example",
        &["info@contoso.com", "alice@contoso.com", "team@contoso.com", "all@contoso.com", "INFO@Contoso.com"],
        &body,
        &[],
    );
    assert_eq!(out["refused"], serde_json::json!({}), "{out}");

    // Each mailbox once, however many ways it was addressed.
    let data = cli.data();
    let copies: Vec<Vec<Delivered>> = ["info@contoso.com", "alice@contoso.com", "bob@contoso.com"]
        .iter()
        .map(|a| inbox(&data, a))
        .collect();
    for (copy, who) in copies.iter().zip(["info", "alice", "bob"]) {
        assert_eq!(copy.len(), 1, "{who} has exactly one copy");
        assert_eq!(copy[0].without_trace(), body.as_bytes(), "{who}'s copy is byte-exact");
        assert_eq!(copy[0].summary.envelope.subject.as_deref(), Some("hello"));
    }
    // Stored once: every copy is the same content-addressed body.
    assert!(copies.iter().all(|c| c[0].blob() == copies[0][0].blob()));
    // On top, what the sender checks found, then the trace header: who
    // connected, who received, no recipient list (5 recipients).
    let text = copies[0][0].text();
    assert!(text.starts_with("Authentication-Results: "), "{text}");
    assert!(text.contains("smtp.mailfrom=sender@fabrikam.example;\r\n"), "{text}");
    assert!(text.contains("\r\nReceived: from "), "{text}");
    assert!(text.contains("([127.0.0.1])") && text.contains("(Mailroom) with ESMTP id "), "{text}");
    assert!(!text.contains("\tfor <"), "no 'for' clause with several recipients: {text}");
    assert!(inbox(&data, "small@contoso.com").is_empty());

    // The statistics cmdlets see it.
    let stats = cli.exo_json("Get-MailboxStatistics info");
    assert_eq!(stats[0]["ItemCount"], 1);
    assert_eq!(stats[0]["StorageLimitStatus"], "BelowLimit");
    let size = copies[0][0].bytes.len();
    assert!(stats[0]["TotalItemSize"].as_str().unwrap().ends_with(&format!("({size} bytes)")), "{stats:?}");
    let folders = cli.exo_json("Get-MailboxFolderStatistics info@contoso.com");
    let names: Vec<&str> = folders.iter().map(|f| f["Name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["Inbox", "Archive", "Deleted Items", "Drafts", "Junk Email", "Recoverable Items", "Sent Items"]
    );
    assert_eq!(folders[5]["FolderType"], "RecoverableItemsRoot");
    assert_eq!(folders[0]["ItemsInFolder"], 1);
    assert_eq!(folders[0]["FolderPath"], "/Inbox");
    assert!(folders[1..].iter().all(|f| f["ItemsInFolder"] == 0));
}

#[test]
fn unknown_recipients_and_relay_attempts_are_refused_at_rcpt() {
    let (cli, server) = served();
    let body = message("partly", "Some recipients are wrong.");
    let out = smtplib(
        &server,
        "sender@fabrikam.example",
        &["nobody@contoso.com", "victim@gmail.example", "alice@contoso.com"],
        &body,
        &[],
    );
    let refused = &out["refused"];
    assert_eq!(refused["nobody@contoso.com"][0], 550, "{out}");
    assert!(refused["nobody@contoso.com"][1].as_str().unwrap().starts_with("5.1.1 "), "{out}");
    assert_eq!(refused["victim@gmail.example"][0], 550, "{out}");
    assert!(
        refused["victim@gmail.example"][1].as_str().unwrap().starts_with("5.7.1 Relaying denied"),
        "{out}"
    );
    assert_eq!(inbox(&cli.data(), "alice@contoso.com").len(), 1, "the valid recipient still gets it");

    // Only bad recipients: DATA is never reached, nothing is stored.
    let out = smtplib(&server, "sender@fabrikam.example", &["victim@gmail.example"], &body, &[]);
    assert_eq!(out["all_refused"]["victim@gmail.example"][0], 550, "{out}");
    let mut c = LineClient::smtp(server.smtp());
    c.cmd("MAIL FROM:<a@fabrikam.example>");
    assert_eq!(c.cmd("RCPT TO:<nobody@contoso.com>").code, 550);
    let reply = c.cmd("DATA");
    assert_eq!((reply.code, reply.text()), (554, "5.5.1 No valid recipients".into()));
    // postmaster is always accepted (RFC 5321 §4.5.1) and reaches the global admin.
    assert_eq!(c.cmd("RSET").code, 250);
    c.cmd("MAIL FROM:<>");
    assert_eq!(c.cmd("RCPT TO:<postmaster@contoso.com>").code, 250);
    assert_eq!(inbox(&cli.data(), "info@contoso.com").len(), 0);
}

#[test]
fn swaks_delivers_with_and_without_starttls() {
    let (cli, server) = served();
    let addr = server.smtp();
    let swaks = |extra: &[&str]| {
        let output = std::process::Command::new("swaks")
            .args(["--server", &addr.ip().to_string(), "--port", &addr.port().to_string()])
            .args(["--from", "sender@fabrikam.example", "--helo", "client.fabrikam.example"])
            .args(extra)
            .output()
            .expect("swaks is installed (.ci/run installs it)");
        String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr)
    };
    let plain = swaks(&["--to", "info@contoso.com", "--header", "Subject: via swaks"]);
    assert!(plain.contains("<-  250 2.0.0 OK, stored as "), "{plain}");
    let tls = swaks(&["--to", "bob@contoso.com", "--tls", "--header", "Subject: via swaks tls"]);
    assert!(tls.contains("<-  220 2.0.0 Ready to start TLS"), "{tls}");
    assert!(tls.contains("~> DATA") && tls.contains("<~  250 2.0.0 OK, stored as "), "{tls}");
    let unknown = swaks(&["--to", "ghost@contoso.com"]);
    assert!(unknown.contains("<** 550 5.1.1 Recipient address rejected: user unknown"), "{unknown}");
    let relay = swaks(&["--to", "someone@elsewhere.example"]);
    assert!(relay.contains("<** 550 5.7.1 Relaying denied"), "{relay}");

    let info = inbox(&cli.data(), "info@contoso.com");
    assert_eq!(info.len(), 1);
    assert_eq!(info[0].summary.envelope.subject.as_deref(), Some("via swaks"));
    let text = info[0].text();
    assert!(
        text.contains("from client.fabrikam.example ([127.0.0.1])") && text.contains("with ESMTP id"),
        "{text}"
    );
    assert!(text.contains("for <info@contoso.com>"), "{text}");
    let bob = inbox(&cli.data(), "bob@contoso.com");
    assert_eq!(bob.len(), 1);
    assert!(bob[0].text().contains("with ESMTPS id"), "TLS is recorded: {}", bob[0].text());
    assert!(inbox(&cli.data(), "alice@contoso.com").is_empty());
}

#[test]
fn oversize_messages_are_refused_at_mail_and_after_data() {
    let (cli, server) = served_with("max_message_size = 70000");
    let mut c = LineClient::smtp(server.smtp());
    let ehlo = c.cmd("EHLO again.example");
    assert!(ehlo.lines.contains(&"SIZE 70000".to_string()), "{ehlo:?}");
    // Declared too big: refused at MAIL (RFC 1870).
    let reply = c.cmd("MAIL FROM:<a@fabrikam.example> SIZE=70001");
    assert_eq!((reply.code, reply.text()), (552, "5.3.4 Message too big (at most 70000 octets)".into()));
    // Undeclared and too big: read to the end, then refused; the session goes on.
    assert_eq!(c.cmd("MAIL FROM:<a@fabrikam.example>").code, 250);
    assert_eq!(c.cmd("RCPT TO:<info@contoso.com>").code, 250);
    assert_eq!(c.cmd("DATA").code, 354);
    let line = "x".repeat(70) + "\r\n";
    c.send(format!("Subject: big\r\n\r\n{}.\r\n", line.repeat(1000)).as_bytes());
    let reply = c.reply();
    assert_eq!((reply.code, reply.text()), (552, "5.3.4 Message too big (at most 70000 octets)".into()));
    assert!(inbox(&cli.data(), "info@contoso.com").is_empty());
    // smtplib sends SIZE= when it is advertised.
    let out = smtplib(&server, "a@fabrikam.example", &["info@contoso.com"], &"y".repeat(80000), &[]);
    assert_eq!(out["sender_refused"][0], 552, "{out}");
    // A message just under the limit still goes through on the same server.
    assert_eq!(c.cmd("MAIL FROM:<a@fabrikam.example>").code, 250);
    assert_eq!(c.cmd("RCPT TO:<info@contoso.com>").code, 250);
    assert_eq!(c.cmd("DATA").code, 354);
    c.send(format!("Subject: fits\r\n\r\n{}.\r\n", line.repeat(900)).as_bytes());
    assert_eq!(c.reply().code, 250);
    // BDAT: the chunk that goes over the limit is refused at once, and ends
    // the transaction.
    assert_eq!(c.cmd("MAIL FROM:<a@fabrikam.example>").code, 250);
    assert_eq!(c.cmd("RCPT TO:<info@contoso.com>").code, 250);
    let chunk = line.repeat(500);
    c.send(format!("BDAT {}\r\n{chunk}", chunk.len()).as_bytes());
    assert_eq!(c.reply().code, 250);
    c.send(format!("BDAT {} LAST\r\n{chunk}", chunk.len()).as_bytes());
    let reply = c.reply();
    assert_eq!((reply.code, reply.text()), (552, "5.3.4 Message too big (at most 70000 octets)".into()));
    c.send(b"BDAT 3 LAST\r\nabc");
    assert_eq!(c.reply().code, 503, "the transaction ended with the refused chunk");
    let info = inbox(&cli.data(), "info@contoso.com");
    assert_eq!(info.len(), 1);
    assert_eq!(info[0].summary.envelope.subject.as_deref(), Some("fits"));
}

#[test]
fn bare_lf_is_stored_as_crlf_and_never_ends_data() {
    let (cli, server) = served();
    // <LF>.<LF> is not the end of data (SMTP smuggling); the smuggled
    // "second message" stays content of the first.
    let data = b"Subject: bare\n\nline one\nline two\n.\nMAIL FROM:<evil@fabrikam.example>\r\nRCPT TO:<bob@contoso.com>\r\nDATA\r\nSubject: smuggled\r\n\r\n.\r\n";
    let reply = send_raw(&server, &["info@contoso.com"], data);
    assert_eq!(reply.code, 250, "{reply}");
    let info = inbox(&cli.data(), "info@contoso.com");
    assert_eq!(info.len(), 1);
    assert_eq!(
        info[0].without_trace(),
        b"Subject: bare\r\n\r\nline one\r\nline two\r\n.\r\nMAIL FROM:<evil@fabrikam.example>\r\nRCPT TO:<bob@contoso.com>\r\nDATA\r\nSubject: smuggled\r\n\r\n"
    );
    assert!(inbox(&cli.data(), "bob@contoso.com").is_empty(), "nothing was smuggled to Bob");
    // Dot-stuffing is undone.
    let reply = send_raw(&server, &["alice@contoso.com"], b"Subject: dots\r\n\r\n..hidden\r\n...\r\n.\r\n");
    assert_eq!(reply.code, 250);
    assert_eq!(
        inbox(&cli.data(), "alice@contoso.com")[0].without_trace(),
        b"Subject: dots\r\n\r\n.hidden\r\n..\r\n"
    );
}

#[test]
fn over_long_lines_are_refused_and_the_session_survives() {
    let (cli, server) = served_with("max_line_length = 2000");
    let mut c = LineClient::smtp(server.smtp());
    // A command line over 4096 octets.
    let reply = c.cmd(&format!("NOOP {}", "z".repeat(10_000)));
    assert_eq!((reply.code, reply.text()), (500, "5.5.2 Line too long (at most 4096 octets)".into()));
    assert_eq!(c.cmd("NOOP").code, 250);
    // A message line over the configured limit: refused after the end of data.
    assert_eq!(c.cmd("MAIL FROM:<a@fabrikam.example>").code, 250);
    assert_eq!(c.cmd("RCPT TO:<info@contoso.com>").code, 250);
    assert_eq!(c.cmd("DATA").code, 354);
    c.send(format!("Subject: long\r\n\r\n{}\r\nshort\r\n.\r\n", "w".repeat(5000)).as_bytes());
    let reply = c.reply();
    assert_eq!((reply.code, reply.text()), (554, "5.6.0 Message has a line longer than 2000 octets".into()));
    // A line longer than the read buffer, too: the session stays in step.
    assert_eq!(c.cmd("MAIL FROM:<a@fabrikam.example>").code, 250);
    assert_eq!(c.cmd("RCPT TO:<info@contoso.com>").code, 250);
    assert_eq!(c.cmd("DATA").code, 354);
    c.send(format!("Subject: huge\r\n\r\n{}\r\n.\r\n", "h".repeat(300_000)).as_bytes());
    assert_eq!(c.reply().code, 554);
    assert_eq!(c.cmd("NOOP").code, 250);
    // A too-long line ending in a bare LF: the "." after it is content, so
    // the smuggled commands after it are message text, not commands.
    assert_eq!(c.cmd("MAIL FROM:<a@fabrikam.example>").code, 250);
    assert_eq!(c.cmd("RCPT TO:<info@contoso.com>").code, 250);
    assert_eq!(c.cmd("DATA").code, 354);
    c.send(
        format!(
            "Subject: smuggle\r\n\r\n{}\n.\r\nMAIL FROM:<evil@fabrikam.example>\r\nRCPT TO:<bob@contoso.com>\r\nDATA\r\nSubject: smuggled\r\n\r\n.\r\n",
            "s".repeat(300_000)
        )
        .as_bytes(),
    );
    assert_eq!(c.reply().code, 554, "one reply, for the one message");
    assert_eq!(c.cmd("NOOP").code, 250, "nothing smuggled in between");
    assert!(inbox(&cli.data(), "bob@contoso.com").is_empty());
    assert!(inbox(&cli.data(), "info@contoso.com").is_empty());
    // 1998 octets plus CRLF is within the limit.
    assert_eq!(c.cmd("MAIL FROM:<a@fabrikam.example>").code, 250);
    assert_eq!(c.cmd("RCPT TO:<info@contoso.com>").code, 250);
    assert_eq!(c.cmd("DATA").code, 354);
    c.send(format!("Subject: ok\r\n\r\n{}\r\n.\r\n", "k".repeat(1998)).as_bytes());
    assert_eq!(c.reply().code, 250);
    assert_eq!(inbox(&cli.data(), "info@contoso.com").len(), 1);
}

#[test]
fn malformed_mime_is_stored_intact() {
    let (cli, server) = served();
    let mut broken = b"Subject: =?utf-8?B?broken\r\nContent-Type: multipart/mixed; boundary=\"never\"\r\nContent-Transfer-Encoding: base64\r\nX-Bytes: ".to_vec();
    broken.extend_from_slice(&[0xff, 0xfe, 0x00, 0x80, b'\r', b'\n', b'\r', b'\n']);
    broken.extend_from_slice(b"--never\r\nContent-Type: text/plain\r\n\r\n!!! not base64 !!!\r\n--nev");
    broken.extend_from_slice(b"\r\n");
    let mut data = broken.clone();
    data.extend_from_slice(b".\r\n");
    let reply = send_raw(&server, &["info@contoso.com"], &data);
    assert_eq!(reply.code, 250, "{reply}");
    let info = inbox(&cli.data(), "info@contoso.com");
    assert_eq!(info.len(), 1);
    assert_eq!(info[0].without_trace(), broken.as_slice(), "stored byte for byte");
    // A message with no header section at all.
    let reply = send_raw(&server, &["bob@contoso.com"], b"just text, no headers\r\n.\r\n");
    assert_eq!(reply.code, 250);
    assert_eq!(inbox(&cli.data(), "bob@contoso.com")[0].without_trace(), b"just text, no headers\r\n");
}

#[test]
fn eight_bit_and_smtputf8_mail() {
    let (cli, server) = served();
    let body = "From: Jörg <jörg@bücher.example>\r\nTo: info@contoso.com\r\nSubject: Grüße aus Köln\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nÜmlaute und 日本語.\r\n";
    let out =
        smtplib(&server, "jörg@bücher.example", &["info@contoso.com"], body, &["SMTPUTF8", "BODY=8BITMIME"]);
    assert_eq!(out["refused"], serde_json::json!({}), "{out}");
    let out = smtplib(&server, "plain@fabrikam.example", &["bob@contoso.com"], body, &["BODY=8BITMIME"]);
    assert_eq!(out["refused"], serde_json::json!({}), "{out}");
    let info = inbox(&cli.data(), "info@contoso.com");
    assert_eq!(info.len(), 1);
    assert_eq!(info[0].without_trace(), body.as_bytes());
    assert_eq!(info[0].summary.envelope.subject.as_deref(), Some("Grüße aus Köln"));
    assert!(info[0].text().contains("with UTF8SMTP id"), "{}", info[0].text());
    assert_eq!(inbox(&cli.data(), "bob@contoso.com")[0].without_trace(), body.as_bytes());

    // A non-ASCII address without SMTPUTF8 is refused (RFC 6531 §3.5).
    let mut c = LineClient::smtp(server.smtp());
    let reply = c.cmd("MAIL FROM:<jörg@bücher.example>");
    assert_eq!(
        (reply.code, reply.text()),
        (553, "5.6.7 Non-ASCII address needs the SMTPUTF8 parameter".into())
    );
    assert_eq!(c.cmd("MAIL FROM:<plain@fabrikam.example>").code, 250);
    assert_eq!(c.cmd("RCPT TO:<jörg@contoso.com>").code, 553);
}

#[test]
fn a_connection_dropped_in_data_stores_nothing() {
    let (cli, mut server) = served();
    let mut c = LineClient::smtp(server.smtp());
    assert_eq!(c.cmd("MAIL FROM:<a@fabrikam.example>").code, 250);
    assert_eq!(c.cmd("RCPT TO:<info@contoso.com>").code, 250);
    assert_eq!(c.cmd("DATA").code, 354);
    c.send(b"Subject: cut off\r\n\r\nhalf a message\r\n");
    c.drop_connection();
    // BDAT too: a chunk announced but never finished.
    let mut c = LineClient::smtp(server.smtp());
    assert_eq!(c.cmd("MAIL FROM:<a@fabrikam.example>").code, 250);
    assert_eq!(c.cmd("RCPT TO:<info@contoso.com>").code, 250);
    c.send(b"BDAT 1000 LAST\r\nSubject: short chunk\r\n");
    c.drop_connection();
    // The server is still there, and the next message is stored alone.
    let reply = send_raw(&server, &["info@contoso.com"], b"Subject: after\r\n\r\nfine\r\n.\r\n");
    assert_eq!(reply.code, 250);
    // Graceful shutdown waits for every session: nothing can land later.
    assert!(server.terminate().success());
    let info = inbox(&cli.data(), "info@contoso.com");
    assert_eq!(info.len(), 1, "only the complete message");
    assert_eq!(info[0].summary.envelope.subject.as_deref(), Some("after"));
}

#[test]
fn quota_warning_once_then_mailbox_full_while_others_still_receive() {
    let (cli, server) = served();
    let data = cli.data();
    let filler = "q".repeat(76) + "\r\n";
    // ~2.5 KB each with the trace header. Small: warning 3 KB, send 7 KB, receive 9 KB.
    let chunk = format!("Subject: chunk\r\n\r\n{}", filler.repeat(30));
    let tiny = "Subject: tiny\r\n\r\nx\r\n";
    let send = |body: &str| smtplib(&server, "a@fabrikam.example", &["small@contoso.com"], body, &[]);
    let usage = || inbox(&data, "small@contoso.com").iter().map(|m| m.meta.size).sum::<u64>();
    let status = || cli.exo_json("Get-MailboxStatistics small")[0]["StorageLimitStatus"].clone();
    const KB: u64 = 1024;

    assert_eq!(send(&chunk)["refused"], serde_json::json!({}));
    assert_eq!(inbox(&data, "small@contoso.com").len(), 1);
    assert!(usage() < 3 * KB);
    assert_eq!(status(), "BelowLimit");
    // Crosses the warning level: the message and one warning.
    assert_eq!(send(&chunk)["refused"], serde_json::json!({}));
    let small = inbox(&data, "small@contoso.com");
    assert_eq!(small.len(), 3, "two messages and the warning");
    let warning = &small[2];
    assert_eq!(
        warning.summary.envelope.subject.as_deref(),
        Some("Your mailbox is almost full"),
        "{}",
        warning.text()
    );
    let used = usage();
    assert!((3 * KB..7 * KB).contains(&used), "usage {used}");
    assert_eq!(status(), "IssueWarning");
    // More mail: received, and no second warning.
    assert_eq!(send(tiny)["refused"], serde_json::json!({}));
    assert_eq!(inbox(&data, "small@contoso.com").len(), 4, "the warning went out only once");
    // Past ProhibitSend mail is still received (SPEC §3).
    assert_eq!(send(&chunk)["refused"], serde_json::json!({}));
    let used = usage();
    assert!((7 * KB..9 * KB).contains(&used), "usage {used}");
    assert_eq!(status(), "ProhibitSend");
    assert_eq!(send(&chunk)["refused"], serde_json::json!({}));
    assert!(usage() > 9 * KB);
    assert_eq!(status(), "MailboxDisabled");
    assert_eq!(inbox(&data, "small@contoso.com").len(), 6);
    // Past ProhibitSendReceive: 552 5.2.2 at RCPT; the other recipient still receives.
    let out = smtplib(&server, "a@fabrikam.example", &["small@contoso.com", "alice@contoso.com"], tiny, &[]);
    assert_eq!(out["refused"]["small@contoso.com"][0], 552, "{out}");
    assert!(
        out["refused"]["small@contoso.com"][1].as_str().unwrap().starts_with("5.2.2 Mailbox full"),
        "{out}"
    );
    assert_eq!(inbox(&data, "small@contoso.com").len(), 6, "nothing more for the full mailbox");
    assert_eq!(inbox(&data, "alice@contoso.com").len(), 1, "the other recipient still receives");
    // Through a group, too: the full member is skipped, the group still accepted.
    cli.exo("New-DistributionGroup -Name Quota -PrimarySmtpAddress quota@contoso.com -Members small,bob");
    let out = smtplib(&server, "a@fabrikam.example", &["quota@contoso.com"], tiny, &[]);
    assert_eq!(out["refused"], serde_json::json!({}), "{out}");
    assert_eq!(inbox(&data, "bob@contoso.com").len(), 1);
    assert_eq!(inbox(&data, "small@contoso.com").len(), 6);
}

#[test]
fn pipelined_commands_and_bdat_chunks() {
    let (cli, server) = served();
    let mut c = LineClient::smtp(server.smtp());
    // RFC 2920: the whole batch in one write, the replies in order.
    c.send(b"MAIL FROM:<a@fabrikam.example>\r\nRCPT TO:<info@contoso.com>\r\nRCPT TO:<ghost@contoso.com>\r\nRCPT TO:<bob@contoso.com>\r\nDATA\r\n");
    let codes: Vec<u16> = (0..5).map(|_| c.reply().code).collect();
    assert_eq!(codes, [250, 250, 550, 250, 354]);
    c.send(b"Subject: pipelined\r\n\r\nhi\r\n.\r\n");
    assert_eq!(c.reply().code, 250);
    // RFC 3030: BDAT chunks, raw octets (a line with a lone dot is content).
    let chunk1 = b"Subject: chunked\r\n\r\n.\r\nfirst ";
    let chunk2 = b"second\r\n";
    assert_eq!(c.cmd("MAIL FROM:<a@fabrikam.example>").code, 250);
    assert_eq!(c.cmd("RCPT TO:<alice@contoso.com>").code, 250);
    c.send(format!("BDAT {}\r\n", chunk1.len()).as_bytes());
    c.send(chunk1);
    let reply = c.reply();
    assert_eq!((reply.code, reply.text()), (250, format!("2.0.0 {} octets received", chunk1.len())));
    c.send(format!("BDAT {} LAST\r\n", chunk2.len()).as_bytes());
    c.send(chunk2);
    assert_eq!(c.reply().code, 250);
    // DATA in the middle of a BDAT transfer is refused.
    assert_eq!(c.cmd("MAIL FROM:<a@fabrikam.example>").code, 250);
    assert_eq!(c.cmd("RCPT TO:<bob@contoso.com>").code, 250);
    c.send(b"BDAT 4\r\nabcd");
    assert_eq!(c.reply().code, 250);
    let reply = c.cmd("DATA");
    assert_eq!(
        (reply.code, reply.text()),
        (503, "5.5.1 DATA not allowed after BDAT; finish with BDAT LAST".into())
    );
    assert_eq!(c.cmd("RSET").code, 250);
    // BDAT without a transaction is read (not run as commands) and refused.
    c.send(b"BDAT 6\r\nNOOP\r\n");
    assert_eq!(c.reply().code, 503);
    assert_eq!(c.cmd("NOOP").code, 250);
    let data = cli.data();
    assert_eq!(inbox(&data, "info@contoso.com").len(), 1);
    assert_eq!(inbox(&data, "bob@contoso.com").len(), 1);
    let alice = inbox(&data, "alice@contoso.com");
    assert_eq!(alice.len(), 1);
    assert_eq!(alice[0].without_trace(), b"Subject: chunked\r\n\r\n.\r\nfirst second\r\n");
}

#[test]
fn protocol_errors_get_correct_replies_and_too_many_close_the_connection() {
    let (_cli, server) = served();
    let mut c = LineClient::connect(server.smtp());
    assert_eq!(c.reply().code, 220);
    let check = |c: &mut LineClient, line: &str, code: u16, text: &str| {
        let reply = c.cmd(line);
        assert_eq!((reply.code, reply.text().as_str()), (code, text), "{line}");
    };
    check(&mut c, "MAIL FROM:<a@fabrikam.example>", 503, "5.5.1 Send EHLO or HELO first");
    let ehlo = c.cmd("EHLO client.example");
    for ext in ["PIPELINING", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES", "CHUNKING", "STARTTLS"] {
        assert!(ehlo.lines.iter().any(|l| l == ext), "EHLO offers {ext}: {ehlo:?}");
    }
    assert!(!ehlo.lines.iter().any(|l| l.starts_with("AUTH")), "no AUTH on the MX port");
    check(&mut c, "RCPT TO:<info@contoso.com>", 503, "5.5.1 Need MAIL before RCPT");
    check(&mut c, "DATA", 503, "5.5.1 Need MAIL and RCPT first");
    check(
        &mut c,
        "AUTH PLAIN AGFsaWNlAHg=",
        502,
        "5.5.1 AUTH is not available on this port; use the submission port",
    );
    check(&mut c, "FROB", 500, "5.5.1 Command unrecognized");
    check(&mut c, "MAIL FROM:<not an address>", 501, "5.1.7 Bad sender address syntax");
    check(
        &mut c,
        "MAIL FROM:<a@fabrikam.example> RET=HDRS",
        555,
        "5.5.4 Unsupported parameter (DSN, BINARYMIME, REQUIRETLS, CONPERM and DELIVERBY are not offered here)",
    );
    check(&mut c, "MAIL FROM:<a@fabrikam.example>", 250, "2.1.0 Sender OK");
    check(&mut c, "MAIL FROM:<a@fabrikam.example>", 503, "5.5.1 Sender already given; RSET to start over");
    check(&mut c, "RCPT TO:<@bad>", 501, "5.1.3 Bad recipient address syntax");
    check(&mut c, "DATA", 503, "5.5.1 Need RCPT before the message");
    check(&mut c, "VRFY alice", 252, "2.1.5 Cannot VRFY user, but will accept message and attempt delivery");
    check(&mut c, "EXPN team", 502, "5.5.1 EXPN not implemented");
    // The 20th failure closes the connection with 421.
    let mut last = None;
    for _ in 0..30 {
        match c.cmd_or_close("FROB") {
            Some(reply) if reply.code == 421 => {
                last = Some(reply);
                break;
            }
            Some(reply) => assert_eq!(reply.code, 500),
            None => break,
        }
    }
    assert_eq!(last.map(|r| r.text()), Some("4.7.0 Too many errors, closing connection".into()));
    assert!(c.closed());
}

#[test]
fn starttls_refuses_pipelined_plaintext_commands() {
    let (_cli, server) = served();
    let mut c = LineClient::smtp(server.smtp());
    // CVE-2011-0411: commands sent along with STARTTLS must not run as if
    // they had come over TLS.
    c.send(b"STARTTLS\r\nMAIL FROM:<injected@fabrikam.example>\r\n");
    let reply = c.reply();
    assert_eq!(
        (reply.code, reply.text()),
        (503, "5.5.1 Commands pipelined after STARTTLS; closing connection".into())
    );
    assert!(c.try_reply().is_none(), "the connection is closed");
}

#[test]
fn sigterm_says_421_to_open_sessions_and_exits_cleanly() {
    let (_cli, mut server) = served();
    let mut c = LineClient::smtp(server.smtp());
    assert_eq!(c.cmd("MAIL FROM:<a@fabrikam.example>").code, 250);
    let status = server.terminate();
    assert!(status.success(), "exit status {status:?}");
    let reply = c.try_reply().expect("a 421 before the close");
    assert_eq!(reply.code, 421);
    assert!(reply.text().starts_with("4.3.2 "), "{reply}");
}

#[test]
fn serve_explains_bad_listener_settings() {
    let cli = org();
    let run = cli.run(&["serve", "--smtp-listen", "localhost"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("the smtp listener address \"localhost\" isn't valid: write IP:PORT"),
        "{}",
        run.stderr
    );
    // Every listener is checked before any binds, the HTTPS one too.
    let run = cli.run(&["serve", "--smtp-listen", "127.0.0.1:0", "--https-listen", "127.0.0.1"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("the https listener address \"127.0.0.1\" isn't valid: write IP:PORT"),
        "{}",
        run.stderr
    );
    let run = cli.run(&[
        "serve",
        "--smtp-listen",
        "off",
        "--imap-listen",
        "off",
        "--imaps-listen",
        "off",
        "--http-listen",
        "off",
    ]);
    assert!(run.stderr.contains("every listener is off"), "{}", run.stderr);
    let fresh = Cli::new(env!("CARGO_BIN_EXE_mailroom"));
    let run = fresh.run(&["serve", "--smtp-listen", "127.0.0.1:0"]);
    assert!(run.stderr.contains("run 'mailroom init --domain example.com'"), "{}", run.stderr);
    // The rest of the file (its [store] among it) stays as init wrote it.
    cli.set_section("smtp", "max_message_size = 5");
    let run = cli.run(&["serve"]);
    assert!(run.stderr.contains("smtp.max_message_size must be at least 65536"), "{}", run.stderr);
    cli.set_section("smtp", "max_mesage_size = 5");
    let run = cli.run(&["serve"]);
    assert!(run.stderr.contains("mailroom.toml") && run.stderr.contains("max_mesage_size"), "{}", run.stderr);
}

#[test]
fn quickstart_creates_the_demo_and_serves_it() {
    let cli = Cli::new(env!("CARGO_BIN_EXE_mailroom"));
    let mut server = cli.start_server(&[
        "quickstart",
        "--smtp-listen",
        "127.0.0.1:0",
        "--imap-listen",
        "127.0.0.1:0",
        "--submission-listen",
        "127.0.0.1:0",
        "--http-listen",
        "127.0.0.1:0",
    ]);
    let printed = server.output.join("\n");
    assert!(printed.contains(&format!("listening http {}", server.http())), "{printed}");
    assert!(printed.contains("alice@example.com") && printed.contains("info@example.com"), "{printed}");
    assert!(printed.contains(&format!("listening smtp {}", server.smtp())), "{printed}");
    // The demo's shared mailbox receives mail at once.
    let reply = send_raw(&server, &["info@example.com"], b"Subject: first mail\r\n\r\nhello\r\n.\r\n");
    assert_eq!(reply.code, 250, "{reply}");
    assert!(server.terminate().success());
    let info = inbox(&cli.data(), "info@example.com");
    assert_eq!(info.len(), 1);
    assert_eq!(info[0].without_trace(), b"Subject: first mail\r\n\r\nhello\r\n");
    // It wrote a configuration with unprivileged loopback ports.
    let config = std::fs::read_to_string(cli.data().join("mailroom.toml")).unwrap();
    assert!(config.contains("smtp = \"127.0.0.1:2525\""), "{config}");
    assert!(config.contains("http = \"127.0.0.1:8080\""), "{config}");
}

#[test]
fn connection_limit_and_idle_timeout() {
    let (_cli, server) = served_with("max_connections = 1\nidle_timeout_seconds = 1");
    let mut first = LineClient::smtp(server.smtp());
    // The second connection is told the server is busy, and closed.
    let mut second = LineClient::connect(server.smtp());
    let reply = second.reply();
    assert_eq!(reply.code, 421, "{reply}");
    assert!(reply.text().starts_with("4.3.2 ") && reply.text().contains("too many connections"), "{reply}");
    assert!(second.try_reply().is_none());
    // The first, left idle, is closed with 421 4.4.2.
    let reply = first.reply();
    assert_eq!(reply.code, 421, "{reply}");
    assert!(reply.text().starts_with("4.4.2 "), "{reply}");
    assert!(first.try_reply().is_none());
    // Its slot is free again (once the server has finished closing it).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let mut third = LineClient::connect(server.smtp());
        let greeting = third.reply();
        if greeting.code == 220 {
            assert_eq!(third.cmd("QUIT").code, 221);
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the slot was never given back: {greeting}");
    }
}

#[test]
fn one_address_cannot_take_every_connection() {
    let (_cli, server) = served_with("max_connections_per_ip = 2");
    let mut held: Vec<LineClient> = (0..2).map(|_| LineClient::smtp(server.smtp())).collect();
    let mut third = LineClient::connect(server.smtp());
    let reply = third.reply();
    assert_eq!(reply.code, 421, "{reply}");
    assert_eq!(held[0].cmd("NOOP").code, 250, "the others are unaffected");
    held.clear();
}

#[test]
fn a_stalled_tls_handshake_is_cut_off() {
    let (_cli, server) = served_with("idle_timeout_seconds = 1");
    let mut c = LineClient::smtp(server.smtp());
    assert_eq!(c.cmd("STARTTLS").code, 220);
    // No ClientHello follows: the server gives up instead of holding the slot.
    assert!(c.try_reply().is_none(), "closed");
}

#[test]
fn postmaster_without_a_domain_and_parameters_after_helo() {
    let (cli, server) = served();
    let mut c = LineClient::connect(server.smtp());
    assert_eq!(c.reply().code, 220);
    assert_eq!(c.cmd("HELO old.example").code, 250);
    let reply = c.cmd("MAIL FROM:<a@fabrikam.example> SIZE=100");
    assert_eq!(
        (reply.code, reply.text()),
        (555, "5.5.4 Unsupported parameter (MAIL parameters need EHLO, not HELO)".into())
    );
    assert_eq!(c.cmd("MAIL FROM:<a@fabrikam.example>").code, 250);
    // RFC 5321 §4.5.1: <Postmaster> without a domain MUST be accepted.
    assert_eq!(c.cmd("RCPT TO:<Postmaster>").code, 250);
    assert_eq!(c.cmd("DATA").code, 354);
    c.send(b"Subject: to the postmaster\r\n\r\nhello\r\n.\r\n");
    assert_eq!(c.reply().code, 250);
    let admin = inbox(&cli.data(), "admin@contoso.com");
    assert_eq!(admin.len(), 1);
    assert!(admin[0].text().contains("with SMTP id"), "HELO is recorded as SMTP: {}", admin[0].text());
}

/// RFC 5321 §4.5.1: postmaster@ every accepted domain is accepted, however
/// the organisation is made. Without an admin, `init` makes a shared mailbox
/// for it (and says so); without that too, routing makes one again.
#[test]
fn postmaster_mail_is_accepted_without_any_admin() {
    let cli = Cli::new(env!("CARGO_BIN_EXE_mailroom"));
    let run = cli.run(&["init", "--domain", "contoso.com"]).ok();
    assert!(run.stdout.contains("postmaster@contoso.com"), "{}", run.stdout);
    assert!(run.stdout.contains("goes to the shared mailbox postmaster@contoso.com"), "{}", run.stdout);
    cli.run(&["domain", "add", "fabrikam.com"]).ok();
    let server = cli.serve(&[]);
    mailroom_testkit::mx_send(&server, "", "postmaster@contoso.com", "Subject: one");
    mailroom_testkit::mx_send(&server, "a@example.net", "Postmaster@fabrikam.com", "Subject: two");
    let held = inbox(&cli.data(), "postmaster@contoso.com");
    assert_eq!(held.len(), 2, "both domains' postmaster mail lands in the Postmaster mailbox");
    // With the mailbox gone (and still no admin), mail is accepted all the same.
    cli.run_with_stdin(&["exo", "-"], "Remove-Mailbox postmaster -Confirm:$false\n").ok();
    mailroom_testkit::mx_send(&server, "", "postmaster@fabrikam.com", "Subject: three");
    let held = inbox(&cli.data(), "postmaster@contoso.com");
    assert_eq!(held.len(), 1, "a new Postmaster mailbox holds it");
    assert!(held[0].text().contains("Subject: three"));
    // Once someone is an exchange admin (no global admin), it reaches them.
    cli.run_with_stdin(&["exo", "-"], "Remove-Mailbox postmaster -Confirm:$false\n").ok();
    cli.run_with_stdin(
        &["user", "add", "eve@contoso.com", "--password-stdin", "--role", "exchange-admin"],
        "Eve-pass-1234\n",
    )
    .ok();
    mailroom_testkit::mx_send(&server, "", "postmaster@contoso.com", "Subject: four");
    assert_eq!(inbox(&cli.data(), "eve@contoso.com").len(), 1);
}

/// Port 25 is anonymous: an address of ours as the envelope sender, in
/// `From:` or in `Sender:` would look exactly like a member's Send As in
/// the Inbox, so it is refused and the sender told to use submission. The
/// attacker's moves, each with nothing stored.
#[test]
fn anonymous_mail_cannot_claim_our_addresses() {
    let (cli, server) = served();
    let data = cli.data();
    let cases: [(&str, String, &str); 10] = [
        // The envelope and the From: of a shared mailbox.
        (
            "info@contoso.com",
            "From: Info <info@contoso.com>\r\n".into(),
            "info@contoso.com is an address of this organisation",
        ),
        // A stranger's envelope with our From: (what the reader sees).
        ("carol@fabrikam.example", "From: Info <info@contoso.com>\r\n".into(), "info@contoso.com"),
        // Our envelope with a stranger's From:.
        ("alice@contoso.com", "From: mallory@fabrikam.example\r\n".into(), "alice@contoso.com"),
        // Sender: (clients show "alice on behalf of ...").
        (
            "mallory@fabrikam.example",
            "From: mallory@fabrikam.example\r\nSender: alice@contoso.com\r\n".into(),
            "alice@contoso.com",
        ),
        // Case, a trailing dot, an address nobody has: the domain is ours all the same.
        ("x@fabrikam.example", "From: \"CEO\" <Nobody@CONTOSO.com.>\r\n".into(), "Nobody@contoso.com"),
        // A second From: for the client to show instead.
        (
            "x@fabrikam.example",
            "From: x@fabrikam.example\r\nFrom: info@contoso.com\r\n".into(),
            "more than one From: field",
        ),
        // An address of ours in a group.
        ("x@fabrikam.example", "From: Staff: info@contoso.com;\r\n".into(), "info@contoso.com"),
        // A display name that spells out an address of ours.
        (
            "x@fabrikam.example",
            "From: \"info@contoso.com\" <x@fabrikam.example>\r\n".into(),
            "info@contoso.com",
        ),
        // The ideographic full stop, which readers show as a dot.
        ("x@fabrikam.example", "From: info@contoso\u{3002}com\r\n".into(), "info@contoso.com"),
        // A From: far down a long header is still read (and there are two).
        (
            "x@fabrikam.example",
            format!(
                "From: x@fabrikam.example\r\n{}From: info@contoso.com\r\n",
                (0..300).map(|i| format!("X-Pad-{i}: {}\r\n", "p".repeat(1000))).collect::<String>()
            ),
            "more than one From: field",
        ),
    ];
    for (envelope, header, expected) in &cases {
        let header = format!("{header}To: alice@contoso.com\r\nSubject: urgent\r\n");
        let reply = mailroom_testkit::mx_refused(&server, envelope, "alice@contoso.com", &header);
        assert_eq!((reply.code, &reply.text()[..5]), (550, "5.7.1"), "{envelope} {header}: {}", reply.text());
        assert!(reply.text().contains(expected), "{}", reply.text());
        assert!(reply.text().contains("submission") || expected.contains("From:"), "{}", reply.text());
    }
    // A line of only a stray CR ends the header for the parser the rules
    // read, not for an IMAP client reading BODY[HEADER]: the From: after it
    // would be shown and never checked. Such a header is refused.
    let hidden =
        "X-A: 1\r\n\r\r\nFrom: Info <info@contoso.com>\r\nTo: alice@contoso.com\r\nSubject: urgent\r\n";
    let reply = mailroom_testkit::mx_refused(&server, "x@fabrikam.example", "alice@contoso.com", hidden);
    assert_eq!((reply.code, &reply.text()[..5]), (550, "5.6.0"), "{}", reply.text());
    // From: fields too large to hold whole can't be checked: refused.
    let froms: String =
        (0..100).map(|i| format!("From: {}{i}@fabrikam.example\r\n", "f".repeat(1000))).collect();
    let reply = mailroom_testkit::mx_refused(&server, "x@fabrikam.example", "alice@contoso.com", &froms);
    assert_eq!((reply.code, &reply.text()[..5]), (552, "5.3.4"), "{}", reply.text());
    assert!(inbox(&data, "alice@contoso.com").is_empty(), "nothing was delivered");
    // Mail from outside, about us, is still welcome.
    let header = "From: Ann <ann@fabrikam.example>\r\nTo: alice@contoso.com\r\nCc: info@contoso.com\r\nReply-To: info@contoso.com\r\nSubject: hello\r\n";
    mailroom_testkit::mx_send(&server, "ann@fabrikam.example", "alice@contoso.com", header);
    assert_eq!(inbox(&data, "alice@contoso.com").len(), 1);
}

/// The attacker's move against the memory budget: declare huge BDAT chunks
/// and send nothing. A chunk is charged as its octets arrive, so ten such
/// connections hold nothing, and a real message of the same size is taken.
#[test]
fn a_declared_bdat_size_holds_no_memory_until_its_data_arrives() {
    let (cli, server) = served();
    let size = 37_000_000;
    let _stalled: Vec<LineClient> = (0..10)
        .map(|_| {
            let mut c = LineClient::smtp(server.smtp());
            assert_eq!(c.cmd("MAIL FROM:<a@fabrikam.example>").code, 250);
            assert_eq!(c.cmd("RCPT TO:<info@contoso.com>").code, 250);
            c.send(format!("BDAT {size} LAST\r\n").as_bytes());
            c
        })
        .collect();
    let mut message = b"From: a@fabrikam.example\r\nSubject: big\r\n\r\n".to_vec();
    let line = [b"x".repeat(998), b"\r\n".to_vec()].concat();
    while message.len() + line.len() <= size {
        message.extend_from_slice(&line);
    }
    message.resize(size, b'y');
    let mut c = LineClient::smtp(server.smtp());
    assert_eq!(c.cmd("MAIL FROM:<b@fabrikam.example>").code, 250);
    assert_eq!(c.cmd("RCPT TO:<info@contoso.com>").code, 250);
    c.send(format!("BDAT {size} LAST\r\n").as_bytes());
    c.send(&message);
    let reply = c.reply();
    assert_eq!(reply.code, 250, "{}", reply.text());
    assert_eq!(inbox(&cli.data(), "info@contoso.com").len(), 1);
}

/// The admin may trust hosts to send as the organisation on port 25 (a
/// scanner, an application): `[smtp] trusted_relays`. Nobody else may.
/// The organisation's strict DMARC policy doesn't junk or refuse them:
/// their mail is recorded as failing, and delivered.
#[test]
fn trusted_relays_may_send_as_the_organisation() {
    let cli = org();
    cli.dns().add("contoso.com", "TXT", "v=spf1 mx -all");
    cli.dns().add("_dmarc.contoso.com", "TXT", "v=DMARC1; p=reject");
    let config = cli.data().join("mailroom.toml");
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("trusted_relays = []", "trusted_relays = [\"127.0.0.1\"]");
    std::fs::write(&config, text).unwrap();
    let server = cli.serve(&[]);
    let header = "From: Scanner <scanner@contoso.com>\r\nTo: alice@contoso.com\r\nSubject: scan\r\n";
    mailroom_testkit::mx_send(&server, "scanner@contoso.com", "alice@contoso.com", header);
    let delivered = inbox(&cli.data(), "alice@contoso.com");
    assert_eq!(delivered.len(), 1);
    let text = delivered[0].text();
    assert!(text.contains("dmarc=fail") && text.contains("policy.dmarc=reject"), "{text}");
    // Still no relaying, and still one From: only.
    let mut c = LineClient::smtp(server.smtp());
    assert_eq!(c.cmd("MAIL FROM:<scanner@contoso.com>").code, 250);
    assert_eq!(c.cmd("RCPT TO:<someone@fabrikam.example>").code, 550);
    let two = "From: a@contoso.com\r\nFrom: b@contoso.com\r\nTo: alice@contoso.com\r\n";
    assert_eq!(
        mailroom_testkit::mx_refused(&server, "scanner@contoso.com", "alice@contoso.com", two).code,
        550
    );
}
