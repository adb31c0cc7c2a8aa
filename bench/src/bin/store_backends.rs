//! The embedded store and PostgreSQL side by side, in one run: SMTP ingest,
//! the IMAP session mix, and how soon a member idling on one node hears a
//! delivery accepted by another.
//!
//!     MAILROOM_TEST_PG=postgres://postgres@127.0.0.1:5432/test \
//!     cargo run --release -p mailroom-bench --bin store_backends -- \
//!         [--messages 2000] [--clients 8,32] [--mailbox 10000] [--mix-clients 1,8] [--rounds 5] [--idle-runs 200]
//!         [--only ingest,mix,nodes]
//!
//! PostgreSQL runs in a schema of its own in the database the variable
//! names, dropped at the end. Each part starts one server per store and
//! measures them back to back at each step, each after both servers'
//! indexers have caught up (a server indexes new bodies in the background;
//! one store's indexing must not slow the other's figure):
//!
//! 1. **Ingest**: C SMTP clients send 10 KiB messages to one shared mailbox
//!    (`smtp_inbound`'s load); a `250` only once the message is durable.
//! 2. **Session mix**: a shared INBOX of `--mailbox` messages, C members
//!    running `imap_session`'s round.
//! 3. **Across nodes**: two servers on one store (for SQLite, two servers
//!    on one file, as the admin CLI and `serve` share it); one member
//!    idles on node A and one on node B, and node A accepts a delivery:
//!    the time from the end of DATA to A's `250`, to the `EXISTS` on A,
//!    and to the `EXISTS` on B.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use mailroom_bench::{ImapClient, arg};
use mailroom_core::directory::Actor;
use mailroom_server::{Config, ListenOverrides, Listener, Running};
use mailroom_store::scratch::ScratchSchema;
use mailroom_types::MailboxId;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

fn main() -> Result<()> {
    let options = Options {
        messages: arg("--messages", 2000),
        clients: list(&arg("--clients", "8,32".to_string()))?,
        mailbox: arg("--mailbox", 10_000),
        mix_clients: list(&arg("--mix-clients", "1,8".to_string()))?,
        rounds: arg("--rounds", 5),
        idle_runs: arg("--idle-runs", 200),
        only: arg("--only", "ingest,mix,nodes".to_string()),
        dns: mailroom_bench::sender_dns(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let parts: Vec<&str> = options.only.split(',').map(str::trim).collect();
        if parts.contains(&"ingest") {
            ingest(&options).await?;
        }
        if parts.contains(&"mix") {
            session_mix(&options).await?;
        }
        if parts.contains(&"nodes") {
            across_nodes(&options).await?;
        }
        Ok(())
    })
}

struct Options {
    messages: usize,
    clients: Vec<usize>,
    mailbox: usize,
    mix_clients: Vec<usize>,
    rounds: usize,
    idle_runs: usize,
    /// Which parts to run: `ingest`, `mix`, `nodes`.
    only: String,
    /// What the servers ask about the sender's domain.
    dns: mailroom_testkit::DnsServer,
}

fn list(text: &str) -> Result<Vec<usize>> {
    Ok(text.split(',').map(|c| c.trim().parse()).collect::<Result<_, _>>()?)
}

/// A fresh store of each kind: a data directory, and for PostgreSQL a
/// schema of its own (dropped with it).
struct Fresh {
    name: &'static str,
    url: String,
    dir: tempfile::TempDir,
    _schema: Option<ScratchSchema>,
}

fn fresh_stores() -> Result<[Fresh; 2]> {
    let base = std::env::var_os("BENCH_DIR").unwrap_or_else(|| ".".into());
    let schema = ScratchSchema::create().context(
        "set MAILROOM_TEST_PG to a PostgreSQL database this bench may make schemas in (postgres://user@host:port/database)",
    )?;
    let sqlite = tempfile::tempdir_in(&base)?;
    // An absolute path: node B's data directory is another.
    let sqlite_url = format!("sqlite://{}", sqlite.path().canonicalize()?.join("mailroom.db").display());
    Ok([
        Fresh { name: "SQLite", url: sqlite_url, dir: sqlite, _schema: None },
        Fresh {
            name: "PostgreSQL",
            url: schema.url(),
            dir: tempfile::tempdir_in(&base)?,
            _schema: Some(schema),
        },
    ])
}

/// A server on `url` with SMTP and IMAP on free loopback ports, named `node`.
async fn serve(
    data: &Path,
    url: &str,
    node: &str,
    dns: SocketAddr,
) -> Result<(Running, SocketAddr, SocketAddr)> {
    let mut config = Config { hostname: Some("bench.example".into()), ..Config::default() };
    config.dns.nameservers = vec![dns.to_string()];
    config.store.url = Some(url.to_string());
    config.cluster.node_name = Some(node.to_string());
    config.smtp.max_connections_per_ip = 1000; // every client is on 127.0.0.1
    config.imap.max_connections_per_ip = 1000;
    config.apply(&ListenOverrides {
        smtp: Some("127.0.0.1:0".into()),
        imap: Some("127.0.0.1:0".into()),
        imaps: Some("off".into()),
        ..Default::default()
    });
    let running = mailroom_server::start(data, config).await?;
    let find = |which: Listener| running.listeners.iter().find(|(l, _)| *l == which).map(|(_, a)| *a);
    let smtp = find(Listener::Smtp).context("smtp listener")?;
    let imap = find(Listener::Imap).context("imap listener")?;
    Ok((running, smtp, imap))
}

/// The organisation (`info@` with `user0` and `user1` as members) on a
/// fresh store, and a server on it.
async fn organisation(
    fresh: &Fresh,
    node: &str,
    dns: SocketAddr,
) -> Result<(Running, SocketAddr, SocketAddr, MailboxId)> {
    let org = mailroom_bench::organisation_on(fresh.dir.path(), &fresh.url, &["user0", "user1"]).await?;
    let info = org.info.mailbox_id().context("info is a mailbox")?;
    for user in &org.users {
        org.dir.add_member(&Actor::System, info, user.id, true).await?;
    }
    drop(org);
    let (running, smtp, imap) = serve(fresh.dir.path(), &fresh.url, node, dns).await?;
    Ok((running, smtp, imap, info))
}

async fn ingest(options: &Options) -> Result<()> {
    let stores = fresh_stores()?;
    let mut servers = Vec::new();
    for fresh in &stores {
        servers.push(organisation(fresh, "ingest", options.dns.addr()).await?);
    }
    let body = mailroom_bench::ten_kib_message();
    println!(
        "== SMTP ingest: {} messages of {} bytes to one shared mailbox per run",
        options.messages,
        body.len()
    );
    println!("{:>8} {:>14} {:>14} {:>12}", "clients", "SQLite msg/s", "PG msg/s", "PG/SQLite");
    for &clients in &options.clients {
        let mut rates = Vec::new();
        for (_, smtp, _, _) in &servers {
            indexed(servers.iter().map(|s| &s.0)).await?;
            let smtp = *smtp;
            let start = Instant::now();
            let per_client = options.messages.div_ceil(clients);
            let mut tasks = Vec::new();
            for c in 0..clients {
                let body = body.clone();
                tasks.push(tokio::spawn(async move {
                    mailroom_bench::send_messages(smtp, c, per_client, &body).await
                }));
            }
            let mut sent = 0;
            for task in tasks {
                sent += task.await??;
            }
            rates.push(sent as f64 / start.elapsed().as_secs_f64());
        }
        println!("{clients:>8} {:>14.0} {:>14.0} {:>12.2}", rates[0], rates[1], rates[1] / rates[0]);
    }
    for (running, ..) in servers {
        running.shutdown(Duration::from_secs(5)).await;
    }
    println!();
    Ok(())
}

async fn session_mix(options: &Options) -> Result<()> {
    let stores = fresh_stores()?;
    let mut servers = Vec::new();
    for fresh in &stores {
        let (running, _, imap, info) = organisation(fresh, "mix", options.dns.addr()).await?;
        let started = Instant::now();
        mailroom_bench::fill_inbox(running.store(), info, options.mailbox, |_| true).await?;
        println!(
            "{}: filled the shared INBOX with {} messages in {:.1} s",
            fresh.name,
            options.mailbox,
            started.elapsed().as_secs_f64()
        );
        servers.push((running, imap));
    }
    indexed(servers.iter().map(|s| &s.0)).await?;
    let mut noops = Vec::new();
    for (_, imap) in &servers {
        let mut probe = ImapClient::connect(*imap).await?;
        probe.cmd(&format!("LOGIN user0@bench.example {}", mailroom_bench::PASSWORD)).await?;
        probe.cmd("SELECT \"Shared/info@bench.example/INBOX\"").await?;
        noops.push(mailroom_bench::median(&mut probe, "NOOP", 200).await?);
    }
    println!(
        "== IMAP session mix ({} rounds per member): NOOP round trip {:.3} ms (SQLite), {:.3} ms (PostgreSQL)",
        options.rounds,
        noops[0].as_secs_f64() * 1000.0,
        noops[1].as_secs_f64() * 1000.0
    );
    println!("{:>8} {:>16} {:>16} {:>12}", "clients", "SQLite ms/round", "PG ms/round", "PG/SQLite");
    for &clients in &options.mix_clients {
        let mut per_round = Vec::new();
        for (_, imap) in &servers {
            indexed(servers.iter().map(|s| &s.0)).await?;
            per_round.push(mix(*imap, clients, options.rounds, options.mailbox).await?);
        }
        println!(
            "{clients:>8} {:>16.1} {:>16.1} {:>12.2}",
            per_round[0] * 1000.0,
            per_round[1] * 1000.0,
            per_round[1] / per_round[0]
        );
    }
    for (running, _) in servers {
        running.shutdown(Duration::from_secs(5)).await;
    }
    println!();
    Ok(())
}

/// Returns once every one of `servers` has indexed every body it holds.
async fn indexed<'a>(servers: impl Iterator<Item = &'a Running>) -> Result<()> {
    for running in servers {
        let store = running.store();
        while store.text_backlog().await? > 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    Ok(())
}

/// Seconds per round for `clients` members running `rounds` rounds each.
async fn mix(imap: SocketAddr, clients: usize, rounds: usize, total: usize) -> Result<f64> {
    let mut tasks = Vec::new();
    for c in 0..clients {
        tasks.push(tokio::spawn(async move {
            let mut client = ImapClient::connect(imap).await?;
            client.cmd(&format!("LOGIN user{}@bench.example {}", c % 2, mailroom_bench::PASSWORD)).await?;
            let begin = Instant::now();
            for _ in 0..rounds {
                mailroom_bench::session_round(&mut client, total).await?;
            }
            let spent = begin.elapsed();
            client.cmd("LOGOUT").await.ok();
            anyhow::Ok(spent)
        }));
    }
    let mut spent = Duration::ZERO;
    for task in tasks {
        spent += task.await??;
    }
    Ok(spent.as_secs_f64() / (clients * rounds) as f64)
}

/// A member signed in on `imap`, idling on the shared INBOX; the moment of
/// each `EXISTS` it hears is sent on the channel.
async fn idler(imap: SocketAddr, login: &str) -> Result<mpsc::UnboundedReceiver<Instant>> {
    let mut client = ImapClient::connect(imap).await?;
    client.cmd(&format!("LOGIN {login} {}", mailroom_bench::PASSWORD)).await?;
    client.cmd("SELECT \"Shared/info@bench.example/INBOX\"").await?;
    client.write.write_all(b"idle IDLE\r\n").await?;
    let continuation = client.line().await?;
    if !continuation.starts_with('+') {
        bail!("IDLE: {continuation}");
    }
    let (heard, hearing) = mpsc::unbounded_channel();
    // Both halves move into the task: dropping the write half would end
    // the session.
    let ImapClient { mut read, write, .. } = client;
    tokio::spawn(async move {
        let _session = write;
        let mut line = String::new();
        loop {
            line.clear();
            let got = read.read_line(&mut line).await;
            if std::env::var_os("BENCH_TRACE").is_some() {
                eprintln!("idler: {got:?} {line:?}");
            }
            match got {
                Ok(0) | Err(_) => break,
                Ok(_) if line.ends_with(" EXISTS\r\n") => {
                    if heard.send(Instant::now()).is_err() {
                        break;
                    }
                }
                Ok(_) => {}
            }
        }
    });
    Ok(hearing)
}

async fn across_nodes(options: &Options) -> Result<()> {
    let stores = fresh_stores()?;
    println!(
        "== A delivery accepted by node A, heard by a member idling on node A and one on node B ({} deliveries)",
        options.idle_runs
    );
    println!("ms from the end of DATA        p50      p99      max");
    for fresh in &stores {
        let (node_a, smtp, imap_a, _) = organisation(fresh, "node-a", options.dns.addr()).await?;
        // Node B: a data directory of its own, the same store.
        let b_dir = tempfile::tempdir_in(fresh.dir.path())?;
        let (node_b, _, imap_b) = serve(b_dir.path(), &fresh.url, "node-b", options.dns.addr()).await?;
        let mut on_a = idler(imap_a, "user0@bench.example").await?;
        let mut on_b = idler(imap_b, "user1@bench.example").await?;
        let (mut read, mut write) = mailroom_bench::smtp_connect(smtp).await?;
        let (mut accepted, mut heard_a, mut heard_b) = (Vec::new(), Vec::new(), Vec::new());
        for run in 0..options.idle_runs {
            write
                .write_all(b"MAIL FROM:<load@sender.example>\r\nRCPT TO:<info@bench.example>\r\nDATA\r\n")
                .await?;
            mailroom_bench::expect(&mut read, 250).await?;
            mailroom_bench::expect(&mut read, 250).await?;
            mailroom_bench::expect(&mut read, 354).await?;
            let message = format!("Subject: delivery {run}\r\n\r\nto every idler\r\n.\r\n");
            write.write_all(message.as_bytes()).await?;
            let sent = Instant::now();
            mailroom_bench::expect(&mut read, 250).await?;
            accepted.push(sent.elapsed());
            let deadline = Duration::from_secs(10);
            let at_a = tokio::time::timeout(deadline, on_a.recv()).await?.context("node A's idler left")?;
            let at_b = tokio::time::timeout(deadline, on_b.recv()).await?.context("node B's idler left")?;
            heard_a.push(at_a.saturating_duration_since(sent));
            heard_b.push(at_b.saturating_duration_since(sent));
            // Deliveries at uneven moments (a polling feed would otherwise
            // be met at the same point of its period every time).
            tokio::time::sleep(Duration::from_millis((run as u64 * 7) % 23)).await;
        }
        write.write_all(b"QUIT\r\n").await?;
        for (what, times) in
            [("250 from node A", accepted), ("EXISTS on node A", heard_a), ("EXISTS on node B", heard_b)]
        {
            let (p50, p99, max) = percentiles(times);
            println!("{:<12} {what:<17} {p50:>8.2} {p99:>8.2} {max:>8.2}", fresh.name);
        }
        node_b.shutdown(Duration::from_secs(5)).await;
        node_a.shutdown(Duration::from_secs(5)).await;
    }
    Ok(())
}

/// The median, 99th percentile and maximum, in milliseconds.
fn percentiles(mut times: Vec<Duration>) -> (f64, f64, f64) {
    if times.is_empty() {
        return (0.0, 0.0, 0.0);
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let at = |q: f64| ms(times[((times.len() as f64 * q).ceil() as usize).clamp(1, times.len()) - 1]);
    (at(0.5), at(0.99), ms(*times.last().unwrap_or(&Duration::ZERO)))
}
