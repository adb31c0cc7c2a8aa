//! Client self-configuration and metrics over a real `mailroom serve`:
//! Thunderbird's autoconfig, Outlook's autodiscover (POX), the Apple
//! configuration profile a signed-in person downloads from `/setup`, the
//! DNS records `mailroom domain dns` prints, and `/metrics`. Documents are
//! read back with Python's own XML and plist parsers, so what is checked is
//! their structure, not their text.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use mailroom_testkit::{Cli, Server, http, python};

fn served() -> (Cli, Server) {
    let cli = Cli::new(env!("CARGO_BIN_EXE_mailroom"));
    cli.contoso_with(
        "New-Mailbox -Name Alice -Alias alice -DisplayName 'Alice Jones' -PrimarySmtpAddress alice@contoso.com -Password 'Alice-pass-123'\n",
    );
    let server = cli.serve(&[]);
    (cli, server)
}

/// Thunderbird's servers as (type, hostname, port, socketType), and the
/// CalDAV URL, via ElementTree.
const READ_AUTOCONFIG: &str = r#"
import json, sys
import xml.etree.ElementTree as ET
root = ET.fromstring(sys.stdin.read())
assert root.tag == 'clientConfig' and root.get('version') == '1.1', root.tag
provider = root.find('emailProvider')
servers = [[s.tag, s.get('type'), s.findtext('hostname'), int(s.findtext('port')), s.findtext('socketType'), s.findtext('username'), s.findtext('authentication')]
           for s in provider if s.tag in ('incomingServer', 'outgoingServer')]
print(json.dumps({'id': provider.get('id'), 'domains': [d.text for d in provider.findall('domain')], 'servers': servers,
                  'caldav': root.findtext('calendar/serverURL')}))
"#;

fn python_stdin(script: &str, input: &str) -> serde_json::Value {
    use std::io::Write;
    let mut child = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}\n--- input ---\n{input}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn thunderbird_finds_the_servers_by_address() {
    let (_cli, server) = served();
    let imap = server.imap().port();
    let submission = server.submission().port();
    for path in [
        "/mail/config-v1.1.xml?emailaddress=alice%40contoso.com".to_string(),
        "/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=alice%40contoso.com".to_string(),
    ] {
        let reply = http(server.http(), "GET", &path, None, &[], b"");
        assert_eq!(reply.status, 200, "{path}: {}", reply.body);
        assert!(reply.header("content-type").unwrap().contains("xml"));
        let doc = python_stdin(READ_AUTOCONFIG, &reply.body);
        assert_eq!(doc["id"], "contoso.com");
        assert_eq!(doc["domains"], serde_json::json!(["contoso.com"]));
        let servers = doc["servers"].as_array().unwrap();
        assert_eq!(servers.len(), 2, "{doc}");
        assert_eq!(servers[0][0], "incomingServer");
        assert_eq!(servers[0][1], "imap");
        assert_eq!(servers[0][3], imap);
        assert_eq!(servers[0][4], "STARTTLS");
        assert_eq!(servers[0][5], "%EMAILADDRESS%");
        assert_eq!(servers[0][6], "password-cleartext");
        assert_eq!(servers[1][1], "smtp");
        assert_eq!(servers[1][3], submission);
        assert!(
            doc["caldav"].as_str().unwrap().ends_with(&format!(":{}/dav/", server.http().port())),
            "{doc}"
        );
    }
    // Another domain than ours: nothing to configure.
    let other =
        http(server.http(), "GET", "/mail/config-v1.1.xml?emailaddress=eve%40fabrikam.com", None, &[], b"");
    assert_eq!(other.status, 404);
}

/// The Outlook answer's protocols as (Type, Server, Port, SSL, Encryption, LoginName), or its error code.
const READ_AUTODISCOVER: &str = r#"
import json, sys
import xml.etree.ElementTree as ET
ns = {'a': 'http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006',
      'o': 'http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a'}
root = ET.fromstring(sys.stdin.read())
assert root.tag == '{%s}Autodiscover' % ns['a'], root.tag
error = root.find('.//a:Error', ns) or root.find('.//o:Error', ns)
code = root.findtext('.//a:ErrorCode', namespaces=ns) or root.findtext('.//o:ErrorCode', namespaces=ns)
protocols = [[p.findtext('o:Type', namespaces=ns), p.findtext('o:Server', namespaces=ns), int(p.findtext('o:Port', namespaces=ns)),
              p.findtext('o:SSL', namespaces=ns), p.findtext('o:Encryption', namespaces=ns), p.findtext('o:LoginName', namespaces=ns)]
             for p in root.findall('.//o:Account/o:Protocol', ns)]
print(json.dumps({'protocols': protocols, 'error': code, 'account_type': root.findtext('.//o:Account/o:AccountType', namespaces=ns)}))
"#;

fn autodiscover_request(address: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006\">\r\n  <Request>\r\n    <EMailAddress>{address}</EMailAddress>\r\n    <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema>\r\n  </Request>\r\n</Autodiscover>\r\n"
    )
}

#[test]
fn outlook_autodiscover_answers_pox() {
    let (_cli, server) = served();
    let ask = |path: &str, body: &str| {
        let reply = http(server.http(), "POST", path, None, &[("Content-Type", "text/xml")], body.as_bytes());
        assert_eq!(reply.status, 200, "{}", reply.body);
        python_stdin(READ_AUTODISCOVER, &reply.body)
    };
    // Outlook writes the path in either case.
    for path in ["/autodiscover/autodiscover.xml", "/Autodiscover/Autodiscover.xml"] {
        let doc = ask(path, &autodiscover_request("alice@contoso.com"));
        assert_eq!(doc["account_type"], "email");
        let protocols = doc["protocols"].as_array().unwrap();
        assert_eq!(protocols.len(), 2, "{doc}");
        assert_eq!(protocols[0][0], "IMAP");
        assert_eq!(protocols[0][2], server.imap().port());
        assert_eq!(protocols[0][5], "alice@contoso.com");
        assert_eq!(protocols[1][0], "SMTP");
        assert_eq!(protocols[1][2], server.submission().port());
        assert_eq!(protocols[1][4], "TLS", "STARTTLS submission is Encryption TLS");
    }
    // An unknown mailbox of our domain gets the same settings (no enumeration);
    // another domain, garbage and a GET get the protocol's error 600.
    let unknown = ask("/autodiscover/autodiscover.xml", &autodiscover_request("nobody@contoso.com"));
    assert_eq!(unknown["protocols"].as_array().unwrap().len(), 2);
    for body in [autodiscover_request("eve@fabrikam.com"), "<nonsense".to_string(), String::new()] {
        assert_eq!(ask("/autodiscover/autodiscover.xml", &body)["error"], "600", "{body}");
    }
    let get = http(server.http(), "GET", "/autodiscover/autodiscover.xml", None, &[], b"");
    assert_eq!(python_stdin(READ_AUTODISCOVER, &get.body)["error"], "600");
    // A body larger than an autodiscover request is refused unread.
    let big = "x".repeat(70 * 1024);
    let reply = http(server.http(), "POST", "/autodiscover/autodiscover.xml", None, &[], big.as_bytes());
    assert_eq!(reply.status, 413);
}

#[test]
fn a_signed_in_person_downloads_an_apple_profile() {
    let (_cli, server) = served();
    // Not signed in: to the sign-in page.
    let reply = http(server.http(), "GET", "/setup/mailroom.mobileconfig", None, &[], b"");
    assert_eq!(
        (reply.status, reply.header("location")),
        (303, Some("/admin/sign-in?next=%2Fsetup%2Fmailroom.mobileconfig"))
    );
    let session = sign_in(&server, "alice@contoso.com", "Alice-pass-123");
    let page = http(server.http(), "GET", "/setup", None, &[("Cookie", &session)], b"");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("alice@contoso.com"));
    let profile =
        http(server.http(), "GET", "/setup/mailroom.mobileconfig", None, &[("Cookie", &session)], b"");
    assert_eq!(profile.status, 200);
    assert_eq!(profile.header("content-type"), Some("application/x-apple-aspen-config"));
    assert!(profile.header("content-disposition").unwrap().starts_with("attachment"));
    let doc = python_stdin(
        r#"
import json, plistlib, sys
p = plistlib.loads(sys.stdin.read().encode())
out = {'type': p['PayloadType'], 'version': p['PayloadVersion'], 'payloads': {}}
for c in p['PayloadContent']:
    out['payloads'][c['PayloadType']] = {k: v for k, v in c.items() if isinstance(v, (str, int, bool))}
print(json.dumps(out))
"#,
        &profile.body,
    );
    assert_eq!(doc["type"], "Configuration");
    assert_eq!(doc["version"], 1);
    let mail = &doc["payloads"]["com.apple.mail.managed"];
    assert_eq!(mail["EmailAddress"], "alice@contoso.com");
    assert_eq!(mail["EmailAccountType"], "EmailTypeIMAP");
    assert_eq!(mail["IncomingMailServerPortNumber"], server.imap().port());
    assert_eq!(mail["IncomingMailServerUsername"], "alice@contoso.com");
    assert_eq!(mail["OutgoingMailServerPortNumber"], server.submission().port());
    let caldav = &doc["payloads"]["com.apple.caldav.account"];
    assert_eq!(caldav["CalDAVUsername"], "alice@contoso.com");
    assert_eq!(caldav["CalDAVPort"], server.http().port());
    assert!(!profile.body.contains("Alice-pass-123"), "no password in the profile");
}

#[test]
fn dns_records_name_the_configured_ports() {
    let cli = Cli::new(env!("CARGO_BIN_EXE_mailroom"));
    cli.init_contoso();
    let out = cli.run(&["domain", "dns", "contoso.com"]).ok().stdout;
    let records: Vec<&str> = out.lines().filter(|l| !l.starts_with(';')).collect();
    // Every record is one zone-file line: name, TTL, class, type, data.
    for record in &records {
        let fields: Vec<&str> = record.split_whitespace().collect();
        assert!(fields.len() >= 5 && fields[0].ends_with("contoso.com.") && fields[2] == "IN", "{record}");
    }
    assert!(
        records.iter().any(|r| r.starts_with("_imaps._tcp.contoso.com.") && r.contains(" SRV ")),
        "{out}"
    );
    assert!(records.iter().any(|r| r.starts_with("_submissions._tcp.contoso.com.")), "{out}");
    assert!(
        records.iter().any(
            |r| r.starts_with("_caldavs._tcp.contoso.com.") || r.starts_with("_caldav._tcp.contoso.com.")
        ),
        "{out}"
    );
    let refused = cli.run(&["domain", "dns", "fabrikam.com"]);
    assert_ne!(refused.code, 0);
    assert!(
        refused.stderr.contains(
            "fabrikam.com isn't an accepted domain: add it first with 'mailroom domain add fabrikam.com'"
        ),
        "{}",
        refused.stderr
    );
}

#[test]
fn metrics_are_for_this_machine_or_a_token() {
    let (cli, server) = served();
    let reply = http(server.http(), "GET", "/metrics", None, &[], b"");
    assert_eq!(reply.status, 200, "loopback may scrape");
    assert!(reply.header("content-type").unwrap().starts_with("text/plain; version=0.0.4"));
    // A failed sign-in anywhere is counted (here over IMAP).
    python(
        r#"
import imaplib, sys
m = imaplib.IMAP4(sys.argv[1], int(sys.argv[2]))
try:
    m.login('alice@contoso.com', 'wrong-password')
except imaplib.IMAP4.error:
    pass
"#,
        &[&server.imap().ip().to_string(), &server.imap().port().to_string()],
    );
    mailroom_testkit::mx_send(&server, "someone@fabrikam.com", "alice@contoso.com", "Subject: hello\r\n");
    let metrics = http(server.http(), "GET", "/metrics", None, &[], b"").body;
    let value = |name: &str| -> f64 {
        metrics
            .lines()
            .find(|l| l.starts_with(name) && !l.starts_with('#'))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in\n{metrics}"))
    };
    assert_eq!(value("mailroom_sign_in_failures_total"), 1.0);
    assert_eq!(value("mailroom_deliveries_total"), 1.0);
    assert_eq!(value("mailroom_queue_size"), 0.0);
    assert!(value("mailroom_connections{listener=\"http\"}") >= 1.0);
    assert!(metrics.contains("# TYPE mailroom_store_latency_seconds gauge"));
    // Every sample line is `name{labels} value`, each family typed once.
    for line in metrics.lines().filter(|l| !l.starts_with('#')) {
        let (_, v) = line.rsplit_once(' ').unwrap();
        assert!(v.parse::<f64>().is_ok(), "{line}");
    }
    // A token opens it too (from other machines; tests run on loopback
    // only, so this shows the token is accepted, not that strangers are refused).
    let token = cli.run(&["--json", "token", "create", "--name", "scraper"]).ok().json_array()[0]["Secret"]
        .as_str()
        .unwrap()
        .to_string();
    let auth = format!("Bearer {token}");
    let reply = http(server.http(), "GET", "/metrics", None, &[("Authorization", &auth)], b"");
    assert_eq!(reply.status, 200);
}

fn sign_in(server: &Server, login: &str, password: &str) -> String {
    mailroom_testkit::web_sign_in(server.http(), login, password).unwrap_or_else(|reply| panic!("{reply:?}"))
}
