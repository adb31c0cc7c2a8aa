//! A small authoritative DNS server on loopback, so tests of what depends
//! on DNS (MX routing, SPF, DKIM keys, DMARC, MTA-STS) need no internet.
//! The server under test is pointed at it with `[dns] nameservers`.
//!
//! It answers over UDP and TCP on one port (RFC 1035 §4.2; resolvers retry
//! over TCP when a UDP answer is truncated), from records the test sets and
//! may change while the server runs. Records carry a TTL of 0, so a changed
//! record is seen at once. A name with no records of the asked type but
//! some of another (or with names below it) gets an empty answer; any other
//! name gets NXDOMAIN (RFC 8020).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, ResponseCode};
use hickory_proto::rr::rdata::TXT;
use hickory_proto::rr::{Name, RData, Record, RecordType};

/// One record: its owner name (lower case, no final dot) and data.
type Entry = (String, RData);

/// What the serving threads share.
#[derive(Clone)]
struct Zone {
    records: Arc<Mutex<Vec<Entry>>>,
    asked: Arc<Mutex<Vec<(String, RecordType)>>>,
    silent: Arc<Mutex<Vec<String>>>,
    ttl: u32,
}

/// A running DNS server; it stops when dropped.
#[derive(Debug)]
pub struct DnsServer {
    addr: SocketAddr,
    records: Arc<Mutex<Vec<Entry>>>,
    asked: Arc<Mutex<Vec<(String, RecordType)>>>,
    /// Names never answered (a server that is down or slow).
    silent: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
}

impl DnsServer {
    /// Starts a server on 127.0.0.1, UDP and TCP on the same free port.
    pub fn start() -> DnsServer {
        DnsServer::with_ttl(0)
    }

    /// [`DnsServer::start`], its answers carrying `ttl` (resolvers cache
    /// them that long, as they would real ones).
    pub fn with_ttl(ttl: u32) -> DnsServer {
        let (udp, tcp) = bind_pair();
        let addr = udp.local_addr().expect("the UDP socket has an address");
        let zone = Zone {
            records: Arc::new(Mutex::new(Vec::new())),
            asked: Arc::new(Mutex::new(Vec::new())),
            silent: Arc::new(Mutex::new(Vec::new())),
            ttl,
        };
        let stop = Arc::new(AtomicBool::new(false));
        let (z, s) = (zone.clone(), stop.clone());
        std::thread::spawn(move || serve_udp(udp, &z, &s));
        let (z, s) = (zone.clone(), stop.clone());
        std::thread::spawn(move || serve_tcp(tcp, &z, &s));
        DnsServer { addr, records: zone.records, asked: zone.asked, silent: zone.silent, stop }
    }

    /// Where it listens (`[dns] nameservers = ["<addr>"]`).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Adds a record. `kind` is its type (`"TXT"`, `"MX"`, `"A"`, …);
    /// `value` its data in zone-file form (`"10 mx.example."`), except for
    /// TXT, where it is the text itself, split into 255-octet strings here.
    pub fn add(&self, name: &str, kind: &str, value: &str) {
        let data = record_data(kind, value);
        self.records.lock().expect("records lock").push((owner(name), data));
    }

    /// Removes every record of `kind` at `name`.
    pub fn remove(&self, name: &str, kind: &str) {
        let (name, kind) = (owner(name), record_type(kind));
        self.records.lock().expect("records lock").retain(|(n, d)| !(*n == name && d.record_type() == kind));
    }

    /// Replaces the records of `kind` at `name` with one.
    pub fn set(&self, name: &str, kind: &str, value: &str) {
        self.remove(name, kind);
        self.add(name, kind, value);
    }

    /// Never answers questions about `name` (or names below it), as a
    /// nameserver that is down: resolvers wait for their timeout.
    pub fn silence(&self, name: &str) {
        self.silent.lock().expect("silent lock").push(owner(name));
    }

    /// Whether a question for `name` of `kind` has been asked.
    pub fn was_asked(&self, name: &str, kind: &str) -> bool {
        let (name, kind) = (owner(name), record_type(kind));
        self.asked.lock().expect("asked lock").iter().any(|(n, k)| *n == name && *k == kind)
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the TCP accept; the UDP loop sees the flag at its timeout.
        let _ = TcpStream::connect(self.addr);
    }
}

fn owner(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

fn record_type(kind: &str) -> RecordType {
    kind.to_ascii_uppercase().parse().unwrap_or_else(|_| panic!("{kind} is not a DNS record type"))
}

fn record_data(kind: &str, value: &str) -> RData {
    let kind = record_type(kind);
    if kind == RecordType::TXT {
        // RFC 1035 §3.3.14: character-strings of at most 255 octets.
        let chunks: Vec<&[u8]> = value.as_bytes().chunks(255).collect();
        return RData::TXT(TXT::from_bytes(if chunks.is_empty() { vec![b""] } else { chunks }));
    }
    RData::try_from_str(kind, value).unwrap_or_else(|e| panic!("{kind} {value:?} is not valid: {e}"))
}

/// A UDP socket and a TCP listener on the same port of 127.0.0.1.
fn bind_pair() -> (UdpSocket, TcpListener) {
    for _ in 0..50 {
        let udp = UdpSocket::bind("127.0.0.1:0").expect("bind UDP on 127.0.0.1");
        let addr = udp.local_addr().expect("the UDP socket has an address");
        if let Ok(tcp) = TcpListener::bind(addr) {
            return (udp, tcp);
        }
    }
    panic!("no port of 127.0.0.1 was free for both UDP and TCP");
}

fn serve_udp(socket: UdpSocket, zone: &Zone, stop: &AtomicBool) {
    socket.set_read_timeout(Some(Duration::from_millis(200))).expect("a read timeout");
    let mut buf = [0u8; 4096];
    while !stop.load(Ordering::SeqCst) {
        let Ok((len, peer)) = socket.recv_from(&mut buf) else { continue };
        if let Some(reply) = answer(&buf[..len], zone, true) {
            let _ = socket.send_to(&reply, peer);
        }
    }
}

fn serve_tcp(listener: TcpListener, zone: &Zone, stop: &AtomicBool) {
    for stream in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        // A thread per connection: a resolver may keep one open.
        let zone = zone.clone();
        std::thread::spawn(move || serve_tcp_connection(stream, &zone));
    }
}

fn serve_tcp_connection(mut stream: TcpStream, zone: &Zone) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    // RFC 1035 §4.2.2: each message after its two-octet length.
    loop {
        let mut len = [0u8; 2];
        if stream.read_exact(&mut len).is_err() {
            return;
        }
        let mut query = vec![0u8; u16::from_be_bytes(len) as usize];
        if stream.read_exact(&mut query).is_err() {
            return;
        }
        let Some(reply) = answer(&query, zone, false) else { return };
        let mut framed = (reply.len() as u16).to_be_bytes().to_vec();
        framed.extend_from_slice(&reply);
        if stream.write_all(&framed).is_err() {
            return;
        }
    }
}

/// The reply to one query, or `None` for bytes that aren't one.
fn answer(query: &[u8], zone: &Zone, udp: bool) -> Option<Vec<u8>> {
    let query = Message::from_vec(query).ok()?;
    let mut reply = Message::response(query.metadata.id, query.metadata.op_code);
    reply.metadata.message_type = MessageType::Response;
    reply.metadata.authoritative = true;
    reply.metadata.recursion_desired = query.metadata.recursion_desired;
    let Some(question) = query.queries.first().cloned() else {
        reply.metadata.response_code = ResponseCode::FormErr;
        return reply.to_vec().ok();
    };
    let name = owner(&question.name().to_ascii());
    let kind = question.query_type();
    zone.asked.lock().expect("asked lock").push((name.clone(), kind));
    let silent = zone
        .silent
        .lock()
        .expect("silent lock")
        .iter()
        .any(|s| name == *s || name.ends_with(&format!(".{s}")));
    if silent {
        return None;
    }
    let ttl = zone.ttl;
    reply.add_query(question.clone());
    let records = zone.records.lock().expect("records lock");
    let suffix = format!(".{name}");
    let exists = records.iter().any(|(n, _)| *n == name || n.ends_with(&suffix));
    if !exists {
        reply.metadata.response_code = ResponseCode::NXDomain;
    }
    let owner_name = Name::from_ascii(format!("{name}.")).ok()?;
    for (_, data) in
        records.iter().filter(|(n, d)| *n == name && (d.record_type() == kind || kind == RecordType::ANY))
    {
        reply.add_answer(Record::from_rdata(owner_name.clone(), ttl, data.clone()));
    }
    if reply.answers.is_empty() {
        // RFC 2308 §3: a negative answer carries the zone's SOA, whose
        // minimum says how long it may be cached.
        let labels: Vec<&str> = name.split('.').collect();
        let zone = labels[labels.len().saturating_sub(2)..].join(".");
        if let (Ok(zone), Ok(mname), Ok(rname)) = (
            Name::from_ascii(format!("{zone}.")),
            Name::from_ascii(format!("ns.{zone}.")),
            Name::from_ascii(format!("hostmaster.{zone}.")),
        ) {
            let soa = hickory_proto::rr::rdata::SOA::new(mname, rname, 1, 3600, 600, 86400, ttl);
            reply.add_authority(Record::from_rdata(zone, ttl, RData::SOA(soa)));
        }
    }
    if let Some(edns) = &query.edns {
        let mut ours = hickory_proto::op::Edns::new();
        ours.set_max_payload(edns.max_payload().max(512));
        reply.set_edns(ours);
    }
    let bytes = reply.to_vec().ok()?;
    let limit = query.edns.as_ref().map(|e| e.max_payload().max(512) as usize).unwrap_or(512);
    if udp && bytes.len() > limit {
        // Too big for this UDP reply: truncated, so the resolver asks again
        // over TCP (RFC 7766 §5).
        let mut cut = Message::response(query.metadata.id, query.metadata.op_code);
        cut.metadata.truncation = true;
        cut.metadata.authoritative = true;
        cut.add_query(question);
        return cut.to_vec().ok();
    }
    Some(bytes)
}
