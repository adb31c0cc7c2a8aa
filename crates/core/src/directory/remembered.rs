//! Remembered sign-ins, for protocols whose clients send the password with
//! every request (HTTP Basic: CalDAV). An argon2 check costs tens of
//! milliseconds, so a sync of a few hundred requests would spend seconds
//! hashing; a success is remembered for a few minutes instead.
//!
//! What is remembered is a keyed SHA-256 of login and password (never the
//! password) and the stored hash it was checked against. Each reuse re-reads
//! the account and applies the same rules as [`Directory::authenticate`]: a
//! changed password, a blocked sign-in or a conversion to a shared mailbox
//! ends it at the next request (SPEC §1, §2: effective immediately).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use mailroom_types::{PrincipalId, Secret};
use sha2::{Digest, Sha256};

use super::Directory;
use crate::auth::AuthError;

/// How long a checked password is remembered.
const REMEMBER: Duration = Duration::from_secs(300);
/// At most this many remembered sign-ins.
const CAPACITY: usize = 10_000;

#[derive(Debug)]
struct Remembered {
    principal: PrincipalId,
    /// The stored hash the password was checked against.
    password_hash: String,
    until: Instant,
}

/// Remembered sign-ins; one per service.
#[derive(Debug)]
pub struct RememberedSignIns {
    key: Vec<u8>,
    entries: Mutex<HashMap<[u8; 32], Remembered>>,
}

impl Default for RememberedSignIns {
    fn default() -> Self {
        RememberedSignIns { key: crate::auth::random_bytes(32), entries: Mutex::default() }
    }
}

impl RememberedSignIns {
    fn fingerprint(&self, login: &str, password: &Secret<String>) -> [u8; 32] {
        let mut hash = Sha256::new();
        hash.update(&self.key);
        hash.update(login.to_lowercase().as_bytes());
        hash.update([0]);
        hash.update(password.expose().as_bytes());
        hash.finalize().into()
    }

    fn lookup(&self, fingerprint: &[u8; 32]) -> Option<(PrincipalId, String)> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .get(fingerprint)
            .filter(|r| r.until > Instant::now())
            .map(|r| (r.principal, r.password_hash.clone()))
    }

    fn forget(&self, fingerprint: &[u8; 32]) {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).remove(fingerprint);
    }

    fn remember(&self, fingerprint: [u8; 32], principal: PrincipalId, password_hash: String) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= CAPACITY {
            let now = Instant::now();
            entries.retain(|_, r| r.until > now);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        entries
            .insert(fingerprint, Remembered { principal, password_hash, until: Instant::now() + REMEMBER });
    }
}

impl Directory {
    /// [`Directory::authenticate`], answered from `remembered` when the same
    /// login and password succeeded a few minutes ago and the account still
    /// signs in with that password.
    ///
    /// A remembered sign-in is a session already open: it isn't throttled
    /// (it proves the password, so it is no guess). Anything else goes
    /// through [`Directory::sign_in`], queued like every other attempt.
    pub async fn authenticate_remembered<S, F>(
        &self,
        remembered: &RememberedSignIns,
        source: std::net::IpAddr,
        login: &str,
        password: &Secret<String>,
        sleep: S,
    ) -> Result<PrincipalId, AuthError>
    where
        S: FnOnce(std::time::Duration) -> F,
        F: std::future::Future<Output = ()>,
    {
        let fingerprint = remembered.fingerprint(login, password);
        if let Some((principal, hash)) = remembered.lookup(&fingerprint) {
            if self.signs_in_with(principal, &hash).await? {
                return Ok(principal);
            }
            remembered.forget(&fingerprint);
        }
        let principal = self.sign_in(source, login, password, sleep).await?.recipient.id;
        if let Some(hash) =
            self.store.account(principal).await.map_err(crate::CoreError::from)?.and_then(|a| a.password_hash)
        {
            remembered.remember(fingerprint, principal, hash.0);
        }
        Ok(principal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_depend_on_key_login_case_and_password() {
        let one = RememberedSignIns::default();
        let other = RememberedSignIns::default();
        let pw = Secret::new("Pass-word-1".to_string());
        assert_eq!(one.fingerprint("Alice@Contoso.com", &pw), one.fingerprint("alice@contoso.com", &pw));
        assert_ne!(one.fingerprint("alice@contoso.com", &pw), other.fingerprint("alice@contoso.com", &pw));
        assert_ne!(
            one.fingerprint("alice@contoso.com", &pw),
            one.fingerprint("alice@contoso.com", &Secret::new("Pass-word-2".to_string()))
        );
    }

    #[test]
    fn entries_expire_and_can_be_forgotten() {
        let cache = RememberedSignIns::default();
        let key = [7u8; 32];
        cache.remember(key, PrincipalId(1), "hash".into());
        assert_eq!(cache.lookup(&key), Some((PrincipalId(1), "hash".into())));
        cache.forget(&key);
        assert_eq!(cache.lookup(&key), None);
    }
}
