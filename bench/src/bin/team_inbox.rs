//! What the team inbox costs an IMAP session: the same session mix on one
//! shared mailbox through the real server, its activity trail on (the
//! default) in every other round and off (`AuditEnabled $false`, what every
//! mailbox was before the trail) in the others, so the machine's noise falls
//! on both alike. (Two mailboxes filled alike, one on and one off, differed
//! by 20–30 % with the trail off in both: which was filled first mattered.)
//! `--control` keeps it off throughout: the ratio an A/A run gives.
//!
//!     cargo run --release -p mailroom-bench --bin team_inbox -- [--messages 10000] [--rounds 100] [--control]
//!
//! With `MAILROOM_TEST_PG` set, the same on PostgreSQL too (a scratch
//! schema of that database, dropped at the end).
//!
//! One round, every command a member's client sends in an ordinary
//! session, most of them ones the trail records: SELECT the shared INBOX,
//! FETCH the newest 50 headers, FETCH an unread message whole (it becomes
//! read: a first read), STORE `\Answered` (a reply) and `\Flagged`, APPEND a
//! message (a client filing its sent copy), UID SEARCH for it, and mark it
//! `\Deleted` and EXPUNGE it (a delete, into Recoverable Items).

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use mailroom_bench::{ImapClient, arg};
use mailroom_core::directory::{Actor, SettingsChange};
use mailroom_server::{Config, ListenOverrides, Listener};
use mailroom_store::scratch::ScratchSchema;
use tokio::io::AsyncWriteExt;

fn main() -> Result<()> {
    let messages: usize = arg("--messages", 10_000);
    let rounds: usize = arg("--rounds", 100);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let base = std::env::var_os("BENCH_DIR").unwrap_or_else(|| ".".into());
        let sqlite = tempfile::tempdir_in(&base)?;
        let sqlite_url = format!("sqlite://{}", sqlite.path().canonicalize()?.join("mailroom.db").display());
        let schema = ScratchSchema::create();
        let pg_dir = tempfile::tempdir_in(&base)?;
        let mut stores = vec![("SQLite", sqlite.path().to_path_buf(), sqlite_url)];
        if let Some(schema) = &schema {
            stores.push(("PostgreSQL", pg_dir.path().to_path_buf(), schema.url()));
        }
        println!("{messages} messages in the shared INBOX, {rounds} rounds with the trail off and {rounds} on, medians");
        println!("store         trail off ms/round   trail on ms/round   ratio   p90 off   p90 on");
        for (name, data, url) in stores {
            let figures = measure(&data, &url, messages, rounds).await?;
            println!(
                "{name:<11} {:>19.2} {:>19.2} {:>7.3} {:>9.2} {:>8.2}",
                ms(figures.off.0),
                ms(figures.on.0),
                figures.on.0.as_secs_f64() / figures.off.0.as_secs_f64(),
                ms(figures.off.1),
                ms(figures.on.1),
            );
        }
        Ok(())
    })
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// (median, 90th percentile) of a round, trail off and on.
struct Figures {
    off: (Duration, Duration),
    on: (Duration, Duration),
}

async fn measure(data: &Path, url: &str, messages: usize, rounds: usize) -> Result<Figures> {
    let org = mailroom_bench::organisation_on(data, url, &["user0"]).await?;
    let info = org.info.mailbox_id().context("info is a mailbox")?;
    org.dir.add_member(&Actor::System, info, org.users[0].id, true).await?;
    // All unread: each round reads one for the first time.
    mailroom_bench::fill_inbox(org.store.clone(), info, messages, |_| true).await?;
    drop(org);

    let mut config = Config { hostname: Some("bench.example".into()), ..Config::default() };
    config.store.url = Some(url.to_string());
    config.apply(&ListenOverrides {
        smtp: Some("127.0.0.1:0".into()),
        imap: Some("127.0.0.1:0".into()),
        imaps: Some("off".into()),
        ..Default::default()
    });
    let running = mailroom_server::start(data, config).await?;
    let dir = mailroom_core::Directory::new(running.store());
    let addr = running.listeners.iter().find(|(l, _)| *l == Listener::Imap).context("imap listener")?.1;
    let mut c = ImapClient::connect(addr).await?;
    c.cmd("LOGIN user0@bench.example Bench-pass-123").await?;
    round(&mut c, messages, 0).await?; // untimed: caches warm
    // `--control`: off in both halves, so the ratio shows what nothing
    // costs (an A/A run: the noise of this machine and method).
    let control = std::env::args().any(|a| a == "--control");
    let (mut off, mut on) = (Vec::new(), Vec::new());
    for r in 1..=rounds * 2 {
        // The same mailbox, the trail on and off in turn (set untimed,
        // read by the store at each action): only the trail differs.
        let recording = r % 2 == 0 && !control;
        let audit = SettingsChange { audit_enabled: Some(recording), ..SettingsChange::default() };
        dir.update_mailbox_settings(&Actor::System, info, audit).await?;
        let started = Instant::now();
        round(&mut c, messages, r).await?;
        if r % 2 == 0 { on.push(started.elapsed()) } else { off.push(started.elapsed()) }
    }
    c.cmd("LOGOUT").await.ok();
    running.shutdown(Duration::from_secs(5)).await;
    Ok(Figures { off: spread(off), on: spread(on) })
}

/// One round of the mix on the shared INBOX; round `r` reads the `r`-th
/// newest message, unread until then.
async fn round(c: &mut ImapClient, total: usize, r: usize) -> Result<()> {
    let inbox = "\"Shared/info@bench.example/INBOX\"";
    c.cmd(&format!("SELECT {inbox}")).await?;
    let first = total.saturating_sub(49).max(1);
    c.cmd(&format!("FETCH {first}:* (UID FLAGS BODY.PEEK[HEADER.FIELDS (FROM SUBJECT DATE)])")).await?;
    let n = total.saturating_sub(r).max(1);
    c.cmd(&format!("FETCH {n} BODY[]")).await?;
    c.cmd(&format!("STORE {n} +FLAGS (\\Answered)")).await?;
    c.cmd(&format!("STORE {n} +FLAGS (\\Flagged)")).await?;
    let message = "From: user0@bench.example\r\nSubject: note\r\n\r\nappended\r\n";
    c.tag += 1;
    let tag = format!("t{}", c.tag);
    c.write
        .write_all(format!("{tag} APPEND {inbox} {{{}+}}\r\n{message}\r\n", message.len()).as_bytes())
        .await?;
    c.finish(&tag).await?;
    c.cmd("UID SEARCH SUBJECT note").await?;
    c.cmd("STORE * +FLAGS.SILENT (\\Deleted)").await?;
    c.cmd("EXPUNGE").await?;
    Ok(())
}

fn spread(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort_unstable();
    let at = |q: f64| samples.get(((samples.len() as f64 - 1.0) * q) as usize).copied().unwrap_or_default();
    (at(0.5), at(0.9))
}
