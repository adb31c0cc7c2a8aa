//! Real IMAP clients against `mailroom serve` (SPEC §4): mbsync (isync)
//! syncs a user's mailbox and a shared mailbox both ways, compressed
//! (COMPRESS=DEFLATE); neomutt, run
//! under tmux, opens the shared INBOX and shows its messages, threaded.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use mailroom_core::mail::SystemFlag;
use mailroom_testkit::inspect::inbox;
use mailroom_testkit::{Cli, LineClient, Server, http};

const ORG: &str = r#"
New-Mailbox -Name Alice -Alias alice -PrimarySmtpAddress alice@contoso.com -Password 'Alice-pass-123'
New-Mailbox -Shared -Name Info -Alias info -PrimarySmtpAddress info@contoso.com
Add-MailboxPermission info -User alice -AccessRights FullAccess -InheritanceType All
"#;

fn served() -> (Cli, Server) {
    let cli = Cli::new(env!("CARGO_BIN_EXE_mailroom"));
    cli.init_contoso();
    cli.run_with_stdin(&["exo", "-"], ORG).ok();
    let server = cli.serve(&[]);
    (cli, server)
}

fn send(server: &Server, to: &str, subject: &str) {
    send_with(server, to, subject, "");
}

/// [`send`] with more header fields (`extra`, each line ending in CRLF).
fn send_with(server: &Server, to: &str, subject: &str, extra: &str) {
    let mut c = LineClient::smtp(server.smtp());
    assert_eq!(c.cmd("MAIL FROM:<sender@fabrikam.example>").code, 250);
    assert_eq!(c.cmd(&format!("RCPT TO:<{to}>")).code, 250);
    assert_eq!(c.cmd("DATA").code, 354);
    c.send(
        format!(
            "From: sender@fabrikam.example\r\nSubject: {subject}\r\n{extra}\r\nbody of {subject}\r\n.\r\n"
        )
        .as_bytes(),
    );
    assert_eq!(c.reply().code, 250);
}

fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for sub in ["new", "cur"] {
        if let Ok(entries) = std::fs::read_dir(dir.join(sub)) {
            out.extend(entries.map(|e| e.unwrap().path()));
        }
    }
    out.sort();
    out
}

fn mbsync(config: &Path) {
    let output =
        Command::new("mbsync").arg("-c").arg(config).arg("-a").output().expect("mbsync (isync) is installed");
    assert!(
        output.status.success(),
        "mbsync failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn mbsync_syncs_own_and_shared_mailboxes_both_ways() {
    let (cli, server) = served();
    send(&server, "alice@contoso.com", "personal one");
    send(&server, "info@contoso.com", "shared one");
    send(&server, "info@contoso.com", "shared two");
    let local = cli.root().join("maildir");
    let config = cli.root().join("mbsyncrc");
    std::fs::create_dir_all(&local).unwrap();
    let (port, path) = (server.imap().port(), local.display());
    std::fs::write(
        &config,
        format!(
            "IMAPAccount alice\nHost 127.0.0.1\nPort {port}\nUser alice@contoso.com\nPass Alice-pass-123\n\
             SSLType None\nAuthMechs PLAIN\n\n\
             IMAPStore remote\nAccount alice\n\n\
             MaildirStore local\nPath {path}/\nInbox {path}/INBOX\nSubFolders Verbatim\n\n\
             Channel all\nFar :remote:\nNear :local:\nPatterns INBOX \"Shared/info@contoso.com/*\"\n\
             Create Both\nExpunge Both\nSyncState *\n"
        ),
    )
    .unwrap();
    mbsync(&config);
    // mbsync (isync 1.4, built with zlib) turns COMPRESS=DEFLATE (RFC 4978)
    // on by itself: everything here went through it.
    let metrics = http(server.http(), "GET", "/metrics", None, &[], b"").body;
    let compressed = metrics
        .lines()
        .find(|l| l.starts_with("mailroom_imap_compressed_sessions_total "))
        .and_then(|l| l.rsplit(' ').next()?.parse::<u64>().ok());
    assert!(compressed.is_some_and(|n| n >= 1), "{metrics}");
    let personal = local.join("INBOX");
    let shared = local.join("Shared/info@contoso.com/INBOX");
    assert_eq!(files(&personal).len(), 1);
    assert_eq!(files(&shared).len(), 2);
    let text = std::fs::read_to_string(&files(&shared)[0]).unwrap();
    assert!(text.contains("Subject: shared one"), "{text}");
    assert!(local.join("Shared/info@contoso.com/Sent Items").is_dir(), "every shared folder synced");

    // Back the other way: a note written offline into the shared INBOX, the
    // personal message read and flagged, a shared message deleted.
    std::fs::write(
        shared.join("new/1.offline:2,S"),
        "From: alice@contoso.com\r\nSubject: written offline\r\n\r\nfor the team\r\n",
    )
    .unwrap();
    let read = &files(&personal)[0];
    let name = read.file_name().unwrap().to_string_lossy().into_owned();
    let base = name.split(":2,").next().unwrap().to_string();
    std::fs::rename(read, personal.join("cur").join(format!("{base}:2,FS"))).unwrap();
    let doomed = files(&shared)
        .into_iter()
        .find(|p| std::fs::read_to_string(p).unwrap().contains("shared two"))
        .unwrap();
    let doomed_name = doomed.file_name().unwrap().to_string_lossy().into_owned();
    let doomed_base = doomed_name.split(":2,").next().unwrap().to_string();
    std::fs::rename(&doomed, shared.join("cur").join(format!("{doomed_base}:2,T"))).unwrap();
    mbsync(&config);

    let data = cli.data();
    let info = inbox(&data, "info@contoso.com");
    let subjects: Vec<_> = info.iter().map(|m| m.summary.envelope.subject.clone().unwrap()).collect();
    assert_eq!(subjects, ["shared one", "written offline"], "appended, and the deleted one expunged");
    assert!(info[1].meta.flags.has(SystemFlag::Seen));
    let alice = inbox(&data, "alice@contoso.com");
    assert!(alice[0].meta.flags.has(SystemFlag::Seen) && alice[0].meta.flags.has(SystemFlag::Flagged));
}

/// neomutt under tmux on the shared INBOX, with `extra` settings in its
/// muttrc: the screen once every one of `wanted` shows on it.
fn neomutt_pane(cli: &Cli, server: &Server, extra: &str, wanted: &[&str]) -> String {
    let port = server.imap().port();
    let muttrc = cli.root().join("muttrc");
    std::fs::write(
        &muttrc,
        format!(
            "set imap_user=\"alice@contoso.com\"\nset imap_pass=\"Alice-pass-123\"\n\
             set folder=\"imap://127.0.0.1:{port}/\"\nset spoolfile=\"+Shared/info@contoso.com/INBOX\"\n\
             set ssl_starttls=no\nset ssl_force_tls=no\nset header_cache=\"\"\nset message_cachedir=\"\"\n\
             set record=\"\"\nset postponed=\"\"\n{extra}"
        ),
    )
    .unwrap();
    // One tmux session per neomutt: the tests of this file run at once.
    static SESSIONS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = SESSIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let session = format!("mailroom-test-{}-{n}", std::process::id());
    let started = Command::new("tmux")
        .args(["new-session", "-d", "-s", &session, "-x", "160", "-y", "40"])
        .arg(format!("TERM=xterm neomutt -n -F {}", muttrc.display()))
        .status()
        .expect("tmux is installed");
    assert!(started.success());
    // Wait on what the screen shows, not on time.
    let deadline = Instant::now() + Duration::from_secs(30);
    let pane = loop {
        let output = Command::new("tmux").args(["capture-pane", "-p", "-t", &session]).output().unwrap();
        let pane = String::from_utf8_lossy(&output.stdout).into_owned();
        if wanted.iter().all(|w| pane.contains(w)) {
            break pane;
        }
        if Instant::now() > deadline {
            let _ = Command::new("tmux").args(["kill-session", "-t", &session]).status();
            panic!("neomutt never showed {wanted:?}:\n{pane}");
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let _ = Command::new("tmux").args(["kill-session", "-t", &session]).status();
    eprintln!("neomutt pane:\n{pane}");
    pane
}

#[test]
fn neomutt_opens_the_shared_inbox() {
    let (cli, server) = served();
    send(&server, "info@contoso.com", "Quarterly numbers");
    send(&server, "info@contoso.com", "Customer complaint");
    let pane = neomutt_pane(&cli, &server, "", &["Quarterly numbers", "Customer complaint"]);
    assert!(pane.contains("Shared/info@contoso.com/INBOX"), "{pane}");
}

/// neomutt's threaded view (it threads on the client, from the
/// `References:` and `In-Reply-To:` it fetches; it never sends THREAD): a
/// reply sits under its question, its repeated subject hidden.
#[test]
fn neomutt_shows_a_conversation_as_a_thread() {
    let (cli, server) = served();
    send_with(&server, "info@contoso.com", "Delivery dates", "Message-ID: <q1@fabrikam.example>\r\n");
    send(&server, "info@contoso.com", "Unrelated question");
    let reply = "Message-ID: <q2@fabrikam.example>\r\nIn-Reply-To: <q1@fabrikam.example>\r\nReferences: <q1@fabrikam.example>\r\n";
    send_with(&server, "info@contoso.com", "Re: Delivery dates", reply);
    let pane = neomutt_pane(
        &cli,
        &server,
        "set sort=threads\nset ascii_chars=yes\n",
        &["Delivery dates", "Unrelated question", "`->"],
    );
    let lines: Vec<&str> = pane.lines().collect();
    let question = lines.iter().position(|l| l.contains("Delivery dates")).unwrap();
    assert!(lines[question + 1].contains("`->"), "the reply right under its question:\n{pane}");
    assert_eq!(pane.matches("Delivery dates").count(), 1, "the reply's subject is hidden:\n{pane}");
}

/// `mailroom reindex` lists every body again and indexes it with a progress
/// report; imaplib's SEARCH BODY (substrings, any case) then answers from
/// the rebuilt index.
#[test]
fn reindex_rebuilds_the_search_indexes() {
    let (cli, server) = served();
    send(&server, "info@contoso.com", "Quarterly numbers");
    send(&server, "info@contoso.com", "Customer complaint");
    drop(server);
    let run = cli.run(&["reindex"]).ok();
    assert!(run.stdout.contains("Indexed 2 message bodies."), "{}", run.stdout);
    assert!(run.stderr.contains("Indexing: 0/2 bodies (0%)"), "{}", run.stderr);
    assert!(run.stderr.contains("Indexing: 2/2 bodies (100%)"), "{}", run.stderr);
    let help = cli.run(&["reindex", "--help"]).ok();
    assert!(help.stdout.contains("progress"), "{}", help.stdout);

    let server = cli.serve(&[]);
    let found = mailroom_testkit::python(
        r#"
import imaplib, sys
c = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
c.login("alice@contoso.com", "Alice-pass-123")
c.select('"Shared/info@contoso.com/INBOX"')
print(c.search(None, "BODY", '"ARTERLY NUM"')[1][0].decode())
print(c.search(None, "TEXT", "complaint")[1][0].decode())
"#,
        &[&server.imap().port().to_string()],
    );
    assert_eq!(found, "1\n2\n");
}
