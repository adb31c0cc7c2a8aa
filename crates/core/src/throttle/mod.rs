//! Slowing down password guessing, per client address and per account.
//!
//! Every sign-in attempt is counted **when it starts**, against its source
//! (an IPv4 address, or an IPv6 /64: one host usually holds a whole /64) and
//! against the account it names. Once a source or an account has seen a few
//! failures, attempts on it are **serialised**: each takes the next free slot,
//! and the slot after it comes later and later (1 s, 2 s, 4 s … 30 s apart).
//! So N connections guessing in parallel wait in one queue instead of each
//! getting a guess per period, and guesses at one account from many
//! addresses share that account's queue. An attempt whose slot would be more
//! than [`MAX_QUEUE`] away is refused at once, without a password check (it
//! still counts against its source): the queue, and the connections held in
//! it, stay short.
//!
//! A few attempts may run at once before they count ([`PARALLEL_GRACE`]): a
//! mail client opening several connections, or an office behind one
//! address, signs in without waiting. A success doesn't lower its address's
//! count — one valid account must not launder guesses at others — only its
//! account's (halved: the owner got in). After [`WINDOW`] without failures
//! a key is forgotten.
//!
//! An address from which an account signed in before (within
//! [`TRUST_WINDOW`]) signs in to that account without either queue (its
//! failures still count against the address), so the owner's own devices
//! aren't slowed by someone guessing at the account or by a colleague's
//! typos behind the same address; sessions already open (IMAP, submission, a
//! remembered CalDAV sign-in) are never throttled at all. A new address of the
//! owner's during an attack on the account does wait in the account's queue,
//! and may be refused while it is full — the price of slowing guesses that
//! come from many addresses.
//!
//! The wait is made by the caller ([`crate::Directory::sign_in`] takes the
//! timer); the counting is here, shared by every protocol of a server.
//! Where several nodes share a store, failures and queues are shared by
//! the nodes as well ([`shared`]).

pub mod shared;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use mailroom_types::PrincipalId;

/// Failures (beyond the grace below) allowed before attempts are serialised.
const FREE_FAILURES: u32 = 5;
/// Attempts that may be in progress at once from one key before they count
/// as failures in advance.
pub const PARALLEL_GRACE: u32 = 4;
/// How long failures are remembered after the last one.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// The longest gap between two serialised attempts.
pub const MAX_WAIT: Duration = Duration::from_secs(30);
/// The furthest slot an attempt may be given; beyond it, it is refused.
pub const MAX_QUEUE: Duration = Duration::from_secs(60);
/// How long a successful sign-in makes its source trusted for its account.
pub const TRUST_WINDOW: Duration = Duration::from_secs(30 * 24 * 3600);
/// Keys remembered at most, per table; when that many are active, the
/// harmless ones (few failures) are dropped, then new ones aren't tracked,
/// so memory and the lock's work stay bounded.
const MAX_TRACKED: usize = 100_000;
/// Logins longer than this are counted under their first this-many bytes.
const MAX_LOGIN_KEY: usize = 320;

/// The unit a client address is counted under: an IPv4 address (also when
/// it arrives IPv4-mapped on a dual-stack socket), or an IPv6 /64. Used for
/// sign-in throttling and for the listeners' per-address connection caps.
pub fn source_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => IpAddr::V6(std::net::Ipv6Addr::from(u128::from(v6) & !((1u128 << 64) - 1))),
    }
}

/// Whom an attempt tries to sign in as.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum AccountKey {
    /// A login that names a recipient: every address of it counts as one.
    Principal(PrincipalId),
    /// A login that names nobody, lower-cased (guesses at it count too).
    Unknown(String),
}

impl AccountKey {
    pub fn unknown(login: &str) -> Self {
        let mut login = login.trim().to_lowercase();
        if login.len() > MAX_LOGIN_KEY {
            let mut end = MAX_LOGIN_KEY;
            while !login.is_char_boundary(end) {
                end -= 1;
            }
            login.truncate(end);
        }
        AccountKey::Unknown(login)
    }
}

/// What a source or an account has been up to.
#[derive(Clone, Copy, Debug)]
struct Track {
    failures: u32,
    in_flight: u32,
    /// The last activity (for forgetting).
    last: Instant,
    /// When the latest admitted attempt started: the next one under
    /// pressure starts a gap after it.
    last_start: Option<Instant>,
}

impl Track {
    fn new(now: Instant) -> Self {
        Track { failures: 0, in_flight: 0, last: now, last_start: None }
    }

    /// What a new attempt counts as: past failures plus the attempts in
    /// progress beyond the grace (each may be one more failure).
    fn pressure(&self) -> u32 {
        self.failures.saturating_add(self.in_flight.saturating_sub(PARALLEL_GRACE))
    }

    /// The earliest a new attempt may start.
    fn earliest(&self, now: Instant) -> Instant {
        match self.last_start {
            Some(last) => (last + gap(self.pressure())).max(now),
            None => now,
        }
    }

    fn forgotten(&self, now: Instant) -> bool {
        self.in_flight == 0 && now.saturating_duration_since(self.last) >= WINDOW
    }
}

/// The gap before an attempt made under `pressure`.
fn gap(pressure: u32) -> Duration {
    if pressure < FREE_FAILURES {
        return Duration::ZERO;
    }
    let doublings = (pressure - FREE_FAILURES).min(5);
    (Duration::from_secs(1) * 2u32.pow(doublings)).min(MAX_WAIT)
}

/// An account's sign-ins from one source that succeeded before.
#[derive(Clone, Copy, Debug)]
struct Trust {
    /// The last success.
    since: Instant,
    /// Failures since then, and attempts in progress: a few mistakes keep
    /// the trust; more (a colleague behind the same address guessing) end
    /// it until the next success.
    failures: u32,
    in_flight: u32,
}

impl Trust {
    fn holds(&self, now: Instant) -> bool {
        now.saturating_duration_since(self.since) < TRUST_WINDOW
            && self.failures.saturating_add(self.in_flight) < FREE_FAILURES
    }
}

#[derive(Debug, Default)]
struct Tables {
    sources: HashMap<IpAddr, Track>,
    accounts: HashMap<AccountKey, Track>,
    trusted: HashMap<(PrincipalId, IpAddr), Trust>,
    /// When a full table was last swept: at most once a second, so a flood
    /// of new keys can't make every attempt scan 100,000 entries.
    last_sweep: Option<Instant>,
}

/// Whether a full table may be swept now (at most once a second); if so,
/// the sweep is recorded in `last_sweep`.
fn sweep_due(last_sweep: &mut Option<Instant>, now: Instant) -> bool {
    let due = last_sweep.is_none_or(|last| now.saturating_duration_since(last) >= Duration::from_secs(1));
    if due {
        *last_sweep = Some(now);
    }
    due
}

/// The earliest an attempt may start by `key`'s track (now if untracked).
fn earliest<K: std::hash::Hash + Eq>(table: &HashMap<K, Track>, key: &K, now: Instant) -> Instant {
    table.get(key).filter(|t| !t.forgotten(now)).map_or(now, |t| t.earliest(now))
}

/// `key`'s track, created if there is room. A table that is full is swept
/// first (at most once a second, see [`sweep_due`]) of forgotten
/// keys, then of those that never failed much; if it is still full, the key
/// goes untracked — the throttle fails open rather than grow without bound.
fn track<'a, K: std::hash::Hash + Eq + Clone>(
    table: &'a mut HashMap<K, Track>,
    key: &K,
    now: Instant,
    last_sweep: &mut Option<Instant>,
) -> Option<&'a mut Track> {
    if !table.contains_key(key) && table.len() >= MAX_TRACKED {
        if !sweep_due(last_sweep, now) {
            return None;
        }
        table.retain(|_, t| !t.forgotten(now));
        if table.len() >= MAX_TRACKED {
            // Those that never failed much are cheap to forget.
            table.retain(|_, t| t.in_flight > 0 || t.failures >= FREE_FAILURES);
        }
        if table.len() >= MAX_TRACKED {
            return None;
        }
    }
    let track = table.entry(key.clone()).or_insert_with(|| Track::new(now));
    if track.forgotten(now) {
        *track = Track::new(now);
    }
    Some(track)
}

/// Failed sign-ins per source and per account, for one server.
#[derive(Debug, Default)]
pub struct SignInThrottle {
    tables: Mutex<Tables>,
    /// Failed sign-ins since start, every protocol's (for metrics).
    failures: std::sync::atomic::AtomicU64,
}

/// What [`SignInThrottle::begin_at`] decided for one attempt.
#[derive(Debug, PartialEq, Eq)]
pub enum Admission {
    /// Check the password after this wait.
    After(Duration),
    /// Too many attempts queued on this source or account: answer as a
    /// failed sign-in now, without checking.
    Refused,
}

/// An attempt in progress. Report its outcome with
/// [`SignInThrottle::finish_at`]; one dropped unreported (the client went
/// away during the wait) counts as a failure.
#[derive(Debug)]
pub struct Attempt<'a> {
    throttle: &'a SignInThrottle,
    source: IpAddr,
    account: AccountKey,
    /// Which in-flight numbers this attempt is counted in (and must leave):
    /// its source's and account's (queued attempts), or its trusted pair's.
    source_counted: bool,
    account_counted: bool,
    trust_counted: bool,
    /// Admitted and not yet settled.
    open: bool,
    pub admission: Admission,
}

impl Attempt<'_> {
    /// The source the attempt is counted under.
    pub fn source(&self) -> IpAddr {
        self.source
    }

    pub fn account(&self) -> &AccountKey {
        &self.account
    }

    /// Whether the account signed in from this source before, so the
    /// attempt skipped the queues.
    pub fn trusted(&self) -> bool {
        self.trust_counted
    }
}

impl SignInThrottle {
    fn lock(&self) -> MutexGuard<'_, Tables> {
        // The tables hold counters only: a panic elsewhere leaves them usable.
        self.tables.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Counts an attempt from `ip` at `account` starting at `now`, and
    /// gives it its place in the queues.
    pub fn begin_at(&self, ip: IpAddr, account: AccountKey, now: Instant) -> Attempt<'_> {
        let source = source_key(ip);
        let mut guard = self.lock();
        let tables = &mut *guard;
        let mut attempt = Attempt {
            throttle: self,
            source,
            account,
            source_counted: false,
            account_counted: false,
            trust_counted: false,
            open: true,
            admission: Admission::After(Duration::ZERO),
        };
        if let AccountKey::Principal(id) = &attempt.account
            && let Some(trust) = tables.trusted.get_mut(&(*id, source))
            && trust.holds(now)
        {
            // The account signed in from here before: no queue.
            trust.in_flight += 1;
            attempt.trust_counted = true;
            return attempt;
        }
        let start =
            earliest(&tables.sources, &source, now).max(earliest(&tables.accounts, &attempt.account, now));
        if start.saturating_duration_since(now) > MAX_QUEUE {
            // Refused unchecked: still a guess the source tried (counted
            // only where it is tracked already: a refusal creates nothing).
            if let Some(track) = tables.sources.get_mut(&source) {
                track.last = now;
                track.failures = track.failures.saturating_add(1);
            }
            attempt.open = false;
            attempt.admission = Admission::Refused;
            return attempt;
        }
        let admit = |track: &mut Track| {
            track.last = now;
            track.in_flight += 1;
            track.last_start = Some(start);
        };
        if let Some(t) = track(&mut tables.sources, &source, now, &mut tables.last_sweep) {
            admit(t);
            attempt.source_counted = true;
        }
        if let Some(t) = track(&mut tables.accounts, &attempt.account, now, &mut tables.last_sweep) {
            admit(t);
            attempt.account_counted = true;
        }
        attempt.admission = Admission::After(start.saturating_duration_since(now));
        attempt
    }

    pub fn begin(&self, ip: IpAddr, account: AccountKey) -> Attempt<'_> {
        self.begin_at(ip, account, Instant::now())
    }

    /// Records how an admitted attempt ended.
    pub fn finish_at(&self, mut attempt: Attempt<'_>, succeeded: bool, now: Instant) {
        self.settle(&mut attempt, succeeded, now);
    }

    pub fn finish(&self, attempt: Attempt<'_>, succeeded: bool) {
        self.finish_at(attempt, succeeded, Instant::now());
    }

    /// Counts a failed sign-in, whether it was checked or refused unchecked.
    pub fn count_failure(&self) {
        self.failures.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// Failed sign-ins since this server started.
    pub fn failures(&self) -> u64 {
        self.failures.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Ends an attempt this node admitted that was then refused by the
    /// queue the nodes share ([`shared`]): like a refusal here, it counts
    /// against its source and never against its account.
    pub fn withdraw(&self, mut attempt: Attempt<'_>) {
        if !attempt.open {
            return;
        }
        attempt.open = false;
        let now = Instant::now();
        let mut guard = self.lock();
        let tables = &mut *guard;
        if attempt.source_counted
            && let Some(t) = tables.sources.get_mut(&attempt.source)
        {
            t.in_flight = t.in_flight.saturating_sub(1);
            t.failures = t.failures.saturating_add(1);
            t.last = now;
        }
        if attempt.account_counted
            && let Some(t) = tables.accounts.get_mut(&attempt.account)
        {
            t.in_flight = t.in_flight.saturating_sub(1);
        }
        // A trusted attempt never asks the shared queue, so it is never withdrawn.
    }

    fn settle(&self, attempt: &mut Attempt<'_>, succeeded: bool, now: Instant) {
        if !attempt.open {
            return;
        }
        attempt.open = false;
        let mut guard = self.lock();
        let tables = &mut *guard;
        let pair = match &attempt.account {
            AccountKey::Principal(id) => Some((*id, attempt.source)),
            AccountKey::Unknown(_) => None,
        };
        if attempt.trust_counted
            && let Some(trust) = pair.and_then(|pair| tables.trusted.get_mut(&pair))
        {
            trust.in_flight = trust.in_flight.saturating_sub(1);
            if !succeeded {
                trust.failures = trust.failures.saturating_add(1);
            }
        }
        // The source: a success says nothing about the guesses this address
        // made at other accounts — only quiet time forgets them.
        if attempt.source_counted || !succeeded {
            let sweep = &mut tables.last_sweep;
            if let Some(t) = track(&mut tables.sources, &attempt.source, now, sweep) {
                if attempt.source_counted {
                    t.in_flight = t.in_flight.saturating_sub(1);
                }
                if !succeeded {
                    t.last = now;
                    t.failures = t.failures.saturating_add(1);
                }
            }
        }
        // The account (not for a trusted pair's attempt, which skipped it):
        // the right password is the owner's, whose success halves the
        // record of guesses at their account.
        if attempt.account_counted
            && let Some(t) = tables.accounts.get_mut(&attempt.account)
        {
            t.in_flight = t.in_flight.saturating_sub(1);
            t.last = now;
            if succeeded {
                t.failures /= 2;
            } else {
                t.failures = t.failures.saturating_add(1);
            }
        }
        if succeeded && let Some(pair) = pair {
            if tables.trusted.len() >= MAX_TRACKED
                && !tables.trusted.contains_key(&pair)
                && sweep_due(&mut tables.last_sweep, now)
            {
                tables.trusted.retain(|_, trust| now.saturating_duration_since(trust.since) < TRUST_WINDOW);
            }
            if tables.trusted.len() < MAX_TRACKED || tables.trusted.contains_key(&pair) {
                let trust =
                    tables.trusted.entry(pair).or_insert(Trust { since: now, failures: 0, in_flight: 0 });
                trust.since = now;
                trust.failures = 0;
            }
        }
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        if self.open {
            let throttle = self.throttle;
            throttle.settle(self, false, Instant::now());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn wait(attempt: &Attempt<'_>) -> Option<Duration> {
        match attempt.admission {
            Admission::After(wait) => Some(wait),
            Admission::Refused => None,
        }
    }

    fn nobody() -> AccountKey {
        AccountKey::unknown("nobody@contoso.com")
    }

    #[test]
    fn sequential_failures_wait_longer_and_longer() {
        let throttle = SignInThrottle::default();
        let (a, t) = (ip("192.0.2.1"), Instant::now());
        let mut now = t;
        let mut waits = Vec::new();
        for _ in 0..12 {
            let attempt = throttle.begin_at(a, nobody(), now);
            let w = wait(&attempt).unwrap();
            now += w;
            waits.push(w.as_secs());
            throttle.finish_at(attempt, false, now);
        }
        assert_eq!(waits, [0, 0, 0, 0, 0, 1, 2, 4, 8, 16, 30, 30]);
        // Another address isn't slowed by the source; the account is another matter (below).
        let other = throttle.begin_at(ip("192.0.2.2"), AccountKey::unknown("else@contoso.com"), now);
        assert_eq!(wait(&other), Some(Duration::ZERO));
        drop(other);
        // Forgotten after a quiet window.
        let later = throttle.begin_at(a, nobody(), now + WINDOW + MAX_WAIT);
        assert_eq!(wait(&later), Some(Duration::ZERO));
    }

    #[test]
    fn parallel_attempts_queue_instead_of_each_guessing() {
        let throttle = SignInThrottle::default();
        let (a, now) = (ip("192.0.2.9"), Instant::now());
        // 200 connections start a guess at the same instant.
        let attempts: Vec<_> =
            (0..200).map(|i| throttle.begin_at(a, AccountKey::unknown(&format!("u{i}@x")), now)).collect();
        let waits: Vec<Option<u64>> = attempts.iter().map(|a| wait(a).map(|w| w.as_secs())).collect();
        let free = waits.iter().filter(|w| **w == Some(0)).count();
        let admitted = waits.iter().filter(|w| w.is_some()).count();
        assert_eq!(free as u32, FREE_FAILURES + PARALLEL_GRACE, "{waits:?}");
        // Slots 1 s, 2 s, 4 s ... apart, never past the queue's length.
        assert_eq!(
            &waits[..free + 5],
            &[vec![Some(0); free], vec![Some(1), Some(3), Some(7), Some(15), Some(31)]].concat()[..]
        );
        assert!(admitted < 20, "{waits:?}");
        assert!(waits.iter().flatten().all(|w| *w <= MAX_QUEUE.as_secs()));
        for attempt in attempts {
            throttle.finish_at(attempt, false, now);
        }
        // Afterwards every guess from there is 30 s apart.
        let next = throttle.begin_at(a, nobody(), now + Duration::from_secs(300));
        assert_eq!(wait(&next), Some(Duration::ZERO));
        let after = throttle.begin_at(a, nobody(), now + Duration::from_secs(300));
        assert_eq!(wait(&after), Some(MAX_WAIT));
    }

    #[test]
    fn an_account_is_throttled_across_sources_but_not_for_its_owner() {
        let throttle = SignInThrottle::default();
        let alice = AccountKey::Principal(PrincipalId(7));
        let now = Instant::now();
        // The owner signs in from home once.
        let home = ip("198.51.100.7");
        let first = throttle.begin_at(home, alice.clone(), now);
        throttle.finish_at(first, true, now);
        // Guesses at her account from 50 addresses, one each, in a row.
        let mut waits = Vec::new();
        for n in 0..50 {
            let attempt = throttle.begin_at(ip(&format!("203.0.113.{n}")), alice.clone(), now);
            waits.push(wait(&attempt).map(|w| w.as_secs()));
            throttle.finish_at(attempt, false, now);
        }
        assert!(waits.iter().filter(|w| w.is_none()).count() >= 40, "most refused: {waits:?}");
        // Her own address isn't queued behind them.
        let owner = throttle.begin_at(home, alice.clone(), now);
        assert_eq!(wait(&owner), Some(Duration::ZERO));
        throttle.finish_at(owner, true, now);
        // A new address of hers is (until it has signed in once).
        let phone = throttle.begin_at(ip("198.51.100.8"), alice, now);
        assert_ne!(wait(&phone), Some(Duration::ZERO));
    }

    #[test]
    fn a_valid_account_does_not_launder_guesses() {
        let throttle = SignInThrottle::default();
        let (a, mut now) = (ip("192.0.2.3"), Instant::now());
        let mine = AccountKey::Principal(PrincipalId(1));
        let mut n = 0;
        let mut fresh = || {
            n += 1;
            AccountKey::unknown(&format!("guess{n}@contoso.com"))
        };
        // Two guesses at others, then a sign-in to one's own account, again
        // and again: the guesses add up all the same.
        let mut waits = Vec::new();
        for _ in 0..6 {
            for _ in 0..2 {
                let attempt = throttle.begin_at(a, fresh(), now);
                let w = wait(&attempt).unwrap_or(MAX_QUEUE);
                now += w;
                waits.push(w.as_secs());
                throttle.finish_at(attempt, false, now);
            }
            let own = throttle.begin_at(a, mine.clone(), now);
            throttle.finish_at(own, true, now);
        }
        assert!(waits.iter().rev().take(4).all(|w| *w >= 1), "{waits:?}");
        // The account's own address is trusted now: no queue for it.
        let own = throttle.begin_at(a, mine, now);
        assert_eq!(wait(&own), Some(Duration::ZERO));
        throttle.finish_at(own, true, now);
    }

    #[test]
    fn trust_ends_with_a_few_failures_even_in_parallel() {
        let throttle = SignInThrottle::default();
        let (office, now) = (ip("198.51.100.20"), Instant::now());
        let alice = AccountKey::Principal(PrincipalId(3));
        let first = throttle.begin_at(office, alice.clone(), now);
        throttle.finish_at(first, true, now);
        // A colleague behind the same address guesses at Alice's password,
        // 50 attempts at once: only a few skip the queues.
        let attempts: Vec<_> = (0..50).map(|_| throttle.begin_at(office, alice.clone(), now)).collect();
        let unqueued = attempts.iter().filter(|a| wait(a) == Some(Duration::ZERO)).count();
        assert_eq!(unqueued as u32, FREE_FAILURES + FREE_FAILURES + PARALLEL_GRACE, "5 trusted, then 9 free");
        for attempt in attempts {
            throttle.finish_at(attempt, false, now);
        }
        // The trust is gone and the address is loaded with failures: queued.
        let next = throttle.begin_at(office, alice.clone(), now + Duration::from_secs(1));
        assert_ne!(wait(&next), Some(Duration::ZERO));
        drop(next);
        // Alice's next success (from a trusted phone, say) doesn't restore
        // the office's trust; a success from the office itself would.
        let later = now + WINDOW + MAX_WAIT * 4;
        let ok = throttle.begin_at(office, alice.clone(), later);
        throttle.finish_at(ok, true, later);
        assert_eq!(wait(&throttle.begin_at(office, alice, later)), Some(Duration::ZERO));
    }

    #[test]
    fn a_dropped_attempt_counts_as_a_failure() {
        let throttle = SignInThrottle::default();
        let (a, now) = (ip("192.0.2.4"), Instant::now());
        for n in 0..4 {
            let attempt = throttle.begin_at(a, AccountKey::unknown(&format!("g{n}")), now);
            throttle.finish_at(attempt, false, now);
        }
        // A client that hangs up during its wait still spent a guess.
        drop(throttle.begin_at(a, AccountKey::unknown("g4"), now));
        let next = throttle.begin_at(a, AccountKey::unknown("g5"), now);
        assert!(wait(&next).unwrap() > Duration::ZERO);
    }

    #[test]
    fn ipv6_counts_per_slash_64_and_mapped_ipv4_as_ipv4() {
        assert_eq!(source_key(ip("2001:db8::1")), source_key(ip("2001:db8::ffff:1")));
        assert_ne!(source_key(ip("2001:db8::1")), source_key(ip("2001:db8:0:1::1")));
        assert_eq!(source_key(ip("::ffff:192.0.2.1")), ip("192.0.2.1"));
        assert_ne!(source_key(ip("::ffff:192.0.2.1")), source_key(ip("::ffff:192.0.2.2")));
    }
}
