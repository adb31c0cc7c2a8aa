//! Single IMAP commands on one shared folder, each timed as the median of
//! many runs and stated as a multiple of a NOOP round trip measured in the
//! same run: the rows of the Dovecot comparison in the IMAP work (FETCH
//! FLAGS and ENVELOPE of every message, SEARCH SUBJECT/BODY/TEXT, one whole
//! message) and the new SORT and THREAD. BODY and TEXT are timed from the
//! substring index (the server's indexer is waited for) and, for scale, with
//! a two-character needle, which the index can't answer: every body is read,
//! as every search did before the index.
//!
//!     cargo run --release -p mailroom-bench --bin imap_commands -- [--messages 2000] [--runs 20]

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use mailroom_bench::ImapClient as Client;
use mailroom_bench::arg;
use mailroom_core::directory::Actor;
use mailroom_server::Listener;

fn main() -> Result<()> {
    let messages: usize = arg("--messages", 2000);
    let runs: usize = arg("--runs", 20);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(run(messages, runs))
}

async fn run(messages: usize, runs: usize) -> Result<()> {
    let tmp = tempfile::tempdir_in(std::env::var_os("BENCH_DIR").unwrap_or_else(|| ".".into()))?;
    let data = tmp.path().join("data");
    std::fs::create_dir(&data)?;
    let org = mailroom_bench::organisation(&data, &["user0"]).await?;
    let info = org.info.mailbox_id().context("info is a mailbox")?;
    org.dir.add_member(&Actor::System, info, org.users[0].id, true).await?;
    drop(org);
    let config = mailroom_bench::imap_only_config();
    let running = mailroom_server::start(&data, config).await?;
    let addr = running.listeners.iter().find(|(l, _)| *l == Listener::Imap).context("imap listener")?.1;
    let store = running.store();
    mailroom_bench::fill_inbox(store.clone(), info, messages, |_| true).await?;
    // The server's indexer reaches every body first (it runs on each change).
    let indexing = Instant::now();
    loop {
        if store.text_backlog().await? == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!("indexed {messages} bodies in {:.1} s", indexing.elapsed().as_secs_f64());
    let mut c = Client::connect(addr).await?;
    c.cmd(&format!("LOGIN user0@bench.example {}", mailroom_bench::PASSWORD)).await?;
    c.cmd("SELECT \"Shared/info@bench.example/INBOX\"").await?;
    let noop = mailroom_bench::median(&mut c, "NOOP", runs * 10).await?;
    println!("{messages} messages in a shared INBOX; NOOP round trip {:.3} ms (median)", ms(noop));
    println!();
    println!("{:<44} {:>10} {:>10}", "command", "ms", "x NOOP");
    let last = messages / 2 + 1;
    for command in [
        "UID FETCH 1:* (FLAGS)".to_string(),
        "FETCH 1:* (ENVELOPE)".to_string(),
        "FETCH 1:* (UID RFC822.SIZE BODY.PEEK[HEADER.FIELDS (FROM SUBJECT)])".to_string(),
        format!("FETCH {last} BODY.PEEK[]"),
        "SEARCH SUBJECT \"number 1999\"".to_string(),
        "SEARCH BODY \"my order\"".to_string(),
        "SEARCH TEXT \"nothing like it\"".to_string(),
        "SEARCH BODY \"zq\"".to_string(),
        "SEARCH TEXT \"zq\"".to_string(),
        "SORT (SUBJECT) UTF-8 ALL".to_string(),
        "THREAD REFERENCES UTF-8 ALL".to_string(),
    ] {
        let time = mailroom_bench::median(&mut c, &command, runs).await?;
        println!("{command:<44} {:>10.2} {:>10.0}", ms(time), time.as_secs_f64() / noop.as_secs_f64());
    }
    c.cmd("LOGOUT").await.ok();
    running.shutdown(Duration::from_secs(5)).await;
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
