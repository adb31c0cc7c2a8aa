//! A whole inbound SMTP session on arbitrary client bytes, against a real
//! store (on /dev/shm when it exists, so deliveries are cheap): the server
//! never panics or hangs, and every reply it writes is a well-formed SMTP
//! reply line. A prefix chosen by the first byte takes the session deep
//! (greeted, in a transaction, inside DATA) before the fuzzed bytes.
#![no_main]

use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use mailroom_core::Directory;
use mailroom_core::change::DiscardChanges;
use mailroom_core::directory::{Actor, NewMailbox, NewMailboxKind};
use mailroom_core::mail::Mail;
use mailroom_smtp::{Inbound, InboundConfig};
use mailroom_store::SqliteStore;
use mailroom_types::{DomainName, EmailAddress};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct World {
    runtime: tokio::runtime::Runtime,
    inbound: Arc<Inbound>,
    _shutdown: tokio::sync::watch::Sender<bool>,
    _dir: std::path::PathBuf,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().expect("runtime");
        let base = if std::path::Path::new("/dev/shm").is_dir() { "/dev/shm" } else { "/tmp" };
        let dir = std::path::PathBuf::from(format!("{base}/mailroom-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("fuzz data dir");
        let (shutdown, shutdown_rx) = tokio::sync::watch::channel(false);
        let inbound = runtime.block_on(async {
            let store = Arc::new(SqliteStore::open(&dir.join("mailroom.db")).expect("store"));
            let directory = Directory::new(store.clone(), Arc::new(DiscardChanges));
            let domain = DomainName::parse("contoso.com").expect("domain");
            directory.add_domain(&Actor::System, &domain, true).await.expect("add domain");
            let spec = NewMailbox {
                name: "Info".into(),
                display_name: None,
                alias: Some("info".into()),
                primary_address: Some(EmailAddress::from_parts("info", domain)),
                kind: NewMailboxKind::Shared,
            };
            directory.create_mailbox(&Actor::System, spec).await.expect("mailbox");
            let mail = Mail::new(directory, store, Arc::new(DiscardChanges));
            let config = InboundConfig {
                max_message_size: 64 * 1024,
                max_line_length: 2000,
                max_errors: 50,
                idle_timeout: std::time::Duration::from_secs(5),
                ..InboundConfig::default()
            };
            Inbound::new(mail, config, None, shutdown_rx)
        });
        World { runtime, inbound, _shutdown: shutdown, _dir: dir }
    })
}

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
    let mut input = PREFIXES[selector as usize % PREFIXES.len()].to_vec();
    input.extend_from_slice(rest);
    let world = world();
    world.runtime.block_on(async {
        let (client, server) = tokio::io::duplex(1 << 16);
        let session = tokio::spawn(world.inbound.clone().serve(Box::new(server), "127.0.0.1:2525".parse().expect("addr")));
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
