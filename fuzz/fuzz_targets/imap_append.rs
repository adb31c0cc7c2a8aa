//! A whole IMAP session on arbitrary client bytes, aimed at APPEND: a
//! prefix chosen by the first byte signs in and opens an APPEND (plain
//! literal, LITERAL+, literal8, with flags and a date, into the shared
//! mailbox) whose length and content are the fuzzer's; a fixed suffix then
//! reads back and expunges what was appended. Against a real store (on
//! /dev/shm when it exists) and a small memory budget, so refusals of
//! literals it can't hold are reached too. The server never panics or
//! hangs, and once the session ends every byte of the budget is returned.
#![no_main]

mod common;

use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use mailroom_core::Directory;
use mailroom_core::budget::MemoryBudget;
use mailroom_core::directory::{Actor, NewMailbox, NewMailboxKind};
use mailroom_core::mail::Mail;
use mailroom_core::permissions::Right;
use mailroom_imap::{Imap, ImapConfig};
use mailroom_store::SqliteStore;
use mailroom_types::{DomainName, EmailAddress};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Small enough that a literal of a few hundred KiB is refused.
const BUDGET: usize = 2 * 1024 * 1024;

struct World {
    runtime: tokio::runtime::Runtime,
    store: Arc<SqliteStore>,
    /// The change feed every run's sessions listen to.
    feed: Arc<dyn mailroom_core::change::ChangeFeed>,
    runs: std::sync::atomic::AtomicU32,
    _dir: std::path::PathBuf,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().expect("runtime");
        let dir = common::data_dir("imap");
        let store = runtime.block_on(async {
            let (store, directory, alice) = common::contoso_with_alice(&dir).await;
            let info = NewMailbox {
                name: "Info".into(),
                display_name: None,
                alias: Some("info".into()),
                primary_address: Some(EmailAddress::from_parts("info", DomainName::parse("contoso.com").expect("domain"))),
                kind: NewMailboxKind::Shared,
            };
            let info = directory.create_mailbox(&Actor::System, info).await.expect("shared");
            directory.grant(&Actor::System, info.id, alice.id, Right::FullAccess, true).await.expect("grant");
            store
        });
        let feed = Arc::new(mailroom_store::SqliteFeed::start(&store).expect("change feed"));
        World { runtime, store, feed, runs: Default::default(), _dir: dir }
    })
}

const LOGIN: &str = "a LOGIN alice@contoso.com Alice-pass-123\r\n";

/// Where the fuzzed bytes start: before sign-in, signed in, or inside an
/// APPEND's literal announcement (the length comes next).
fn prefix(selector: u8) -> String {
    match selector % 6 {
        0 => String::new(),
        1 => LOGIN.to_string(),
        2 => format!("{LOGIN}b APPEND INBOX {{"),
        3 => format!("{LOGIN}b APPEND \"Shared/info@contoso.com/INBOX\" (\\Seen $Handled) \"05-Dec-2026 10:00:00 +0100\" {{"),
        4 => format!("{LOGIN}b APPEND INBOX ~{{"),
        _ => format!("{LOGIN}b APPEND INBOX (\\Draft) {{"),
    }
}

/// Read back what was appended, then expunge it, so the store stays small.
const SUFFIX: &[u8] = b"\r\nz1 SELECT INBOX\r\nz2 FETCH 1:* (FLAGS BODYSTRUCTURE ENVELOPE BODY.PEEK[] BINARY.PEEK[1])\r\n\
z3 STORE 1:* +FLAGS.SILENT (\\Deleted)\r\nz4 EXPUNGE\r\nz5 SELECT \"Shared/info@contoso.com/INBOX\"\r\n\
z6 STORE 1:* +FLAGS.SILENT (\\Deleted)\r\nz7 EXPUNGE\r\nz8 LOGOUT\r\n";

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let mut input = prefix(selector).into_bytes();
    input.extend_from_slice(rest);
    input.extend_from_slice(SUFFIX);
    let world = world();
    let run = world.runs.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    // Each run from another address, with a server of its own (sign-in
    // throttling starts afresh): failed guesses of one run don't slow the next.
    let peer = std::net::SocketAddr::from(([10, (run >> 16) as u8, (run >> 8) as u8, run as u8], 143));
    let directory = Directory::new(world.store.clone());
    let mail = Mail::new(directory, world.store.clone());
    let budget = MemoryBudget::new(BUDGET);
    let config = ImapConfig {
        max_command_size: 1 << 20,
        login_timeout: std::time::Duration::from_secs(5),
        ..ImapConfig::default()
    };
    let (_shutdown, shutdown_rx) = tokio::sync::watch::channel(false);
    world.runtime.block_on(async {
        let imap = Imap::new(mail, config, budget.clone(), None, shutdown_rx, world.feed.clone());
        let (client, server) = tokio::io::duplex(1 << 16);
        let session = tokio::spawn(imap.serve(Box::new(server), peer, false));
        let mut responses = Vec::new();
        let (mut read, mut write) = tokio::io::split(client);
        let send = async {
            let _ = write.write_all(&input).await;
            let _ = write.shutdown().await;
        };
        let receive = read.read_to_end(&mut responses);
        let (_, received) = tokio::join!(send, receive);
        received.expect("read responses");
        session.await.expect("session task ended without panicking");
        assert!(responses.starts_with(b"* OK "), "greeting: {:?}", String::from_utf8_lossy(&responses[..responses.len().min(80)]));
    });
    assert_eq!(budget.available(), budget.total(), "every reservation was returned");
});
