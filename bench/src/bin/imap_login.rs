//! IMAP sign-ins per second: clients that connect, LOGIN and LOGOUT in a
//! loop (as phones and polling mail clients do), against the server with
//! its default memory of verified passwords and with `[sign_in]
//! remember_seconds = 0` (every LOGIN checked by argon2id), alternated in
//! one run; the ratio is the figure.
//!
//!     cargo run --release -p mailroom-bench --bin imap_login -- [--clients 1,10] [--seconds 5] [--repeat 2]

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use mailroom_bench::{ImapClient, arg};
use mailroom_server::{Config, ListenOverrides, Listener};
use tokio::io::AsyncWriteExt;

fn main() -> Result<()> {
    let clients: String = arg("--clients", "1,10".to_string());
    let clients: Vec<usize> = clients.split(',').map(|c| c.trim().parse()).collect::<Result<_, _>>()?;
    let seconds: u64 = arg("--seconds", 5);
    let repeat: usize = arg("--repeat", 2);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(run(&clients, Duration::from_secs(seconds), repeat))
}

fn config(remember: bool) -> Config {
    let mut config = Config { hostname: Some("bench.example".into()), ..Config::default() };
    config.imap.max_connections = 100_000;
    config.imap.max_connections_per_ip = 100_000;
    if !remember {
        config.sign_in.remember_seconds = 0;
    }
    config.apply(&ListenOverrides {
        smtp: Some("off".into()),
        imap: Some("127.0.0.1:0".into()),
        imaps: Some("off".into()),
        ..Default::default()
    });
    config
}

/// One client's loop until `until`: connect, LOGIN, LOGOUT. Returns the
/// sign-ins done.
async fn sign_ins(addr: std::net::SocketAddr, login: String, until: Instant) -> Result<u64> {
    let mut done = 0;
    while Instant::now() < until {
        let mut c = ImapClient::connect(addr).await?;
        c.write.write_all(format!("a LOGIN {login} {}\r\n", mailroom_bench::PASSWORD).as_bytes()).await?;
        loop {
            let line = c.line().await?;
            if line.starts_with("a OK") {
                break;
            }
            if line.starts_with("a ") {
                bail!("LOGIN {login}: {line}");
            }
        }
        c.write.write_all(b"b LOGOUT\r\n").await?;
        while !c.line().await?.starts_with("b ") {}
        done += 1;
    }
    Ok(done)
}

/// Sign-ins per second with `clients` clients (each its own account).
async fn measure(remember: bool, data: &std::path::Path, clients: usize, time: Duration) -> Result<f64> {
    let running = mailroom_server::start(data, config(remember)).await?;
    let addr = running.listeners.iter().find(|(l, _)| *l == Listener::Imap).context("imap listener")?.1;
    let until = Instant::now() + time;
    let started = Instant::now();
    let tasks: Vec<_> =
        (0..clients).map(|i| tokio::spawn(sign_ins(addr, format!("user{i}@bench.example"), until))).collect();
    let mut total = 0;
    for task in tasks {
        total += task.await??;
    }
    let rate = total as f64 / started.elapsed().as_secs_f64();
    running.shutdown(Duration::from_secs(5)).await;
    Ok(rate)
}

async fn run(client_counts: &[usize], time: Duration, repeat: usize) -> Result<()> {
    let tmp = tempfile::tempdir_in(std::env::var_os("BENCH_DIR").unwrap_or_else(|| ".".into()))?;
    let data = tmp.path().join("data");
    std::fs::create_dir(&data)?;
    let most = client_counts.iter().copied().max().unwrap_or(1);
    let aliases: Vec<String> = (0..most).map(|i| format!("user{i}")).collect();
    let aliases: Vec<&str> = aliases.iter().map(String::as_str).collect();
    mailroom_bench::organisation(&data, &aliases).await?;
    println!("{:>8} {:>22} {:>22} {:>8}", "clients", "argon2 every LOGIN /s", "remembered /s", "ratio");
    for &clients in client_counts {
        for _ in 0..repeat {
            let full = measure(false, &data, clients, time).await?;
            let remembered = measure(true, &data, clients, time).await?;
            println!("{clients:>8} {full:>22.1} {remembered:>22.1} {:>8.1}", remembered / full);
        }
    }
    Ok(())
}
