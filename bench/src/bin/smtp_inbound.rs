//! Inbound SMTP throughput: concurrent clients send 10 KB messages to one
//! shared mailbox of a real server (listener, session, parse, group-commit
//! store, fsync), and the figure is stated next to the disk's fsync rate
//! measured in the same run.
//!
//!     cargo run --release -p mailroom-bench --bin smtp_inbound -- [--messages 2000] [--clients 1,8,32,64]
//!
//! Clients pipeline MAIL/RCPT/DATA (RFC 2920) as real MTAs do and wait for
//! the `250` after each message, which the server sends only once the
//! message is durable. More clients than fsyncs per second is where group
//! commit shows: one transaction, one fsync, many messages.

use std::time::{Duration, Instant};

use anyhow::Result;
use mailroom_bench::{arg, fsync_rate};
use mailroom_server::{Config, ListenOverrides};

fn main() -> Result<()> {
    let messages: usize = arg("--messages", 2000);
    let clients: String = arg("--clients", "1,8,32,64".to_string());
    let clients: Vec<usize> = clients.split(',').map(|c| c.trim().parse()).collect::<Result<_, _>>()?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(run(messages, &clients))
}

async fn run(messages: usize, client_counts: &[usize]) -> Result<()> {
    let tmp = tempfile::tempdir_in(std::env::var_os("BENCH_DIR").unwrap_or_else(|| ".".into()))?;
    let data = tmp.path().join("data");
    std::fs::create_dir(&data)?;
    mailroom_bench::organisation(&data, &[]).await?;
    let mut config = Config { hostname: Some("bench.example".into()), ..Config::default() };
    config.smtp.max_connections_per_ip = 1000; // every client is on 127.0.0.1
    let dns = mailroom_bench::sender_dns();
    config.dns.nameservers = vec![dns.addr().to_string()];
    config.apply(&ListenOverrides { smtp: Some("127.0.0.1:0".into()), ..Default::default() });
    let running = mailroom_server::start(&data, config).await?;
    let addr = running.listeners[0].1;

    let fsyncs = tokio::task::spawn_blocking({
        let data = data.clone();
        move || fsync_rate(&data, Duration::from_secs(3))
    })
    .await??;
    println!("disk: {fsyncs:.0} fsync/s (4 KiB write + fdatasync, same filesystem as the store)");
    println!(
        "message: {} bytes, one shared mailbox, {messages} messages per run",
        mailroom_bench::MESSAGE_SIZE
    );
    println!();
    println!(
        "{:>8} {:>10} {:>10} {:>12} {:>14}",
        "clients", "msgs/s", "ms/msg", "msgs/commit", "rate/fsyncs"
    );
    let body = mailroom_bench::ten_kib_message();
    for &clients in client_counts {
        let before = running.sqlite().expect("the embedded store").write_stats();
        let start = Instant::now();
        let per_client = messages.div_ceil(clients);
        let mut tasks = Vec::new();
        for c in 0..clients {
            let body = body.clone();
            tasks.push(tokio::spawn(async move {
                mailroom_bench::send_messages(addr, c, per_client, &body).await
            }));
        }
        let mut sent = 0;
        for task in tasks {
            sent += task.await??;
        }
        let elapsed = start.elapsed().as_secs_f64();
        let after = running.sqlite().expect("the embedded store").write_stats();
        let commits = (after.transactions - before.transactions).max(1);
        let rate = sent as f64 / elapsed;
        println!(
            "{clients:>8} {rate:>10.0} {:>10.2} {:>12.1} {:>14.2}",
            1000.0 * elapsed * clients as f64 / sent as f64,
            sent as f64 / commits as f64,
            rate / fsyncs
        );
    }
    running.shutdown(Duration::from_secs(5)).await;
    Ok(())
}
