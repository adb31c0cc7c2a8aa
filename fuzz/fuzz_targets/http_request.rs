//! The HTTP request path on arbitrary bytes: hyper's parsing, sign-in from
//! the head, per-method body limits, body reading, and the CalDAV methods
//! with their XML and iCalendar bodies — through the server's own
//! connection handler, against a real store (on /dev/shm when it exists).
//! The first byte picks the shape: raw bytes, or a signed-in request of one
//! method whose body (and its exact Content-Length) is the fuzzer's. A
//! second request follows on the same connection. Nothing panics or hangs,
//! and whatever the server writes is an HTTP response.
#![no_main]

mod common;

use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use mailroom_core::Directory;
use mailroom_core::calendar::Calendars;
use mailroom_dav::{Dav, DavConfig};
use mailroom_store::SqliteStore;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct World {
    runtime: tokio::runtime::Runtime,
    store: Arc<SqliteStore>,
    runs: std::sync::atomic::AtomicU32,
    _dir: std::path::PathBuf,
}

/// A server of its own for one run: sign-in throttling and remembered
/// sign-ins start afresh, so one run's failed guesses don't slow the next.
fn dav(store: &Arc<SqliteStore>) -> Dav {
    let directory = Directory::new(store.clone());
    let calendars = Calendars::new(directory, store.clone());
    Dav::new(calendars, DavConfig::default())
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().expect("runtime");
        let dir = common::data_dir("http");
        let (store, _, _) = runtime.block_on(common::contoso_with_alice(&dir));
        World { runtime, store, runs: Default::default(), _dir: dir }
    })
}

/// Basic alice@contoso.com:Alice-pass-123
const AUTH: &str = "Authorization: Basic YWxpY2VAY29udG9zby5jb206QWxpY2UtcGFzcy0xMjM=\r\n";

/// A signed-in request head for `method` at `path`, whose body follows.
fn head(method: &str, path: &str, extra: &str, body_len: usize) -> String {
    format!("{method} {path} HTTP/1.1\r\nHost: fuzz\r\n{AUTH}{extra}Content-Length: {body_len}\r\n\r\n")
}

fn input(selector: u8, rest: &[u8]) -> Vec<u8> {
    let calendar = "/dav/calendars/alice@contoso.com/calendar/";
    let head = match selector % 8 {
        0 => return rest.to_vec(),
        1 => head("PROPFIND", "/dav/calendars/alice@contoso.com/", "Depth: 1\r\n", rest.len()),
        2 => head("REPORT", calendar, "Depth: 1\r\n", rest.len()),
        3 => head("PUT", "/dav/calendars/alice@contoso.com/calendar/f.ics", "Content-Type: text/calendar\r\n", rest.len()),
        4 => head("PROPPATCH", calendar, "", rest.len()),
        5 => head("MKCALENDAR", "/dav/calendars/alice@contoso.com/fz/", "", rest.len()),
        6 => head("PROPFIND", "/dav/principals/alice@contoso.com/", "Depth: 0\r\n", rest.len()),
        // The head is the fuzzer's after a signed-in request line.
        _ => format!("REPORT {calendar} HTTP/1.1\r\n{AUTH}"),
    };
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(rest);
    // A second request on the connection, and cleaning up the first's work.
    bytes.extend_from_slice(
        format!("DELETE /dav/calendars/alice@contoso.com/calendar/f.ics HTTP/1.1\r\nHost: fuzz\r\n{AUTH}Content-Length: 0\r\n\r\n")
            .as_bytes(),
    );
    bytes
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let bytes = input(selector, rest);
    let world = world();
    let run = world.runs.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    // Loopback, so passwords are taken over plain HTTP; a new port each run.
    let peer = std::net::SocketAddr::from(([127, 0, 0, 1], (run % 60_000) as u16 + 1024));
    let (_shutdown, shutdown_rx) = tokio::sync::watch::channel(false);
    world.runtime.block_on(async {
        let (client, server) = tokio::io::duplex(1 << 16);
        let serving = tokio::spawn(mailroom_server::http::serve(dav(&world.store), server, peer, false, shutdown_rx));
        let (mut read, mut write) = tokio::io::split(client);
        let send = async {
            let _ = write.write_all(&bytes).await;
            let _ = write.shutdown().await;
        };
        let mut responses = Vec::new();
        let receive = read.read_to_end(&mut responses);
        let (_, received) = tokio::join!(send, receive);
        received.expect("read responses");
        serving.await.expect("connection task ended without panicking");
        // An HTTP/1.0 request is answered in HTTP/1.0 (RFC 9110 §2.5).
        assert!(
            responses.is_empty() || responses.starts_with(b"HTTP/1.1 ") || responses.starts_with(b"HTTP/1.0 "),
            "not an HTTP response: {:?}",
            String::from_utf8_lossy(&responses[..responses.len().min(80)])
        );
    });
});
