//! AUTHENTICATE SCRAM-SHA-256 (RFC 5802, RFC 7677) driven by an independent
//! client: Python's imaplib carrying the `scramp` library's exchange, which
//! also checks the server's own proof. The same refusals as LOGIN (SPEC
//! §1), verifiers that follow the password, and accounts from before SCRAM.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use common::{listen, world};
use mailroom_core::directory::Actor;
use mailroom_types::Secret;
use serde_json::Value;

/// Each attempt `[login, password, how]` over a new connection; `how` is
/// `imaplib` (the `+` first, then the client's first message), `ir` (the
/// first message on the command line, SASL-IR, over a raw socket) or
/// `cancel` (the client answers the challenge with `*`).
const CLIENT: &str = r#"
import base64, imaplib, json, socket, sys
from scramp import ScramClient
port = int(sys.argv[1])
out = []
for login, password, how in json.loads(sys.argv[2]):
    c = ScramClient(['SCRAM-SHA-256'], login, password)
    seen = {}
    if how == 'ir':
        s = socket.create_connection(('127.0.0.1', port))
        f = s.makefile('rb')
        f.readline()
        first = base64.b64encode(c.get_client_first().encode()).decode()
        s.sendall(('a AUTHENTICATE SCRAM-SHA-256 ' + first + '\r\n').encode())
        line = f.readline().decode()
        if line.startswith('+ '):
            seen['server_first'] = base64.b64decode(line[2:].strip()).decode()
            c.set_server_first(seen['server_first'])
            s.sendall(base64.b64encode(c.get_client_final().encode()) + b'\r\n')
            line = f.readline().decode()
            if line.startswith('+ '):
                c.set_server_final(base64.b64decode(line[2:].strip()).decode())
                seen['verified'] = True
                s.sendall(b'\r\n')
                line = f.readline().decode()
        out.append({'result': line.strip(), 'verified': seen.get('verified', False), 'server_first': seen.get('server_first')})
        s.close()
        continue
    m = imaplib.IMAP4('127.0.0.1', port)
    def step(challenge):
        if 'first' not in seen:
            seen['first'] = True
            return c.get_client_first().encode()
        if 'server_first' not in seen:
            seen['server_first'] = challenge.decode()
            if how == 'cancel':
                return None
            c.set_server_first(seen['server_first'])
            return c.get_client_final().encode()
        c.set_server_final(challenge.decode())  # raises unless the server's proof is right
        seen['verified'] = True
        return b''
    try:
        typ, data = m.authenticate('SCRAM-SHA-256', step)
        m.select('INBOX')
        result = typ
    except imaplib.IMAP4.error as e:
        result = str(e)
    out.append({'result': result, 'verified': seen.get('verified', False), 'server_first': seen.get('server_first')})
    m.logout()
print(json.dumps(out))
"#;

async fn attempts(port: u16, tries: &[(&str, &str, &str)]) -> Vec<Value> {
    let tries = serde_json::to_string(tries).unwrap();
    let output = tokio::process::Command::new("python3")
        .args(["-c", CLIENT, &port.to_string(), &tries])
        .output()
        .await
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let out: Value = serde_json::from_slice(&output.stdout).unwrap();
    out.as_array().unwrap().clone()
}

/// The `s=` and `i=` of a server's first message.
fn salt_and_iterations(attempt: &Value) -> (String, String) {
    let first = attempt["server_first"].as_str().unwrap();
    let field = |name: &str| first.split(',').find_map(|f| f.strip_prefix(name)).unwrap().to_string();
    (field("s="), field("i="))
}

const REFUSED: &str = "[AUTHENTICATIONFAILED] Authentication failed: wrong user name or password.";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scram_signs_in_and_refuses_like_login() {
    let world = world().await;
    let addr = listen(world.imap.clone()).await;
    let out = attempts(
        addr.port(),
        &[
            ("alice@contoso.com", "Alice-pass-123", "imaplib"),
            ("alice@contoso.com", "Alice-pass-123", "ir"),
            ("alice@contoso.com", "Alice-pass-124", "imaplib"),
            ("info@contoso.com", "anything-at-all", "imaplib"),
            ("bob@contoso.com", "Bob-pass-123", "imaplib"),
            ("nobody@contoso.com", "Alice-pass-123", "imaplib"),
            ("nobody@contoso.com", "Alice-pass-123", "imaplib"),
            ("alice@contoso.com", "Alice-pass-123", "cancel"),
        ],
    )
    .await;
    // Right password: signed in, and the server proved it holds the verifier.
    assert_eq!(out[0]["result"], "OK", "{out:?}");
    assert_eq!(out[0]["verified"], true);
    assert!(out[1]["result"].as_str().unwrap().starts_with("a OK [CAPABILITY"), "{:?}", out[1]);
    assert_eq!(out[1]["verified"], true);
    // A wrong password, a shared mailbox, a blocked user, an unknown login:
    // the same challenge shape, then the same refusal (SPEC §1).
    let (alice_salt, iterations) = salt_and_iterations(&out[0]);
    assert_eq!(iterations, "4096");
    for attempt in &out[2..7] {
        assert!(attempt["result"].as_str().unwrap().ends_with(REFUSED), "{attempt:?}");
        assert_eq!(attempt["verified"], false);
        let (salt, i) = salt_and_iterations(attempt);
        assert_eq!((salt.len(), i.as_str()), (alice_salt.len(), "4096"), "{attempt:?}");
    }
    assert_eq!(salt_and_iterations(&out[2]).0, alice_salt, "a wrong password meets the account's own salt");
    assert_eq!(
        salt_and_iterations(&out[5]).0,
        salt_and_iterations(&out[6]).0,
        "an unknown login meets the same salt each time, as a real account does"
    );
    assert!(out[7]["result"].as_str().unwrap().contains("Authentication cancelled"), "{:?}", out[7]);

    // Blocking doesn't change what a prober sees: Bob's own salt, signed in
    // or refused.
    let directory = world.mail.directory();
    let bob = directory.resolve("bob@contoso.com").await.unwrap().id;
    directory.set_sign_in_blocked(&Actor::System, bob, false).await.unwrap();
    let open = attempts(addr.port(), &[("bob@contoso.com", "Bob-pass-123", "imaplib")]).await;
    assert_eq!(open[0]["result"], "OK", "{open:?}");
    assert_eq!(
        salt_and_iterations(&open[0]),
        salt_and_iterations(&out[4]),
        "the blocked answer showed Bob's salt"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_verifier_follows_the_password() {
    let world = world().await;
    let addr = listen(world.imap.clone()).await;
    let directory = world.mail.directory();
    let alice = directory.resolve("alice@contoso.com").await.unwrap().id;

    // A new password: the old one no longer passes SCRAM, the new one does.
    directory.set_password(&Actor::System, alice, &Secret::new("Alice-new-456".to_string())).await.unwrap();
    let out = attempts(
        addr.port(),
        &[
            ("alice@contoso.com", "Alice-pass-123", "imaplib"),
            ("alice@contoso.com", "Alice-new-456", "imaplib"),
        ],
    )
    .await;
    assert!(out[0]["result"].as_str().unwrap().ends_with(REFUSED), "{out:?}");
    assert_eq!(out[1]["result"], "OK", "{out:?}");

    // A password stored without a verifier, as before SCRAM (or by any path
    // that changes the hash alone): the store dropped the verifier, so SCRAM
    // fails until one sign-in with the password derives it again.
    let hash = mailroom_core::auth::hash_password(&Secret::new("Alice-old-789".to_string())).unwrap();
    world.store.set_password_hash(alice, Some(hash)).await.unwrap();
    assert_eq!(world.store.account(alice).await.unwrap().unwrap().scram_verifier, None);
    let out = attempts(addr.port(), &[("alice@contoso.com", "Alice-old-789", "imaplib")]).await;
    assert!(out[0]["result"].as_str().unwrap().ends_with(REFUSED), "{out:?}");
    let (read, write) = tokio::net::TcpStream::connect(addr).await.unwrap().into_split();
    let mut c = common::Client { read: tokio::io::BufReader::new(read), write };
    c.line().await;
    let answer = c.cmd("l", "LOGIN alice@contoso.com Alice-old-789").await;
    assert!(answer.last().unwrap().starts_with("l OK"), "{answer:?}");
    let out = attempts(addr.port(), &[("alice@contoso.com", "Alice-old-789", "ir")]).await;
    assert!(out[0]["result"].as_str().unwrap().starts_with("a OK"), "{out:?}");
    assert_eq!(out[0]["verified"], true);
}
