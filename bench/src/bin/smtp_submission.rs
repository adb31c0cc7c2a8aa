//! Submission throughput: signed-in clients send 10 KB messages through a
//! real server's submission port — as themselves, as a shared mailbox (Send
//! As, with the copy in its Sent Items), and to a remote domain (queued,
//! then sent by the outbound sender to a sink SMTP server in this process)
//! — stated next to inbound SMTP (port 25) measured in the same run.
//!
//!     cargo run --release -p mailroom-bench --bin smtp_submission -- [--messages 2000] [--clients 1,8,32]
//!
//! Each client signs in once (AUTH PLAIN: one password check per
//! connection, as a mail client does), then sends its share of messages,
//! waiting for each `250` — given only once the message (and its queue
//! entries) is durable.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use mailroom_bench::{arg, expect};
use mailroom_core::directory::{Actor, SettingsChange};
use mailroom_core::permissions::Right;
use mailroom_server::{Config, ListenOverrides, Listener};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

const MESSAGE_SIZE: usize = 10 * 1024;
/// base64 of "\0alice@bench.example\0Bench-pass-123".
const AUTH_PLAIN: &str = "AGFsaWNlQGJlbmNoLmV4YW1wbGUAQmVuY2gtcGFzcy0xMjM=";

fn main() -> Result<()> {
    let messages: usize = arg("--messages", 2000);
    let clients: String = arg("--clients", "1,8,32".to_string());
    let clients: Vec<usize> = clients.split(',').map(|c| c.trim().parse()).collect::<Result<_, _>>()?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(run(messages, &clients))
}

/// What one run sends: over which port, from which address, to whom.
#[derive(Clone, Copy)]
struct Scenario {
    name: &'static str,
    submission: bool,
    from: &'static str,
    to: &'static str,
}

const SCENARIOS: [Scenario; 4] = [
    Scenario {
        name: "inbound (port 25, baseline)",
        submission: false,
        from: "load@sender.example",
        to: "bob@bench.example",
    },
    Scenario {
        name: "own address, local",
        submission: true,
        from: "alice@bench.example",
        to: "bob@bench.example",
    },
    Scenario {
        name: "Send As + Sent Items copy",
        submission: true,
        from: "info@bench.example",
        to: "bob@bench.example",
    },
    Scenario {
        name: "Send As, remote (queued)",
        submission: true,
        from: "info@bench.example",
        to: "someone@remote.example",
    },
];

async fn run(messages: usize, client_counts: &[usize]) -> Result<()> {
    let tmp = tempfile::tempdir_in(std::env::var_os("BENCH_DIR").unwrap_or_else(|| ".".into()))?;
    let data = tmp.path().join("data");
    std::fs::create_dir(&data)?;
    setup_org(&data).await?;
    let (sink, received) = sink().await?;
    let mut config = Config { hostname: Some("bench.example".into()), ..Config::default() };
    config.smtp.max_connections_per_ip = 1000;
    config.outbound.smarthost = sink.to_string();
    config.apply(&ListenOverrides {
        smtp: Some("127.0.0.1:0".into()),
        submission: Some("127.0.0.1:0".into()),
        imap: Some("off".into()),
        imaps: Some("off".into()),
        ..Default::default()
    });
    let running = mailroom_server::start(&data, config).await?;
    let addr = |l: Listener| running.listeners.iter().find(|(x, _)| *x == l).map(|(_, a)| *a);
    let (mx, submission) =
        (addr(Listener::Smtp).context("smtp")?, addr(Listener::Submission).context("submission")?);
    println!(
        "message: {MESSAGE_SIZE} bytes, {messages} messages per run; remote mail goes to a sink on {sink}"
    );
    println!();
    println!("{:<30} {:>8} {:>10} {:>14}", "scenario", "clients", "msgs/s", "vs inbound");
    for &clients in client_counts {
        let mut baseline = None;
        for scenario in SCENARIOS {
            let target = if scenario.submission { submission } else { mx };
            let per_client = messages.div_ceil(clients);
            let at_sink = received.load(Ordering::Relaxed);
            let start = Instant::now();
            let mut tasks = Vec::new();
            for c in 0..clients {
                tasks.push(tokio::spawn(send_many(target, scenario, c, per_client)));
            }
            let mut sent = 0;
            for task in tasks {
                sent += task.await??;
            }
            let rate = sent as f64 / start.elapsed().as_secs_f64();
            let base = *baseline.get_or_insert(rate);
            println!("{:<30} {clients:>8} {rate:>10.0} {:>14.2}", scenario.name, rate / base);
            if scenario.to.ends_with("remote.example") {
                // Queued mail leaves through the outbound sender: until all arrived.
                while received.load(Ordering::Relaxed) < at_sink + sent {
                    if start.elapsed() > Duration::from_secs(600) {
                        bail!("the sink got {} of {sent}", received.load(Ordering::Relaxed) - at_sink);
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                let end_to_end = sent as f64 / start.elapsed().as_secs_f64();
                println!(
                    "{:<30} {clients:>8} {end_to_end:>10.0} {:>14.2}",
                    "  ... and at the remote sink",
                    end_to_end / base
                );
            }
        }
    }
    running.shutdown(Duration::from_secs(5)).await;
    Ok(())
}

/// Alice (Send As on Info) and Bob; Info keeps copies of what is sent as it.
async fn setup_org(data: &std::path::Path) -> Result<()> {
    let org = mailroom_bench::organisation(data, &["alice", "bob"]).await?;
    let (dir, info) = (&org.dir, &org.info);
    dir.grant(&Actor::System, info.id, org.users[0].id, Right::SendAs, false).await?;
    let mailbox = info.mailbox_id().context("info has a mailbox")?;
    let change = SettingsChange { message_copy_for_sent_as: Some(true), ..Default::default() };
    dir.update_mailbox_settings(&Actor::System, mailbox, change).await?;
    Ok(())
}

/// A sink SMTP server that accepts every message; counts them.
async fn sink() -> Result<(std::net::SocketAddr, Arc<AtomicUsize>)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let count = Arc::new(AtomicUsize::new(0));
    let counter = count.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let counter = counter.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut read = BufReader::new(read);
                let _ = write.write_all(b"220 sink\r\n").await;
                let mut in_data = false;
                loop {
                    let mut line = String::new();
                    if read.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let reply: &[u8] = if in_data {
                        if line != ".\r\n" {
                            continue;
                        }
                        in_data = false;
                        counter.fetch_add(1, Ordering::Relaxed);
                        b"250 ok\r\n"
                    } else if line.starts_with("DATA") {
                        in_data = true;
                        b"354 go\r\n"
                    } else if line.starts_with("QUIT") {
                        let _ = write.write_all(b"221 bye\r\n").await;
                        return;
                    } else {
                        b"250 ok\r\n"
                    };
                    if write.write_all(reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    Ok((addr, count))
}

fn body(scenario: Scenario, client: usize, n: usize) -> Vec<u8> {
    // Unique bodies: identical ones would be stored once (content addressing).
    let mut body = format!(
        "From: {}\r\nTo: {}\r\nSubject: benchmark\r\nX-Bench: {client}-{n}\r\n\r\n",
        scenario.from, scenario.to
    )
    .into_bytes();
    while body.len() < MESSAGE_SIZE - 80 {
        body.extend_from_slice(
            b"The quick brown fox jumps over the lazy dog, again and again and again.\r\n",
        );
    }
    body.extend_from_slice(b".\r\n");
    body
}

/// One connection sending `count` messages; returns how many got 250.
async fn send_many(
    addr: std::net::SocketAddr,
    scenario: Scenario,
    client: usize,
    count: usize,
) -> Result<usize> {
    let (mut read, mut write) = mailroom_bench::smtp_connect(addr).await?;
    if scenario.submission {
        write.write_all(format!("AUTH PLAIN {AUTH_PLAIN}\r\n").as_bytes()).await?;
        expect(&mut read, 235).await?;
    }
    for n in 0..count {
        let envelope = format!("MAIL FROM:<{}>\r\nRCPT TO:<{}>\r\nDATA\r\n", scenario.from, scenario.to);
        write.write_all(envelope.as_bytes()).await?;
        expect(&mut read, 250).await?;
        expect(&mut read, 250).await?;
        expect(&mut read, 354).await?;
        write.write_all(&body(scenario, client, n)).await?;
        expect(&mut read, 250).await?;
    }
    write.write_all(b"QUIT\r\n").await?;
    Ok(count)
}
