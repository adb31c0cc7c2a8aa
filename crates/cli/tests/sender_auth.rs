//! Inbound sender authentication, end to end: a real `mailroom serve`
//! asking a DNS server on loopback (the testkit's) for SPF, DKIM and DMARC
//! records, messages sent by Python's smtplib and signed by dkimpy (an
//! independent DKIM implementation), and what arrived read back from the
//! store: the `Authentication-Results:` field, the folder, or the refusal.

use mailroom_testkit::{Cli, inspect, python};

/// contoso.com with the shared mailbox Info, its server named mx.contoso.com.
fn org() -> Cli {
    let cli = Cli::new(env!("CARGO_BIN_EXE_mailroom"));
    cli.contoso_with("New-Mailbox -Shared -Name Info -Alias info -PrimarySmtpAddress info@contoso.com\n");
    // Mail for other domains stays queued, where the tests can see it.
    cli.hold_outbound();
    let config = cli.data().join("mailroom.toml");
    let text = std::fs::read_to_string(&config).expect("mailroom.toml");
    std::fs::write(&config, format!("hostname = \"mx.contoso.com\"\n{text}")).expect("write mailroom.toml");
    cli
}

/// Makes an Ed25519 key pair with PyNaCl: (private seed, public key), in
/// base64 as dkimpy and a DKIM record want them.
const KEYGEN: &str = r#"
import base64, json, nacl.signing
key = nacl.signing.SigningKey.generate()
print(json.dumps([base64.b64encode(bytes(key)).decode(), base64.b64encode(bytes(key.verify_key)).decode()]))
"#;

/// Sends each message of a JSON list over SMTP (as mx.fabrikam.example) to
/// its "to" (info@contoso.com by default),
/// signing the ones that ask with dkimpy (s=sel, d=fabrikam.example or the
/// message's "domain"), padding the body of those with a "pad" and
/// changing a signed field (the subject "tampered") of the ones that ask
/// after signing. Prints each
/// server's answer to the end of data: [code, text].
const SEND: &str = r#"
import base64, json, smtplib, sys, dkim
host, port, private, messages = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode(), json.loads(sys.argv[4])
out = []
for m in messages:
    body = m["message"].encode()
    # "pad": that many lines more in the body (a big message; the
    # argument itself may hold only 128 KiB).
    body = body.replace(b"Hello from", b"A long line of a big message, checked off the async workers.\r\n" * m.get("pad", 0) + b"Hello from")
    if m.get("sign"):
        domain = m.get("domain", "fabrikam.example").encode()
        body = dkim.sign(body, b"sel", domain, private, signature_algorithm=b"ed25519-sha256",
                         include_headers=[b"from", b"to", b"subject"]) + body
    if m.get("tamper"):
        body = body.replace(b"Subject: tampered", b"Subject: Tampered")
    s = smtplib.SMTP(host, port, local_hostname="mx.fabrikam.example", timeout=60)
    try:
        s.sendmail(m["mail_from"], [m.get("to", "info@contoso.com")], body)
        out.append([250, ""])
    except smtplib.SMTPDataError as e:
        out.append([e.smtp_code, e.smtp_error.decode()])
    except smtplib.SMTPSenderRefused as e:
        out.append([e.smtp_code, e.smtp_error.decode()])
    s.quit()
print(json.dumps(out))
"#;

/// A message from `from` with `subject`, and extra header lines.
fn message(from: &str, subject: &str, extra: &str) -> String {
    format!(
        "{extra}From: {from}\r\nTo: info@contoso.com\r\nSubject: {subject}\r\nDate: Sun, 06 Dec 2026 10:00:00 +0000\r\nMessage-ID: <{subject}@example>\r\n\r\nHello from {from}.\r\n"
    )
}

/// The `Authentication-Results:` fields of a stored message, unfolded.
fn results(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    let header =
        text.split("\r\n\r\n").next().unwrap_or_default().replace("\r\n\t", " ").replace("\r\n ", " ");
    header
        .lines()
        .filter(|l| l.to_ascii_lowercase().starts_with("authentication-results:"))
        .map(|l| l.to_string())
        .collect()
}

/// The stored message of Info's `folder` whose subject is `subject`.
fn stored(cli: &Cli, folder: &str, subject: &str) -> Option<Vec<u8>> {
    stored_in(cli, "info@contoso.com", folder, subject)
}

fn stored_in(cli: &Cli, mailbox: &str, folder: &str, subject: &str) -> Option<Vec<u8>> {
    inspect::folder_messages(&cli.data(), mailbox, folder)
        .into_iter()
        .find(|m| m.summary.envelope.subject.as_deref() == Some(subject))
        .map(|m| m.bytes)
}

/// SPF, DKIM and DMARC pass, fail and none recorded as RFC 8601 says, a
/// forged result of ours removed, `p=reject` refused with 550 5.7.1,
/// `p=quarantine` filed into Junk Email, a forged From: of our own domain
/// refused — and a domain set to "monitor" only records.
#[test]
fn inbound_mail_is_authenticated_and_dmarc_is_applied() {
    let cli = org();
    let keys: Vec<String> = serde_json::from_str(python(KEYGEN, &[]).trim()).expect("keys");
    let dns = cli.dns();
    // fabrikam.example: SPF allows this host, DKIM key published, p=reject.
    dns.add("fabrikam.example", "TXT", "v=spf1 ip4:127.0.0.1 -all");
    dns.add("sel._domainkey.fabrikam.example", "TXT", &format!("v=DKIM1; k=ed25519; p={}", keys[1]));
    dns.add("_dmarc.fabrikam.example", "TXT", "v=DMARC1; p=reject");
    // tailspin.example and woodgrove.example: nothing may send for them.
    dns.add("tailspin.example", "TXT", "v=spf1 -all");
    dns.add("_dmarc.tailspin.example", "TXT", "v=DMARC1; p=reject");
    dns.add("woodgrove.example", "TXT", "v=spf1 -all");
    dns.add("_dmarc.woodgrove.example", "TXT", "v=DMARC1; p=quarantine");
    // adatum.example publishes nothing at all; slow.example's nameserver
    // never answers.
    dns.silence("slow.example");
    let server = cli.serve(&[]);
    let forged = "Authentication-Results: mx.contoso.com; dkim=pass header.d=contoso.com; dmarc=pass\r\nAuthentication-Results: relay.fabrikam.example; spf=pass\r\n";
    let messages = serde_json::json!([
        {"mail_from": "alice@fabrikam.example", "sign": true, "message": message("alice@fabrikam.example", "signed", forged)},
        {"mail_from": "alice@fabrikam.example", "sign": true, "tamper": true, "message": message("alice@fabrikam.example", "tampered", "")},
        {"mail_from": "bounce@tailspin.example", "sign": true, "message": message("alice@fabrikam.example", "rescued", "")},
        {"mail_from": "ceo@tailspin.example", "message": message("ceo@tailspin.example", "rejected", "")},
        {"mail_from": "news@woodgrove.example", "message": message("news@woodgrove.example", "quarantined", "")},
        {"mail_from": "x@adatum.example", "message": message("x@adatum.example", "unauthenticated", "")},
        {"mail_from": "ceo@tailspin.example", "message": message("CEO <ceo@contoso.com>", "own-domain", "")},
        {"mail_from": "alice@fabrikam.example", "sign": true, "message": message("alice@fabrikam.example, x@adatum.example", "two-authors", "")},
        {"mail_from": "x@slow.example", "sign": true, "domain": "slow.example", "message": message("ceo@tailspin.example", "slow", "")},
        {"mail_from": "alice@fabrikam.example", "sign": true, "pad": 6000, "message": message("alice@fabrikam.example", "big", "")},
    ]);
    let addr = server.smtp();
    let sent =
        python(SEND, &[&addr.ip().to_string(), &addr.port().to_string(), &keys[0], &messages.to_string()]);
    let answers: Vec<(u16, String)> = serde_json::from_str(sent.trim()).expect("answers");

    // Signed and sent from an allowed host: everything passes. The field
    // claiming to be ours is gone; another host's is kept.
    assert_eq!(answers[0].0, 250, "{answers:?}");
    let signed = results(&stored(&cli, "Inbox", "signed").expect("in the Inbox"));
    let ours: Vec<&String> = signed.iter().filter(|r| r.contains(": mx.contoso.com;")).collect();
    assert_eq!(ours.len(), 1, "only our own field: {signed:?}");
    for word in [
        "spf=pass",
        "smtp.mailfrom=alice@fabrikam.example",
        "dkim=pass",
        "header.i=@fabrikam.example",
        "dmarc=pass",
    ] {
        assert!(ours[0].contains(word), "{word} in {ours:?}");
    }
    assert!(signed.iter().any(|r| r.contains("relay.fabrikam.example; spf=pass")), "{signed:?}");
    assert!(!signed.iter().any(|r| r.contains("header.d=contoso.com")), "the forgery is gone: {signed:?}");

    // Changed after signing: DKIM fails; SPF still passes aligned, so DMARC passes.
    assert_eq!(answers[1].0, 250);
    let tampered = results(&stored(&cli, "Inbox", "Tampered").expect("in the Inbox")).join("\n");
    assert!(tampered.contains("dkim=fail") && tampered.contains("dmarc=pass"), "{tampered}");

    // SPF fails for the envelope's domain, but the From: domain's signature
    // passes aligned: DMARC passes, the message is delivered.
    assert_eq!(answers[2].0, 250);
    let rescued = results(&stored(&cli, "Inbox", "rescued").expect("in the Inbox")).join("\n");
    assert!(
        rescued.contains("spf=fail") && rescued.contains("dkim=pass") && rescued.contains("dmarc=pass"),
        "{rescued}"
    );

    // p=reject, nothing passes: refused at the end of data, not stored.
    assert_eq!(answers[3].0, 550, "{answers:?}");
    assert!(answers[3].1.starts_with("5.7.1") && answers[3].1.contains("DMARC"), "{answers:?}");
    assert!(stored(&cli, "Inbox", "rejected").is_none() && stored(&cli, "Junk Email", "rejected").is_none());

    // p=quarantine: Junk Email, with the reason recorded.
    assert_eq!(answers[4].0, 250);
    assert!(stored(&cli, "Inbox", "quarantined").is_none());
    let junk = results(&stored(&cli, "Junk Email", "quarantined").expect("in Junk Email")).join("\n");
    assert!(
        junk.contains("spf=fail") && junk.contains("dmarc=fail") && junk.contains("policy.dmarc=quarantine"),
        "{junk}"
    );

    // Nothing published: none, none, none; delivered.
    assert_eq!(answers[5].0, 250);
    let none = results(&stored(&cli, "Inbox", "unauthenticated").expect("in the Inbox")).join("\n");
    assert!(none.contains("spf=none") && none.contains("dkim=none") && none.contains("dmarc=none"), "{none}");

    // Our own domain in From:, from outside: refused, never in an Inbox.
    assert_eq!(answers[6].0, 550, "{answers:?}");
    assert!(stored(&cli, "Inbox", "own-domain").is_none());

    // From: with two domains, though one signs: DMARC can't judge it.
    assert_eq!(answers[7].0, 550, "{answers:?}");
    assert!(answers[7].1.contains("several domains"), "{answers:?}");
    assert!(stored(&cli, "Inbox", "two-authors").is_none());

    // A sender whose own DNS never answers (its SPF, its signature's key)
    // can't run the checks out of time to skip DMARC: tailspin.example's
    // p=reject still refuses.
    assert_eq!(answers[8].0, 550, "{answers:?}");
    assert!(answers[8].1.contains("DMARC") && answers[8].1.contains("tailspin.example"), "{answers:?}");
    assert!(dns.was_asked("slow.example", "TXT") && dns.was_asked("sel._domainkey.slow.example", "TXT"));

    // Junk isn't forwarded to other domains: Sales forwards everything to
    // a partner without keeping a copy, yet keeps the quarantined message
    // in its Junk Email, and only the clean one is queued for the partner.
    cli.exo("New-Mailbox -Shared -Name Sales -Alias sales -PrimarySmtpAddress sales@contoso.com");
    cli.exo("Set-Mailbox sales -ForwardingSmtpAddress partner@northwind.example");
    let to_sales = serde_json::json!([
        {"mail_from": "news@woodgrove.example", "to": "sales@contoso.com", "message": message("news@woodgrove.example", "junk-for-sales", "")},
        {"mail_from": "x@adatum.example", "to": "sales@contoso.com", "message": message("x@adatum.example", "clean-for-sales", "")},
    ]);
    let sent =
        python(SEND, &[&addr.ip().to_string(), &addr.port().to_string(), &keys[0], &to_sales.to_string()]);
    assert!(sent.contains("[[250, \"\"], [250, \"\"]]"), "{sent}");
    assert!(stored_in(&cli, "sales@contoso.com", "Junk Email", "junk-for-sales").is_some());
    assert!(
        stored_in(&cli, "sales@contoso.com", "Inbox", "clean-for-sales").is_none(),
        "forwarded, not kept"
    );
    let queued: Vec<String> = cli.queued().into_iter().map(|(recipient, _)| recipient).collect();
    assert_eq!(queued, ["partner@northwind.example"], "only the clean message leaves");

    // A large message (past the inline parse limit) is checked as well.
    assert_eq!(answers[9].0, 250, "{answers:?}");
    let big = stored(&cli, "Inbox", "big").expect("in the Inbox");
    assert!(big.len() > 300_000);
    let big = results(&big).join("\n");
    assert!(big.contains("dkim=pass") && big.contains("dmarc=pass"), "{big}");

    // contoso.com set to only record: the p=reject failure is delivered,
    // its failure written down.
    drop(server);
    cli.set_section("authentication.domains", "\"contoso.com\" = \"monitor\"");
    let server = cli.serve(&[]);
    let again = serde_json::json!([
        {"mail_from": "ceo@tailspin.example", "message": message("ceo@tailspin.example", "monitored", "")},
    ]);
    let addr = server.smtp();
    let sent =
        python(SEND, &[&addr.ip().to_string(), &addr.port().to_string(), &keys[0], &again.to_string()]);
    assert!(sent.contains("[[250"), "{sent}");
    let monitored = results(&stored(&cli, "Inbox", "monitored").expect("in the Inbox")).join("\n");
    assert!(monitored.contains("dmarc=fail") && monitored.contains("policy.dmarc=reject"), "{monitored}");
}

/// rspamd, started for one test with a configuration of its own: only its
/// normal worker, on a free loopback port; stopped (by its PID) when dropped.
struct Rspamd {
    child: std::process::Child,
    port: u16,
}

impl Rspamd {
    /// `None` outside CI when rspamd isn't installed (said loudly); in CI,
    /// a missing rspamd fails the test (`.ci/run` installs it).
    /// Keeps its files in `dir` (created).
    fn start(dir: &std::path::Path) -> Option<Rspamd> {
        if std::process::Command::new("rspamd").arg("--version").output().is_err() {
            assert!(
                std::env::var_os("CI").is_none(),
                "rspamd is not installed: install the Debian package rspamd"
            );
            eprintln!(
                "SKIPPED: rspamd is not installed (Debian package rspamd); the spam filter test did not run"
            );
            return None;
        }
        // Spam from a score of 2 (rspamd's default is 6): a message without
        // Date: and Message-ID: scores more, an ordinary one less.
        std::fs::create_dir_all(dir.join("local/local.d")).expect("rspamd's directory");
        std::fs::write(dir.join("local/local.d/actions.conf"), "add_header = 2;\n").expect("actions.conf");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("a free port")
            .local_addr()
            .expect("addr")
            .port();
        let config = format!(
            ".include \"$CONFDIR/common.conf\"\noptions {{\n pidfile = \"$RUNDIR/rspamd.pid\";\n .include \"$CONFDIR/options.inc\"\n}}\nlogging {{\n type = \"file\";\n filename = \"$LOGDIR/rspamd.log\";\n level = \"error\";\n}}\nworker \"normal\" {{\n bind_socket = \"127.0.0.1:{port}\";\n .include \"$CONFDIR/worker-normal.inc\"\n count = 1;\n}}\n"
        );
        let path = dir.join("rspamd.conf");
        std::fs::write(&path, config).expect("write rspamd.conf");
        let var = |name: &str, value: &std::path::Path| format!("--var={name}={}", value.display());
        let mut command = std::process::Command::new("rspamd");
        command.args(["-f", "-i", "-c"]).arg(&path);
        command.arg(var("RUNDIR", dir)).arg(var("DBDIR", dir)).arg(var("LOGDIR", dir));
        command.arg(var("LOCAL_CONFDIR", &dir.join("local")));
        // As root it must be told whom to run as.
        if std::fs::metadata("/proc/self")
            .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
            .unwrap_or(false)
        {
            command.args(["-u", "root", "-g", "root"]);
        }
        let child = command
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start rspamd");
        let rspamd = Rspamd { child, port };
        // Ready when it answers its ping (it loads its rules first).
        let start = std::time::Instant::now();
        while !rspamd.pong() {
            assert!(start.elapsed() < std::time::Duration::from_secs(90), "rspamd didn't start within 90 s");
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        Some(rspamd)
    }

    fn pong(&self) -> bool {
        use std::io::{Read, Write};
        let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", self.port)) else { return false };
        let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(5)));
        if stream.write_all(b"GET /ping HTTP/1.0\r\n\r\n").is_err() {
            return false;
        }
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        answer.contains("pong")
    }

    /// SIGTERM, so its main process takes its worker down with it (SIGKILL
    /// would leave the worker holding the port).
    fn terminate(&mut self) {
        let _ = std::process::Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let _ = self.child.wait();
    }

    fn stop(&mut self) {
        self.terminate();
        // Its worker goes with it; wait until nothing answers on the port.
        let start = std::time::Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
            assert!(start.elapsed() < std::time::Duration::from_secs(30), "rspamd's worker didn't stop");
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
}

impl Drop for Rspamd {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.terminate();
        }
    }
}

/// The GTUBE test string, which rspamd rejects.
const GTUBE: &str = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";

/// With `[filter] rspamd` set, each inbound message is checked before the
/// 250: GTUBE is refused with 550 5.7.1 and not stored, what rspamd scores
/// as spam goes to Junk Email, ordinary mail to the Inbox; with rspamd
/// down, mail is still accepted and delivered.
#[test]
fn rspamd_refuses_gtube_junks_spam_and_mail_still_arrives_when_it_is_down() {
    let cli = org();
    let Some(mut rspamd) = Rspamd::start(&cli.root().join("rspamd")) else { return };
    cli.set_section(
        "filter",
        &format!("rspamd = \"http://127.0.0.1:{}\"\ntimeout_seconds = 20", rspamd.port),
    );
    let server = cli.serve(&[]);
    let addr = server.smtp();
    let send = |messages: serde_json::Value| -> Vec<(u16, String)> {
        let out =
            python(SEND, &[&addr.ip().to_string(), &addr.port().to_string(), "", &messages.to_string()]);
        serde_json::from_str(out.trim()).expect("answers")
    };
    let spam = format!("From: x@adatum.example\r\nTo: info@contoso.com\r\nSubject: gtube\r\n\r\n{GTUBE}\r\n");
    let sloppy =
        "From: x@adatum.example\r\nTo: info@contoso.com\r\nSubject: sloppy\r\n\r\nno date, no id\r\n";
    let answers = send(serde_json::json!([
        {"mail_from": "x@adatum.example", "message": spam},
        {"mail_from": "x@adatum.example", "message": message("x@adatum.example", "ham", "")},
        {"mail_from": "x@adatum.example", "message": sloppy},
    ]));
    assert_eq!(answers[0].0, 550, "{answers:?}");
    assert!(answers[0].1.starts_with("5.7.1") && answers[0].1.contains("Gtube"), "{answers:?}");
    assert!(stored(&cli, "Inbox", "gtube").is_none() && stored(&cli, "Junk Email", "gtube").is_none());
    assert_eq!(answers[1].0, 250, "{answers:?}");
    assert!(stored(&cli, "Inbox", "ham").is_some());
    // rspamd's "add header": accepted, into Junk Email.
    assert_eq!(answers[2].0, 250, "{answers:?}");
    assert!(stored(&cli, "Inbox", "sloppy").is_none());
    assert!(stored(&cli, "Junk Email", "sloppy").is_some(), "rspamd's spam goes to Junk Email");

    rspamd.stop();
    let answers = send(serde_json::json!([
        {"mail_from": "x@adatum.example", "message": message("x@adatum.example", "unfiltered", "")},
    ]));
    assert_eq!(answers[0].0, 250, "accepted with the filter down: {answers:?}");
    assert!(stored(&cli, "Inbox", "unfiltered").is_some());
}
