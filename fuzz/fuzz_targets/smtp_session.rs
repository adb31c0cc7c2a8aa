//! A whole SMTP session — inbound (port 25) or submission (AUTH, Send As
//! checks, the outbound queue) — on arbitrary client bytes, against a real
//! store (on /dev/shm when it exists, so deliveries are cheap): the server
//! never panics or hangs, and every reply it writes is a well-formed SMTP
//! reply line. A prefix chosen by the first byte takes the session deep
//! (greeted, signed in, in a transaction, inside DATA) before the fuzzed
//! bytes. Each run has a server of its own and comes from another
//! address, so sign-in throttling never makes the fuzzer wait.
#![no_main]

mod common;

use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use mailroom_core::Directory;
use mailroom_core::directory::{Actor, NewMailbox, NewMailboxKind};
use mailroom_core::mail::Mail;
use mailroom_smtp::{Inbound, InboundConfig, Role};
use mailroom_store::SqliteStore;
use mailroom_types::{DomainName, EmailAddress};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct World {
    runtime: tokio::runtime::Runtime,
    store: Arc<SqliteStore>,
    budget: mailroom_core::budget::MemoryBudget,
    runs: std::sync::atomic::AtomicU32,
    _shutdown: tokio::sync::watch::Sender<bool>,
    shutdown_rx: tokio::sync::watch::Receiver<bool>,
    _dir: std::path::PathBuf,
}

/// The two services of one run, with a directory of their own: sign-in
/// throttling (per address and per account) starts afresh, so one run's
/// failed guesses at Alice don't make the next one wait.
fn services(world: &World) -> (Arc<Inbound>, Arc<Inbound>) {
    let directory = Directory::new(world.store.clone());
    let mail = Mail::new(directory, world.store.clone());
    let config = InboundConfig {
        max_message_size: 64 * 1024,
        max_line_length: 2000,
        max_errors: 50,
        idle_timeout: std::time::Duration::from_secs(5),
        ..InboundConfig::default()
    };
    let submission = InboundConfig { role: Role::Submission, allow_plaintext_auth: true, ..config.clone() };
    (
        Inbound::new(mail.clone(), config, world.budget.clone(), None, world.shutdown_rx.clone()),
        Inbound::new(mail, submission, world.budget.clone(), None, world.shutdown_rx.clone()),
    )
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().expect("runtime");
        let dir = common::data_dir("smtp");
        let (shutdown, shutdown_rx) = tokio::sync::watch::channel(false);
        let store = runtime.block_on(async {
            let (store, directory, _) = common::contoso_with_alice(&dir).await;
            let spec = NewMailbox {
                name: "Info".into(),
                display_name: None,
                alias: Some("info".into()),
                primary_address: Some(EmailAddress::from_parts("info", DomainName::parse("contoso.com").expect("domain"))),
                kind: NewMailboxKind::Shared,
            };
            directory.create_mailbox(&Actor::System, spec).await.expect("mailbox");
            store
        });
        let budget = mailroom_core::budget::MemoryBudget::new(512 << 20);
        World { runtime, store, budget, runs: Default::default(), _shutdown: shutdown, shutdown_rx, _dir: dir }
    })
}

/// For submission: greeted, signed in as Alice, in a transaction, inside DATA.
const SUBMISSION_PREFIXES: [&[u8]; 4] = [
    b"EHLO fuzz.example\r\n",
    b"EHLO fuzz.example\r\nAUTH PLAIN AGFsaWNlQGNvbnRvc28uY29tAEFsaWNlLXBhc3MtMTIz\r\n",
    b"EHLO fuzz.example\r\nAUTH PLAIN AGFsaWNlQGNvbnRvc28uY29tAEFsaWNlLXBhc3MtMTIz\r\nMAIL FROM:<alice@contoso.com>\r\nRCPT TO:<x@fabrikam.example>\r\n",
    b"EHLO fuzz.example\r\nAUTH PLAIN AGFsaWNlQGNvbnRvc28uY29tAEFsaWNlLXBhc3MtMTIz\r\nMAIL FROM:<alice@contoso.com>\r\nRCPT TO:<info@contoso.com>\r\nDATA\r\n",
];

const PREFIXES: [&[u8]; 4] = [
    b"",
    b"EHLO fuzz.example\r\n",
    b"EHLO fuzz.example\r\nMAIL FROM:<a@fabrikam.example>\r\nRCPT TO:<info@contoso.com>\r\n",
    b"EHLO fuzz.example\r\nMAIL FROM:<a@fabrikam.example>\r\nRCPT TO:<info@contoso.com>\r\nDATA\r\n",
];

fn well_formed(line: &[u8]) -> bool {
    line.len() >= 5
        && line[..3].iter().all(u8::is_ascii_digit)
        && (line[3] == b' ' || line[3] == b'-')
        && line.ends_with(b"\r\n")
        && !line[..line.len() - 2].contains(&b'\r')
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let submission = selector & 0x80 != 0;
    let prefixes = if submission { &SUBMISSION_PREFIXES } else { &PREFIXES };
    let mut input = prefixes[selector as usize % prefixes.len()].to_vec();
    input.extend_from_slice(rest);
    let world = world();
    let run = world.runs.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let peer = std::net::SocketAddr::from(([10, (run >> 16) as u8, (run >> 8) as u8, run as u8], 2525));
    let (inbound, submit) = services(world);
    let service = if submission { submit } else { inbound };
    world.runtime.block_on(async {
        let (client, server) = tokio::io::duplex(1 << 16);
        let session = tokio::spawn(service.serve(Box::new(server), peer));
        let mut replies = Vec::new();
        let (mut read, mut write) = tokio::io::split(client);
        let send = async {
            let _ = write.write_all(&input).await;
            let _ = write.shutdown().await;
        };
        let receive = read.read_to_end(&mut replies);
        let (_, received) = tokio::join!(send, receive);
        received.expect("read replies");
        session.await.expect("session task ended without panicking");
        for line in replies.split_inclusive(|&b| b == b'\n') {
            assert!(well_formed(line), "malformed reply line {:?}", String::from_utf8_lossy(line));
        }
    });
});
