//! The throttle's record shared by the nodes of one store.
//!
//! Each node keeps its own [`SignInThrottle`](super::SignInThrottle): the
//! attempts in progress, the addresses an account signed in from, and its
//! queues. Alone, that would give a guesser behind a load balancer one
//! queue per node: N nodes, N times the guesses. So where several nodes
//! share a store (PostgreSQL), failures are also counted **in the store**,
//! per source and per account, and an attempt on a key under pressure
//! takes its slot from the store: one queue per key across the nodes, at
//! the pace of a node's own (1 s, 2 s, 4 s … 30 s apart; refused beyond
//! [`MAX_QUEUE`](super::MAX_QUEUE)). An attempt starts at the later of its
//! node's slot and the shared one.
//!
//! Shared: each key's failures (forgotten after [`WINDOW`](super::WINDOW)
//! without one; a success halves its account's) and the start of the latest
//! attempt admitted while the key was under pressure. Per node, as before:
//! attempts in progress (the parallel grace) and trusted (account, address)
//! pairs — an owner's device is trusted on the nodes it signed in through.
//!
//! What isn't shared: attempts still in progress. A burst of parallel
//! attempts before any of them has failed is admitted per node (each node
//! lets up to nine start at once, as it would alone), and until failures
//! are recorded the shared slots are spaced by the failures finished so
//! far. Once failures are recorded — a guess takes well under a second —
//! every node queues by them. An attempt whose client hangs up while it
//! waits counts on its node only.
//!
//! A login that names nobody is kept as an HMAC under a secret of the
//! store, never as typed (people type passwords into the login field).
//!
//! Cost: an attempt on keys under no pressure is one read of at most two
//! rows and writes nothing; a failure is one write; a success writes only
//! when its source or account has a record. The times are the database's
//! clock, so nodes whose clocks differ still share one queue. If the store
//! can't be reached (or is slow to answer), the node's own throttle still
//! applies (and it is logged).

use std::net::IpAddr;
use std::time::Duration;

use super::{AccountKey, FREE_FAILURES, MAX_QUEUE, WINDOW, gap};

/// One key's shared record (times in the database's milliseconds).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pressure {
    pub failures: u32,
    pub last_failure: i64,
    /// When the latest attempt admitted under pressure started.
    pub last_start: Option<i64>,
}

/// Where [`decide`] places an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// No key is under pressure: now, and nothing to record.
    Free,
    /// At this time (never before now); recorded as each key's latest start.
    At(i64),
    /// The slot would be more than [`MAX_QUEUE`] away.
    Refused,
}

/// What the store answered for one attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SharedAdmission {
    /// How long to wait, or `None`: refused.
    pub wait: Option<Duration>,
    /// Whether any of the keys had a record (a success then halves its
    /// account's failures; otherwise it writes nothing).
    pub recorded: bool,
}

/// How long a key's failures are remembered, in milliseconds.
pub const WINDOW_MS: i64 = WINDOW.as_millis() as i64;
/// The furthest slot, in milliseconds.
pub const MAX_QUEUE_MS: i64 = MAX_QUEUE.as_millis() as i64;

/// Places an attempt at `now` on keys with these records: the same rule as
/// a node's own queues, over the failures of every node.
pub fn decide(now: i64, records: &[Pressure]) -> Decision {
    let mut start = None;
    for record in records {
        // A time ahead of the database's clock (its clock was set back, or
        // another server took over) counts as now, and a start further
        // ahead than any slot given as none: no key stays locked by a clock.
        let last_failure = record.last_failure.min(now);
        let last_start = record.last_start.filter(|&last| last <= now.saturating_add(MAX_QUEUE_MS));
        if now.saturating_sub(last_failure) >= WINDOW_MS || record.failures < FREE_FAILURES {
            continue;
        }
        let gap = gap(record.failures).as_millis() as i64;
        let earliest = last_start.map_or(now, |last| last.saturating_add(gap)).max(now);
        start = Some(start.map_or(earliest, |s: i64| s.max(earliest)));
    }
    match start {
        None => Decision::Free,
        Some(start) if start - now > MAX_QUEUE_MS => Decision::Refused,
        Some(start) => Decision::At(start),
    }
}

/// The shared key of a client source (an IPv4 address, or an IPv6 /64).
pub fn source_key(ip: IpAddr) -> String {
    format!("ip:{}", super::source_key(ip))
}

impl AccountKey {
    /// The shared key of an account: its principal, or, when the login
    /// names nobody, an HMAC of it under `login_key` (the same on every
    /// node): what was typed never reaches the database.
    pub fn shared_key(&self, login_key: &[u8]) -> String {
        match self {
            AccountKey::Principal(id) => format!("id:{}", id.0),
            AccountKey::Unknown(login) => {
                let tag = crate::auth::hmac_sha256(login_key, &[login.as_bytes()]);
                let hex: String = tag.iter().map(|b| format!("{b:02x}")).collect();
                format!("login:{hex}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failing(failures: u32, last_failure: i64, last_start: Option<i64>) -> Pressure {
        Pressure { failures, last_failure, last_start }
    }

    #[test]
    fn a_few_failures_cost_nothing() {
        assert_eq!(decide(1_000, &[]), Decision::Free);
        assert_eq!(decide(1_000, &[failing(FREE_FAILURES - 1, 900, Some(900))]), Decision::Free);
    }

    #[test]
    fn pressure_spaces_attempts_as_a_node_does() {
        let now = 100_000;
        // The fifth failure: the next attempt comes a second after the last start.
        assert_eq!(decide(now, &[failing(5, now - 10, Some(now - 200))]), Decision::At(now + 800));
        // A start long ago: now, but still recorded (the next one is spaced from it).
        assert_eq!(decide(now, &[failing(5, now - 10, Some(now - 60_000))]), Decision::At(now));
        assert_eq!(decide(now, &[failing(5, now - 10, None)]), Decision::At(now));
        // Doubling to at most 30 s.
        assert_eq!(decide(now, &[failing(8, now, Some(now))]), Decision::At(now + 8_000));
        assert_eq!(decide(now, &[failing(50, now, Some(now))]), Decision::At(now + 30_000));
        // The later of the source's and the account's slots.
        let both = [failing(5, now, Some(now)), failing(7, now, Some(now + 10_000))];
        assert_eq!(decide(now, &both), Decision::At(now + 14_000));
    }

    #[test]
    fn a_clock_set_back_locks_nobody_out() {
        let now = 100_000;
        // Times from an hour ahead: the start is ignored, the failure is now.
        let ahead = failing(9, now + 3_600_000, Some(now + 3_600_000));
        assert_eq!(decide(now, &[ahead]), Decision::At(now));
        assert_eq!(
            decide(now + WINDOW_MS, &[ahead]),
            Decision::At(now + WINDOW_MS),
            "still recent by its clamp"
        );
    }

    #[test]
    fn a_full_queue_refuses_and_quiet_time_forgets() {
        let now = 100_000;
        assert_eq!(decide(now, &[failing(9, now, Some(now + 45_000))]), Decision::Refused);
        assert_eq!(decide(now, &[failing(9, now, Some(now + 44_000))]), Decision::At(now + MAX_QUEUE_MS));
        let quiet = now + WINDOW_MS;
        assert_eq!(decide(quiet, &[failing(9, now, Some(now + 44_000))]), Decision::Free);
    }

    #[test]
    fn keys_name_what_they_count() {
        assert_eq!(source_key("2001:db8::1".parse().unwrap()), "ip:2001:db8::");
        assert_eq!(source_key("::ffff:192.0.2.7".parse().unwrap()), "ip:192.0.2.7");
        let key = [7u8; 32];
        assert_eq!(AccountKey::Principal(mailroom_types::PrincipalId(42)).shared_key(&key), "id:42");
        let typed = AccountKey::unknown(" Nobody@Contoso.com ").shared_key(&key);
        assert!(typed.starts_with("login:") && typed.len() == "login:".len() + 64, "{typed}");
        assert!(!typed.contains("nobody"), "never as typed: {typed}");
        assert_eq!(typed, AccountKey::unknown("nobody@contoso.com").shared_key(&key), "one key per login");
        assert_ne!(typed, AccountKey::unknown("nobody@contoso.com").shared_key(&[8u8; 32]));
    }
}
