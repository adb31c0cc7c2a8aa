//! COMPRESS=DEFLATE (RFC 4978) with Python's zlib as the client's deflate
//! (raw streams, a sync flush after each command): responses arrive
//! compressed and decompress to the same protocol, a large APPEND inflates
//! on the server a piece at a time, a second COMPRESS is refused, and a
//! corrupt stream ends the connection without harming the server. mbsync
//! uses it too, in the cli crate's client tests.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use common::{Client, listen, python, world};

/// Signs in over a plain socket and turns compression on; `out` holds the
/// answer to COMPRESS.
const SIGN_IN_AND_COMPRESS: &str = r#"
import socket, zlib, sys, json
port = int(sys.argv[1])
s = socket.create_connection(('127.0.0.1', port))
s.settimeout(10)
out = {}
def plain_line():
    line = b''
    while not line.endswith(b'\r\n'):
        line += s.recv(1)
    return line.decode()
plain_line()
s.sendall(b'a LOGIN alice@contoso.com Alice-pass-123\r\n')
while not plain_line().startswith('a '):
    pass
s.sendall(b'c COMPRESS DEFLATE\r\n')
out['compress'] = plain_line().strip()
"#;

const SESSION: &str = r#"
co = zlib.compressobj(wbits=-15)
de = zlib.decompressobj(wbits=-15)
state = {'plain': b'', 'wire': 0, 'inflated': 0}
def send(data):
    s.sendall(co.compress(data) + co.flush(zlib.Z_SYNC_FLUSH))
def until(tag):
    while True:
        lines = state['plain'].split(b'\r\n')
        for k, l in enumerate(lines[:-1]):
            if l.startswith(tag + b' '):
                state['plain'] = b'\r\n'.join(lines[k + 1:])
                return b'\r\n'.join(lines[:k + 1]).decode('utf-8', 'replace')
        data = s.recv(65536)
        if not data:
            raise Exception('closed')
        state['wire'] += len(data)
        got = de.decompress(data)
        state['inflated'] += len(got)
        state['plain'] += got
send(b's SELECT "Shared/info@contoso.com/INBOX"\r\n')
out['select'] = until(b's')
send(b'f FETCH 1 BODY[]\r\n')
out['fetch'] = until(b'f')
out['fetch_wire'] = state['wire']
out['fetch_inflated'] = state['inflated']
big = b'Subject: big\r\n\r\n' + b'all work and no play\r\n' * 20000
send(b'p APPEND INBOX {%d+}\r\n' % len(big) + big + b'\r\n')
out['append'] = until(b'p')
send(b'x EXAMINE INBOX\r\n')
until(b'x')
send(b'z FETCH 1 RFC822.SIZE\r\n')
out['size'] = until(b'z')
send(b'c2 COMPRESS DEFLATE\r\n')
out['again'] = until(b'c2')
send(b'l LOGOUT\r\n')
out['logout'] = until(b'l')
out['big'] = len(big)
print(json.dumps(out))
"#;

const CORRUPT: &str = r#"
# Not a deflate stream: block type 3 is invalid (RFC 1951 3.2.3).
s.sendall(b'\xff\xff\xff\xff')
rest = b''
while True:
    data = s.recv(4096)
    if not data:
        break
    rest += data
out['closed'] = True
print(json.dumps(out))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compressed_session_speaks_the_same_protocol() {
    let world = world().await;
    let text = "Hello, can you help?\r\n".repeat(500);
    world.deliver("info@contoso.com", &format!("Subject: question\r\n\r\n{text}")).await;
    let addr = listen(world.imap.clone()).await;
    let mut plain = Client::login(addr, "alice@contoso.com", "Alice-pass-123").await;
    let caps = plain.cmd("c", "CAPABILITY").await;
    assert!(caps[0].split(' ').any(|w| w == "COMPRESS=DEFLATE"), "{caps:?}");

    let out = python(&format!("{SIGN_IN_AND_COMPRESS}{SESSION}"), addr).await;
    assert_eq!(out["compress"], "c OK DEFLATE active");
    assert!(out["select"].as_str().unwrap().ends_with("s OK [READ-WRITE] SELECT completed"), "{out}");
    let fetch = out["fetch"].as_str().unwrap();
    assert!(fetch.contains("Subject: question") && fetch.ends_with("f OK FETCH completed"), "{out}");
    assert!(fetch.matches("Hello, can you help?").count() == 500, "the whole body: {out}");
    // Compressed on the wire: a repetitive body shrinks to a fraction.
    let (wire, inflated) = (out["fetch_wire"].as_u64().unwrap(), out["fetch_inflated"].as_u64().unwrap());
    assert!(wire * 10 < inflated, "{wire} octets on the wire for {inflated}");
    // 440 KB appended as a few KB of deflate, inflated piece by piece.
    assert!(out["append"].as_str().unwrap().contains("p OK [APPENDUID"), "{out}");
    let size = format!("* 1 FETCH (RFC822.SIZE {})", out["big"]);
    assert!(out["size"].as_str().unwrap().starts_with(&size), "{out}");
    assert_eq!(out["again"], "c2 NO [COMPRESSIONACTIVE] Compression is already on");
    assert!(out["logout"].as_str().unwrap().contains("* BYE"), "{out}");

    // A stream that isn't deflate ends that connection only.
    let out = python(&format!("{SIGN_IN_AND_COMPRESS}{CORRUPT}"), addr).await;
    assert_eq!(out["compress"], "c OK DEFLATE active");
    assert_eq!(out["closed"], true, "the server hung up: {out}");
    assert_eq!(plain.cmd("n", "NOOP").await, ["n OK NOOP completed"]);
    // COMPRESS is for signed-in sessions.
    let (read, write) = tokio::net::TcpStream::connect(addr).await.unwrap().into_split();
    let mut anonymous = Client { read: tokio::io::BufReader::new(read), write };
    anonymous.line().await;
    let refused = anonymous.cmd("c", "COMPRESS DEFLATE").await;
    assert!(refused.len() == 1 && refused[0].starts_with("c BAD"), "{refused:?}");
}
