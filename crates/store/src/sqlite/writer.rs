//! The group-commit writer thread.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread;

use mailroom_core::store::{StoreError, StoreResult};
use rusqlite::Connection;
use tokio::sync::oneshot;

/// Upper bound of jobs per transaction, so one commit never waits on an
/// unbounded queue.
const MAX_BATCH: usize = 256;

/// One queued write: run inside the batch transaction, then told how the commit went.
trait WriteJob: Send {
    /// Runs the job's statements; `true` if they succeeded.
    fn run(&mut self, conn: &Connection) -> bool;
    /// Delivers the job's result, or the commit failure, to its caller.
    fn finish(self: Box<Self>, commit: Result<(), String>);
}

struct TypedJob<T, F> {
    work: Option<F>,
    result: Option<StoreResult<T>>,
    reply: oneshot::Sender<StoreResult<T>>,
}

impl<T, F> WriteJob for TypedJob<T, F>
where
    T: Send + 'static,
    F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
{
    fn run(&mut self, conn: &Connection) -> bool {
        let Some(work) = self.work.take() else { return false };
        // A panicking job must not take the writer thread (and every later
        // write) down with it; it fails alone.
        let result = catch_unwind(AssertUnwindSafe(|| work(conn)))
            .unwrap_or_else(|_| Err(StoreError::Backend("write job panicked".into())));
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn finish(self: Box<Self>, commit: Result<(), String>) {
        let outcome = match (commit, self.result) {
            (Ok(()), Some(result)) => result,
            (_, Some(Err(err))) => Err(err),
            (Err(cause), _) => Err(StoreError::Backend(cause.into())),
            (Ok(()), None) => Err(StoreError::Backend("write job was not run".into())),
        };
        // The caller may have gone away (cancelled); the write stands anyway.
        let _ = self.reply.send(outcome);
    }
}

pub(super) struct Writer {
    queue: mpsc::Sender<Box<dyn WriteJob>>,
    counters: Arc<Counters>,
    commits: Arc<CommitHooks>,
}

/// Told of each commit on the writer's connection, in two steps.
pub(super) trait CommitListener: Send + Sync {
    /// Right after the commit, before the writes' callers are answered: a
    /// change feed reads the new changes here, so a caller whose write
    /// returned finds its change in the feed (a session's next command sees
    /// the block its admin just made).
    fn committed(&self, conn: &Connection);
    /// After they were answered: the feed wakes its subscribers now, so
    /// thousands of idling sessions don't queue ahead of the writer that
    /// waits for its `250`.
    fn answered(&self);
}

pub(super) type CommitHook = dyn CommitListener;

/// The listeners of this writer's commits (this process's change feeds).
#[derive(Default)]
pub(super) struct CommitHooks {
    hooks: std::sync::Mutex<Vec<std::sync::Weak<CommitHook>>>,
}

impl CommitHooks {
    /// Adds a hook for as long as `hook` lives.
    pub(super) fn add(&self, hook: &Arc<CommitHook>) {
        self.hooks.lock().unwrap_or_else(|p| p.into_inner()).push(Arc::downgrade(hook));
    }

    fn live(&self) -> Vec<Arc<CommitHook>> {
        let mut hooks = self.hooks.lock().unwrap_or_else(|p| p.into_inner());
        hooks.retain(|h| h.strong_count() > 0);
        hooks.iter().filter_map(std::sync::Weak::upgrade).collect()
    }
}

/// How many transactions the writer committed and how many writes they
/// carried: `writes / transactions` is the group-commit factor.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriteStats {
    pub transactions: u64,
    pub writes: u64,
}

#[derive(Debug, Default)]
struct Counters {
    transactions: AtomicU64,
    writes: AtomicU64,
}

impl Writer {
    pub(super) fn start(conn: Connection) -> Self {
        let (queue, jobs) = mpsc::channel::<Box<dyn WriteJob>>();
        let counters = Arc::new(Counters::default());
        let commits = Arc::new(CommitHooks::default());
        let (thread_counters, thread_commits) = (Arc::clone(&counters), Arc::clone(&commits));
        let spawned = thread::Builder::new()
            .name("mailroom-sqlite-writer".into())
            .spawn(move || run(conn, jobs, &thread_counters, &thread_commits));
        if let Err(err) = spawned {
            // Without the thread every write fails with a clear error below.
            tracing::error!(error = %err, "could not start the SQLite writer thread");
        }
        Writer { queue, counters, commits }
    }

    pub(super) fn commits(&self) -> Arc<CommitHooks> {
        Arc::clone(&self.commits)
    }

    pub(super) fn stats(&self) -> WriteStats {
        WriteStats {
            transactions: self.counters.transactions.load(Ordering::Relaxed),
            writes: self.counters.writes.load(Ordering::Relaxed),
        }
    }

    pub(super) async fn submit<T, F>(&self, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job = Box::new(TypedJob { work: Some(work), result: None, reply });
        self.queue.send(job).map_err(|_| StoreError::Backend("the SQLite writer has stopped".into()))?;
        answer.await.map_err(|_| StoreError::Backend("the SQLite writer dropped a job".into()))?
    }
}

fn run(
    conn: Connection,
    jobs: mpsc::Receiver<Box<dyn WriteJob>>,
    counters: &Counters,
    commits: &CommitHooks,
) {
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let outcome = commit_batch(&conn, &mut batch);
        counters.transactions.fetch_add(1, Ordering::Relaxed);
        counters.writes.fetch_add(batch.len() as u64, Ordering::Relaxed);
        if let Err(cause) = &outcome {
            tracing::error!(error = %cause, jobs = batch.len(), "SQLite write transaction failed");
        }
        let listeners = if outcome.is_ok() { commits.live() } else { Vec::new() };
        // Like a job, a listener that panics must not take the writer down.
        for listener in &listeners {
            if catch_unwind(AssertUnwindSafe(|| listener.committed(&conn))).is_err() {
                tracing::error!("a commit listener panicked");
            }
        }
        for job in batch {
            job.finish(outcome.clone());
        }
        for listener in &listeners {
            if catch_unwind(AssertUnwindSafe(|| listener.answered())).is_err() {
                tracing::error!("a commit listener panicked");
            }
        }
    }
}

/// Runs every job in one IMMEDIATE transaction, each in a savepoint, and commits.
fn commit_batch(conn: &Connection, batch: &mut [Box<dyn WriteJob>]) -> Result<(), String> {
    conn.execute_batch("BEGIN IMMEDIATE").map_err(|e| e.to_string())?;
    for job in batch.iter_mut() {
        let step = conn.execute_batch("SAVEPOINT job").and_then(|()| {
            if job.run(conn) {
                conn.execute_batch("RELEASE job")
            } else {
                conn.execute_batch("ROLLBACK TO job; RELEASE job")
            }
        });
        if let Err(err) = step {
            let _ = conn.execute_batch("ROLLBACK");
            return Err(err.to_string());
        }
    }
    if let Err(err) = conn.execute_batch("COMMIT") {
        let _ = conn.execute_batch("ROLLBACK");
        return Err(err.to_string());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use mailroom_core::store::StoreError;

    /// Jobs that fail roll back alone, even when they share a transaction
    /// with jobs that succeed; a panicking job fails alone too.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_job_undoes_only_its_own_writes() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("w.db");
        let setup = Connection::open(&path).unwrap();
        setup.execute_batch("PRAGMA journal_mode=WAL; CREATE TABLE t (x INTEGER NOT NULL)").unwrap();
        let writer = std::sync::Arc::new(Writer::start(Connection::open(&path).unwrap()));
        let mut jobs = Vec::new();
        for i in 0..60i64 {
            let writer = std::sync::Arc::clone(&writer);
            jobs.push(tokio::spawn(async move {
                writer
                    .submit(move |conn| {
                        conn.execute("INSERT INTO t (x) VALUES (?1)", [i])
                            .map_err(|e| StoreError::Backend(Box::new(e)))?;
                        match i % 3 {
                            0 => Ok(i),
                            1 => Err(StoreError::NotFound(format!("job {i}"))),
                            _ => panic!("job {i} panics after writing"),
                        }
                    })
                    .await
            }));
        }
        let mut ok = Vec::new();
        for job in jobs {
            if let Ok(i) = job.await.unwrap() {
                ok.push(i);
            }
        }
        let mut stored: Vec<i64> = setup
            .prepare("SELECT x FROM t")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        stored.sort();
        ok.sort();
        assert_eq!(stored, ok);
        assert_eq!(stored, (0..60).filter(|i| i % 3 == 0).collect::<Vec<_>>());
    }
}
