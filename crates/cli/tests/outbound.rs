//! The outbound queue (SPEC §3) against a real `mailroom serve`:
//! mail for other domains submitted by signed-in users goes through a
//! smarthost — here the testkit's sink SMTP server on 127.0.0.1:0, or a
//! second Mailroom — with retries after temporary failures, a delivery
//! status notification (RFC 3464) for permanent ones, a delay notice and
//! expiry, and a queue that survives a restart.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mailroom_testkit::inspect::inbox;
use mailroom_testkit::{Cli, Server, Sink, python};

/// contoso.com: Alice (user) and Info (shared; Alice has Send As).
const ORG: &str = r#"
New-Mailbox -Name Alice -Alias alice -PrimarySmtpAddress alice@contoso.com -Password 'Alice-pass-123'
New-Mailbox -Shared -Name Info -Alias info -PrimarySmtpAddress info@contoso.com
Add-RecipientPermission info -Trustee alice -AccessRights SendAs -Confirm:$false
"#;

/// The organisation, with `[outbound]` set to send through `smarthost`
/// and to retry quickly.
fn org(smarthost: SocketAddr, expire_seconds: u64, delay_notice_seconds: u64) -> Cli {
    let cli = Cli::new(env!("CARGO_BIN_EXE_mailroom"));
    cli.contoso_with(ORG);
    cli.set_outbound(&smarthost.to_string(), 1, expire_seconds, delay_notice_seconds);
    cli
}

const SUBMIT: &str = r#"
import smtplib, sys
host, port, mail_from, rcpts, message = sys.argv[1:6]
s = smtplib.SMTP(host, int(port), timeout=20)
s.login('alice@contoso.com', 'Alice-pass-123')
refused = s.sendmail(mail_from, rcpts.split(','), message.encode())
s.quit()
print(len(refused))
"#;

fn submit(server: &Server, from: &str, rcpts: &str, subject: &str) {
    let addr = server.submission();
    let message =
        format!("From: {from}\r\nTo: {rcpts}\r\nSubject: {subject}\r\n\r\n.leading dot line\r\nHello.\r\n");
    let out = python(SUBMIT, &[&addr.ip().to_string(), &addr.port().to_string(), from, rcpts, &message]);
    assert_eq!(out.trim(), "0", "every recipient accepted at submission");
}

/// Waits up to 20 s for `done`.
fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < Duration::from_secs(20), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn queue(cli: &Cli) -> Vec<serde_json::Value> {
    cli.queue()
}

#[test]
fn remote_mail_goes_through_the_smarthost_with_retries_and_bounces() {
    let sink = Sink::start();
    let cli = org(sink.addr, 3600, 3600);
    let server = cli.serve(&[]);
    submit(
        &server,
        "info@contoso.com",
        "ok@fabrikam.example,temp@fabrikam.example,perm@fabrikam.example,alice@contoso.com",
        "quarterly",
    );
    // The local copy is there at once; the remote ones follow.
    assert_eq!(inbox(&cli.data(), "alice@contoso.com").len(), 1);
    eventually("the sink to receive both deliverable recipients", || {
        sink.received().iter().flat_map(|r| r.rcpts.clone()).collect::<Vec<_>>().len() == 2
    });
    let received = sink.received();
    // One connection for the domain at first (ok), one more after the 451 (temp).
    assert_eq!(received.len(), 2, "{received:?}");
    assert_eq!(received[0].rcpts, ["ok@fabrikam.example"]);
    assert_eq!(received[1].rcpts, ["temp@fabrikam.example"]);
    for r in &received {
        assert_eq!(r.from, "info@contoso.com");
        assert!(r.data.contains("From: info@contoso.com\r\n"), "{}", r.data);
        // No `Sender:` field (DKIM's h= may name it: its absence is signed).
        assert!(
            !r.data.lines().any(|l| l.to_ascii_lowercase().starts_with("sender:")),
            "Send As leaves no trace of the person: {}",
            r.data
        );
        assert!(
            r.data.contains("\r\n.leading dot line\r\n"),
            "dot-stuffing undone by the receiver: {}",
            r.data
        );
    }
    // perm@ was refused for good: Info (the envelope sender) gets the DSN.
    eventually("the DSN", || !inbox(&cli.data(), "info@contoso.com").is_empty());
    let dsn = inbox(&cli.data(), "info@contoso.com")[0].text();
    assert!(dsn.contains("Subject: Undeliverable: quarterly\r\n"), "{dsn}");
    assert!(dsn.contains("From: Mail Delivery System <postmaster@contoso.com>"), "{dsn}");
    assert!(dsn.contains("Content-Type: multipart/report; report-type=delivery-status"), "{dsn}");
    assert!(
        dsn.contains("Final-Recipient: rfc822; perm@fabrikam.example\r\nAction: failed\r\nStatus: 5.1.1\r\n"),
        "{dsn}"
    );
    assert!(dsn.contains("Diagnostic-Code: smtp; 550 5.1.1 no such user here"), "{dsn}");
    assert!(!dsn.contains("ok@fabrikam.example\r\nAction"), "only the failed recipient is reported: {dsn}");
    eventually("an empty queue", || queue(&cli).is_empty());
}

#[test]
fn the_queue_survives_a_restart_and_the_admin_can_retry_or_delete() {
    // A smarthost that turns every connection away for now (421).
    let sink = Sink::start();
    sink.open.store(false, std::sync::atomic::Ordering::SeqCst);
    let cli = org(sink.addr, 3600, 3600);
    let mut server = cli.serve(&[]);
    submit(&server, "alice@contoso.com", "later@fabrikam.example,never@fabrikam.example", "queued");
    eventually("a failed attempt", || queue(&cli).iter().any(|q| q["RetryCount"].as_i64() >= Some(1)));
    let queued = queue(&cli);
    assert_eq!(queued.len(), 2, "{queued:?}");
    assert!(queued[0]["LastError"].as_str().unwrap().contains("421 4.3.2 not now"), "{queued:?}");
    // The admin drops one recipient; asking for an unknown id is an error.
    let never = queued.iter().find(|q| q["Recipient"] == "never@fabrikam.example").unwrap()["Identity"]
        .as_i64()
        .unwrap();
    cli.run(&["queue", "delete", &never.to_string()]).ok();
    // The same rows in the cmdlet mode.
    let rows = cli.exo_json("Get-Queue");
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(
        (rows[0]["Recipient"].as_str(), rows[0]["NextHopDomain"].as_str()),
        (Some("later@fabrikam.example"), Some("fabrikam.example"))
    );
    let missing = cli.run(&["queue", "retry", "999999"]);
    assert_eq!(missing.code, 1);
    assert!(missing.stderr.contains("there is no queued message 999999"), "{}", missing.stderr);
    // Restart with the smarthost taking mail: what was queued is sent.
    assert!(server.terminate().success());
    sink.open.store(true, std::sync::atomic::Ordering::SeqCst);
    let _server = cli.serve(&[]);
    eventually("the queued message to arrive after the restart", || !sink.received().is_empty());
    assert_eq!(sink.received()[0].rcpts, ["later@fabrikam.example"]);
    eventually("an empty queue", || queue(&cli).is_empty());
    assert!(inbox(&cli.data(), "alice@contoso.com").is_empty(), "no bounce for what was sent or deleted");
}

#[test]
fn a_delay_is_told_once_then_expiry_bounces() {
    let cli = org(mailroom_testkit::CLOSED_PORT.parse().unwrap(), 4, 1);
    let _server = cli.serve(&[]);
    submit(&_server, "alice@contoso.com", "slow@fabrikam.example", "patience");
    eventually("a delay notice and then the bounce", || inbox(&cli.data(), "alice@contoso.com").len() == 2);
    let notices: Vec<String> = inbox(&cli.data(), "alice@contoso.com").iter().map(|m| m.text()).collect();
    assert!(notices[0].contains("Subject: Delayed: patience\r\n"), "{}", notices[0]);
    assert!(notices[0].contains("Action: delayed\r\nStatus: 4.0.0\r\n"), "{}", notices[0]);
    assert!(notices[1].contains("Subject: Undeliverable: patience\r\n"), "{}", notices[1]);
    assert!(notices[1].contains("Action: failed\r\n"), "{}", notices[1]);
    assert!(notices[1].contains("gave up after"), "{}", notices[1]);
    assert!(queue(&cli).is_empty());
}

#[test]
fn a_second_mailroom_as_the_remote_server_over_starttls() {
    // fabrikam.example is another Mailroom: it offers STARTTLS (self-signed),
    // which the sender uses, and refuses its unknown users with 550 5.1.1.
    let remote = Cli::new(env!("CARGO_BIN_EXE_mailroom"));
    remote.run(&["init", "--domain", "fabrikam.example"]).ok();
    remote.exo("New-Mailbox -Name Fred -Alias fred -PrimarySmtpAddress fred@fabrikam.example -Password 'Fred-pass-1234'").ok();
    let remote_server = remote.serve(&[]);
    let cli = org(remote_server.smtp(), 3600, 3600);
    let server = cli.serve(&[]);
    submit(&server, "alice@contoso.com", "fred@fabrikam.example,ghost@fabrikam.example", "across");
    eventually("Fred's copy", || inbox(&remote.data(), "fred@fabrikam.example").len() == 1);
    let fred = inbox(&remote.data(), "fred@fabrikam.example")[0].text();
    assert!(fred.contains(" with ESMTPS id "), "sent over STARTTLS: {fred}");
    assert!(fred.contains("Subject: across"), "{fred}");
    eventually("the bounce for ghost@", || inbox(&cli.data(), "alice@contoso.com").len() == 1);
    let dsn = inbox(&cli.data(), "alice@contoso.com")[0].text();
    assert!(
        dsn.contains("Final-Recipient: rfc822; ghost@fabrikam.example\r\nAction: failed\r\nStatus: 5.1.1"),
        "{dsn}"
    );
}

#[test]
fn the_smarthost_account_is_used_and_wrong_credentials_keep_mail_queued() {
    let sink = Sink::start();
    let cli = org(sink.addr, 3600, 3600);
    // On loopback the credentials may go without TLS (as for our own AUTH).
    let config = cli.data().join("mailroom.toml");
    let with_account = |password: &str| {
        let text = std::fs::read_to_string(&config).unwrap();
        let text: String =
            text.lines().filter(|l| !l.starts_with("smarthost_")).map(|l| format!("{l}\n")).collect();
        std::fs::write(
            &config,
            format!("{text}smarthost_user = \"relay\"\nsmarthost_password = \"{password}\"\n"),
        )
        .unwrap();
    };
    with_account("wrong");
    let mut server = cli.serve(&[]);
    submit(&server, "alice@contoso.com", "one@fabrikam.example", "with an account");
    eventually("a refused attempt", || queue(&cli).iter().any(|q| q["RetryCount"].as_i64() >= Some(1)));
    let queued = queue(&cli);
    assert!(queued[0]["LastError"].as_str().unwrap().contains("refused the credentials: 535"), "{queued:?}");
    assert!(sink.received().is_empty());
    // The right password: what was queued goes out.
    assert!(server.terminate().success());
    with_account("relay-pass");
    let _server = cli.serve(&[]);
    eventually("the message at the smarthost", || !sink.received().is_empty());
    assert_eq!(sink.received()[0].rcpts, ["one@fabrikam.example"]);
}

#[test]
fn credentials_for_a_remote_smarthost_need_verified_tls() {
    // Not loopback: the account is only used inside TLS the server can verify.
    let cli = Cli::new(env!("CARGO_BIN_EXE_mailroom"));
    cli.contoso_with(ORG);
    cli.set_outbound("smtp.relay.example:587", 3600, 3600, 3600);
    let config = cli.data().join("mailroom.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("smarthost_user = \"relay\"\nsmarthost_password = \"x\"\nsmarthost_ca_file = \"/nonexistent/ca.pem\"\n");
    std::fs::write(&config, text).unwrap();
    let run =
        cli.run(&["serve", "--smtp-listen", "127.0.0.1:0", "--imap-listen", "off", "--imaps-listen", "off"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("could not read outbound.smarthost_ca_file /nonexistent/ca.pem"),
        "{}",
        run.stderr
    );
}

#[test]
fn eight_bit_mail_bounces_at_a_server_without_8bitmime() {
    let sink = Sink::seven_bit();
    let cli = org(sink.addr, 3600, 3600);
    let server = cli.serve(&[]);
    submit(&server, "alice@contoso.com", "ascii@fabrikam.example", "plain");
    let addr = server.submission();
    python(
        r#"
import smtplib, sys
s = smtplib.SMTP(sys.argv[1], int(sys.argv[2]), timeout=20)
s.login('alice@contoso.com', 'Alice-pass-123')
s.sendmail('alice@contoso.com', ['utf8@fabrikam.example'], 'From: alice@contoso.com\r\nSubject: grüße\r\n\r\nschöne Grüße\r\n'.encode())
s.quit()
"#,
        &[&addr.ip().to_string(), &addr.port().to_string()],
    );
    // The 7-bit message goes; the 8-bit one comes back (RFC 6152 §3).
    eventually("the 7-bit message at the sink", || !sink.received().is_empty());
    assert_eq!(sink.received()[0].rcpts, ["ascii@fabrikam.example"]);
    eventually("the bounce", || !inbox(&cli.data(), "alice@contoso.com").is_empty());
    let dsn = inbox(&cli.data(), "alice@contoso.com")[0].text();
    assert!(
        dsn.contains("Final-Recipient: rfc822; utf8@fabrikam.example\r\nAction: failed\r\nStatus: 5.6.3"),
        "{dsn}"
    );
    assert_eq!(sink.received().len(), 1);
}

/// The start of the dkimpy scripts: `records` (the `mailroom --json domain
/// dns` output) and `message` read from the arguments, and `dnsfunc`
/// answering from the records' DKIM lines.
const DKIM_DNS: &str = r#"
import json, re, sys, dkim
records, message = json.loads(sys.argv[1]), sys.argv[2].encode()
txt = {}
for line in records:
    if "._domainkey." in line and " IN TXT " in line:
        name = line.split(" ", 1)[0].rstrip(".").lower()
        txt[name] = "".join(re.findall(r'"([^"]*)"', line.split(" IN TXT ", 1)[1])).encode()
def dnsfunc(name, timeout=5):
    return txt.get(name.decode().rstrip(".").lower())
"#;

/// Verifies every DKIM signature of a message with Python's dkimpy (after
/// [`DKIM_DNS`]): prints, per signature, its selector, algorithm and
/// whether it verified.
const DKIM_VERIFY: &str = r#"
headers = message.split(b"\r\n\r\n", 1)[0].decode()
signatures = re.findall(r"^DKIM-Signature:((?:.*\r\n[ \t].*)*.*)", headers, re.M | re.I)
out = []
for i, sig in enumerate(signatures):
    tags = dict(t.strip().split("=", 1) for t in re.sub(r"\s+", "", sig).split(";") if "=" in t)
    try:
        ok, why = bool(dkim.DKIM(message).verify(idx=i, dnsfunc=dnsfunc)), ""
    except dkim.DKIMException as err:
        ok, why = False, str(err)
    out.append([tags["s"], tags["a"], tags["d"], ok, why])
print(json.dumps(out))
"#;

/// What dkimpy makes of a message's signatures, against the records
/// `mailroom domain dns` prints now.
fn dkim_verdicts(cli: &Cli, message: &str) -> Vec<serde_json::Value> {
    let records = cli.run(&["--json", "domain", "dns", "contoso.com"]).ok().json();
    let out = python(&format!("{DKIM_DNS}{DKIM_VERIFY}"), &[&records.to_string(), message]);
    serde_json::from_str::<Vec<serde_json::Value>>(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"))
}

/// dkimpy's ARC verifier (RFC 8617 §5.2) on a message (after [`DKIM_DNS`]):
/// prints the chain's validation state and dkimpy's reason.
const ARC_VERIFY: &str = r#"
cv, results, reason = dkim.arc_verify(message, dnsfunc=dnsfunc)
print(json.dumps([cv.decode(), reason]))
"#;

/// What dkimpy makes of a message's ARC chain: `["pass", …]` when valid.
fn arc_verdict(cli: &Cli, message: &str) -> (String, String) {
    let records = cli.run(&["--json", "domain", "dns", "contoso.com"]).ok().json();
    let out = python(&format!("{DKIM_DNS}{ARC_VERIFY}"), &[&records.to_string(), message]);
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"))
}

/// Mail that leaves for another domain carries two signatures of the
/// sender's domain, Ed25519 and RSA (RFC 8463 §4), that an independent
/// verifier (dkimpy) accepts against the records `mailroom domain dns`
/// prints. A rotation signs with a new pair while the old stays published;
/// a key that still signs can't be removed, a retired one can.
#[test]
fn outgoing_mail_is_dkim_signed_and_verified_by_dkimpy() {
    let sink = Sink::start();
    let cli = org(sink.addr, 3600, 3600);
    let server = cli.serve(&[]);
    submit(&server, "alice@contoso.com", "c@fabrikam.example", "Signed");
    eventually("the sink receives it", || sink.received().len() == 1);
    let first = dkim_verdicts(&cli, &sink.received()[0].data);
    assert_eq!(first.len(), 2, "{first:?}");
    let algorithms: Vec<&str> = first.iter().map(|v| v[1].as_str().unwrap()).collect();
    assert_eq!(algorithms, ["ed25519-sha256", "rsa-sha256"]);
    for verdict in &first {
        assert_eq!(verdict[2], "contoso.com");
        assert_eq!(verdict[3], true, "dkimpy verifies it: {verdict:?}");
    }
    // Changed in transit: no longer verifies.
    let tampered = sink.received()[0].data.replace("Hello.", "Hellp.");
    assert!(dkim_verdicts(&cli, &tampered).iter().all(|v| v[3] == false));

    // A rotation: the next message is signed by the new pair; the old
    // records are still published (mail in flight), and still verify.
    let old: Vec<String> = first.iter().map(|v| v[0].as_str().unwrap().to_string()).collect();
    cli.run(&["domain", "dkim", "rotate", "contoso.com"]).ok();
    let keys = cli.run(&["--json", "domain", "dkim", "list", "contoso.com"]).ok().json_array();
    assert_eq!(keys.len(), 4);
    assert_eq!(keys.iter().filter(|k| k["Signing"] == true).count(), 2);
    submit(&server, "alice@contoso.com", "c@fabrikam.example", "Rotated");
    eventually("the sink receives the second", || sink.received().len() == 2);
    let second = dkim_verdicts(&cli, &sink.received()[1].data);
    assert_eq!(second.len(), 2);
    assert!(
        second.iter().all(|v| v[3] == true && !old.contains(&v[0].as_str().unwrap().to_string())),
        "{second:?}"
    );
    assert!(dkim_verdicts(&cli, &sink.received()[0].data).iter().all(|v| v[3] == true), "old records kept");

    // The pair that signs can't be removed; the retired one can.
    let signing = second[0][0].as_str().unwrap();
    cli.run(&["domain", "dkim", "remove", "contoso.com", signing]).fails_with(1, "still signs");
    cli.run(&["domain", "dkim", "remove", "contoso.com", &old[0]]).ok();
    assert_eq!(cli.run(&["--json", "domain", "dkim", "list", "contoso.com"]).ok().json_array().len(), 3);
    assert!(
        dkim_verdicts(&cli, &sink.received()[0].data).iter().any(|v| v[3] == false),
        "its record is gone"
    );

    // A forward of outside mail: its From: isn't ours, its envelope (SRS)
    // is, so contoso.com signs it.
    cli.exo("Set-Mailbox info -ForwardingSmtpAddress partner@fabrikam.example");
    mailroom_testkit::mx_send_message(
        &server,
        "customer@northwind.example",
        "info@contoso.com",
        "From: Customer <customer@northwind.example>\r\nTo: info@contoso.com\r\nSubject: Forwarded\r\n\r\nHello.\r\n",
    );
    eventually("the forwarded copy", || sink.received().len() == 3);
    let forwarded = dkim_verdicts(&cli, &sink.received()[2].data);
    assert_eq!(forwarded.len(), 2, "{forwarded:?}");
    assert!(forwarded.iter().all(|v| v[2] == "contoso.com" && v[3] == true), "{forwarded:?}");

    // The forwarded copy carries contoso.com's ARC set (RFC 8617), with what
    // was found on arrival, and dkimpy's ARC verifier accepts the chain.
    let copy = &sink.received()[2].data;
    assert!(copy.contains("ARC-Seal: i=1; a=rsa-sha256") && copy.contains("cv=none"), "{copy}");
    assert!(copy.contains("ARC-Authentication-Results: i=1;"), "{copy}");
    let (cv, reason) = arc_verdict(&cli, copy);
    assert_eq!(cv, "pass", "{reason}");
    let broken = copy.replace("Subject: Forwarded", "Subject: Changed");
    assert_eq!(arc_verdict(&cli, &broken).0, "fail", "a changed copy breaks the chain");
}
