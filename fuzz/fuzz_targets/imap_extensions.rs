//! A whole IMAP session aimed at the extensions: signed in, the shared
//! INBOX selected (a small conversation in it: replies by References and
//! In-Reply-To, a missing parent, a loop, encoded bodies), then each line of
//! the fuzzer's input becomes a command whose keyword its first byte picks —
//! SORT, THREAD, LIST-EXTENDED, LSUB, SUBSCRIBE, SEARCH (BODY, TEXT, WITHIN,
//! RECENT), STATUS, UNAUTHENTICATE, COMPRESS (after which the rest of the
//! input is read as a deflate stream) — and the rest of the line is the
//! fuzzer's. The server never panics or hangs, and every byte of the memory
//! budget comes back.
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

const BUDGET: usize = 4 * 1024 * 1024;

const CONVERSATION: [&str; 6] = [
    "From: Zed <zed@x.example>\r\nSubject: Lunch\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <1@x>\r\n\r\nZ=C3=BCrich\r\n",
    "From: a@x.example\r\nSubject: Re: Lunch\r\nDate: Mon, 23 Nov 2026 11:00:00 +0000\r\nMessage-ID: <2@x>\r\nReferences: <1@x>\r\n\r\n2\r\n",
    "From: b@x.example\r\nSubject: [l] Re: Budget\r\nMessage-ID: <3@x>\r\nReferences: <gone@x>\r\n\r\n3\r\n",
    "Subject: Loop\r\nMessage-ID: <4@x>\r\nReferences: <5@x>\r\n\r\n4\r\n",
    "Subject: Re: Loop\r\nMessage-ID: <5@x>\r\nIn-Reply-To: <4@x>\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: base64\r\n\r\nWvxyaWNo\r\n",
    "Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\nMessage-ID: <1@x>\r\n\r\nduplicate id\r\n",
];

struct World {
    runtime: tokio::runtime::Runtime,
    store: Arc<SqliteStore>,
    feed: Arc<dyn mailroom_core::change::ChangeFeed>,
    runs: std::sync::atomic::AtomicU32,
    _dir: std::path::PathBuf,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().expect("runtime");
        let dir = common::data_dir("imap-extensions");
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
            let mail = Mail::new(directory, store.clone());
            let mailbox = info.mailbox_id().expect("a mailbox");
            for message in CONVERSATION {
                let summary = mailroom_mime::summarize(message.as_bytes());
                mail.deliver(message.as_bytes().to_vec(), &summary, &[mailbox]).await.expect("deliver");
            }
            store
        });
        let feed = Arc::new(mailroom_store::SqliteFeed::start(&store).expect("change feed"));
        World { runtime, store, feed, runs: Default::default(), _dir: dir }
    })
}

const PREFIX: &str = "a LOGIN alice@contoso.com Alice-pass-123\r\nb SELECT \"Shared/info@contoso.com/INBOX\"\r\n";

/// The keywords a line may start with, by its first byte.
const KEYWORDS: [&str; 20] = [
    "SORT (",
    "UID SORT (",
    "THREAD REFERENCES UTF-8 ",
    "THREAD ORDEREDSUBJECT ",
    "THREAD ",
    "LIST (",
    "LIST \"\" ",
    "LSUB \"\" ",
    "SUBSCRIBE ",
    "UNSUBSCRIBE ",
    "SEARCH CHARSET UTF-8 BODY ",
    "SEARCH TEXT ",
    "SEARCH ",
    "STATUS ",
    "FETCH 1:* ",
    "STORE 1:* +FLAGS ",
    "UNAUTHENTICATE",
    "COMPRESS DEFLATE",
    "ENABLE ",
    "",
];

/// Read back, so the store stays as it was (subscriptions dropped).
const SUFFIX: &[u8] = b"\r\nz1 LSUB \"\" *\r\nz2 LOGOUT\r\n";

fuzz_target!(|data: &[u8]| {
    let mut input = PREFIX.as_bytes().to_vec();
    for (n, line) in data.split(|&b| b == b'\n').enumerate() {
        let Some((&selector, rest)) = line.split_first() else { continue };
        input.extend_from_slice(format!("t{n} {}", KEYWORDS[selector as usize % KEYWORDS.len()]).as_bytes());
        input.extend_from_slice(rest);
        input.extend_from_slice(b"\r\n");
    }
    input.extend_from_slice(SUFFIX);
    let world = world();
    let run = world.runs.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let peer = std::net::SocketAddr::from(([10, (run >> 16) as u8, (run >> 8) as u8, run as u8], 143));
    let directory = Directory::new(world.store.clone());
    let mail = Mail::new(directory, world.store.clone());
    let budget = MemoryBudget::new(BUDGET);
    let config = ImapConfig {
        max_command_size: 1 << 20,
        login_timeout: std::time::Duration::from_secs(5),
        idle_timeout: std::time::Duration::from_secs(5),
        ..ImapConfig::default()
    };
    let (_shutdown, shutdown_rx) = tokio::sync::watch::channel(false);
    world.runtime.block_on(async {
        let imap = Imap::new(mail.clone(), config, budget.clone(), None, shutdown_rx, world.feed.clone());
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
        assert!(responses.starts_with(b"* OK "), "greeting");
    });
    assert_eq!(budget.available(), budget.total(), "every reservation was returned");
});
