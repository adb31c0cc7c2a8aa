//! [`SignInPressureStore`] on PostgreSQL: failed sign-ins shared by the
//! nodes (core's `throttle::shared` has the rules). Rows are locked one key
//! at a time (`FOR UPDATE`, always in key order), never the store's write
//! lock, and the table is unlogged: guesses don't queue behind mail writes
//! nor cost WAL. Every call gives up after [`DEADLINE`], so a busy pool or a
//! slow database delays a sign-in by at most that (the node's own throttle
//! then applies alone).

use std::time::Duration;

use async_trait::async_trait;
use mailroom_core::store::{SignInPressureStore, StoreError, StoreResult};
use mailroom_core::throttle::shared::{self, Decision, Pressure, SharedAdmission};

use super::{PgStore, backend, exec, rows};

/// The database's clock, in milliseconds: every node's times agree.
const NOW_MS: &str = "(extract(epoch FROM clock_timestamp()) * 1000)::bigint";
/// The most a call may take.
const DEADLINE: Duration = Duration::from_secs(2);
/// Failures are counted up to this (the gap stops growing long before).
const MOST_FAILURES: i32 = 1_000_000;

async fn within<T>(work: impl Future<Output = StoreResult<T>>) -> StoreResult<T> {
    tokio::time::timeout(DEADLINE, work).await.unwrap_or_else(|_| {
        Err(StoreError::Backend("the shared sign-in throttle didn't answer in time".into()))
    })
}

#[async_trait]
impl SignInPressureStore for PgStore {
    async fn admit_sign_in(&self, keys: &[String]) -> StoreResult<SharedAdmission> {
        within(admit(self, keys)).await
    }

    async fn record_sign_in(
        &self,
        failed: &[String],
        refused: &[String],
        succeeded: &[String],
    ) -> StoreResult<()> {
        within(record(self, failed, refused, succeeded)).await
    }

    async fn prune_sign_in_pressure(&self) -> StoreResult<u64> {
        let client = self.client().await?;
        exec(
            &client,
            &format!(
                "DELETE FROM sign_in_pressure
                 WHERE last_failure < {NOW_MS} - $1 AND COALESCE(last_start, 0) < {NOW_MS} - $2"
            ),
            &[&shared::WINDOW_MS, &shared::MAX_QUEUE_MS],
        )
        .await
    }
}

async fn admit(store: &PgStore, keys: &[String]) -> StoreResult<SharedAdmission> {
    let mut client = store.client().await?;
    let keys = keys.to_vec();
    // The common case: no key is under pressure, so nothing is written.
    let select = format!(
        "SELECT {NOW_MS}, p.failures, p.last_failure, p.last_start
         FROM (SELECT 1) AS one LEFT JOIN sign_in_pressure p ON p.key = ANY($1)"
    );
    let (now, records) = read(&rows(&client, &select, &[&keys]).await?);
    let recorded = !records.is_empty();
    if shared::decide(now, &records) == Decision::Free {
        return Ok(SharedAdmission { wait: Some(Duration::ZERO), recorded });
    }
    // Under pressure: the slot is taken with the keys' rows locked, so
    // attempts on other nodes queue behind this one. Keys are locked in
    // one order (by key), so two attempts never deadlock.
    let tx = client.transaction().await.map_err(backend)?;
    let locked = format!(
        "SELECT {NOW_MS}, p.failures, p.last_failure, p.last_start
         FROM (SELECT 1) AS one LEFT JOIN (
             SELECT * FROM sign_in_pressure WHERE key = ANY($1) ORDER BY key FOR UPDATE
         ) p ON true"
    );
    let (now, records) = read(&rows(&tx, &locked, &[&keys]).await?);
    let wait = match shared::decide(now, &records) {
        Decision::Free => Some(Duration::ZERO),
        Decision::At(start) => {
            // A key's latest start never moves back.
            exec(
                &tx,
                "UPDATE sign_in_pressure SET last_start = GREATEST(COALESCE(last_start, $2), $2)
                 WHERE key = ANY($1)",
                &[&keys, &start],
            )
            .await?;
            Some(Duration::from_millis(u64::try_from(start - now).unwrap_or(0)))
        }
        Decision::Refused => None,
    };
    tx.commit().await.map_err(backend)?;
    Ok(SharedAdmission { wait, recorded: true })
}

async fn record(
    store: &PgStore,
    failed: &[String],
    refused: &[String],
    succeeded: &[String],
) -> StoreResult<()> {
    let client = store.client().await?;
    if !failed.is_empty() {
        // One statement; the rows are taken in key order (as above).
        let mut failed = failed.to_vec();
        failed.sort();
        failed.dedup();
        exec(
            &client,
            &format!(
                "INSERT INTO sign_in_pressure AS p (key, failures, last_failure)
                 SELECT key, 1, {NOW_MS} FROM unnest($1::text[]) AS key ORDER BY key
                 ON CONFLICT (key) DO UPDATE SET
                     failures = CASE WHEN p.last_failure <= excluded.last_failure - $2
                                     THEN 1 ELSE LEAST(p.failures + 1, $3) END,
                     last_failure = excluded.last_failure"
            ),
            &[&failed, &shared::WINDOW_MS, &MOST_FAILURES],
        )
        .await?;
    }
    if !refused.is_empty() {
        let refused = refused.to_vec();
        exec(
            &client,
            &format!(
                "UPDATE sign_in_pressure SET failures = LEAST(failures + 1, $2), last_failure = {NOW_MS}
                 WHERE key = ANY($1)"
            ),
            &[&refused, &MOST_FAILURES],
        )
        .await?;
    }
    if !succeeded.is_empty() {
        let succeeded = succeeded.to_vec();
        exec(
            &client,
            "UPDATE sign_in_pressure SET failures = failures / 2 WHERE key = ANY($1) AND failures > 0",
            &[&succeeded],
        )
        .await?;
    }
    Ok(())
}

/// The database's time and the keys' records, from rows of (now,
/// failures, last_failure, last_start) where a key without a record gives
/// nulls. The latest time read is taken: a row whose lock was waited for
/// reads a later clock than the first.
fn read(found: &[tokio_postgres::Row]) -> (i64, Vec<Pressure>) {
    let now = found.iter().map(|r| r.get::<_, i64>(0)).max().unwrap_or(0);
    let records = found
        .iter()
        .filter_map(|r| {
            let failures: Option<i32> = r.get(1);
            Some(Pressure {
                failures: u32::try_from(failures?).unwrap_or(0),
                last_failure: r.get(2),
                last_start: r.get(3),
            })
        })
        .collect();
    (now, records)
}
