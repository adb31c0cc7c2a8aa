//! Verified credentials: a short memory of passwords that just passed the
//! argon2id check, so that a client reconnecting every few minutes (phones,
//! mail clients that poll, CalDAV on every sync) doesn't pay ~50 ms of
//! argon2 at each sign-in, while the stored hashes keep their full strength.
//!
//! What is kept, per account: HMAC-SHA256 under a random key of this process
//! over (the account, its stored hash, the password), and when it expires —
//! never the password, and nothing an attacker reading the process's memory
//! could test guesses against faster than the stored hash (the key is as
//! secret as the memory itself, and is gone with the process).
//!
//! It can only ever say "this password matches this stored hash":
//! - a password change stores a new hash, which no remembered entry covers:
//!   the next sign-in is checked in full, on every node, at once;
//! - blocked accounts, conversions to shared mailboxes and deletions are
//!   refused from the store before the password is looked at, on every
//!   sign-in, cached or not ([`crate::directory::Directory::sign_in`]);
//! - a wrong password is never remembered and always costs the full check,
//!   so guessing is exactly as slow as without this memory.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use mailroom_types::{PrincipalId, Secret};

use crate::directory::model::PasswordHash;

/// How long a verified password is remembered by default.
pub const DEFAULT_TTL: Duration = Duration::from_secs(10 * 60);
/// Accounts remembered at most; past it, expired entries go, then all.
const MAX_ENTRIES: usize = 100_000;

/// The remembered sign-ins of this process.
pub struct VerifiedCredentials {
    key: [u8; 32],
    ttl: Duration,
    entries: Mutex<HashMap<PrincipalId, ([u8; 32], Instant)>>,
    /// Passwords checked by argon2 (not answered from memory).
    full_checks: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for VerifiedCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifiedCredentials").field("ttl", &self.ttl).finish_non_exhaustive()
    }
}

impl Default for VerifiedCredentials {
    fn default() -> Self {
        Self::new(DEFAULT_TTL)
    }
}

impl VerifiedCredentials {
    /// Remembers for `ttl`; zero remembers nothing (every sign-in is
    /// checked in full).
    pub fn new(ttl: Duration) -> Self {
        let mut key = [0u8; 32];
        key.copy_from_slice(&crate::auth::random_bytes(32));
        VerifiedCredentials { key, ttl, entries: Mutex::default(), full_checks: Default::default() }
    }

    /// Whether `password` was verified against `hash` for `account` in the
    /// last minutes — without a full check when it wasn't.
    pub fn remembers(&self, account: PrincipalId, hash: &PasswordHash, password: &Secret<String>) -> bool {
        if self.ttl.is_zero() {
            return false;
        }
        let tag = self.tag(account, hash, password);
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .get(&account)
            .is_some_and(|(known, until)| *until > Instant::now() && crate::auth::same_bytes(known, &tag))
    }

    /// Whether `password` matches `hash`: remembered, or checked by argon2
    /// ([`crate::auth::check_password`]) and remembered if it matches.
    pub async fn check(&self, account: PrincipalId, hash: &PasswordHash, password: &Secret<String>) -> bool {
        if self.ttl.is_zero() {
            self.full_checks.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return crate::auth::check_password(password, hash).await;
        }
        if self.remembers(account, hash, password) {
            return true;
        }
        self.full_checks.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if !crate::auth::check_password(password, hash).await {
            return false;
        }
        let tag = self.tag(account, hash, password);
        let now = Instant::now();
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, (_, until)| *until > now);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(account, (tag, now + self.ttl));
        true
    }

    /// How many passwords were checked by argon2 rather than remembered.
    pub fn full_checks(&self) -> u64 {
        self.full_checks.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Forgets an account's remembered password (its password changed, it
    /// was blocked): not needed for correctness — see the module's notes —
    /// but nothing is kept longer than it is useful.
    pub fn forget(&self, account: PrincipalId) {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).remove(&account);
    }

    /// HMAC-SHA256 (RFC 2104) of the three, length-prefixed so that no two
    /// different triples give the same input.
    fn tag(&self, account: PrincipalId, hash: &PasswordHash, password: &Secret<String>) -> [u8; 32] {
        let mut message = Vec::with_capacity(64 + hash.0.len() + password.expose().len());
        message.extend_from_slice(&account.0.to_be_bytes());
        for part in [hash.0.as_bytes(), password.expose().as_bytes()] {
            message.extend_from_slice(&(part.len() as u64).to_be_bytes());
            message.extend_from_slice(part);
        }
        let tag = crate::auth::hmac_sha256(&self.key, &[&message]);
        // The message held the password: don't leave it in freed memory.
        message.iter_mut().for_each(|b| *b = 0);
        tag
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(s: &str) -> Secret<String> {
        Secret::new(s.to_string())
    }

    #[tokio::test]
    async fn remembers_only_the_right_password_for_the_same_hash() {
        let cache = VerifiedCredentials::default();
        let hash = crate::auth::hash_password(&secret("Correct-horse-1")).unwrap();
        let alice = PrincipalId(1);
        assert!(!cache.check(alice, &hash, &secret("wrong")).await);
        assert!(cache.entries.lock().unwrap().is_empty(), "a failure is never remembered");
        assert!(cache.check(alice, &hash, &secret("Correct-horse-1")).await);
        assert_eq!((cache.entries.lock().unwrap().len(), cache.full_checks()), (1, 2));
        // Remembered: answered without argon2.
        assert!(cache.remembers(alice, &hash, &secret("Correct-horse-1")));
        assert!(!cache.remembers(alice, &hash, &secret("Correct-horse-2")));
        assert!(cache.check(alice, &hash, &secret("Correct-horse-1")).await);
        assert_eq!(cache.full_checks(), 2);
        // A wrong password is still checked in full, and still wrong.
        assert!(!cache.check(alice, &hash, &secret("Correct-horse-2")).await);
        assert_eq!(cache.full_checks(), 3);
        // A new hash (password changed) isn't covered by what was remembered.
        let changed = crate::auth::hash_password(&secret("New-password-9")).unwrap();
        assert!(!cache.check(alice, &changed, &secret("Correct-horse-1")).await);
        assert!(cache.check(alice, &changed, &secret("New-password-9")).await);
        assert_eq!(cache.full_checks(), 5);
        // Another account with the same password and hash: its own check.
        let bob = PrincipalId(2);
        let tag_alice = cache.tag(alice, &hash, &secret("x"));
        assert_ne!(tag_alice, cache.tag(bob, &hash, &secret("x")));
        cache.forget(alice);
        assert!(!cache.entries.lock().unwrap().contains_key(&alice));
    }

    #[tokio::test]
    async fn expired_and_disabled_entries_are_not_used() {
        let cache = VerifiedCredentials::new(Duration::ZERO);
        let hash = crate::auth::hash_password(&secret("Correct-horse-1")).unwrap();
        assert!(cache.check(PrincipalId(1), &hash, &secret("Correct-horse-1")).await);
        assert!(cache.entries.lock().unwrap().is_empty(), "zero remembers nothing");
        let cache = VerifiedCredentials::new(Duration::from_millis(1));
        assert!(cache.check(PrincipalId(1), &hash, &secret("Correct-horse-1")).await);
        let (tag, until) = *cache.entries.lock().unwrap().get(&PrincipalId(1)).unwrap();
        // Expired (set in the past): the right password is checked in full
        // again, and remembered anew.
        let past = Instant::now() - Duration::from_secs(1);
        cache.entries.lock().unwrap().insert(PrincipalId(1), (tag, past));
        let before = cache.full_checks();
        assert!(cache.check(PrincipalId(1), &hash, &secret("Correct-horse-1")).await);
        assert_eq!(cache.full_checks(), before + 1);
        assert!(cache.entries.lock().unwrap()[&PrincipalId(1)].1 > until.max(past));
    }
}
