//! The search indexer: extracts the searchable text of every stored body
//! (`mailroom_http::message_text`: subject, people, text) into the store's
//! full-text index, in the background, so delivery never waits for it.
//! It runs whenever the change feed moves (mail arrived, a copy was made)
//! and at start, which also indexes an existing organisation after an
//! upgrade. Until a body is indexed, a search reads it directly, so nobody
//! waits for the indexer either.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use mailroom_core::change::ChangeFeed;
use mailroom_core::mail::Mail;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::stopped;

/// Bodies per batch: one write transaction each.
const BATCH: usize = 200;
/// Octets of bodies per batch at most (one larger body goes alone).
const BATCH_BYTES: usize = 32 * 1024 * 1024;
/// A burst of deliveries is indexed together, not one by one.
const SETTLE: Duration = Duration::from_millis(200);
/// After a failure, the next try.
const RETRY: Duration = Duration::from_secs(10);

/// What the indexer has done, for `/metrics`.
#[derive(Debug, Default)]
pub(crate) struct IndexerStats {
    /// Bodies indexed since start.
    pub indexed: AtomicU64,
    /// Bodies waiting, as of the indexer's last look.
    pub backlog: AtomicU64,
}

pub(crate) fn spawn(
    mail: Mail,
    feed: Arc<dyn ChangeFeed>,
    stats: Arc<IndexerStats>,
    mut shutdown: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let seen = feed.head();
            let wait = match index_pending(&mail, &stats, &mut shutdown).await {
                Ok(()) => None,
                Err(err) => {
                    tracing::warn!(error = %err, "search indexing failed; trying again soon");
                    Some(RETRY)
                }
            };
            tokio::select! {
                biased;
                _ = stopped(&mut shutdown) => break,
                _ = async {
                    match wait {
                        Some(pause) => tokio::time::sleep(pause).await,
                        None => {
                            feed.wait_after(seen).await;
                            tokio::time::sleep(SETTLE).await;
                        }
                    }
                } => {}
            }
        }
    })
}

/// `mailroom reindex`: lists every stored body again and indexes them all
/// now, in the caller's process, calling `progress(done, total)` after each
/// batch. A running server may take batches too (each body is indexed
/// once: the store takes only what is still listed). Returns how many this
/// call indexed.
pub async fn reindex_all(mail: &Mail, mut progress: impl FnMut(u64, u64)) -> mailroom_core::CoreResult<u64> {
    let total = mail.reindex_all().await?;
    let mut done = 0u64;
    progress(0, total);
    loop {
        let batch = mail.text_to_index(BATCH, BATCH_BYTES).await?;
        if batch.is_empty() {
            return Ok(done);
        }
        let texts = tokio::task::spawn_blocking(move || {
            batch.into_iter().map(|p| (p.key, mailroom_http::message_text(&p.bytes))).collect::<Vec<_>>()
        })
        .await
        .map_err(|_| mailroom_core::CoreError::Storage)?;
        done += texts.len() as u64;
        mail.index_text(texts).await?;
        progress(done, total.max(done));
    }
}

/// Indexes every body waiting, batch by batch, until none is left (or shutdown).
async fn index_pending(
    mail: &Mail,
    stats: &IndexerStats,
    shutdown: &mut watch::Receiver<bool>,
) -> mailroom_core::CoreResult<()> {
    let mut indexed = 0usize;
    stats.backlog.store(mail.text_backlog().await?, Ordering::Relaxed);
    loop {
        if *shutdown.borrow() {
            return Ok(());
        }
        let batch = mail.text_to_index(BATCH, BATCH_BYTES).await?;
        if batch.is_empty() {
            stats.backlog.store(0, Ordering::Relaxed);
            if indexed > 0 {
                tracing::debug!(indexed, "search index up to date");
            }
            return Ok(());
        }
        // Decoding MIME is CPU work: off the async threads.
        let texts = tokio::task::spawn_blocking(move || {
            batch.into_iter().map(|p| (p.key, mailroom_http::message_text(&p.bytes))).collect::<Vec<_>>()
        })
        .await
        .map_err(|_| mailroom_core::CoreError::Storage)?;
        let done = texts.len();
        mail.index_text(texts).await?;
        indexed += done;
        stats.indexed.fetch_add(done as u64, Ordering::Relaxed);
        let _ = stats
            .backlog
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |b| Some(b.saturating_sub(done as u64)));
    }
}
