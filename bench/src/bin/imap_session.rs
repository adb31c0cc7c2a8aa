//! IMAP on a big shared mailbox: an ordinary client's session mix against a
//! shared INBOX of many messages, with concurrent clients, stated next to a
//! NOOP round trip measured in the same run; and the memory a server holds
//! per idle (IDLE) connection.
//!
//!     ulimit -n 20000   # each IDLE connection is a socket in each process
//!     cargo run --release -p mailroom-bench --bin imap_session -- [--messages 100000] [--clients 1,8,32] [--rounds 20] [--idle 0]
//!
//! The IDLE figure is taken on a server in a process of its own (this
//! binary again, with `--serve-data DIR`), so that only the server's memory
//! is counted: its RSS after `--idle N` more sessions sign in, SELECT the
//! shared INBOX and IDLE, over its RSS after a warm-up set. Then one SMTP
//! delivery to the shared mailbox, timed until every idler has its EXISTS.
//!
//! One round of the mix: SELECT the shared INBOX, FETCH the newest 50
//! headers, FETCH one whole message, UID SEARCH FLAGGED, STORE a flag,
//! APPEND a message, mark it deleted and EXPUNGE.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use mailroom_bench::ImapClient as Client;
use mailroom_bench::arg;
use mailroom_core::directory::Actor;
use mailroom_server::{Config, ListenOverrides, Listener};
use mailroom_types::MailboxId;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedReadHalf;

fn main() -> Result<()> {
    if let Some(data) = std::env::args().skip_while(|a| a != "--serve-data").nth(1) {
        return serve_only(std::path::Path::new(&data));
    }
    let messages: usize = arg("--messages", 100_000);
    let clients: String = arg("--clients", "1,8,32".to_string());
    let clients: Vec<usize> = clients.split(',').map(|c| c.trim().parse()).collect::<Result<_, _>>()?;
    let rounds: usize = arg("--rounds", 20);
    let idle: usize = arg("--idle", 0);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(run(messages, &clients, rounds, idle))
}

async fn setup(data: &std::path::Path) -> Result<MailboxId> {
    let org = mailroom_bench::organisation(data, &["user0"]).await?;
    let info = org.info.mailbox_id().context("info is a mailbox")?;
    org.dir.add_member(&Actor::System, info, org.users[0].id, true).await?;
    Ok(info)
}

/// A member signed in, the shared INBOX selected, idling.
async fn idle_session(addr: std::net::SocketAddr) -> Result<Client> {
    let mut c = Client::connect(addr).await?;
    c.cmd("LOGIN user0@bench.example Bench-pass-123").await?;
    c.cmd("SELECT \"Shared/info@bench.example/INBOX\"").await?;
    c.tag += 1;
    c.write.write_all(format!("t{} IDLE\r\n", c.tag).as_bytes()).await?;
    let mut line = String::new();
    c.read.read_line(&mut line).await?;
    Ok(c)
}

async fn settle() {
    tokio::time::sleep(Duration::from_millis(500)).await;
}

fn bench_config() -> Config {
    let mut config = Config { hostname: Some("bench.example".into()), ..Config::default() };
    config.imap.max_connections = 100_000;
    config.imap.max_connections_per_ip = 100_000;
    config.apply(&ListenOverrides {
        smtp: Some("127.0.0.1:0".into()),
        imap: Some("127.0.0.1:0".into()),
        imaps: Some("off".into()),
        ..Default::default()
    });
    config
}

/// The child process: serves `data`, prints its listeners, stops when its
/// standard input closes.
fn serve_only(data: &std::path::Path) -> Result<()> {
    use std::io::Read;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let running = runtime.block_on(mailroom_server::start(data, bench_config()))?;
    for (listener, addr) in &running.listeners {
        println!("{} {addr}", listener.name());
    }
    println!("ready");
    // The runtime's workers serve while this thread waits for the parent.
    let mut sink = Vec::new();
    std::io::stdin().read_to_end(&mut sink)?;
    runtime.block_on(running.shutdown(Duration::from_secs(5)));
    Ok(())
}

/// Opens `count` idle sessions, `parallel` sign-ins at a time.
async fn open_idlers(addr: std::net::SocketAddr, count: usize, parallel: usize) -> Result<Vec<Client>> {
    let gate = Arc::new(tokio::sync::Semaphore::new(parallel));
    let mut tasks = Vec::with_capacity(count);
    for _ in 0..count {
        let gate = gate.clone();
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire_owned().await?;
            idle_session(addr).await
        }));
    }
    let mut clients = Vec::with_capacity(count);
    for task in tasks {
        clients.push(task.await??);
    }
    Ok(clients)
}

/// The last line of an SMTP reply.
async fn smtp_reply(read: &mut BufReader<OwnedReadHalf>) -> Result<String> {
    loop {
        let mut line = String::new();
        if read.read_line(&mut line).await? == 0 {
            bail!("smtp closed");
        }
        if line.as_bytes().get(3) != Some(&b'-') {
            return Ok(line);
        }
    }
}

/// One message to the shared mailbox over SMTP.
async fn deliver_one(addr: std::net::SocketAddr) -> Result<()> {
    let stream = TcpStream::connect(addr).await?;
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    smtp_reply(&mut read).await?;
    for command in
        ["EHLO bench.example", "MAIL FROM:<a@fabrikam.example>", "RCPT TO:<info@bench.example>", "DATA"]
    {
        write.write_all(format!("{command}\r\n").as_bytes()).await?;
        let line = smtp_reply(&mut read).await?;
        if !(line.starts_with('2') || line.starts_with('3')) {
            bail!("{command}: {line}");
        }
    }
    write.write_all(b"Subject: to every idler\r\n\r\nhello\r\n.\r\nQUIT\r\n").await?;
    let line = smtp_reply(&mut read).await?;
    if !line.starts_with("250") {
        bail!("DATA: {line}");
    }
    Ok(())
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .map(|l| l.split_whitespace().nth(1).unwrap_or("0").to_string())
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

async fn run(messages: usize, client_counts: &[usize], rounds: usize, idle: usize) -> Result<()> {
    let tmp = tempfile::tempdir_in(std::env::var_os("BENCH_DIR").unwrap_or_else(|| ".".into()))?;
    let data = tmp.path().join("data");
    std::fs::create_dir(&data)?;
    let info = setup(&data).await?;
    let running = mailroom_server::start(&data, bench_config()).await?;
    let addr = running.listeners.iter().find(|(l, _)| *l == Listener::Imap).context("imap listener")?.1;

    let started = Instant::now();
    mailroom_bench::fill_inbox(running.store(), info, messages, |_| true).await?;
    println!("filled the shared INBOX with {messages} messages in {:.1} s", started.elapsed().as_secs_f64());

    let mut probe = Client::connect(addr).await?;
    probe.cmd("LOGIN user0@bench.example Bench-pass-123").await?;
    let start = Instant::now();
    for _ in 0..200 {
        probe.cmd("NOOP").await?;
    }
    let noop = start.elapsed().as_secs_f64() / 200.0;
    println!("baseline: NOOP round trip {:.3} ms", noop * 1000.0);
    println!();
    println!("{:>8} {:>12} {:>14} {:>16}", "clients", "rounds/s", "ms/round", "round/NOOP");
    for &clients in client_counts {
        let mut tasks = Vec::new();
        let start = Instant::now();
        for _ in 0..clients {
            tasks.push(tokio::spawn(async move {
                let mut c = Client::connect(addr).await?;
                c.cmd("LOGIN user0@bench.example Bench-pass-123").await?;
                let begin = Instant::now();
                for _ in 0..rounds {
                    mailroom_bench::session_round(&mut c, messages).await?;
                }
                let spent = begin.elapsed();
                c.cmd("LOGOUT").await.ok();
                anyhow::Ok(spent)
            }));
        }
        let mut spent = Duration::ZERO;
        for t in tasks {
            spent += t.await??;
        }
        let wall = start.elapsed().as_secs_f64();
        let per_round = spent.as_secs_f64() / (clients * rounds) as f64;
        println!(
            "{clients:>8} {:>12.1} {:>14.1} {:>16.0}",
            (clients * rounds) as f64 / wall,
            per_round * 1000.0,
            per_round / noop
        );
    }

    running.shutdown(Duration::from_secs(5)).await;
    if idle > 0 {
        idle_figures(&data, messages, idle).await?;
    }
    Ok(())
}

/// Memory per IDLE session and the fan-out of one delivery, on a server
/// process of its own.
async fn idle_figures(data: &std::path::Path, messages: usize, idle: usize) -> Result<()> {
    use std::io::BufRead;
    let mut child = std::process::Command::new(std::env::current_exe()?)
        .arg("--serve-data")
        .arg(data)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()?;
    let pid = child.id();
    let mut lines = std::io::BufReader::new(child.stdout.take().context("child stdout")?).lines();
    let (mut imap, mut smtp) = (None, None);
    for line in lines.by_ref() {
        let line = line?;
        match line.split_once(' ') {
            Some(("imap", addr)) => imap = Some(addr.parse::<std::net::SocketAddr>()?),
            Some(("smtp", addr)) => smtp = Some(addr.parse::<std::net::SocketAddr>()?),
            _ if line == "ready" => break,
            _ => {}
        }
    }
    let (imap, smtp) = (imap.context("imap listener")?, smtp.context("smtp listener")?);
    // Sign-ins run argon2 (~19 MiB each, freed after): a warm-up set at the
    // same parallelism leaves the allocator holding that peak, so what the
    // measured set adds is what sessions keep.
    let parallel = 8;
    let started = rss_kib(pid);
    let warm = open_idlers(imap, (idle / 10).max(parallel * 4), parallel).await?;
    settle().await;
    let before = rss_kib(pid);
    let opened = Instant::now();
    let measured = open_idlers(imap, idle, parallel).await?;
    let opening = opened.elapsed();
    settle().await;
    let after = rss_kib(pid);
    println!();
    println!(
        "server process: {started} KiB at start, {before} KiB with {} warm-up IDLE sessions, {after} KiB with {} more",
        warm.len(),
        measured.len()
    );
    println!(
        "{idle} IDLE sessions on the shared INBOX ({messages} messages), signed in {parallel} at a time in {:.1} s: {:.1} KiB per session in the server",
        opening.as_secs_f64(),
        after.saturating_sub(before) as f64 / idle as f64
    );

    // One delivery; every idler (warm-up set included) must see it.
    let mut waiting = Vec::new();
    for mut c in warm.into_iter().chain(measured) {
        waiting.push(tokio::spawn(async move {
            loop {
                let mut line = String::new();
                if c.read.read_line(&mut line).await? == 0 {
                    bail!("closed while idling");
                }
                if line.ends_with("EXISTS\r\n") {
                    return anyhow::Ok((Instant::now(), c));
                }
            }
        }));
    }
    let sent = Instant::now();
    deliver_one(smtp).await?;
    let accepted = sent.elapsed();
    let mut last = sent;
    let count = waiting.len();
    let mut clients = Vec::with_capacity(count);
    for task in waiting {
        let (at, c) = tokio::time::timeout(Duration::from_secs(60), task).await???;
        last = last.max(at);
        clients.push(c);
    }
    println!(
        "one SMTP delivery to the shared mailbox: 250 after {:.1} ms, EXISTS at all {count} idlers after {:.1} ms",
        accepted.as_secs_f64() * 1000.0,
        (last - sent).as_secs_f64() * 1000.0
    );
    drop(clients);
    drop(child.stdin.take());
    child.wait()?;
    Ok(())
}
