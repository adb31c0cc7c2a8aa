//! Throwaway PostgreSQL schemas, for the tests and benchmarks that run on
//! PostgreSQL: each gets a schema of its own in the database that
//! `MAILROOM_TEST_PG` names (`postgres://user@host:port/database`), dropped
//! when it is done with, so runs never see each other's data.
//!
//! Without the variable, PostgreSQL isn't tested: said loudly on a
//! developer's machine, and a failure under CI (`CI` set), where it must be.

use std::sync::atomic::{AtomicU64, Ordering};

/// The variable naming the test database.
pub const TEST_DATABASE: &str = "MAILROOM_TEST_PG";
/// The variable that puts the integration tests on PostgreSQL (`postgres`).
pub const TEST_BACKEND: &str = "MAILROOM_TEST_BACKEND";

/// Whether the integration tests run on PostgreSQL rather than on the
/// embedded store (`MAILROOM_TEST_BACKEND=postgres`).
pub fn tests_on_postgres() -> bool {
    std::env::var(TEST_BACKEND).is_ok_and(|v| v.eq_ignore_ascii_case("postgres"))
}

/// A schema of its own in the test database; dropped with this.
#[derive(Debug)]
pub struct ScratchSchema {
    base_url: String,
    name: String,
}

impl ScratchSchema {
    /// A new, empty schema in the test database, or `None` (said on
    /// stderr) when `MAILROOM_TEST_PG` isn't set outside CI.
    ///
    /// # Panics
    /// Under CI without the variable, and when the database can't be reached.
    pub fn create() -> Option<ScratchSchema> {
        let base_url = match std::env::var(TEST_DATABASE) {
            Ok(url) if !url.is_empty() => url,
            _ if std::env::var_os("CI").is_some() => panic!(
                "{TEST_DATABASE} is not set: CI must test the PostgreSQL store (e.g. postgres://postgres@127.0.0.1:5432/test)"
            ),
            _ => {
                eprintln!("SKIPPED: {TEST_DATABASE} is not set; PostgreSQL was NOT tested");
                return None;
            }
        };
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!("mr_test_{}_{}_{nanos}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
        let schema = ScratchSchema { base_url, name };
        if let Err(err) = schema.run(format!("CREATE SCHEMA {}", schema.name)) {
            panic!("could not make a test schema in {TEST_DATABASE}'s database: {err}");
        }
        Some(schema)
    }

    /// The store URL that works in this schema (and finds extensions, such
    /// as pg_trgm, in `public`).
    pub fn url(&self) -> String {
        let joiner = if self.base_url.contains('?') { '&' } else { '?' };
        format!("{}{joiner}options=-csearch_path%3D{}%2Cpublic", self.base_url, self.name)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs `sql` on a connection of its own, from a thread with its own
    /// runtime (callers may be inside a runtime, or in `Drop`).
    fn run(&self, sql: String) -> Result<(), String> {
        let url = self.base_url.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(async move {
                let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                    .await
                    .map_err(|e| crate::postgres::describe(&e))?;
                tokio::spawn(connection);
                client.batch_execute(&sql).await.map_err(|e| crate::postgres::describe(&e))
            })
        })
        .join()
        .unwrap_or_else(|_| Err("the thread running it failed".into()))
    }
}

impl Drop for ScratchSchema {
    fn drop(&mut self) {
        if let Err(err) = self.run(format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name)) {
            eprintln!("could not drop the test schema {}: {err}", self.name);
        }
    }
}
