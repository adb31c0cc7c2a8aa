//! The change feed on PostgreSQL, for every node on the database.
//!
//! The log's rows are written by triggers in the transaction of each change
//! (as on SQLite), and a statement trigger on the log sends a notification
//! on the channel `mailroom_changes`, which PostgreSQL delivers when the
//! transaction commits. Each feed keeps a connection of its own that
//! LISTENs; a notification naming this store's schema makes it read the new
//! rows into the window ([`crate::feed_window`]) and wake its subscribers —
//! on whichever node the change was made.
//!
//! Writers take the store's write lock (`begin_write`), so sequence numbers
//! commit in order: reading `seq > head` never skips a row that commits
//! later. A listening connection that breaks is made again, and the rows
//! committed meanwhile are read then; a slow check every [`CHECK`] is the
//! net under a notification lost some other way.

use std::sync::{Arc, Weak};
use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use mailroom_core::change::{ChangeFeed, ChangeRecord, FeedRead};
use mailroom_core::store::StoreResult;
use tokio::sync::mpsc;
use tokio_postgres::AsyncMessage;

use super::{PgStore, backend, begin_write, exec, row, row_opt, rows};
use crate::feed_window::{FeedWindow, Lookup, PRUNE_PART, READ_LIMIT, WINDOW};

/// The channel the change log's trigger notifies.
const CHANNEL: &str = "mailroom_changes";
/// How often the log is read without a notification.
const CHECK: Duration = Duration::from_secs(5);
/// How long to wait before listening again after the connection broke.
const RECONNECT: Duration = Duration::from_secs(1);

/// The change feed of one [`PgStore`]. Cheap to clone; the listening task
/// stops when the last clone is dropped.
#[derive(Clone)]
pub struct PgFeed {
    state: Arc<State>,
}

pub(super) struct State {
    store: PgStore,
    /// The schema this store's tables are in: notifications name it.
    schema: String,
    window: FeedWindow,
    /// The feed's own connection (a pool of one) for reading new rows: a
    /// writer that just committed waits for this read while it still holds
    /// its own connection from the store's pool, so the read must never
    /// wait for that pool. Holding it also keeps two reads from adding the
    /// same rows twice.
    reader: deadpool_postgres::Pool,
}

impl std::fmt::Debug for PgFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgFeed").field("head", &self.state.window.head()).finish()
    }
}

impl PgFeed {
    /// Starts listening to `store`'s change log from its newest change.
    pub async fn start(store: &PgStore) -> StoreResult<PgFeed> {
        let schema: String = {
            let client = store.client().await?;
            row(&client, "SELECT current_schema()::TEXT", &[]).await?.get(0)
        };
        // Listening first, the head second: a change committed in between
        // is read, not missed.
        let listener = listen(store, &schema).await?;
        let head = {
            let client = store.client().await?;
            last_seq(&client).await?
        };
        let state = Arc::new(State {
            store: store.clone(),
            schema,
            window: FeedWindow::new(head, WINDOW),
            reader: super::pool_of_one(&store.inner.config, &store.inner.tls).map_err(|e| {
                mailroom_core::store::StoreError::Backend(format!("the change feed's connection: {e}").into())
            })?,
        });
        tokio::spawn(follow(Arc::downgrade(&state), listener));
        store.inner.feeds.lock().unwrap_or_else(|p| p.into_inner()).push(Arc::downgrade(&state));
        Ok(PgFeed { state })
    }
}

/// A connection that LISTENs, kept open as long as this is.
struct Listener {
    /// Dropping the client closes the connection.
    _client: tokio_postgres::Client,
    /// What the connection hears for this schema (at most one waiting: a
    /// burst of commits makes one read); ends when the connection does.
    notified: mpsc::Receiver<()>,
}

/// A connection of its own that LISTENs to the change log's channel.
async fn listen(store: &PgStore, schema: &str) -> StoreResult<Listener> {
    let (client, mut connection) =
        store.inner.config.connect(store.inner.tls.clone()).await.map_err(backend)?;
    let (heard, notified) = mpsc::channel(1);
    let schema = schema.to_string();
    tokio::spawn(async move {
        loop {
            match std::future::poll_fn(|cx| connection.poll_message(cx)).await {
                Some(Ok(AsyncMessage::Notification(note))) if note.payload() == schema => {
                    if let Err(mpsc::error::TrySendError::Closed(())) = heard.try_send(()) {
                        return;
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(err)) => {
                    tracing::warn!(error = %err, "change feed: the listening connection to the database broke");
                    return;
                }
                None => return,
            }
        }
    });
    // The task above reads the connection, and with it the answer to this.
    client.batch_execute(&format!("LISTEN {CHANNEL}")).await.map_err(backend)?;
    Ok(Listener { _client: client, notified })
}

/// The listening task: reads new rows when told (or every [`CHECK`]) and
/// listens again when the connection breaks.
async fn follow(state: Weak<State>, listener: Listener) {
    // `None` while listening is broken: the log is then read every
    // [`RECONNECT`], so other nodes' changes still arrive (late, not never).
    let mut listener = Some(listener);
    loop {
        let heard = match listener.as_mut() {
            Some(open) => tokio::time::timeout(CHECK, open.notified.recv()).await.ok(),
            None => {
                tokio::time::sleep(RECONNECT).await;
                None
            }
        };
        let Some(state) = state.upgrade() else { return };
        // `Some(None)`: the listening connection ended.
        if matches!(heard, Some(None)) || listener.is_none() {
            match listen(&state.store, &state.schema).await {
                Ok(again) => listener = Some(again),
                Err(err) => {
                    if listener.take().is_some() {
                        tracing::warn!(error = %err, "change feed: could not listen to the database; reading the log every second until it can");
                    }
                }
            }
        }
        if let Err(err) = state.load_new().await {
            tracing::error!(error = %err, "change feed: new changes could not be read");
        }
        state.window.wake();
    }
}

impl State {
    /// Wakes the subscribers waiting for what is in the window now.
    pub(super) fn wake(&self) {
        self.window.wake();
    }

    /// Reads the rows after the head into the window and moves the head.
    /// More new rows than the window holds aren't read at all: the window
    /// jumps to the newest, and whoever was behind resynchronises.
    pub(super) async fn load_new(&self) -> StoreResult<()> {
        let client =
            self.reader.get().await.map_err(|e| mailroom_core::store::StoreError::Backend(Box::new(e)))?;
        let newest = last_seq(&client).await?;
        if self.window.too_far_behind(newest) {
            self.window.jump(newest);
            return Ok(());
        }
        loop {
            let after = self.window.head();
            let (records, read_through) = rows_after(&client, after).await?;
            let Some(last) = read_through else { return Ok(()) };
            let full = records.len() >= READ_LIMIT;
            self.window.extend(records, last);
            if !full {
                return Ok(());
            }
        }
    }
}

#[async_trait]
impl ChangeFeed for PgFeed {
    fn head(&self) -> u64 {
        self.state.window.head()
    }

    async fn read_after(&self, after: u64) -> StoreResult<FeedRead> {
        let head = match self.state.window.read(after) {
            Lookup::Read(read) => return Ok(read),
            Lookup::FromLog { head } => head,
        };
        // A little behind the window: from the table, unless those rows
        // are pruned — both read in one snapshot, so a prune committing in
        // between can't leave a hole.
        let mut client = self.state.store.client().await?;
        let tx = super::begin_read(&mut client).await?;
        if after < pruned_through(&tx).await? {
            return Ok(FeedRead::Resync { head });
        }
        let (mut records, _) = rows_after(&tx, after).await?;
        tx.commit().await.map_err(backend)?;
        records.retain(|r| r.seq <= head);
        Ok(FeedRead::Changes(records))
    }

    async fn wait_after(&self, after: u64) {
        self.state.window.wait_after(after).await;
    }

    async fn refresh(&self) -> StoreResult<u64> {
        self.state.load_new().await?;
        self.state.window.wake();
        Ok(self.head())
    }

    async fn prune(&self, before: i64) -> StoreResult<usize> {
        // In parts: each holds every other write up while it runs.
        let mut client = self.state.store.client().await?;
        let tx = begin_write(&mut client).await?;
        let last: Option<i64> = row(
            &tx,
            "SELECT MAX(seq) FROM (SELECT seq FROM change_log WHERE at < $1 ORDER BY seq LIMIT $2) part",
            &[&before, &(PRUNE_PART as i64)],
        )
        .await?
        .get(0);
        let Some(last) = last else { return Ok(0) };
        let removed = exec(&tx, "DELETE FROM change_log WHERE seq <= $1", &[&last]).await?;
        exec(
            &tx,
            "INSERT INTO counters (name, value) VALUES ('change_log_pruned', $1)
             ON CONFLICT (name) DO UPDATE SET value = GREATEST(counters.value, excluded.value)",
            &[&last],
        )
        .await?;
        self.state.store.committed(tx).await?;
        Ok(removed as usize)
    }
}

async fn last_seq<C: GenericClient>(c: &C) -> StoreResult<u64> {
    let seq: Option<i64> = row(c, "SELECT MAX(seq) FROM change_log", &[]).await?.get(0);
    // Pruning may have emptied the log; the sequence never goes back.
    Ok(seq.unwrap_or(0).max(pruned_through(c).await? as i64) as u64)
}

/// The newest sequence pruning removed (0 if none).
async fn pruned_through<C: GenericClient>(c: &C) -> StoreResult<u64> {
    let pruned = row_opt(c, "SELECT value FROM counters WHERE name = 'change_log_pruned'", &[]).await?;
    Ok(pruned.map_or(0, |r| r.get::<_, i64>(0)) as u64)
}

/// Up to [`READ_LIMIT`] rows after `after`, decoded, and the sequence of the last.
async fn rows_after<C: GenericClient>(c: &C, after: u64) -> StoreResult<(Vec<ChangeRecord>, Option<u64>)> {
    let found = rows(
        c,
        "SELECT seq, kind, subject, object, uid, modseq FROM change_log WHERE seq > $1 ORDER BY seq LIMIT $2",
        &[&(after as i64), &(READ_LIMIT as i64)],
    )
    .await?;
    let records: Vec<ChangeRecord> = found
        .iter()
        .map(|r| {
            let number = |i: usize| r.get::<_, Option<i64>>(i).unwrap_or(0);
            crate::feed_window::record(r.get(0), r.get(1), number(2), number(3), number(4), number(5))
        })
        .collect();
    let last = records.last().map(|r| r.seq);
    Ok((records, last))
}
