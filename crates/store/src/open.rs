//! The one way to open Mailroom's store — for `serve`, the admin CLI, tools
//! and tests alike: the `[store] url` of `mailroom.toml`.
//!
//! - `sqlite:mailroom.db` (the default): the embedded store, a file in the
//!   data directory (a relative path is taken from there);
//!   `sqlite:///var/lib/mailroom/mailroom.db` names an absolute path.
//! - `postgres://user:password@host/database` (or `postgresql://`): several
//!   nodes on one PostgreSQL database, each with the same URL. `sslmode=`
//!   and the other libpq-style parameters are read as tokio-postgres reads
//!   them; `options=-c search_path=…` puts an organisation in a schema.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use mailroom_core::change::ChangeFeed;
use mailroom_core::store::{Store, StoreResult};

use crate::{PgFeed, PgOpenError, PgStore, SqliteFeed, SqliteStore};

/// The store when `mailroom.toml` names none.
pub const DEFAULT_URL: &str = "sqlite:mailroom.db";

/// Why the store couldn't be opened; each names what to fix.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(
        "[store] url = \"{0}\" isn't a store Mailroom knows: use \"sqlite:FILE\" (the default is \"{DEFAULT_URL}\") or \"postgres://user@host/database\""
    )]
    Unknown(String),
    #[error("could not open the store {path}: {source}")]
    Sqlite { path: PathBuf, source: crate::MigrationError },
    #[error("could not open the store {shown}: {source}")]
    Postgres { shown: String, source: PgOpenError },
}

/// Where the store is, read from its URL. `Debug` shows it as `Display`
/// does: without the URL's password.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreLocation {
    Sqlite(PathBuf),
    /// The connection URL, password and all: never shown (see `Display`).
    Postgres(String),
}

impl StoreLocation {
    /// Reads `url`; relative SQLite paths are inside `data_dir`.
    pub fn parse(url: &str, data_dir: &Path) -> Result<Self, OpenError> {
        let url = url.trim();
        if let Some(rest) = url.strip_prefix("sqlite:") {
            let path = rest.strip_prefix("//").unwrap_or(rest);
            if path.is_empty() {
                return Err(OpenError::Unknown(url.to_string()));
            }
            let path = Path::new(path);
            return Ok(StoreLocation::Sqlite(if path.is_absolute() {
                path.to_path_buf()
            } else {
                data_dir.join(path)
            }));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(StoreLocation::Postgres(url.to_string()));
        }
        Err(OpenError::Unknown(without_password(url)))
    }

    /// Whether something was stored there (the data directory, or the
    /// first node, was initialized). Asks the database for PostgreSQL.
    pub fn exists(&self) -> Result<bool, OpenError> {
        match self {
            StoreLocation::Sqlite(path) => Ok(path.exists()),
            StoreLocation::Postgres(url) => PgStore::initialized_blocking(url)
                .map_err(|source| OpenError::Postgres { shown: without_password(url), source }),
        }
    }
}

/// A URL as it may be shown: its scheme and host only — a store URL can
/// carry the database's password in its user part, its path or its query.
fn without_password(url: &str) -> String {
    let scheme = url.split(':').next().unwrap_or_default();
    let Some((_, rest)) = url.split_once("://") else { return format!("{scheme}:…") };
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let after_user = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    let host = after_user.split('/').next().unwrap_or_default();
    format!("{scheme}://{host}")
}

impl std::fmt::Debug for StoreLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreLocation::Sqlite(path) => f.debug_tuple("Sqlite").field(path).finish(),
            StoreLocation::Postgres(url) => f.debug_tuple("Postgres").field(&without_password(url)).finish(),
        }
    }
}

impl std::fmt::Display for StoreLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreLocation::Sqlite(path) => write!(f, "{}", path.display()),
            StoreLocation::Postgres(url) => write!(f, "{}", without_password(url)),
        }
    }
}

/// An opened store.
#[derive(Clone, Debug)]
pub struct Backend {
    opened: Opened,
}

#[derive(Clone, Debug)]
enum Opened {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

impl Backend {
    /// Opens (creating and migrating if needed) the store at `location`.
    pub fn open(location: &StoreLocation) -> Result<Backend, OpenError> {
        let opened = match location {
            StoreLocation::Sqlite(path) => Opened::Sqlite(
                SqliteStore::open(path).map_err(|source| OpenError::Sqlite { path: path.clone(), source })?,
            ),
            StoreLocation::Postgres(url) => {
                let shown = without_password(url);
                Opened::Postgres(
                    PgStore::connect_blocking(url, &shown)
                        .map_err(|source| OpenError::Postgres { shown, source })?,
                )
            }
        };
        Ok(Backend { opened })
    }

    /// The store, for `core`.
    pub fn store(&self) -> Arc<dyn Store> {
        match &self.opened {
            Opened::Sqlite(store) => Arc::new(store.clone()),
            Opened::Postgres(store) => Arc::new(store.clone()),
        }
    }

    /// Starts a change feed over this store (one per process that listens).
    pub async fn feed(&self) -> StoreResult<Arc<dyn ChangeFeed>> {
        Ok(match &self.opened {
            Opened::Sqlite(store) => Arc::new(SqliteFeed::start(store)?),
            Opened::Postgres(store) => Arc::new(PgFeed::start(store).await?),
        })
    }

    /// The embedded store itself, for its statistics (benchmarks, tools).
    pub fn sqlite(&self) -> Option<&SqliteStore> {
        match &self.opened {
            Opened::Sqlite(store) => Some(store),
            Opened::Postgres(_) => None,
        }
    }

    /// Store calls so far, whichever the backend (benchmarks).
    pub fn calls(&self) -> u64 {
        match &self.opened {
            Opened::Sqlite(store) => store.calls(),
            Opened::Postgres(store) => store.calls(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_urls() {
        let data = Path::new("/srv/mailroom-data");
        assert_eq!(
            StoreLocation::parse(DEFAULT_URL, data).unwrap(),
            StoreLocation::Sqlite(data.join("mailroom.db"))
        );
        assert_eq!(
            StoreLocation::parse("sqlite:///var/lib/mailroom/m.db", data).unwrap(),
            StoreLocation::Sqlite(PathBuf::from("/var/lib/mailroom/m.db"))
        );
        assert!(matches!(StoreLocation::parse("sqlite:", data), Err(OpenError::Unknown(_))));
        assert!(matches!(StoreLocation::parse("mysql://db/mail", data), Err(OpenError::Unknown(_))));
        // PostgreSQL: the URL is kept whole, and shown without its password.
        let pg =
            StoreLocation::parse("postgres://mail:s3cret@db.example/mail?sslmode=require", data).unwrap();
        assert_eq!(
            pg,
            StoreLocation::Postgres("postgres://mail:s3cret@db.example/mail?sslmode=require".into())
        );
        assert_eq!(pg.to_string(), "postgres://db.example");
        assert!(!format!("{pg:?}").contains("s3cret"), "{pg:?}");
        assert!(matches!(StoreLocation::parse("postgresql://db/mail", data), Ok(StoreLocation::Postgres(_))));
        // Whatever the spelling, a password isn't echoed.
        for url in
            ["POSTGRES://mail:s3cret@db/mail", "postgress://mail:s3cret@db/mail", "mysql://u:s3cret@h/d"]
        {
            let err = StoreLocation::parse(url, data).unwrap_err();
            assert!(!err.to_string().contains("s3cret"), "{err}");
        }
    }
}
