//! MTA-STS (RFC 8461) when sending to another domain's MX hosts: the
//! policy found through the testkit's DNS and fetched over verified HTTPS
//! from a peer (`servers/mta_sts_peer.py`, its certificates from a test CA),
//! whose MX presents a certificate for another name (its first MX host is
//! down, so the second is tried). In `enforce` mode the
//! mail stays queued with the reason in Get-Queue; once the domain moves
//! its policy to `testing` (a new id), the mail goes.

use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mailroom_testkit::{Cli, python};

/// The peer, killed (by its PID) when the test ends.
struct Peer(Child);

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < Duration::from_secs(30), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

const SUBMIT: &str = r#"
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=20)
s.login("alice@contoso.com", "Alice-pass-123")
s.sendmail("alice@contoso.com", ["c@fabrikam.example"], b"From: alice@contoso.com\r\nTo: c@fabrikam.example\r\nSubject: over TLS\r\n\r\nHello.\r\n")
s.quit()
"#;

#[test]
fn an_enforced_policy_keeps_mail_queued_until_tls_can_be_verified() {
    let cli = Cli::new(env!("CARGO_BIN_EXE_mailroom"));
    cli.contoso_with(
        "New-Mailbox -Name Alice -Alias alice -PrimarySmtpAddress alice@contoso.com -Password 'Alice-pass-123'\n",
    );
    let dir = cli.root().join("peer");
    std::fs::create_dir_all(&dir).expect("peer directory");
    let policy = "version: STSv1\r\nmode: enforce\r\nmx: *.fabrikam.example\r\nmax_age: 86400\r\n";
    std::fs::write(dir.join("policy.txt"), policy).expect("policy");
    let mut child = Command::new("python3")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/servers/mta_sts_peer.py"))
        .arg(&dir)
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the peer");
    let mut ready = String::new();
    std::io::BufReader::new(child.stdout.take().expect("its output"))
        .read_line(&mut ready)
        .expect("ready line");
    let _peer = Peer(child);
    let ports: serde_json::Value =
        serde_json::from_str(ready.trim()).unwrap_or_else(|e| panic!("{e}: {ready}"));

    let dns = cli.dns();
    // The first MX host is down (nothing listens on 127.0.0.2); the second
    // is the peer.
    dns.add("fabrikam.example", "MX", "10 mx1.fabrikam.example.");
    dns.add("fabrikam.example", "MX", "20 mx.fabrikam.example.");
    dns.add("mx1.fabrikam.example", "A", "127.0.0.2");
    dns.add("mx.fabrikam.example", "A", "127.0.0.1");
    dns.add("mta-sts.fabrikam.example", "A", "127.0.0.1");
    dns.add("_mta-sts.fabrikam.example", "TXT", "v=STSv1; id=one");
    dns.add("_smtp._tls.fabrikam.example", "TXT", "v=TLSRPTv1; rua=mailto:tls-reports@fabrikam.example");
    cli.set_section(
        "outbound",
        &format!(
            "retry_seconds = [1]\npoll_seconds = 1\nremote_port = {}\nmta_sts_port = {}\nca_file = \"{}\"\ntls_report_seconds = 3",
            ports["smtp"],
            ports["https"],
            ports["ca"].as_str().expect("the CA's path")
        ),
    );
    let server = cli.serve(&[]);
    python(SUBMIT, &[&server.submission().port().to_string()]);

    // Enforced: the first host can't be reached, the next one's
    // certificate isn't valid for its name, so nothing is sent and
    // Get-Queue says why.
    let mut last_error = String::new();
    eventually("the queue to show the MTA-STS failure", || {
        let queue = cli.exo_json("Get-Queue");
        last_error = queue.first().and_then(|q| q["LastError"].as_str()).unwrap_or_default().to_string();
        last_error.contains("MTA-STS")
    });
    assert!(
        last_error.starts_with("MTA-STS policy of fabrikam.example (enforce): TLS with mx.fabrikam.example"),
        "{last_error}"
    );
    assert!(last_error.contains("certificate"), "{last_error}");
    let events = std::fs::read_to_string(dir.join("events.txt")).unwrap_or_default();
    assert!(events.contains("policy fetched"), "{events}");
    assert!(!events.contains("DATA"), "nothing sent without verified TLS: {events}");

    // The domain relaxes its policy (a new id makes senders fetch it again):
    // the mail goes, still over TLS.
    std::fs::write(dir.join("policy.txt"), policy.replace("enforce", "testing")).expect("policy");
    dns.set("_mta-sts.fabrikam.example", "TXT", "v=STSv1; id=two");
    let messages = || -> Vec<String> {
        std::fs::read_dir(&dir)
            .map(|entries| {
                entries
                    .flatten()
                    .filter(|e| e.file_name().to_string_lossy().starts_with("message-"))
                    .filter_map(|e| std::fs::read_to_string(e.path()).ok())
                    .collect()
            })
            .unwrap_or_default()
    };
    eventually("the message and a TLS report at the peer", || {
        let got = messages();
        got.iter().any(|m| m.contains("Subject: over TLS"))
            && got.iter().any(|m| m.contains("certificate-host-mismatch"))
    });
    let events = std::fs::read_to_string(dir.join("events.txt")).expect("events");
    assert!(events.contains("DATA over TLS"), "{events}");
    assert_eq!(events.matches("policy fetched").count(), 2, "fetched again for the new id only: {events}");

    // The TLS report (RFC 8460): what the enforced policy met, sent to the
    // address the domain's _smtp._tls record names.
    let report = messages().into_iter().find(|m| m.contains("certificate-host-mismatch")).expect("a report");
    assert!(report.contains("TLS-Report-Domain: fabrikam.example\r\n"), "{report}");
    assert!(report.contains("To: tls-reports@fabrikam.example\r\n"), "{report}");
    assert!(
        report.contains("report-type=\"tlsrpt\"") && report.contains("application/tlsrpt+json"),
        "{report}"
    );
    let json = report.lines().find(|l| l.starts_with('{')).expect("the JSON report");
    let json: serde_json::Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {json}"));
    let policy = &json["policies"][0];
    assert_eq!(policy["policy"]["policy-type"], "sts");
    assert_eq!(policy["policy"]["policy-domain"], "fabrikam.example");
    assert!(policy["summary"]["total-failure-session-count"].as_u64().unwrap_or(0) >= 1, "{json}");
    assert_eq!(policy["failure-details"][0]["receiving-mx-hostname"], "mx.fabrikam.example", "{json}");
}
