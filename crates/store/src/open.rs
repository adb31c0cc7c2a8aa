//! The one way to open Mailroom's store — for `serve`, the admin CLI, tools
//! and tests alike: the `[store] url` of `mailroom.toml`.
//!
//! - `sqlite:mailroom.db` (the default): the embedded store, a file in the
//!   data directory (a relative path is taken from there);
//!   `sqlite:///var/lib/mailroom/mailroom.db` names an absolute path.
//! - `postgres://…`: several nodes on one PostgreSQL database. Not built yet:
//!   refused with a message saying so, rather than half-working.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use mailroom_core::change::ChangeFeed;
use mailroom_core::store::{Store, StoreResult};

use crate::{SqliteFeed, SqliteStore};

/// The store when `mailroom.toml` names none.
pub const DEFAULT_URL: &str = "sqlite:mailroom.db";

/// Why the store couldn't be opened; each names what to fix.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(
        "[store] url = \"{0}\": PostgreSQL isn't available in this Mailroom yet; use the embedded store (url = \"{DEFAULT_URL}\")"
    )]
    NotYet(String),
    #[error(
        "[store] url = \"{0}\" isn't a store Mailroom knows: use \"sqlite:FILE\" (the default is \"{DEFAULT_URL}\")"
    )]
    Unknown(String),
    #[error("could not open the store {path}: {source}")]
    Sqlite { path: PathBuf, source: crate::MigrationError },
}

/// Where the store is, read from its URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreLocation {
    Sqlite(PathBuf),
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
        let scheme = url.split(':').next().unwrap_or_default().to_ascii_lowercase();
        if scheme == "postgres" || scheme == "postgresql" {
            return Err(OpenError::NotYet(without_password(url)));
        }
        Err(OpenError::Unknown(without_password(url)))
    }

    /// Whether something was stored there (the data directory was initialized).
    pub fn exists(&self) -> bool {
        match self {
            StoreLocation::Sqlite(path) => path.exists(),
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

impl std::fmt::Display for StoreLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreLocation::Sqlite(path) => write!(f, "{}", path.display()),
        }
    }
}

/// An opened store.
#[derive(Clone, Debug)]
pub struct Backend {
    sqlite: SqliteStore,
}

impl Backend {
    /// Opens (creating and migrating if needed) the store at `location`.
    pub fn open(location: &StoreLocation) -> Result<Backend, OpenError> {
        match location {
            StoreLocation::Sqlite(path) => {
                let sqlite = SqliteStore::open(path)
                    .map_err(|source| OpenError::Sqlite { path: path.clone(), source })?;
                Ok(Backend { sqlite })
            }
        }
    }

    /// The store, for `core`.
    pub fn store(&self) -> Arc<dyn Store> {
        Arc::new(self.sqlite.clone())
    }

    /// Starts a change feed over this store (one per process that listens).
    pub fn feed(&self) -> StoreResult<Arc<dyn ChangeFeed>> {
        Ok(Arc::new(SqliteFeed::start(&self.sqlite)?))
    }

    /// The embedded store itself, for its statistics (benchmarks, tools).
    pub fn sqlite(&self) -> Option<&SqliteStore> {
        Some(&self.sqlite)
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
        // Not built yet: said plainly, and the password in the URL isn't repeated.
        let err = StoreLocation::parse("postgres://mail:s3cret@db.example/mail", data).unwrap_err();
        assert!(matches!(err, OpenError::NotYet(_)));
        assert!(!err.to_string().contains("s3cret"), "{err}");
        assert!(err.to_string().contains("\"postgres://db.example\""), "{err}");
        assert!(err.to_string().contains("isn't available in this Mailroom yet"), "{err}");
        // Whatever the spelling, a password isn't echoed.
        for url in
            ["POSTGRES://mail:s3cret@db/mail", "postgress://mail:s3cret@db/mail", "mysql://u:s3cret@h/d"]
        {
            let err = StoreLocation::parse(url, data).unwrap_err();
            assert!(!err.to_string().contains("s3cret"), "{err}");
        }
    }
}
