//! Browser sessions of the web app and the admin center, kept in the store
//! so that every node knows every session: a person signed in through one
//! node is signed in on all of them, and signing out (or a password reset)
//! ends the session everywhere.
//!
//! The cookie carries a 256-bit random token; the store keeps its SHA-256
//! (a copy of the database hands out no session) and, for the account, a
//! fingerprint of what it looked like at sign-in — its password hash and
//! roles. A session whose account no longer matches ends at its next
//! request. The CSRF token every form carries is derived from the session's
//! token, so nothing secret beyond the hash is stored.

use std::collections::BTreeSet;

use chrono::Utc;
use sha2::{Digest, Sha256};

use super::{Account, AdminRole, Directory};
use crate::auth::random_bytes;
use crate::error::CoreResult;
use crate::store::{SessionLimits, StoredWebSession};
use mailroom_types::PrincipalId;

/// A session unused this long ends (seconds).
pub const IDLE_SECONDS: i64 = 60 * 60;
/// And none lasts longer than a working day.
pub const LIFETIME_SECONDS: i64 = 12 * 60 * 60;
/// At most this many live sessions; when full, a new one is refused rather
/// than pushing someone else's out.
pub const MAX_SESSIONS: usize = 10_000;
/// At most this many per account (browsers and devices); the account's
/// least recently used goes first, so one account signing in again and
/// again can't fill the table.
pub const MAX_PER_ACCOUNT: usize = 16;
/// How often a session's last use is written: a person clicking through
/// pages shouldn't turn every request into a write.
const TOUCH_GRANULARITY: i64 = 60;

/// A signed-in browser. `Debug` leaves out its token and CSRF token.
#[derive(Clone, PartialEq, Eq)]
pub struct WebSession {
    /// The cookie's token (never stored).
    pub token: String,
    pub principal: PrincipalId,
    /// The token every form of this session carries back.
    pub csrf: String,
    fingerprint: String,
    admin: bool,
}

impl std::fmt::Debug for WebSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSession")
            .field("principal", &self.principal)
            .field("admin", &self.admin)
            .finish_non_exhaustive()
    }
}

impl WebSession {
    /// Whether the account held an admin role at sign-in (for showing the
    /// way to the admin center; every admin page asks again).
    pub fn is_admin(&self) -> bool {
        self.admin
    }

    /// Whether the account still is what it was at sign-in.
    pub fn matches(&self, account: &Account) -> bool {
        self.fingerprint == fingerprint(account)
    }
}

impl Directory {
    /// Starts a session for an account that just signed in; `None` when the
    /// store holds as many live sessions as it may.
    pub async fn start_web_session(&self, account: &Account) -> CoreResult<Option<WebSession>> {
        let token = hex(&random_bytes(32));
        let now = Utc::now().timestamp();
        let stored = StoredWebSession {
            id_hash: token_hash(&token),
            principal: account.principal,
            fingerprint: fingerprint(account),
            admin: !account.roles.is_empty(),
            created_at: now,
            last_seen: now,
        };
        let started = self.store.start_web_session(&stored, &limits(now)).await?;
        Ok(started.then(|| session_of(token, &stored)))
    }

    /// The live session whose cookie carries `token`, marked as used now
    /// when `touch` (a person's request; a page's own background polling
    /// isn't one, so an open tab left alone still ends after the idle time).
    pub async fn web_session(&self, token: &str, touch: bool) -> CoreResult<Option<WebSession>> {
        let id_hash = token_hash(token);
        let Some(stored) = self.store.web_session(&id_hash).await? else { return Ok(None) };
        let now = Utc::now().timestamp();
        if !alive(&stored, now) {
            self.store.end_web_session(&id_hash).await?;
            return Ok(None);
        }
        if touch && now - stored.last_seen >= TOUCH_GRANULARITY {
            self.store.touch_web_session(&id_hash, now).await?;
        }
        Ok(Some(session_of(token.to_string(), &stored)))
    }

    /// Signs a browser out.
    pub async fn end_web_session(&self, session: &WebSession) -> CoreResult<()> {
        Ok(self.store.end_web_session(&token_hash(&session.token)).await?)
    }

    /// Ends every session of an account, on every node.
    pub async fn end_web_sessions_of(&self, principal: PrincipalId) -> CoreResult<()> {
        Ok(self.store.end_web_sessions_of(principal).await?)
    }

    /// Live sessions (for the metrics).
    pub async fn web_session_count(&self) -> CoreResult<usize> {
        Ok(self.store.count_web_sessions(&limits(Utc::now().timestamp())).await?)
    }
}

fn limits(now: i64) -> SessionLimits {
    SessionLimits {
        idle_before: now - IDLE_SECONDS,
        created_before: now - LIFETIME_SECONDS,
        per_principal: MAX_PER_ACCOUNT,
        total: MAX_SESSIONS,
    }
}

fn alive(session: &StoredWebSession, now: i64) -> bool {
    now - session.last_seen < IDLE_SECONDS && now - session.created_at < LIFETIME_SECONDS
}

fn session_of(token: String, stored: &StoredWebSession) -> WebSession {
    WebSession {
        csrf: hex(&Sha256::digest(format!("mailroom-csrf:{token}"))),
        token,
        principal: stored.principal,
        fingerprint: stored.fingerprint.clone(),
        admin: stored.admin,
    }
}

/// What the store keeps to find a session by its cookie.
fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// The account's password hash and roles, hashed: what, when it changes,
/// ends the account's sessions.
fn fingerprint(account: &Account) -> String {
    let roles: BTreeSet<AdminRole> = account.roles.iter().copied().collect();
    let mut text = account.password_hash.as_ref().map_or(String::new(), |h| h.0.clone());
    for role in roles {
        text.push('\n');
        text.push_str(role.as_str());
    }
    hex(&Sha256::digest(text.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::PasswordHash;

    fn account(hash: &str, roles: &[AdminRole]) -> Account {
        Account {
            principal: PrincipalId(7),
            password_hash: Some(PasswordHash(hash.into())),
            sign_in_blocked: false,
            roles: roles.iter().copied().collect(),
            scram_verifier: None,
        }
    }

    #[test]
    fn a_changed_password_or_role_no_longer_matches() {
        let stored = StoredWebSession {
            id_hash: token_hash("t"),
            principal: PrincipalId(7),
            fingerprint: fingerprint(&account("h1", &[AdminRole::GlobalAdmin])),
            admin: true,
            created_at: 0,
            last_seen: 0,
        };
        let session = session_of("t".into(), &stored);
        assert!(session.matches(&account("h1", &[AdminRole::GlobalAdmin])));
        assert!(!session.matches(&account("h2", &[AdminRole::GlobalAdmin])));
        assert!(!session.matches(&account("h1", &[AdminRole::ExchangeAdmin])));
        assert!(!session.matches(&account("h1", &[])));
        assert_ne!(session.token, session.csrf);
        assert_ne!(stored.id_hash, session.token, "the store never holds the token");
    }

    #[test]
    fn sessions_end_when_idle_or_old() {
        let stored = |created_at, last_seen| StoredWebSession {
            id_hash: String::new(),
            principal: PrincipalId(1),
            fingerprint: String::new(),
            admin: false,
            created_at,
            last_seen,
        };
        let now = 100_000;
        assert!(alive(&stored(now - 10, now - 10), now));
        assert!(!alive(&stored(now - 10, now - IDLE_SECONDS), now));
        assert!(!alive(&stored(now - LIFETIME_SECONDS, now), now));
    }
}
