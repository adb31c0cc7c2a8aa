//! What an IMAP command costs in store calls (read transactions and writes,
//! each a round trip to a connection), and how fast another process's
//! change reaches an idling session.
//!
//!     cargo run --release -p mailroom-bench --bin store_calls -- [--messages 200] [--latency-runs 50]
//!
//! A member of a shared mailbox of N messages signs in; each command is run
//! several times and the store calls it caused are counted (the server runs
//! in this process, so its store's counters are read directly). The idle
//! member's cost is the store calls ten SMTP deliveries to the shared INBOX
//! make with the member idling, minus the same ten with nobody listening,
//! per delivery.
//!
//! The feed's latency: a second store handle on the same file (its own
//! writer and connections, as the admin CLI has in its own process)
//! delivers to the shared INBOX; the time from its commit to the idling
//! member's `* n EXISTS` is recorded, over `--latency-runs` deliveries.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use mailroom_bench::ImapClient as Client;
use mailroom_bench::arg;
use mailroom_core::directory::Actor;
use mailroom_core::mail::{Flags, SpecialUse};
use mailroom_core::store::{DeliveryTarget, FolderRef, MailStore};
use mailroom_server::{Config, ListenOverrides, Listener};
use mailroom_store::SqliteStore;
use mailroom_types::MailboxId;
use tokio::io::AsyncWriteExt;

fn main() -> Result<()> {
    let messages: usize = arg("--messages", 200);
    let runs: usize = arg("--latency-runs", 50);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(run(messages, runs))
}

async fn deliver(store: &SqliteStore, mailbox: MailboxId, n: usize) -> Result<()> {
    let body = format!(
        "From: Customer {n} <c{n}@example.org>\r\nTo: info@bench.example\r\nSubject: Question {n}\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <{n}.{}@example.org>\r\n\r\n{}\r\n",
        std::process::id(),
        "Hello, I have a question about my order. ".repeat(20)
    );
    let summary = mailroom_mime::summarize(body.as_bytes());
    let target =
        DeliveryTarget { mailbox, folder: FolderRef::Special(SpecialUse::Inbox), flags: Flags::default() };
    store.deliver(body.into_bytes(), &summary, 0, &[target]).await?;
    Ok(())
}

/// One message to the shared mailbox over SMTP, as mail arrives.
async fn smtp_deliver(addr: std::net::SocketAddr, n: usize) -> Result<()> {
    let (mut read, mut write) = mailroom_bench::smtp_connect(addr).await?;
    let body = format!(
        "From: c{n}@example.org\r\nTo: info@bench.example\r\nSubject: Idle {n}\r\n\r\nhello\r\n.\r\n"
    );
    write.write_all(b"MAIL FROM:<c@example.org>\r\nRCPT TO:<info@bench.example>\r\nDATA\r\n").await?;
    for code in [250, 250, 354] {
        mailroom_bench::expect(&mut read, code).await?;
    }
    write.write_all(body.as_bytes()).await?;
    mailroom_bench::expect(&mut read, 250).await?;
    write.write_all(b"QUIT\r\n").await?;
    Ok(())
}

/// Store calls `command` causes, the mean of `times` runs.
async fn calls_of(store: &SqliteStore, client: &mut Client, command: &str, times: usize) -> Result<f64> {
    let before = store.calls();
    for _ in 0..times {
        client.cmd(command).await?;
    }
    Ok((store.calls() - before) as f64 / times as f64)
}

async fn run(messages: usize, runs: usize) -> Result<()> {
    let base = std::env::var_os("BENCH_DIR").map_or_else(|| std::path::PathBuf::from("."), Into::into);
    let tmp = tempfile::tempdir_in(base)?;
    let org = mailroom_bench::organisation(tmp.path(), &["user0"]).await?;
    let info = org.info.mailbox_id().context("info is a mailbox")?;
    org.dir.add_member(&Actor::System, info, org.users[0].id, true).await?;
    for n in 0..messages {
        deliver(org.backend.sqlite().context("the embedded store")?, info, n).await?;
    }
    drop(org);
    let mut config = Config::default();
    config.apply(&ListenOverrides {
        smtp: Some("127.0.0.1:0".into()),
        submission: Some("off".into()),
        submissions: Some("off".into()),
        imap: Some("127.0.0.1:0".into()),
        imaps: Some("off".into()),
        http: Some("off".into()),
        https: Some("off".into()),
        smarthost: None,
    });
    let running = mailroom_server::start(tmp.path(), config).await?;
    let store = running.sqlite().context("the embedded store")?.clone();
    let addr = running.listeners.iter().find(|(l, _)| *l == Listener::Imap).context("imap listener")?.1;
    let smtp = running.listeners.iter().find(|(l, _)| *l == Listener::Smtp).context("smtp listener")?.1;
    let mut client = Client::connect(addr).await?;
    client.cmd(&format!("LOGIN user0@bench.example {}", mailroom_bench::PASSWORD)).await?;
    let select = "SELECT \"Shared/info@bench.example/INBOX\"";
    let per_select = calls_of(&store, &mut client, select, 20).await?;
    let per_noop = calls_of(&store, &mut client, "NOOP", 20).await?;
    let per_body = calls_of(&store, &mut client, "FETCH 1 BODY.PEEK[]", 20).await?;
    let headers = "FETCH 1:100 (UID FLAGS BODY.PEEK[HEADER.FIELDS (FROM SUBJECT DATE)])";
    let per_headers = calls_of(&store, &mut client, headers, 20).await?;

    // The idle member: store calls per delivery with it idling, over none.
    let quiet = {
        let before = store.calls();
        for n in 0..10 {
            smtp_deliver(smtp, messages + n).await?;
        }
        store.calls() - before
    };
    client.cmd("NOOP").await?;
    client.tag += 1;
    client.write.write_all(format!("t{} IDLE\r\n", client.tag).as_bytes()).await?;
    if !client.line().await?.starts_with('+') {
        bail!("IDLE refused");
    }
    let listened = {
        let before = store.calls();
        for n in 0..10 {
            smtp_deliver(smtp, messages + 10 + n).await?;
            // Each delivery's EXISTS has reached the member before the next.
            while !client.line().await?.contains("EXISTS") {}
        }
        store.calls() - before
    };
    let per_idle = (listened as f64 - quiet as f64) / 10.0;

    // The feed across processes: another handle's commit to the member's EXISTS.
    let other = SqliteStore::open(store.path())?;
    let mut latencies = Vec::with_capacity(runs);
    for n in 0..runs {
        deliver(&other, info, messages + 100 + n).await?;
        let committed = Instant::now();
        loop {
            let line = tokio::time::timeout(Duration::from_secs(10), client.line()).await??;
            if line.contains("EXISTS") {
                break;
            }
        }
        latencies.push(committed.elapsed());
    }
    latencies.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mean = latencies.iter().map(|d| ms(*d)).sum::<f64>() / latencies.len().max(1) as f64;

    println!("shared INBOX of {messages} messages, one member signed in");
    println!("store calls per command:");
    println!("  SELECT the shared INBOX            {per_select:>6.1}");
    println!("  NOOP                               {per_noop:>6.1}");
    println!("  FETCH 1 BODY.PEEK[]                {per_body:>6.1}");
    println!("  FETCH 100 headers                  {per_headers:>6.1}");
    println!("  an idle member, per delivery       {per_idle:>6.1}");
    println!(
        "another process's delivery to the idle member's EXISTS, {} runs: median {:.1} ms, mean {mean:.1} ms, max {:.1} ms",
        latencies.len(),
        ms(latencies[latencies.len() / 2]),
        ms(latencies[latencies.len() - 1]),
    );
    running.shutdown(Duration::from_secs(5)).await;
    Ok(())
}
