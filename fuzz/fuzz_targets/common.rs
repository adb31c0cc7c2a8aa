//! What the session fuzz targets share: a data directory in memory when
//! the machine has one, and contoso.com with Alice, whose password is
//! hashed cheaply — every run signs in, and the production cost (tens of
//! milliseconds) would leave little time to fuzz.

use std::collections::BTreeSet;
use std::sync::Arc;

use mailroom_core::Directory;
use mailroom_core::directory::{Actor, NewMailbox, NewMailboxKind, PasswordHash, Recipient};
use mailroom_core::store::DirectoryStore;
use mailroom_store::SqliteStore;
use mailroom_types::{DomainName, EmailAddress, Secret};

/// A fresh data directory for this process, on /dev/shm when it exists.
pub fn data_dir(name: &str) -> std::path::PathBuf {
    let base = if std::path::Path::new("/dev/shm").is_dir() { "/dev/shm" } else { "/tmp" };
    let dir = std::path::PathBuf::from(format!("{base}/mailroom-fuzz-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("fuzz data dir");
    dir
}

fn cheap_hash(password: &str) -> String {
    use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
    let params = argon2::Params::new(8, 1, 1, None).expect("params");
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    argon.hash_password(password.as_bytes(), &SaltString::generate(&mut OsRng)).expect("hash").to_string()
}

/// A store in `dir` holding contoso.com and alice@contoso.com
/// (`Alice-pass-123`, cheaply hashed); its directory and Alice.
pub async fn contoso_with_alice(dir: &std::path::Path) -> (Arc<SqliteStore>, Directory, Recipient) {
    let store = Arc::new(SqliteStore::open(&dir.join("mailroom.db")).expect("store"));
    let directory = Directory::new(store.clone());
    let domain = DomainName::parse("contoso.com").expect("domain");
    directory.add_domain(&Actor::System, &domain, true).await.expect("add domain");
    let alice = NewMailbox {
        name: "Alice".into(),
        display_name: None,
        alias: Some("alice".into()),
        primary_address: Some(EmailAddress::from_parts("alice", domain)),
        kind: NewMailboxKind::User { password: Secret::new("Alice-pass-123".into()), roles: BTreeSet::new() },
    };
    let alice = directory.create_mailbox(&Actor::System, alice).await.expect("user");
    store.set_password_hash(alice.id, Some(PasswordHash(cheap_hash("Alice-pass-123")))).await.expect("cheap hash");
    (store, directory, alice)
}
