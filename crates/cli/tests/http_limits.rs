//! The HTTP listener against clients that hold connections without doing a
//! client's work, on a real `mailroom serve` with its production limits
//! (100 connections per address, 2000 in all): bodies that never come, or
//! come a byte at a time, declared sizes past what a method may send, and
//! hostile XML — while a member keeps being answered.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use mailroom_testkit::{Cli, Server, http};

const ORG: &str = r#"
New-Mailbox -Name Alice -Alias alice -PrimarySmtpAddress alice@contoso.com -Password 'Alice-pass-123'
New-Mailbox -Name Bob -Alias bob -PrimarySmtpAddress bob@contoso.com -Password 'Bob-pass-1234'
"#;

const ALICE: (&str, &str) = ("alice@contoso.com", "Alice-pass-123");
const BOB: (&str, &str) = ("bob@contoso.com", "Bob-pass-1234");
const EVENT_PATH: &str = "/dav/calendars/alice@contoso.com/calendar/slow.ics";

fn served() -> (Cli, Server) {
    let cli = Cli::new(env!("CARGO_BIN_EXE_mailroom"));
    cli.contoso_with(ORG);
    let server = cli.serve(&[]);
    (cli, server)
}

fn basic((user, password): (&str, &str)) -> String {
    format!(
        "Authorization: Basic {}\r\n",
        mailroom_mime::encode_base64(format!("{user}:{password}").as_bytes())
    )
}

/// Opens a connection and sends a request head (and `body_start`), keeping
/// the connection open as an attacker would.
fn start(addr: SocketAddr, head: &str, body_start: &[u8]) -> TcpStream {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body_start).unwrap();
    stream
}

/// Reads the response up to the end of its head: (status, head text).
fn response_head(stream: &mut TcpStream) -> (u16, String) {
    let mut raw = Vec::new();
    let mut byte = [0u8; 1];
    while !raw.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => raw.push(byte[0]),
            other => panic!(
                "connection ended before a response: {other:?} after {:?}",
                String::from_utf8_lossy(&raw)
            ),
        }
    }
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap();
    (status, text)
}

/// Whether the server closes the connection (after any rest of the response).
fn closed_by_server(stream: &mut TcpStream) -> bool {
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).is_ok()
}

#[test]
fn slow_and_oversized_bodies_never_hold_the_listener() {
    let (_cli, server) = served();
    let addr = server.http();

    // 90 strangers start a 2 MB PUT each and send one byte: each is told
    // 401 from its head alone, at once, and its connection closed.
    let started = Instant::now();
    let mut strangers: Vec<TcpStream> = (0..90)
        .map(|_| {
            let head = format!("PUT {EVENT_PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: text/calendar\r\nContent-Length: 2000000\r\n\r\n");
            start(addr, &head, b"B")
        })
        .collect();
    for stream in &mut strangers {
        let (status, head) = response_head(stream);
        assert_eq!(status, 401, "{head}");
        assert!(head.to_ascii_lowercase().contains("connection: close"), "{head}");
        assert!(closed_by_server(stream));
    }
    assert!(started.elapsed() < Duration::from_secs(10), "answered from the head: {:?}", started.elapsed());

    // Signed in, a declared size past what the method may send is refused
    // before the body is read: PUT with CalDAV's precondition, others 413.
    let head = format!(
        "PUT {EVENT_PATH} HTTP/1.1\r\nHost: x\r\n{}Content-Type: text/calendar\r\nContent-Length: 2000000\r\n\r\n",
        basic(ALICE)
    );
    let mut big = start(addr, &head, b"BEGIN:VCALENDAR");
    let (status, text) = response_head(&mut big);
    assert_eq!(status, 403, "{text}");
    assert!(closed_by_server(&mut big));
    for (method, length, path) in
        [("REPORT", 600_000, "/dav/calendars/alice@contoso.com/calendar/"), ("GET", 10, EVENT_PATH)]
    {
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: x\r\n{}Content-Length: {length}\r\n\r\n",
            basic(ALICE)
        );
        let mut stream = start(addr, &head, b"");
        let (status, text) = response_head(&mut stream);
        assert_eq!(status, 413, "{method}: {text}");
    }
    // Sent in chunks, with no Content-Length, the size is found while
    // reading: the same CalDAV answer, and the connection closed.
    let head = format!(
        "PUT {EVENT_PATH} HTTP/1.1\r\nHost: x\r\n{}Content-Type: text/calendar\r\nTransfer-Encoding: chunked\r\n\r\n",
        basic(ALICE)
    );
    let mut chunked = start(addr, &head, b"");
    let chunk = vec![b'x'; 1 << 20];
    for _ in 0..2 {
        // The server may close once it has seen enough.
        let _ = chunked.write_all(format!("{:x}\r\n", chunk.len()).as_bytes());
        let _ = chunked.write_all(&chunk);
        let _ = chunked.write_all(b"\r\n");
    }
    let (status, text) = response_head(&mut chunked);
    assert_eq!(status, 403, "{text}");
    assert!(closed_by_server(&mut chunked));

    // Signed in and within the size, but a byte a second: 408 once the
    // 10 s grace is spent (the body must keep up 16 KiB/s), meanwhile Bob is served.
    let head = format!(
        "PUT {EVENT_PATH} HTTP/1.1\r\nHost: x\r\n{}Content-Type: text/calendar\r\nContent-Length: 500000\r\n\r\n",
        basic(ALICE)
    );
    let started = Instant::now();
    let trickler = std::thread::spawn(move || {
        let mut stream = start(addr, &head, b"B");
        stream.set_nonblocking(false).unwrap();
        let mut writer = stream.try_clone().unwrap();
        // The attacker's pace, not a wait before an assertion: the test
        // waits on the server's answer below.
        std::thread::spawn(move || {
            for _ in 0..40 {
                std::thread::sleep(Duration::from_secs(1));
                if writer.write_all(b"E").is_err() {
                    return;
                }
            }
        });
        response_head(&mut stream)
    });
    let propfind = r#"<d:propfind xmlns:d="DAV:"><d:prop><d:displayname/></d:prop></d:propfind>"#;
    let answered = Instant::now();
    let reply = http(
        addr,
        "PROPFIND",
        "/dav/calendars/bob@contoso.com/",
        Some(BOB),
        &[("Depth", "0")],
        propfind.as_bytes(),
    );
    assert_eq!(reply.status, 207, "{reply:?}");
    assert!(answered.elapsed() < Duration::from_secs(5), "{:?}", answered.elapsed());
    let (status, text) = trickler.join().unwrap();
    assert_eq!(status, 408, "{text}");
    let took = started.elapsed();
    assert!(took >= Duration::from_secs(9) && took < Duration::from_secs(20), "{took:?}");
    let fetched = http(addr, "GET", EVENT_PATH, Some(ALICE), &[], b"");
    assert_eq!(fetched.status, 404, "nothing half-sent was stored");

    // Every slot the attack used is free again: 95 more connections from
    // the same address (its cap is 100) are all answered.
    drop(strangers);
    let mut fresh: Vec<TcpStream> =
        (0..95).map(|_| start(addr, "OPTIONS /dav/ HTTP/1.1\r\nHost: x\r\n\r\n", b"")).collect();
    for stream in &mut fresh {
        let (status, text) = response_head(stream);
        assert_eq!(status, 200, "{text}");
        // Not signed in: one request per connection, so nobody keeps a slot
        // by asking for OPTIONS now and then.
        assert!(closed_by_server(stream), "{text}");
    }
}

#[test]
fn hostile_xml_gets_an_answer_in_our_words() {
    let (_cli, server) = served();
    let bindings: String = (0..2000).map(|i| format!(" xmlns:p{i}=\"urn:x:{i}\"")).collect();
    let body =
        format!("<d:propfind xmlns:d=\"DAV:\"{bindings}><d:prop><d:displayname/></d:prop></d:propfind>");
    let reply = http(
        server.http(),
        "PROPFIND",
        "/dav/calendars/alice@contoso.com/",
        Some(ALICE),
        &[("Depth", "0")],
        body.as_bytes(),
    );
    assert_eq!(reply.status, 400, "{reply:?}");
    assert!(reply.body.starts_with("the XML body declares more than"), "{}", reply.body);
    for internal in ["NamespaceResolver", "set_max_namespace_bindings", "quick"] {
        assert!(!reply.body.contains(internal), "{}", reply.body);
    }
}
