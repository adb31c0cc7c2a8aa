//! What keeping deletes recoverable costs: an expunge that moves the
//! messages into Recoverable Items (a copy, the removal and a note, in one
//! transaction) against the plain removal every expunge was before, on the
//! same store in the same run, interleaved so the machine's noise falls on
//! both alike. Also a restore (a move out of Recoverable Items).
//!
//!     cargo run --release -p mailroom-bench --bin recoverable_deletes -- [--rounds 200] [--batch 1,50]
//!
//! With `MAILROOM_TEST_PG` set, the same on PostgreSQL (a scratch schema of
//! that database, dropped at the end).
//!
//! Each round delivers `batch` messages to the shared Inbox, marks them
//! `\Deleted` and times the store call that expunges them: `expunge`
//! (removal) in even rounds, `recycle` (into Recoverable Items) in odd ones;
//! a recycled round then times `move_messages` back to the Inbox (restore)
//! and purges untimed, so every round starts from the same folder sizes.

use std::time::{Duration, Instant};

use anyhow::Result;
use mailroom_bench::arg;
use mailroom_core::mail::{Flags, SpecialUse, SystemFlag};
use mailroom_core::store::{DeliveryTarget, FlagChange, FolderRef, Store};
use mailroom_store::scratch::ScratchSchema;
use mailroom_types::{FolderId, MailboxId, PrincipalId, Uid};

fn main() -> Result<()> {
    let rounds: usize = arg("--rounds", 200);
    let batches: String = arg("--batch", "1,50".to_string());
    let batches: Vec<usize> = batches.split(',').filter_map(|b| b.trim().parse().ok()).collect();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        // `BENCH_DIR` picks the disk measured (bench/README.md).
        let base = std::env::var_os("BENCH_DIR").unwrap_or_else(|| ".".into());
        let data = tempfile::tempdir_in(&base)?;
        let sqlite = mailroom_bench::organisation(data.path(), &[]).await?;
        // `None` without MAILROOM_TEST_PG: SQLite alone.
        let schema = ScratchSchema::create();
        let postgres = match &schema {
            Some(schema) => Some(mailroom_bench::organisation_on(data.path(), &schema.url(), &[]).await?),
            None => None,
        };
        println!(
            "store       batch   removal µs/msg   into Recoverable Items µs/msg   ratio   restore µs/msg"
        );
        for &batch in &batches {
            for (name, org) in
                std::iter::once(("SQLite", &sqlite)).chain(postgres.iter().map(|p| ("PostgreSQL", p)))
            {
                let mailbox = org.info.mailbox_id().ok_or_else(|| anyhow::anyhow!("Info has no mailbox"))?;
                let figures = measure(&*org.store, mailbox, org.info.id, batch, rounds).await?;
                let per = |d: Duration| d.as_secs_f64() * 1e6 / batch as f64;
                println!(
                    "{name:<11} {batch:>5}   {:>14.0}   {:>29.0}   {:>5.2}   {:>14.0}",
                    per(figures.removal),
                    per(figures.recycle),
                    figures.recycle.as_secs_f64() / figures.removal.as_secs_f64(),
                    per(figures.restore),
                );
            }
        }
        Ok(())
    })
}

/// Medians of one store call per round.
struct Figures {
    removal: Duration,
    recycle: Duration,
    restore: Duration,
}

async fn measure(
    store: &dyn Store,
    mailbox: MailboxId,
    by: PrincipalId,
    batch: usize,
    rounds: usize,
) -> Result<Figures> {
    let folders = store.folders(mailbox).await?;
    let find = |use_: SpecialUse| folders.iter().find(|f| f.special_use == Some(use_)).map(|f| f.id);
    let (inbox, bin) = match (find(SpecialUse::Inbox), find(SpecialUse::Recoverable)) {
        (Some(inbox), Some(bin)) => (inbox, bin),
        _ => anyhow::bail!("the mailbox lacks an Inbox or Recoverable Items"),
    };
    let deleted = Flags::default().with(SystemFlag::Deleted);
    let (mut removal, mut recycle, mut restore) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds * 2 {
        let uids = fill(store, mailbox, inbox, batch).await?;
        store.store_flags(inbox, &uids, FlagChange::Add, &deleted, None, by).await?;
        if round % 2 == 0 {
            let started = Instant::now();
            store.expunge(inbox, None, by).await?;
            removal.push(started.elapsed());
        } else {
            let started = Instant::now();
            let recycled = store.recycle(inbox, None, by).await?;
            recycle.push(started.elapsed());
            let kept: Vec<Uid> = recycled.copied.pairs.iter().map(|(_, new)| *new).collect();
            let started = Instant::now();
            let (back, _) = store.move_messages(bin, &kept, inbox, by).await?;
            restore.push(started.elapsed());
            let restored: Vec<Uid> = back.pairs.iter().map(|(_, new)| *new).collect();
            store.store_flags(inbox, &restored, FlagChange::Add, &deleted, None, by).await?;
            store.expunge(inbox, None, by).await?;
        }
    }
    Ok(Figures { removal: median(removal), recycle: median(recycle), restore: median(restore) })
}

/// `n` new messages in the Inbox (about 1 KiB each); their UIDs.
async fn fill(store: &dyn Store, mailbox: MailboxId, inbox: FolderId, n: usize) -> Result<Vec<Uid>> {
    // Every body different, as mail is: none is stored once for two.
    static SENT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let mut uids = Vec::with_capacity(n);
    for _ in 0..n {
        let i = SENT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let body = format!(
            "From: c{i}@example.org\r\nTo: info@bench.example\r\nSubject: Question {i}\r\nMessage-ID: <{i}.{}@example.org>\r\n\r\n{}\r\n",
            std::process::id(),
            "Hello, I have a question about my order. ".repeat(24)
        );
        let summary = mailroom_mime::summarize(body.as_bytes());
        let target = DeliveryTarget { mailbox, folder: FolderRef::Id(inbox), flags: Flags::default() };
        let (_, delivered) = store.deliver(body.into_bytes(), &summary, 0, &[target]).await?;
        uids.extend(delivered.iter().map(|d| d.uid));
    }
    Ok(uids)
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}
