//! Browser sessions of the admin center: a random id in a cookie
//! (`HttpOnly`, `SameSite=Strict`, `Secure` over HTTPS), kept in memory, each
//! with its own CSRF token that every form carries back.
//!
//! A session remembers what the account looked like when it signed in (its
//! password hash and roles). Every request compares: a password reset, a
//! role change, a block or a conversion ends every session of that account
//! at its next request — nothing waits for an expiry.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use mailroom_core::directory::{Account, AdminRole};
use mailroom_types::PrincipalId;

/// The session cookie.
pub const COOKIE: &str = "mailroom_session";
/// The sign-in form's own CSRF cookie (double submit): before signing in
/// there is no session to hold a token.
pub const SIGN_IN_COOKIE: &str = "mailroom_signin";
/// A session unused this long ends.
const IDLE: Duration = Duration::from_secs(60 * 60);
/// And none lasts longer than a working day.
const LIFETIME: Duration = Duration::from_secs(12 * 60 * 60);
/// At most this many sessions; when full, a new one is refused rather than
/// pushing someone else's out.
const MAX_SESSIONS: usize = 10_000;
/// At most this many per account (browsers and devices); the account's
/// least recently used goes first. One account signing in again and again
/// can't fill the table.
const MAX_PER_ACCOUNT: usize = 16;

/// A signed-in browser.
#[derive(Clone, Debug)]
pub struct Session {
    pub id: String,
    pub principal: PrincipalId,
    /// The token every form of this session carries (`csrf`), and API calls
    /// made with the session's cookie send as `X-CSRF-Token`.
    pub csrf: String,
    fingerprint: Fingerprint,
    created: Instant,
    last_seen: Instant,
}

/// What, when it changes, ends a session.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Fingerprint {
    password_hash: Option<String>,
    roles: BTreeSet<AdminRole>,
}

impl Fingerprint {
    fn of(account: &Account) -> Self {
        Fingerprint {
            password_hash: account.password_hash.as_ref().map(|h| h.0.clone()),
            roles: account.roles.clone(),
        }
    }
}

impl Session {
    /// Whether the account held an admin role at sign-in (for showing the
    /// way to the admin center; every admin page asks `core` again).
    pub fn is_admin(&self) -> bool {
        !self.fingerprint.roles.is_empty()
    }

    /// Whether the account still is what it was at sign-in.
    pub fn matches(&self, account: &Account) -> bool {
        self.fingerprint == Fingerprint::of(account)
    }
}

/// Every session of this server.
#[derive(Debug, Default)]
pub struct Sessions {
    by_id: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    /// Starts a session for an account that just signed in; `None` when
    /// the server holds as many sessions as it may.
    pub fn start(&self, account: &Account) -> Option<Session> {
        let now = Instant::now();
        let session = Session {
            id: random_token(),
            principal: account.principal,
            csrf: random_token(),
            fingerprint: Fingerprint::of(account),
            created: now,
            last_seen: now,
        };
        let mut sessions = self.lock();
        sessions.retain(|_, s| alive(s, now));
        let mine: Vec<(Instant, String)> = sessions
            .values()
            .filter(|s| s.principal == account.principal)
            .map(|s| (s.last_seen, s.id.clone()))
            .collect();
        if mine.len() >= MAX_PER_ACCOUNT
            && let Some((_, oldest)) = mine.into_iter().min()
        {
            sessions.remove(&oldest);
        }
        if sessions.len() >= MAX_SESSIONS {
            return None;
        }
        sessions.insert(session.id.clone(), session.clone());
        Some(session)
    }

    /// The live session with this id, marked as used now when `touch`
    /// (a person's request; a page's own background polling isn't one, so
    /// an open tab left alone still ends after the idle time).
    pub fn find(&self, id: &str, touch: bool) -> Option<Session> {
        let now = Instant::now();
        let mut sessions = self.lock();
        let session = sessions.get_mut(id)?;
        if !alive(session, now) {
            sessions.remove(id);
            return None;
        }
        if touch {
            session.last_seen = now;
        }
        Some(session.clone())
    }

    pub fn end(&self, id: &str) {
        self.lock().remove(id);
    }

    /// Ends every session of an account.
    pub fn end_all_of(&self, principal: PrincipalId) {
        self.lock().retain(|_, s| s.principal != principal);
    }

    /// Live sessions.
    pub fn count(&self) -> usize {
        let now = Instant::now();
        self.lock().values().filter(|s| alive(s, now)).count()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        // A panic elsewhere while holding the lock leaves the map usable.
        self.by_id.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn alive(session: &Session, now: Instant) -> bool {
    now.duration_since(session.last_seen) < IDLE && now.duration_since(session.created) < LIFETIME
}

/// 256 random bits, hex.
pub fn random_token() -> String {
    mailroom_core::auth::random_bytes(32).iter().map(|b| format!("{b:02x}")).collect()
}

/// A cookie's value from a `Cookie` header.
pub fn cookie<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').map(str::trim).find_map(|pair| {
        let (n, v) = pair.split_once('=')?;
        (n.trim() == name).then_some(v.trim())
    })
}

/// A `Set-Cookie` value; `max_age` 0 deletes the cookie.
pub fn set_cookie(name: &str, value: &str, secure: bool, max_age: Option<u64>) -> String {
    let mut cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if secure {
        cookie.push_str("; Secure");
    }
    if let Some(age) = max_age {
        cookie.push_str(&format!("; Max-Age={age}"));
    }
    cookie
}

/// Compares two secrets in time independent of where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use mailroom_core::directory::PasswordHash;

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
        let sessions = Sessions::default();
        let session = sessions.start(&account("h1", &[AdminRole::GlobalAdmin])).expect("room");
        let found = sessions.find(&session.id, true).expect("live session");
        assert!(found.matches(&account("h1", &[AdminRole::GlobalAdmin])));
        assert!(!found.matches(&account("h2", &[AdminRole::GlobalAdmin])));
        assert!(!found.matches(&account("h1", &[AdminRole::ExchangeAdmin])));
        assert_ne!(session.id, session.csrf);
        sessions.end_all_of(PrincipalId(7));
        assert!(sessions.find(&session.id, true).is_none());
    }

    #[test]
    fn one_account_can_not_fill_the_table() {
        let sessions = Sessions::default();
        let first = sessions.start(&account("h1", &[])).expect("room");
        for _ in 0..MAX_PER_ACCOUNT {
            sessions.start(&account("h1", &[])).expect("room");
        }
        assert_eq!(sessions.count(), MAX_PER_ACCOUNT, "the account's oldest made way");
        assert!(sessions.find(&first.id, true).is_none());
    }

    #[test]
    fn cookies_and_secrets() {
        assert_eq!(cookie("a=1; mailroom_session=abc ; b=2", COOKIE), Some("abc"));
        assert_eq!(cookie("xmailroom_session=abc", COOKIE), None);
        assert!(set_cookie(COOKIE, "v", true, None).contains("; Secure"));
        assert!(!set_cookie(COOKIE, "v", false, Some(0)).contains("Secure"));
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "ab"));
    }
}
