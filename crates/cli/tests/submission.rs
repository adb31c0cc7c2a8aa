//! Submission (SPEC §2–3) against a real `mailroom serve` on
//! 127.0.0.1:0: AUTH, then Send As / Send on Behalf / own address decided by
//! `core` at the moment of sending, with the exact headers that arrive, the
//! copy in the shared mailbox's Sent Items, and every refusal's reply —
//! driven by Python's smtplib, swaks and a raw line client.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use mailroom_testkit::inspect::{folder_messages, inbox};
use mailroom_testkit::{Cli, LineClient, Server, python};

/// contoso.com: Alice and Bob (users); Info (shared) where Alice has Full
/// Access and Send As and Bob has Send on Behalf, both copied to its Sent
/// Items; Sales (shared) where nobody has anything; Small (shared, tiny
/// quotas) where Alice has Send As.
const ORG: &str = r#"
New-Mailbox -Name Alice -Alias alice -DisplayName 'Alice Jones' -PrimarySmtpAddress alice@contoso.com -Password 'Alice-pass-123'
New-Mailbox -Name Bob -Alias bob -DisplayName 'Bob Smith' -PrimarySmtpAddress bob@contoso.com -Password 'Bob-pass-1234'
New-Mailbox -Shared -Name Info -Alias info -PrimarySmtpAddress info@contoso.com
Add-MailboxPermission info -User alice -AccessRights FullAccess -InheritanceType All
Add-RecipientPermission info -Trustee alice -AccessRights SendAs -Confirm:$false
Set-Mailbox info -GrantSendOnBehalfTo bob -MessageCopyForSentAsEnabled $true -MessageCopyForSendOnBehalfEnabled $true
New-Mailbox -Shared -Name Sales -Alias sales -PrimarySmtpAddress sales@contoso.com
New-Mailbox -Shared -Name Small -Alias small -PrimarySmtpAddress small@contoso.com
Set-Mailbox small -IssueWarningQuota 3KB -ProhibitSendQuota 7KB -ProhibitSendReceiveQuota 30KB
Add-RecipientPermission small -Trustee alice -AccessRights SendAs -Confirm:$false
"#;

fn served() -> (Cli, Server) {
    let cli = Cli::new(env!("CARGO_BIN_EXE_mailroom"));
    cli.contoso_with(ORG);
    cli.hold_outbound();
    let server = cli.serve(&[]);
    (cli, server)
}

/// Signs in with smtplib (it picks AUTH PLAIN or LOGIN from EHLO) and sends
/// one message; prints the outcome as JSON: the code and text of a refusal.
const SMTPLIB_SUBMIT: &str = r#"
import json, smtplib, sys
host, port, login, password, mail_from, rcpts, message = sys.argv[1:8]
# The name a laptop greets with: it must not reach the message (SPEC §2).
s = smtplib.SMTP(host, int(port), timeout=20, local_hostname='alices-macbook.local')
out = {}
try:
    s.login(login, password)
    refused = s.sendmail(mail_from, rcpts.split(','), message.encode())
    out['code'] = 250
    out['refused'] = {k: [v[0], v[1].decode()] for k, v in refused.items()}
except smtplib.SMTPAuthenticationError as e:
    out['code'] = e.smtp_code; out['text'] = e.smtp_error.decode()
except smtplib.SMTPSenderRefused as e:
    out['code'] = e.smtp_code; out['text'] = e.smtp_error.decode()
except smtplib.SMTPRecipientsRefused as e:
    (code, text), = e.recipients.values()
    out['code'] = code; out['text'] = text.decode()
except smtplib.SMTPDataError as e:
    out['code'] = e.smtp_code; out['text'] = e.smtp_error.decode()
s.quit()
print(json.dumps(out))
"#;

struct Outcome {
    code: u64,
    text: String,
}

fn submit(
    server: &Server,
    login: &str,
    password: &str,
    mail_from: &str,
    rcpts: &str,
    message: &str,
) -> Outcome {
    let addr = server.submission();
    let out = python(
        SMTPLIB_SUBMIT,
        &[&addr.ip().to_string(), &addr.port().to_string(), login, password, mail_from, rcpts, message],
    );
    let json: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    Outcome {
        code: json["code"].as_u64().unwrap(),
        text: json["text"].as_str().unwrap_or_default().to_string(),
    }
}

fn message(from: &str, to: &str, subject: &str, extra: &str) -> String {
    format!("From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\n{extra}\r\nHello.\r\n")
}

/// The header fields of a stored message named `name`, values trimmed.
fn fields(text: &str, name: &str) -> Vec<String> {
    let header = text.split("\r\n\r\n").next().unwrap();
    header
        .split("\r\n")
        .filter_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
        .collect()
}

#[test]
fn own_address_send_as_and_send_on_behalf_arrive_as_exchange_sends_them() {
    let (cli, server) = served();
    // Her own address: as it is.
    let own = submit(
        &server,
        "alice@contoso.com",
        "Alice-pass-123",
        "alice@contoso.com",
        "bob@contoso.com",
        &message(
            "Alice Jones <alice@contoso.com>",
            "bob@contoso.com",
            "own",
            "Sender: CEO <ceo@contoso.com>\r\n",
        ),
    );
    assert_eq!(own.code, 250, "{}", own.text);
    // Send As: From the mailbox, and the Sender: the client wrote is gone.
    let send_as = submit(
        &server,
        "alice@contoso.com",
        "Alice-pass-123",
        "info@contoso.com",
        "bob@contoso.com",
        &message(
            "Info <info@contoso.com>",
            "bob@contoso.com",
            "send-as",
            "Sender: Alice Jones <alice@contoso.com>\r\n",
        ),
    );
    assert_eq!(send_as.code, 250, "{}", send_as.text);
    // Send on Behalf: the server writes Sender: the person, whatever the client said.
    let behalf = submit(
        &server,
        "bob@contoso.com",
        "Bob-pass-1234",
        "info@contoso.com",
        "alice@contoso.com",
        &message(
            "Info <info@contoso.com>",
            "alice@contoso.com",
            "on-behalf",
            "Sender: someone@else.example\r\n",
        ),
    );
    assert_eq!(behalf.code, 250, "{}", behalf.text);

    let data = cli.data();
    let bobs = inbox(&data, "bob@contoso.com");
    assert_eq!(bobs.len(), 2);
    let own = bobs.iter().find(|m| m.text().contains("Subject: own")).unwrap().text();
    assert_eq!(fields(&own, "From"), ["Alice Jones <alice@contoso.com>"]);
    assert!(fields(&own, "Sender").is_empty(), "a client's Sender: never passes: {own}");
    // The trace names the server alone — not the laptop, not its address —
    // with RFC 3848's ESMTPA (loopback without TLS, signed in).
    assert!(own.starts_with("Received: by ") && own.contains(" (Mailroom) with ESMTPA id "), "{own}");
    assert_eq!(fields(&own, "Received").len(), 1, "{own}");
    // The submission server adds what the client left out (RFC 6409 §8).
    assert_eq!(fields(&own, "Date").len(), 1, "{own}");
    assert_eq!(fields(&own, "Message-ID").len(), 1, "{own}");
    let send_as = bobs.iter().find(|m| m.text().contains("Subject: send-as")).unwrap().text();
    assert_eq!(fields(&send_as, "From"), ["Info <info@contoso.com>"]);
    assert!(fields(&send_as, "Sender").is_empty(), "no trace of the person: {send_as}");
    assert!(!send_as.contains("alice@contoso.com"), "no trace of the person: {send_as}");
    let alices = inbox(&data, "alice@contoso.com");
    let behalf = alices.iter().find(|m| m.text().contains("Subject: on-behalf")).unwrap().text();
    assert_eq!(fields(&behalf, "From"), ["Info <info@contoso.com>"]);
    assert_eq!(fields(&behalf, "Sender"), ["Bob Smith <bob@contoso.com>"]);

    // Both are copied to Info's Sent Items, read, for every member to see.
    let sent = folder_messages(&data, "info@contoso.com", "Sent Items");
    let subjects: Vec<String> = sent.iter().map(|m| fields(&m.text(), "Subject")[0].clone()).collect();
    assert_eq!(subjects, ["send-as", "on-behalf"]);
    assert!(sent.iter().all(|m| m.meta.flags.has(mailroom_core::mail::SystemFlag::Seen)));
    // Nothing in Info's Inbox: it was sent from there, not to it.
    assert!(inbox(&data, "info@contoso.com").is_empty());
    // Mail sent as a user isn't copied anywhere else.
    assert!(folder_messages(&data, "alice@contoso.com", "Sent Items").is_empty());

    // Send As leaves no trace of the person's machine either: not in the
    // copies kept here, not in what leaves for another domain.
    let remote = submit(
        &server,
        "alice@contoso.com",
        "Alice-pass-123",
        "info@contoso.com",
        "partner@fabrikam.example",
        &message("Info <info@contoso.com>", "partner@fabrikam.example", "send-as-out", ""),
    );
    assert_eq!(remote.code, 250, "{}", remote.text);
    let queued = mailroom_testkit::inspect::queued_messages(&data);
    let outgoing = String::from_utf8_lossy(&queued[0].1).into_owned();
    assert!(outgoing.starts_with("Received: by "), "{outgoing}");
    let stored: Vec<String> = inbox(&data, "bob@contoso.com")
        .iter()
        .chain(&folder_messages(&data, "info@contoso.com", "Sent Items"))
        .map(|m| m.text())
        .chain([outgoing])
        .collect();
    for text in &stored {
        for trace in ["alices-macbook", "127.0.0.1", "Received: from"] {
            assert!(!text.contains(trace), "{trace} in {text}");
        }
    }
}

#[test]
fn refusals_name_what_is_wrong() {
    let (_cli, server) = served();
    let send = |login: &str, password: &str, from: &str, rcpt: &str, msg: &str| {
        submit(&server, login, password, from, rcpt, msg)
    };
    // No right on Sales: Exchange's 5.7.60.
    let refused = send(
        "alice@contoso.com",
        "Alice-pass-123",
        "sales@contoso.com",
        "bob@contoso.com",
        &message("sales@contoso.com", "bob@contoso.com", "x", ""),
    );
    assert_eq!(
        (refused.code, refused.text.as_str()),
        (550, "5.7.60 You don't have permission to send the message on behalf of the specified user.")
    );
    // The envelope sender is checked too, not only From:.
    let refused = send(
        "alice@contoso.com",
        "Alice-pass-123",
        "sales@contoso.com",
        "bob@contoso.com",
        &message("alice@contoso.com", "bob@contoso.com", "x", ""),
    );
    assert_eq!(refused.code, 550, "{}", refused.text);
    // Full Access alone doesn't allow sending: Bob's on-behalf right is his, not Full Access.
    let refused = send(
        "bob@contoso.com",
        "Bob-pass-1234",
        "bob@contoso.com",
        "alice@contoso.com",
        &message("sales@contoso.com", "alice@contoso.com", "x", ""),
    );
    assert_eq!(refused.code, 550, "{}", refused.text);
    // Wrong password, and a shared mailbox's own account: the same failure.
    let wrong = send("alice@contoso.com", "wrong-password", "alice@contoso.com", "bob@contoso.com", "x");
    assert_eq!((wrong.code, wrong.text.as_str()), (535, "5.7.8 Authentication credentials invalid"));
    let shared = send("info@contoso.com", "Alice-pass-123", "info@contoso.com", "bob@contoso.com", "x");
    assert_eq!((shared.code, shared.text.as_str()), (535, "5.7.8 Authentication credentials invalid"));
    // Unknown local recipient.
    let unknown = send(
        "alice@contoso.com",
        "Alice-pass-123",
        "alice@contoso.com",
        "nobody@contoso.com",
        &message("alice@contoso.com", "nobody@contoso.com", "x", ""),
    );
    assert_eq!(unknown.code, 550);
    assert!(unknown.text.starts_with("5.1.1 "), "{}", unknown.text);
    let remote = send(
        "alice@contoso.com",
        "Alice-pass-123",
        "alice@contoso.com",
        "someone@fabrikam.example",
        &message("alice@contoso.com", "someone@fabrikam.example", "x", ""),
    );
    // A remote one is accepted into the outbound queue (tests/outbound.rs).
    assert_eq!(remote.code, 250, "{}", remote.text);
    // One From: naming several addresses, or several From: fields: refused,
    // whatever comes first.
    let several = send(
        "alice@contoso.com",
        "Alice-pass-123",
        "alice@contoso.com",
        "bob@contoso.com",
        "From: alice@contoso.com, sales@contoso.com\r\nSubject: two\r\n\r\nx\r\n",
    );
    assert_eq!(several.code, 550, "{}", several.text);
    let twice = send(
        "alice@contoso.com",
        "Alice-pass-123",
        "alice@contoso.com",
        "bob@contoso.com",
        "From: alice@contoso.com\r\nFrom: sales@contoso.com\r\nSubject: twice\r\n\r\nx\r\n",
    );
    assert_eq!(twice.code, 550, "{}", twice.text);
    // No From: header at all.
    let no_from = send(
        "alice@contoso.com",
        "Alice-pass-123",
        "alice@contoso.com",
        "bob@contoso.com",
        "To: bob@contoso.com\r\nSubject: anonymous\r\n\r\nx\r\n",
    );
    assert_eq!(no_from.code, 550);
    assert!(no_from.text.starts_with("5.6.0 The message has no From:"), "{}", no_from.text);

    // Past ProhibitSendQuota: sending as Small is refused, receiving still works.
    let mut mx = LineClient::smtp(server.smtp());
    assert_eq!(mx.cmd("MAIL FROM:<x@fabrikam.example>").code, 250);
    assert_eq!(mx.cmd("RCPT TO:<small@contoso.com>").code, 250);
    assert_eq!(mx.cmd("DATA").code, 354);
    let big = format!("Subject: fill\r\n\r\n{}\r\n.\r\n", "y".repeat(8 * 1024));
    mx.send(big.as_bytes());
    assert_eq!(mx.reply().code, 250);
    let over = send(
        "alice@contoso.com",
        "Alice-pass-123",
        "small@contoso.com",
        "bob@contoso.com",
        &message("small@contoso.com", "bob@contoso.com", "x", ""),
    );
    assert_eq!(over.code, 554);
    assert!(
        over.text.starts_with("5.2.2 The mailbox small@contoso.com is over its ProhibitSendQuota (7 KB"),
        "{}",
        over.text
    );
}

#[test]
fn a_grant_counts_for_the_very_next_message_and_a_removal_too() {
    let (cli, server) = served();
    let attempt = || {
        submit(
            &server,
            "alice@contoso.com",
            "Alice-pass-123",
            "sales@contoso.com",
            "bob@contoso.com",
            &message("sales@contoso.com", "bob@contoso.com", "now", ""),
        )
        .code
    };
    assert_eq!(attempt(), 550);
    cli.exo("Add-RecipientPermission sales -Trustee alice -AccessRights SendAs -Confirm:$false").ok();
    assert_eq!(attempt(), 250, "the grant made a moment ago counts");
    cli.exo("Remove-RecipientPermission sales -Trustee alice -AccessRights SendAs -Confirm:$false").ok();
    assert_eq!(attempt(), 550, "and so does its removal");
}

#[test]
fn swaks_with_starttls_and_auth_login() {
    let (cli, server) = served();
    let addr = server.submission();
    let output = std::process::Command::new("swaks")
        .args([
            "--server",
            &addr.ip().to_string(),
            "--port",
            &addr.port().to_string(),
            "--tls",
            "--auth",
            "LOGIN",
            "--auth-user",
            "alice@contoso.com",
            "--auth-password",
            "Alice-pass-123",
            "--from",
            "info@contoso.com",
            "--to",
            "bob@contoso.com",
            "--header",
            "From: Info <info@contoso.com>",
            "--header",
            "Subject: via swaks",
        ])
        .output()
        .unwrap();
    let transcript = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{transcript}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(transcript.contains("<~  235 2.7.0 Authentication successful"), "{transcript}");
    let bobs = inbox(&cli.data(), "bob@contoso.com");
    assert_eq!(bobs.len(), 1);
    let text = bobs[0].text();
    assert!(text.contains(" with ESMTPSA id "), "{text}");
    assert_eq!(fields(&text, "From"), ["Info <info@contoso.com>"]);
}

#[test]
fn auth_exchanges_on_the_wire() {
    let (_cli, server) = served();
    let mut c = LineClient::smtp(server.submission());
    let ehlo = c.cmd("EHLO client.example");
    assert!(ehlo.lines.iter().any(|l| l == "AUTH PLAIN LOGIN"), "{ehlo}");
    // Nothing is sent before signing in.
    assert_eq!(
        c.cmd("MAIL FROM:<alice@contoso.com>").text(),
        "5.7.0 Authentication required: sign in with AUTH first"
    );
    assert_eq!(c.cmd("AUTH CRAM-MD5").code, 504);
    // LOGIN with its two prompts; "*" cancels.
    assert_eq!(c.cmd("AUTH LOGIN").lines, ["VXNlcm5hbWU6"]);
    assert_eq!(c.cmd("*").text(), "5.0.0 Authentication cancelled");
    assert_eq!(c.cmd("AUTH PLAIN !!!").text(), "5.5.2 Cannot decode the response: send base64");
    // PLAIN with the credentials after a 334.
    assert_eq!(c.cmd("AUTH PLAIN").code, 334);
    // \0alice@contoso.com\0Alice-pass-123
    assert_eq!(c.cmd("AGFsaWNlQGNvbnRvc28uY29tAEFsaWNlLXBhc3MtMTIz").code, 235);
    assert_eq!(
        c.cmd("AUTH PLAIN AGFsaWNlQGNvbnRvc28uY29tAEFsaWNlLXBhc3MtMTIz").text(),
        "5.5.1 Already authenticated"
    );
    // RFC 4954 §5: AUTH= is accepted (and ignored) on submission.
    assert_eq!(c.cmd("MAIL FROM:<alice@contoso.com> AUTH=<>").code, 250);
    assert_eq!(c.cmd("RCPT TO:<bob@contoso.com>").code, 250);
    assert_eq!(c.cmd("QUIT").code, 221);
    // Port 25 takes no AUTH at all.
    let mut mx = LineClient::smtp(server.smtp());
    let ehlo = mx.cmd("EHLO client.example");
    assert!(!ehlo.lines.iter().any(|l| l.starts_with("AUTH")), "{ehlo}");
    assert_eq!(mx.cmd("AUTH PLAIN AGFsaWNlQGNvbnRvc28uY29tAEFsaWNlLXBhc3MtMTIz").code, 502);
}

const SMTPLIB_SSL: &str = r#"
import smtplib, ssl, sys
host, port = sys.argv[1], int(sys.argv[2])
context = ssl.create_default_context()
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE  # the server's certificate is self-signed here
s = smtplib.SMTP_SSL(host, port, context=context, timeout=20)
s.ehlo()
print('starttls' in s.esmtp_features, 'auth' in s.esmtp_features)
s.login('bob@contoso.com', 'Bob-pass-1234')
s.sendmail('info@contoso.com', ['alice@contoso.com'], b'From: info@contoso.com\r\nSubject: implicit tls\r\n\r\nhi\r\n')
s.quit()
"#;

#[test]
fn submission_over_implicit_tls() {
    let cli = Cli::new(env!("CARGO_BIN_EXE_mailroom"));
    cli.contoso_with(ORG);
    cli.hold_outbound();
    let server = cli.serve(&["--submissions-listen", "127.0.0.1:0"]);
    let addr = server.listeners["submissions"];
    let out = python(SMTPLIB_SSL, &[&addr.ip().to_string(), &addr.port().to_string()]);
    // Inside TLS already: no STARTTLS offered, AUTH is.
    assert_eq!(out.trim(), "False True");
    let alices = inbox(&cli.data(), "alice@contoso.com");
    let text = alices[0].text();
    assert!(text.contains(" with ESMTPSA id "), "{text}");
    assert_eq!(fields(&text, "Sender"), ["Bob Smith <bob@contoso.com>"], "Bob sends on behalf of Info");
}

#[test]
fn repeated_failed_sign_ins_are_answered_ever_more_slowly() {
    let (_cli, server) = served();
    let mut c = LineClient::smtp(server.submission());
    c.cmd("EHLO client.example");
    // \0alice@contoso.com\0wrong-password
    let wrong = "AUTH PLAIN AGFsaWNlQGNvbnRvc28uY29tAHdyb25nLXBhc3N3b3Jk";
    for _ in 0..5 {
        assert_eq!(c.cmd(wrong).code, 535);
    }
    // The sixth waits a second before its answer. A success makes this
    // address trusted for her account: her next attempts skip the queue
    // (its failures still count against the address for other accounts).
    let start = std::time::Instant::now();
    assert_eq!(c.cmd(wrong).code, 535);
    assert!(start.elapsed() >= std::time::Duration::from_millis(900), "{:?}", start.elapsed());
    assert_eq!(c.cmd("AUTH PLAIN AGFsaWNlQGNvbnRvc28uY29tAEFsaWNlLXBhc3MtMTIz").code, 235);
    let mut again = LineClient::smtp(server.submission());
    again.cmd("EHLO client.example");
    let start = std::time::Instant::now();
    assert_eq!(again.cmd(wrong).code, 535);
    assert!(start.elapsed() < std::time::Duration::from_millis(900), "her own address, trusted now");
}

/// The attacker's move against the old throttle: many connections guess at
/// once, each computing its delay before any of them failed. Attempts are
/// counted when they start and queued: of 12 parallel guesses only the
/// first 9 are answered at once, the others 1 s, 3 s and 7 s later.
#[test]
fn parallel_guesses_wait_in_one_queue() {
    let (_cli, server) = served();
    let addr = server.submission();
    let guessers = 12;
    let ready = std::sync::Arc::new(std::sync::Barrier::new(guessers));
    let threads: Vec<_> = (0..guessers)
        .map(|i| {
            let ready = ready.clone();
            std::thread::spawn(move || {
                let mut c = LineClient::smtp(addr);
                // \0alice@contoso.com\0wrong-password-N
                let guess = mailroom_mime::encode_base64(
                    format!("\0alice@contoso.com\0wrong-password-{i}").as_bytes(),
                );
                ready.wait();
                let start = std::time::Instant::now();
                let code = c.cmd(&format!("AUTH PLAIN {guess}")).code;
                (code, start.elapsed())
            })
        })
        .collect();
    let mut answers: Vec<(u16, std::time::Duration)> =
        threads.into_iter().map(|t| t.join().unwrap()).collect();
    answers.sort_by_key(|(_, elapsed)| *elapsed);
    assert!(answers.iter().all(|(code, _)| *code == 535), "{answers:?}");
    let seconds: Vec<f64> = answers.iter().map(|(_, e)| e.as_secs_f64()).collect();
    // Nine go at once (five free failures and four in flight), then one slot at a time.
    assert!(seconds[8] < 1.0, "{seconds:?}");
    for (index, earliest) in [(9, 1.0), (10, 3.0), (11, 7.0)] {
        assert!(seconds[index] >= earliest - 0.1, "answer {index} at {seconds:?}");
    }
}

const SIGN_IN_THEN_STARTTLS: &str = r#"
import smtplib, ssl, sys
context = ssl.create_default_context()
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE  # self-signed here
s = smtplib.SMTP(sys.argv[1], int(sys.argv[2]), timeout=20)
s.login('alice@contoso.com', 'Alice-pass-123')   # in plaintext (allowed from loopback)
s.starttls(context=context)
s.ehlo()
code, text = s.mail('alice@contoso.com')
print(code, text.decode())
"#;

#[test]
fn starttls_forgets_a_sign_in_made_before_it() {
    let (_cli, server) = served();
    let addr = server.submission();
    let out = python(SIGN_IN_THEN_STARTTLS, &[&addr.ip().to_string(), &addr.port().to_string()]);
    // RFC 3207 §4.2: nothing learned before TLS carries across.
    assert_eq!(out.trim(), "530 5.7.0 Authentication required: sign in with AUTH first");
}

/// "Exactly one From:" holds however long the header: a second From: 300
/// KiB down (past what the summary once kept) is still counted, and a header
/// too large to summarise whole is refused rather than half-checked.
#[test]
fn a_second_from_far_down_a_long_header_is_never_missed() {
    let (cli, server) = served();
    let mut c = LineClient::smtp(server.submission());
    assert_eq!(c.cmd("AUTH PLAIN AGFsaWNlQGNvbnRvc28uY29tAEFsaWNlLXBhc3MtMTIz").code, 235);
    let mut send = |padding_lines: usize| {
        let padding: String =
            (0..padding_lines).map(|i| format!("X-Pad-{i}: {}\r\n", "p".repeat(1000))).collect();
        assert_eq!(c.cmd("MAIL FROM:<alice@contoso.com>").code, 250);
        assert_eq!(c.cmd("RCPT TO:<bob@contoso.com>").code, 250);
        assert_eq!(c.cmd("DATA").code, 354);
        let message = format!(
            "From: alice@contoso.com\r\n{padding}From: Info <info@contoso.com>\r\nTo: bob@contoso.com\r\nSubject: two\r\n\r\nx\r\n.\r\n"
        );
        c.send(message.as_bytes());
        c.reply()
    };
    // However far down, the second From: is counted (the summary once cut
    // the header at 256 KiB, and this one was accepted).
    for lines in [200, 300] {
        let reply = send(lines);
        assert_eq!((reply.code, &reply.text()[..6]), (550, "5.7.60"), "{lines}: {}", reply.text());
    }
    // A From: hidden behind a line of only a stray CR (a header that ends
    // early for the parser, not for an IMAP client): refused, not half-read.
    assert_eq!(c.cmd("MAIL FROM:<alice@contoso.com>").code, 250);
    assert_eq!(c.cmd("RCPT TO:<bob@contoso.com>").code, 250);
    assert_eq!(c.cmd("DATA").code, 354);
    c.send(b"From: alice@contoso.com\r\n\r\r\nFrom: Info <info@contoso.com>\r\nSubject: x\r\n\r\nx\r\n.\r\n");
    let reply = c.reply();
    assert_eq!((reply.code, &reply.text()[..5]), (550, "5.6.0"), "{}", reply.text());
    assert!(inbox(&cli.data(), "bob@contoso.com").is_empty(), "nothing was delivered");
}
