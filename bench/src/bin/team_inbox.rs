//! What the team inbox costs an IMAP session: the same session mix through
//! the real server on three shared mailboxes filled alike, in turn so the
//! machine's noise falls on all alike — one plain (`AuditEnabled $false`,
//! one read state: what every mailbox was before), one with the activity
//! trail (the default), one with the trail and per-member read state
//! (`SharedSeenState PerMember`), where the member has read half the
//! messages for themselves. Each message is delivered to all three at once,
//! so no mailbox's rows are older on disk (filled one after the other, the
//! first-filled was 20–30 % slower with nothing else different).
//! `--control` makes all three plain: the ratios an A/A run gives.
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
use mailroom_core::directory::{Actor, NewMailbox, NewMailboxKind, SettingsChange};
use mailroom_server::{Config, ListenOverrides, Listener};
use mailroom_store::scratch::ScratchSchema;
use mailroom_types::{DomainName, EmailAddress};
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
        println!("{messages} messages in the shared INBOX, {rounds} rounds of each kind, medians (90th percentiles)");
        println!("store        plain ms/round         trail ms/round  ratio    trail + per-member seen  ratio");
        for (name, data, url) in stores {
            let [off, on, seen] = measure(&data, &url, messages, rounds).await?;
            let ratio = |d: (Duration, Duration)| d.0.as_secs_f64() / off.0.as_secs_f64();
            println!(
                "{name:<11} {:>6.2} ({:>6.2})   {:>6.2} ({:>6.2})  {:>5.3}   {:>6.2} ({:>6.2})          {:>5.3}",
                ms(off.0),
                ms(off.1),
                ms(on.0),
                ms(on.1),
                ratio(on),
                ms(seen.0),
                ms(seen.1),
                ratio(seen),
            );
        }
        Ok(())
    })
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The round's three kinds: (alias, trail, per-member read state).
const KINDS: [(&str, bool, bool); 3] = [("plain", false, false), ("trail", true, false), ("own", true, true)];

/// (median, 90th percentile) of a round of each of [`KINDS`].
async fn measure(
    data: &Path,
    url: &str,
    messages: usize,
    rounds: usize,
) -> Result<[(Duration, Duration); 3]> {
    // `--control`: all three plain, so the ratios show what nothing costs
    // (an A/A run: the noise of this machine and method).
    let control = std::env::args().any(|a| a == "--control");
    let org = mailroom_bench::organisation_on(data, url, &["user0"]).await?;
    let domain = DomainName::parse("bench.example")?;
    let mut inboxes = Vec::new();
    for (alias, trail, own) in KINDS {
        let shared = org
            .dir
            .create_mailbox(
                &Actor::System,
                NewMailbox {
                    name: alias.into(),
                    display_name: None,
                    alias: Some(alias.into()),
                    primary_address: Some(EmailAddress::from_parts(alias, domain.clone())),
                    kind: NewMailboxKind::Shared,
                },
            )
            .await?;
        let mailbox = shared.mailbox_id().context("a shared mailbox")?;
        let set = SettingsChange {
            audit_enabled: Some(trail && !control),
            per_member_seen: Some(own && !control),
            ..SettingsChange::default()
        };
        org.dir.update_mailbox_settings(&Actor::System, mailbox, set).await?;
        org.dir.add_member(&Actor::System, mailbox, org.users[0].id, true).await?;
        inboxes.push(mailbox);
    }
    fill_alike(&org, &inboxes, messages).await?;
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
    let addr = running.listeners.iter().find(|(l, _)| *l == Listener::Imap).context("imap listener")?.1;
    let mut c = ImapClient::connect(addr).await?;
    c.cmd("LOGIN user0@bench.example Bench-pass-123").await?;
    for (alias, _, _) in KINDS {
        // The member has read the older half (under per-member read state,
        // half the folder's messages carry their own state), untimed.
        c.cmd(&format!("SELECT \"Shared/{alias}@bench.example/INBOX\"")).await?;
        c.cmd(&format!("STORE 1:{} +FLAGS.SILENT (\\Seen)", messages / 2)).await?;
        round(&mut c, alias, messages, 0).await?; // untimed: caches warm
    }
    let mut samples: [Vec<Duration>; 3] = Default::default();
    for r in 1..=rounds {
        // Each kind first in turn: none gains from its place.
        for k in 0..3 {
            let kind = (k + r) % 3;
            let started = Instant::now();
            round(&mut c, KINDS[kind].0, messages, r).await?;
            samples[kind].push(started.elapsed());
        }
    }
    c.cmd("LOGOUT").await.ok();
    running.shutdown(Duration::from_secs(5)).await;
    let [plain, trail, own] = samples;
    Ok([spread(plain), spread(trail), spread(own)])
}

/// `count` messages into each of `mailboxes`' Inbox, each message into all
/// of them in one delivery: their rows are written side by side, so no
/// mailbox is older on disk than another (filled one after the other, the
/// first-filled was 20–30 % slower with nothing else different).
async fn fill_alike(
    org: &mailroom_bench::Organisation,
    mailboxes: &[mailroom_types::MailboxId],
    count: usize,
) -> Result<()> {
    use mailroom_core::mail::{Flags, SpecialUse};
    use mailroom_core::store::{DeliveryTarget, FolderRef};
    let workers = 64;
    let mut tasks = Vec::new();
    for w in 0..workers {
        let store = org.store.clone();
        let targets: Vec<DeliveryTarget> = mailboxes
            .iter()
            .map(|&mailbox| DeliveryTarget {
                mailbox,
                folder: FolderRef::Special(SpecialUse::Inbox),
                flags: Flags::default(),
            })
            .collect();
        tasks.push(tokio::spawn(async move {
            let mut n = w;
            while n < count {
                let body = format!(
                    "From: Customer {n} <c{n}@example.org>\r\nTo: team@bench.example\r\nSubject: Question number {n}\r\nMessage-ID: <{n}@example.org>\r\n\r\n{}\r\n",
                    "Hello, I have a question about my order. ".repeat(20)
                );
                let summary = mailroom_mime::summarize(body.as_bytes());
                store.deliver(body.into_bytes(), &summary, 1_795_000_000 + n as i64, &targets).await?;
                n += workers;
            }
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok(())
}

/// One round of the mix on the `alias@` shared INBOX; round `r` reads the
/// `r`-th newest message, unread until then.
async fn round(c: &mut ImapClient, alias: &str, total: usize, r: usize) -> Result<()> {
    let inbox = format!("\"Shared/{alias}@bench.example/INBOX\"");
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
