//! HTTP Basic sign-in (RFC 7617) against the directory.
//!
//! CalDAV clients send the password with every request, and an argon2 check
//! costs tens of milliseconds: a sync of a few hundred requests would spend
//! seconds hashing. A successful sign-in is therefore remembered for a few
//! minutes under a keyed SHA-256 of login and password (never the password
//! itself), and every reuse re-reads the account: a changed password, a
//! blocked sign-in or a conversion to a shared mailbox ends it at once
//! (SPEC §1, §2: effective immediately).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use mailroom_core::Directory;
use mailroom_core::directory::RecipientKind;
use mailroom_types::{PrincipalId, Secret};
use sha2::{Digest, Sha256};

/// How long a checked password is remembered.
const REMEMBER: Duration = Duration::from_secs(300);
/// At most this many remembered sign-ins (oldest dropped first when full).
const CAPACITY: usize = 10_000;

#[derive(Debug)]
struct Remembered {
    principal: PrincipalId,
    /// The stored hash the password was checked against.
    password_hash: String,
    until: Instant,
}

/// Remembered sign-ins; one per server.
#[derive(Debug)]
pub struct SignIns {
    key: Vec<u8>,
    entries: Mutex<HashMap<[u8; 32], Remembered>>,
}

impl Default for SignIns {
    fn default() -> Self {
        SignIns { key: mailroom_core::auth::random_bytes(32), entries: Mutex::default() }
    }
}

/// Why a request isn't signed in.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// No usable `Authorization` header, or wrong credentials: `401`.
    Credentials,
    /// The directory failed: `500`.
    Storage,
}

impl SignIns {
    fn fingerprint(&self, login: &str, password: &str) -> [u8; 32] {
        let mut hash = Sha256::new();
        hash.update(&self.key);
        hash.update(login.to_lowercase().as_bytes());
        hash.update([0]);
        hash.update(password.as_bytes());
        hash.finalize().into()
    }

    /// Signs in with an `Authorization` header's value.
    pub async fn sign_in(
        &self,
        dir: &Directory,
        header: Option<&str>,
        ip: IpAddr,
    ) -> Result<PrincipalId, Refusal> {
        let (login, password) = header.and_then(parse_basic).ok_or(Refusal::Credentials)?;
        let fingerprint = self.fingerprint(&login, &password);
        let cached = {
            let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
            entries
                .get(&fingerprint)
                .filter(|r| r.until > Instant::now())
                .map(|r| (r.principal, r.password_hash.clone()))
        };
        if let Some((principal, hash)) = cached {
            if still_valid(dir, principal, &hash).await? {
                return Ok(principal);
            }
            self.entries.lock().unwrap_or_else(|p| p.into_inner()).remove(&fingerprint);
        }
        let throttle = mailroom_core::throttle::sign_in_throttle();
        tokio::time::sleep(throttle.wait(ip)).await;
        let outcome = dir.authenticate(&login, &Secret::new(password)).await;
        throttle.record(ip, outcome.is_ok());
        let principal = outcome.map_err(|_| Refusal::Credentials)?.recipient.id;
        let account = dir.account(principal).await.map_err(|_| Refusal::Storage)?;
        if let Some(hash) = account.password_hash {
            let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
            if entries.len() >= CAPACITY {
                let now = Instant::now();
                entries.retain(|_, r| r.until > now);
                if entries.len() >= CAPACITY {
                    entries.clear();
                }
            }
            entries.insert(
                fingerprint,
                Remembered { principal, password_hash: hash.0, until: Instant::now() + REMEMBER },
            );
        }
        Ok(principal)
    }
}

/// The account still signs in with the same password.
async fn still_valid(dir: &Directory, principal: PrincipalId, hash: &str) -> Result<bool, Refusal> {
    let Ok(recipient) = dir.recipient(principal).await else { return Ok(false) };
    if recipient.kind != RecipientKind::UserMailbox {
        return Ok(false);
    }
    let account = dir.account(principal).await.map_err(|_| Refusal::Storage)?;
    Ok(!account.sign_in_blocked && account.password_hash.is_some_and(|h| h.0 == hash))
}

/// `Basic base64(login:password)` → its two parts.
fn parse_basic(header: &str) -> Option<(String, String)> {
    let (scheme, encoded) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = mailroom_mime::decode_base64_strict(encoded.trim())?;
    let text = String::from_utf8(decoded).ok()?;
    let (login, password) = text.split_once(':')?;
    Some((login.to_string(), password.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_basic_credentials() {
        // "alice@contoso.com:pa:ss" — a colon inside the password is kept.
        let header = format!("Basic {}", mailroom_mime::encode_base64(b"alice@contoso.com:pa:ss"));
        assert_eq!(parse_basic(&header), Some(("alice@contoso.com".into(), "pa:ss".into())));
        assert_eq!(parse_basic("Bearer abc"), None);
        assert_eq!(parse_basic("Basic !!!"), None);
        assert_eq!(parse_basic(&format!("Basic {}", mailroom_mime::encode_base64(b"nocolon"))), None);
    }
}
