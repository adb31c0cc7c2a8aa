//! The cost of mail authentication: inbound delivery with the sender checks
//! (SPF, DKIM on an Ed25519 and an RSA-2048 signature, DMARC, ARC, the
//! `Authentication-Results:` field) against the same delivery with them
//! off, in the same run; and DKIM signing of outgoing mail (both keys) per
//! message, against a plain delivery's time.
//!
//!     cargo run --release -p mailroom-bench --bin mail_auth -- [--messages 1000] [--clients 1,8] [--ttl 300]
//!
//! DNS is a server on loopback (the testkit's) holding the sender domain's
//! SPF, DKIM and DMARC records, so the lookups are real UDP round trips,
//! cached by the resolver for their TTL as in production (`--ttl`, default
//! 300 s; `--ttl 0` looks everything up for every message, the worst case).

use std::time::{Duration, Instant};

use anyhow::Result;
use mailroom_bench::arg;
use mailroom_core::directory::{DkimAlgorithm, DkimKey};
use mailroom_server::{Config, ListenOverrides};
use mailroom_types::DomainName;

const MESSAGE_SIZE: usize = 10 * 1024;

fn main() -> Result<()> {
    let messages: usize = arg("--messages", 1000);
    let ttl: u32 = arg("--ttl", 300);
    let clients: String = arg("--clients", "1,8".to_string());
    let clients: Vec<usize> = clients.split(',').map(|c| c.trim().parse()).collect::<Result<_, _>>()?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(run(messages, &clients, ttl))
}

/// The sender domain's keys, made as Mailroom makes its own.
fn sender_keys() -> Result<Vec<DkimKey>> {
    let domain = DomainName::parse("sender.example")?;
    Ok(mailroom_mailauth::generate(&[])?.into_iter().map(|k| k.into_key(domain.clone(), 0)).collect())
}

async fn server(
    tmp: &std::path::Path,
    name: &str,
    dns: std::net::SocketAddr,
    check: bool,
) -> Result<mailroom_server::Running> {
    let data = tmp.join(name);
    std::fs::create_dir(&data)?;
    mailroom_bench::organisation(&data, &[]).await?;
    let mut config = Config { hostname: Some("bench.example".into()), ..Config::default() };
    config.smtp.max_connections_per_ip = 1000;
    config.dns.nameservers = vec![dns.to_string()];
    config.authentication.check = check;
    let off = || Some("off".to_string());
    config.apply(&ListenOverrides {
        smtp: Some("127.0.0.1:0".into()),
        submission: off(),
        submissions: off(),
        imap: off(),
        imaps: off(),
        http: off(),
        https: off(),
        ..Default::default()
    });
    mailroom_server::start(&data, config).await
}

async fn run(messages: usize, client_counts: &[usize], ttl: u32) -> Result<()> {
    let tmp = tempfile::tempdir_in(std::env::var_os("BENCH_DIR").unwrap_or_else(|| ".".into()))?;
    let keys = sender_keys()?;
    let dns = mailroom_testkit::DnsServer::with_ttl(ttl);
    dns.add("sender.example", "TXT", "v=spf1 ip4:127.0.0.1 -all");
    dns.add("_dmarc.sender.example", "TXT", "v=DMARC1; p=reject");
    for key in &keys {
        dns.add(&mailroom_mailauth::record_name(key), "TXT", &mailroom_mailauth::record_text(key));
    }
    let body = message_body();
    let signed = [mailroom_mailauth::sign(&body, &keys), body.clone()].concat();
    assert!(signed.starts_with(b"DKIM-Signature:"), "the message is signed");

    let plain = server(tmp.path(), "plain", dns.addr(), false).await?;
    let checked = server(tmp.path(), "checked", dns.addr(), true).await?;
    let (plain_addr, checked_addr) = (plain.listeners[0].1, checked.listeners[0].1);

    // The checks really pass: one message, its field read back.
    mailroom_bench::send_messages(checked_addr, usize::MAX, 1, &signed).await?;
    let stored = checked_results(&tmp.path().join("checked")).await?;
    for word in ["spf=pass", "dkim=pass", "dmarc=pass"] {
        anyhow::ensure!(stored.contains(word), "{word} expected in {stored}");
    }

    println!("message: {MESSAGE_SIZE} bytes, DKIM-signed (Ed25519 + RSA-2048), {messages} messages per run");
    println!("DNS: a server on 127.0.0.1, answers with a TTL of {ttl} s (0: looked up for every message)");
    println!();
    println!("{:>8} {:>14} {:>14} {:>10}", "clients", "plain msgs/s", "checked msgs/s", "checked/plain");
    for &clients in client_counts {
        // Alternated, twice each, to even out the machine's noise.
        let mut rates = [0.0f64; 2];
        for round in 0..4 {
            let which = round % 2;
            let addr = if which == 0 { plain_addr } else { checked_addr };
            rates[which] += throughput(addr, clients, messages, &signed).await? / 2.0;
        }
        println!("{clients:>8} {:>14.0} {:>14.0} {:>10.2}", rates[0], rates[1], rates[1] / rates[0]);
    }

    // Verification alone, called as the SMTP session calls it (the
    // resolver's cache warm from the runs above).
    std::fs::create_dir_all(tmp.path().join("direct"))?;
    let dir = mailroom_bench::organisation(&tmp.path().join("direct"), &[]).await?.dir;
    let dns_client = mailroom_mailauth::Dns::new(&[dns.addr()])?;
    let from = mailroom_types::EmailAddress::parse("load@sender.example")?;
    let arrival = mailroom_mailauth::Arrival {
        ip: "127.0.0.1".parse()?,
        helo: "bench.client",
        mail_from: Some(&from),
        hostname: "bench.example",
    };
    let rounds = 500;
    let mut last = String::new();
    let start = Instant::now();
    for _ in 0..rounds {
        last = mailroom_mailauth::verify(&dns_client, &dir, &signed, arrival, &[]).await.summary;
    }
    let verify_us = start.elapsed().as_secs_f64() * 1e6 / rounds as f64;
    println!();
    println!("verification alone: {verify_us:.0} µs per message ({last})");

    // Signing, as the outbound sender does for each message that leaves.
    let rounds = 500;
    let start = Instant::now();
    for _ in 0..rounds {
        std::hint::black_box(mailroom_mailauth::sign(&body, &keys));
    }
    let sign_us = start.elapsed().as_secs_f64() * 1e6 / rounds as f64;
    let one_client = throughput(plain_addr, 1, messages.min(500), &body).await?;
    let delivery_us = 1e6 / one_client;
    println!();
    println!(
        "signing (Ed25519 + RSA-2048): {sign_us:.0} µs per message; a plain delivery takes {delivery_us:.0} µs (1 client): +{:.1}%",
        100.0 * sign_us / delivery_us
    );
    for key in &keys {
        let start = Instant::now();
        for _ in 0..rounds {
            std::hint::black_box(mailroom_mailauth::sign(&body, std::slice::from_ref(key)));
        }
        let name = match key.algorithm {
            DkimAlgorithm::Ed25519 => "Ed25519",
            DkimAlgorithm::Rsa => "RSA-2048",
        };
        println!("  {name}: {:.0} µs", start.elapsed().as_secs_f64() * 1e6 / rounds as f64);
    }
    plain.shutdown(Duration::from_secs(5)).await;
    checked.shutdown(Duration::from_secs(5)).await;
    Ok(())
}

/// Messages per second with `clients` connections sending `messages` in all.
async fn throughput(addr: std::net::SocketAddr, clients: usize, messages: usize, body: &[u8]) -> Result<f64> {
    let start = Instant::now();
    let per_client = messages.div_ceil(clients);
    let mut tasks = Vec::new();
    for c in 0..clients {
        let body = body.to_vec();
        tasks.push(tokio::spawn(
            async move { mailroom_bench::send_messages(addr, c, per_client, &body).await },
        ));
    }
    let mut sent = 0;
    for task in tasks {
        sent += task.await??;
    }
    Ok(sent as f64 / start.elapsed().as_secs_f64())
}

/// The `Authentication-Results:` field of the first message in the checked
/// server's Info inbox.
async fn checked_results(data: &std::path::Path) -> Result<String> {
    let stored = mailroom_bench::first_inbox_message(data, "info@bench.example").await?;
    let text = String::from_utf8_lossy(&stored).into_owned();
    Ok(text
        .lines()
        .take_while(|l| !l.is_empty())
        .filter(|l| !l.starts_with("Received"))
        .collect::<Vec<_>>()
        .join(" "))
}

fn message_body() -> Vec<u8> {
    let mut body = b"From: load@sender.example\r\nTo: info@bench.example\r\nSubject: benchmark\r\nDate: Sun, 06 Dec 2026 10:00:00 +0000\r\nMessage-ID: <bench@sender.example>\r\n\r\n".to_vec();
    while body.len() < MESSAGE_SIZE - 80 {
        body.extend_from_slice(
            b"The quick brown fox jumps over the lazy dog, again and again and again.\r\n",
        );
    }
    body
}
