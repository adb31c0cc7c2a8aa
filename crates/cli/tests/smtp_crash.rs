//! The durability rule under a crash (DESIGN.md): the server is killed with
//! SIGKILL while many clients send; after a restart every message that got
//! `250` is there, byte for byte, and nothing half-written is visible.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use mailroom_testkit::inspect::inbox;
use mailroom_testkit::{Cli, LineClient};

const CLIENTS: usize = 8;
/// Acknowledged messages to wait for before the kill.
const KILL_AFTER: usize = 500;

/// The exact message for an id; every 10th is large enough to go to a blob
/// file (written, fsynced and renamed outside the transaction).
fn message(id: &str) -> Vec<u8> {
    let n: usize =
        id.split('-').map(|p| p.trim_start_matches(char::is_alphabetic).parse::<usize>().unwrap()).sum();
    // 16000 lines of 21-61 octets: over the 256 KiB kept inline.
    let lines = if n.is_multiple_of(10) { 16000 } else { 40 };
    let mut out = format!("Subject: {id}\r\nMessage-ID: <{id}@crash.example>\r\n\r\n").into_bytes();
    for i in 0..lines {
        out.extend_from_slice(format!("{id} line {i:05} {}\r\n", "d".repeat(n % 50)).as_bytes());
    }
    out
}

/// Sends messages until the connection dies; records each id that got 250.
fn client(addr: std::net::SocketAddr, worker: usize, acked: Arc<Mutex<Vec<String>>>, stop: Arc<AtomicBool>) {
    let Some(mut c) = LineClient::try_connect(addr) else { return };
    if c.try_reply().map(|r| r.code) != Some(220)
        || c.cmd_or_close("EHLO crash.example").map(|r| r.code) != Some(250)
    {
        return;
    }
    for n in 0.. {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let id = format!("w{worker}-m{n}");
        let ok = |r: Option<mailroom_testkit::SmtpReply>, code| r.map(|r| r.code) == Some(code);
        if !ok(c.cmd_or_close("MAIL FROM:<load@crash.example>"), 250)
            || !ok(c.cmd_or_close("RCPT TO:<info@contoso.com>"), 250)
            || !ok(c.cmd_or_close("DATA"), 354)
        {
            return;
        }
        let mut data = message(&id);
        data.extend_from_slice(b".\r\n");
        if !c.try_send(&data) {
            return;
        }
        match c.try_reply() {
            Some(reply) if reply.code == 250 => acked.lock().unwrap().push(id),
            _ => return,
        }
    }
}

#[test]
fn every_acknowledged_message_survives_sigkill() {
    let cli = Cli::new(env!("CARGO_BIN_EXE_mailroom"));
    cli.init_contoso();
    cli.exo("New-Mailbox -Shared -Name Info -PrimarySmtpAddress info@contoso.com");
    let mut server = cli.serve(&[]);
    let addr = server.smtp();
    let acked = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..CLIENTS)
        .map(|w| {
            let (acked, stop) = (acked.clone(), stop.clone());
            std::thread::spawn(move || client(addr, w, acked, stop))
        })
        .collect();
    // Wait on progress, not time: kill once enough were acknowledged.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while acked.lock().unwrap().len() < KILL_AFTER {
        assert!(std::time::Instant::now() < deadline, "clients made no progress");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    server.kill();
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }
    let acked: BTreeSet<String> = acked.lock().unwrap().iter().cloned().collect();
    assert!(acked.len() >= KILL_AFTER);

    // Restart on the same data: the store recovers and serves again.
    let server = cli.serve(&[]);
    let stored = inbox(&cli.data(), "info@contoso.com");
    let mut by_id: BTreeMap<String, usize> = BTreeMap::new();
    for m in &stored {
        // Every visible message is whole: its body is exactly what was sent.
        let id = m.summary.envelope.subject.clone().expect("a subject");
        assert_eq!(m.without_trace(), message(&id).as_slice(), "message {id} is intact");
        *by_id.entry(id).or_default() += 1;
    }
    assert!(by_id.values().all(|&n| n == 1), "no message stored twice");
    let missing: Vec<&String> = acked.iter().filter(|id| !by_id.contains_key(*id)).collect();
    assert!(missing.is_empty(), "acknowledged but lost: {missing:?}");
    // At most one message per client was in flight (stored but not acknowledged).
    assert!(by_id.len() <= acked.len() + CLIENTS, "{} stored, {} acknowledged", by_id.len(), acked.len());
    // UIDs are strictly increasing and the statistics agree with the rows.
    let uids: Vec<u32> = stored.iter().map(|m| m.meta.uid.0).collect();
    assert!(uids.windows(2).all(|w| w[0] < w[1]), "{uids:?}");
    let stats = cli.exo_json("Get-MailboxStatistics info");
    assert_eq!(stats[0]["ItemCount"], stored.len());
    let large = stored.iter().filter(|m| m.bytes.len() > 256 * 1024).count();
    assert!(large > 0, "some bodies went to blob files");
    eprintln!("crash test: {} acknowledged, {} stored, {large} as blob files", acked.len(), stored.len());

    let mut c = LineClient::smtp(server.smtp());
    assert_eq!(c.cmd("MAIL FROM:<after@crash.example>").code, 250);
    assert_eq!(c.cmd("RCPT TO:<info@contoso.com>").code, 250);
    assert_eq!(c.cmd("DATA").code, 354);
    c.send(b"Subject: after\r\n\r\nalive\r\n.\r\n");
    assert_eq!(c.reply().code, 250);
}
