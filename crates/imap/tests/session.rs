//! IMAP sessions against a real store: Python's imaplib over TCP on
//! 127.0.0.1:0, and a raw line client over an in-memory stream for
//! byte-exact and hostile input (and a non-loopback peer address).

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use std::sync::Arc;

use common::{listen, world};
use mailroom_imap::Imap;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

const IMAPLIB: &str = r#"
import imaplib, json, sys
port = int(sys.argv[1])
out = {}
m = imaplib.IMAP4('127.0.0.1', port)
out['caps'] = sorted(m.capabilities)
out['login'] = m.login('alice@contoso.com', 'Alice-pass-123')[0]
out['namespace'] = m.namespace()[1][0].decode()
out['logout'] = m.logout()[0]
for login, password in [('info@contoso.com', ''), ('alice@contoso.com', 'wrong'), ('bob@contoso.com', 'Bob-pass-123'), ('nobody@contoso.com', 'x')]:
    m = imaplib.IMAP4('127.0.0.1', port)
    try:
        m.login(login, password or 'anything-at-all')
        out[login] = 'signed in'
    except imaplib.IMAP4.error as e:
        out[login] = str(e)
    m.logout()
m = imaplib.IMAP4('127.0.0.1', port)
out['plain'] = m.authenticate('PLAIN', lambda _: b'\0alice@contoso.com\0Alice-pass-123')[0]
out['caps_after'] = m.capability()[1][0].decode().split()
m.logout()
print(json.dumps(out))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imaplib_signs_in_and_shared_mailboxes_cannot() {
    let world = world().await;
    let addr = listen(world.imap.clone()).await;
    let output = tokio::process::Command::new("python3")
        .args(["-c", IMAPLIB, &addr.port().to_string()])
        .output()
        .await
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let out: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let caps: Vec<&str> = out["caps"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    for cap in ["IMAP4REV1", "AUTH=PLAIN", "SASL-IR", "LITERAL+", "NAMESPACE", "ID"] {
        assert!(caps.contains(&cap), "{cap} in {caps:?}");
    }
    assert_eq!(out["login"], "OK");
    assert_eq!(out["namespace"], r#"(("" "/")) NIL (("Shared/" "/"))"#);
    assert_eq!(out["logout"], "BYE");
    // A shared mailbox's own account, a wrong password, a blocked user and
    // an unknown login look exactly alike (SPEC §1).
    let refusal = "b'[AUTHENTICATIONFAILED] Authentication failed: wrong user name or password.'";
    for login in ["info@contoso.com", "alice@contoso.com", "bob@contoso.com", "nobody@contoso.com"] {
        assert_eq!(out[login], refusal, "{login}: {out}");
    }
    assert_eq!(out["plain"], "OK");
    let after: Vec<&str> =
        out["caps_after"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    assert!(
        after.contains(&"IDLE") && !after.contains(&"AUTH=PLAIN"),
        "capabilities after sign-in: {after:?}"
    );
}

/// A raw client over an in-memory stream, so the peer can be any address.
struct Raw {
    reader: BufReader<tokio::io::ReadHalf<tokio::io::DuplexStream>>,
    writer: tokio::io::WriteHalf<tokio::io::DuplexStream>,
}

impl Raw {
    fn start(imap: &Arc<Imap>, peer: &str) -> Raw {
        let (client, server) = tokio::io::duplex(1 << 16);
        tokio::spawn(imap.clone().serve(Box::new(server), peer.parse().unwrap(), false));
        let (read, write) = tokio::io::split(client);
        Raw { reader: BufReader::new(read), writer: write }
    }

    async fn line(&mut self) -> String {
        let mut line = String::new();
        self.reader.read_line(&mut line).await.unwrap();
        line
    }

    async fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).await.unwrap();
    }

    /// Sends a command and returns every line up to its tagged response.
    async fn cmd(&mut self, tag: &str, command: &str) -> Vec<String> {
        self.send(format!("{tag} {command}\r\n").as_bytes()).await;
        self.until(tag).await
    }

    async fn until(&mut self, tag: &str) -> Vec<String> {
        let mut lines = Vec::new();
        loop {
            let line = self.line().await;
            assert!(!line.is_empty(), "connection closed; got {lines:?}");
            let done = line.starts_with(&format!("{tag} "));
            lines.push(line.trim_end().to_string());
            if done {
                return lines;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_protocol_edges() {
    let world = world().await;
    let mut c = Raw::start(&world.imap, "127.0.0.1:40000");
    let greeting = c.line().await;
    assert!(greeting.starts_with("* OK [CAPABILITY IMAP4rev1 IMAP4rev2 LITERAL+ "), "{greeting}");
    assert_eq!(c.cmd("a1", "FROB").await, ["a1 BAD Syntax error: the command could not be parsed"]);
    assert_eq!(
        c.cmd("a2", "SELECT INBOX").await,
        ["a2 BAD Sign in first: SELECT needs LOGIN or AUTHENTICATE"]
    );
    assert_eq!(
        c.cmd("a3", "NAMESPACE").await,
        ["a3 BAD Sign in first: NAMESPACE needs LOGIN or AUTHENTICATE"]
    );
    // A synchronizing literal over the limit is refused before it is sent.
    assert_eq!(
        c.cmd("a4", "LOGIN {99999999}").await,
        ["a4 BAD [TOOBIG] Command too long (at most 32768 octets)"]
    );
    // ID at RFC 2971's maximum (30 pairs, values of 1024 octets) fits
    // before sign-in.
    let pairs: Vec<String> =
        (0..30).map(|i| format!("\"field-{i:02}-{}\" \"{}\"", "f".repeat(21), "v".repeat(1024))).collect();
    let id = c.cmd("i1", &format!("ID ({})", pairs.join(" "))).await;
    assert!(id.last().is_some_and(|l| l.starts_with("i1 OK")), "{id:?}");
    // A literal within it gets its continuation; LITERAL+ needs none.
    c.send(b"a5 LOGIN {17}\r\n").await;
    assert_eq!(c.line().await, "+ Ready for literal data\r\n");
    c.send(b"alice@contoso.com {14+}\r\nAlice-pass-123\r\n").await;
    let ok = c.until("a5").await;
    assert!(ok[0].starts_with("a5 OK [CAPABILITY ") && ok[0].ends_with("] LOGIN completed"), "{ok:?}");
    assert!(!ok[0].contains("AUTH=PLAIN"), "no AUTH= after sign-in: {ok:?}");
    assert_eq!(c.cmd("a6", "LOGIN alice@contoso.com x").await, ["a6 BAD Already signed in"]);
    let ns = c.cmd("a7", "NAMESPACE").await;
    assert_eq!(ns, [r#"* NAMESPACE (("" "/")) NIL (("Shared/" "/"))"#, "a7 OK NAMESPACE completed"]);
    let id = c.cmd("a8", "ID NIL").await;
    assert_eq!(id[0], format!(r#"* ID ("name" "Mailroom" "version" "{}")"#, env!("CARGO_PKG_VERSION")));
    assert_eq!(c.cmd("a9", "LOGOUT").await, ["* BYE Logging out", "a9 OK LOGOUT completed"]);
    assert_eq!(c.line().await, "", "closed after LOGOUT");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_passwords_in_the_clear_from_the_network() {
    let world = world().await;
    // A remote peer without TLS: LOGINDISABLED, and sign-in refused.
    let mut c = Raw::start(&world.imap, "192.0.2.7:50000");
    let greeting = c.line().await;
    assert!(greeting.contains("LOGINDISABLED") && !greeting.contains("AUTH=PLAIN"), "{greeting}");
    let refused = c.cmd("a1", "LOGIN alice@contoso.com Alice-pass-123").await;
    assert_eq!(
        refused,
        ["a1 NO [PRIVACYREQUIRED] Sign in over TLS: use STARTTLS first, or the implicit-TLS port"]
    );
    let refused = c.cmd("a2", "AUTHENTICATE PLAIN AGFsaWNlQGNvbnRvc28uY29tAEFsaWNlLXBhc3MtMTIz").await;
    assert_eq!(
        refused[0],
        "a2 NO [PRIVACYREQUIRED] Sign in over TLS: use STARTTLS first, or the implicit-TLS port"
    );
    assert_eq!(c.cmd("a3", "STARTTLS").await, ["a3 NO TLS is not available"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authenticate_plain_exchanges() {
    let world = world().await;
    let mut c = Raw::start(&world.imap, "127.0.0.1:40001");
    c.line().await;
    // Without an initial response: a "+" then the data.
    c.send(b"a1 AUTHENTICATE PLAIN\r\n").await;
    assert_eq!(c.line().await, "+ \r\n");
    c.send(b"*\r\n").await;
    assert_eq!(c.until("a1").await, ["a1 BAD Authentication cancelled"]);
    c.send(b"a2 AUTHENTICATE PLAIN\r\n").await;
    assert_eq!(c.line().await, "+ \r\n");
    c.send(b"not base64!\r\n").await;
    assert_eq!(c.until("a2").await, ["a2 BAD Authentication data must be one line of base64"]);
    // Someone else's identity as authzid is refused.
    let other = "Ym9iQGNvbnRvc28uY29tAGFsaWNlQGNvbnRvc28uY29tAEFsaWNlLXBhc3MtMTIz"; // bob\0alice\0pw
    let refused = c.cmd("a3", &format!("AUTHENTICATE PLAIN {other}")).await;
    assert_eq!(refused, ["a3 NO [AUTHORIZATIONFAILED] Sign in as yourself"]);
    assert_eq!(
        c.cmd("a4", "AUTHENTICATE CRAM-MD5").await,
        ["a4 NO Unsupported mechanism: use PLAIN or SCRAM-SHA-256"]
    );
    c.send(b"a5 AUTHENTICATE PLAIN\r\n").await;
    assert_eq!(c.line().await, "+ \r\n");
    c.send(b"AGFsaWNlQGNvbnRvc28uY29tAEFsaWNlLXBhc3MtMTIz\r\n").await;
    let ok = c.until("a5").await;
    assert!(ok[0].ends_with("] AUTHENTICATE completed"), "{ok:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn before_sign_in_commands_stay_small() {
    let world = world().await;
    // A line that never ends: the server stops buffering and closes.
    let mut c = Raw::start(&world.imap, "127.0.0.1:40002");
    c.line().await;
    let _ = c.writer.write_all(&vec![b'x'; 40_000]).await;
    assert_eq!(c.line().await, "* BYE Command too long before sign-in\r\n");
    assert_eq!(c.line().await, "", "closed");
    // A non-synchronizing literal over the limit: the same.
    let mut c = Raw::start(&world.imap, "127.0.0.1:40003");
    c.line().await;
    c.send(b"a1 LOGIN {100000+}\r\n").await;
    // The server stops reading part-way: the rest may not be accepted.
    let _ = c.writer.write_all(&vec![b'y'; 100_000]).await;
    assert_eq!(c.line().await, "* BYE Command too long before sign-in\r\n");
}
