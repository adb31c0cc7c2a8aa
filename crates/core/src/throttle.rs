//! Slowing down password guessing: after a few failed sign-ins from one
//! address, each further attempt from it waits longer before it is answered
//! (1 s, 2 s, 4 s … up to 30 s), until the address has been quiet for the
//! window. A success halves the count rather than clearing it, so one valid
//! account can't be used to wipe the record of guesses at others. IPv6
//! clients count per /64 (one host usually has a whole /64). The wait is
//! the protocol's to make (it owns the timer); the counting is here, shared
//! by SMTP and IMAP.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Failures allowed before attempts are slowed down.
const FREE_FAILURES: u32 = 5;
/// How long failures are remembered.
const WINDOW: Duration = Duration::from_secs(15 * 60);
/// The longest wait.
const MAX_WAIT: Duration = Duration::from_secs(30);
/// Addresses remembered at most; when that many are active, new ones
/// aren't tracked (memory and the lock's work stay bounded).
const MAX_TRACKED: usize = 100_000;

/// The unit an address is counted under: itself, or its /64 for IPv6.
fn key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => IpAddr::V6(std::net::Ipv6Addr::from(u128::from(v6) & !((1u128 << 64) - 1))),
    }
}

/// Failed sign-ins per client address.
#[derive(Debug, Default)]
pub struct SignInThrottle {
    failures: Mutex<HashMap<IpAddr, (u32, Instant)>>,
}

impl SignInThrottle {
    /// How long to wait before answering an attempt from `ip` at `now`.
    pub fn wait_at(&self, ip: IpAddr, now: Instant) -> Duration {
        let Ok(failures) = self.failures.lock() else { return Duration::ZERO };
        match failures.get(&key(ip)) {
            Some(&(count, last)) if count >= FREE_FAILURES && now.duration_since(last) < WINDOW => {
                let doublings = (count - FREE_FAILURES).min(5);
                (Duration::from_secs(1) * 2u32.pow(doublings)).min(MAX_WAIT)
            }
            _ => Duration::ZERO,
        }
    }

    pub fn wait(&self, ip: IpAddr) -> Duration {
        self.wait_at(ip, Instant::now())
    }

    /// Records the outcome of an attempt from `ip` at `now`.
    pub fn record_at(&self, ip: IpAddr, succeeded: bool, now: Instant) {
        let Ok(mut failures) = self.failures.lock() else { return };
        let ip = key(ip);
        if succeeded {
            if let Some(entry) = failures.get_mut(&ip) {
                entry.0 /= 2;
            }
            return;
        }
        if failures.len() >= MAX_TRACKED && !failures.contains_key(&ip) {
            failures.retain(|_, (_, last)| now.duration_since(*last) < WINDOW);
            if failures.len() >= MAX_TRACKED {
                return;
            }
        }
        let entry = failures.entry(ip).or_insert((0, now));
        if now.duration_since(entry.1) >= WINDOW {
            *entry = (0, now);
        }
        entry.0 += 1;
        entry.1 = now;
    }

    pub fn record(&self, ip: IpAddr, succeeded: bool) {
        self.record_at(ip, succeeded, Instant::now());
    }
}

/// The process's throttle, shared by every protocol.
pub fn sign_in_throttle() -> &'static SignInThrottle {
    static THROTTLE: OnceLock<SignInThrottle> = OnceLock::new();
    THROTTLE.get_or_init(SignInThrottle::default)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_after_five_failures_and_end_with_a_success_or_time() {
        let throttle = SignInThrottle::default();
        let (ip, other) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        let start = Instant::now();
        for _ in 0..5 {
            assert_eq!(throttle.wait_at(ip, start), Duration::ZERO);
            throttle.record_at(ip, false, start);
        }
        assert_eq!(throttle.wait_at(ip, start), Duration::from_secs(1));
        throttle.record_at(ip, false, start);
        assert_eq!(throttle.wait_at(ip, start), Duration::from_secs(2));
        for _ in 0..10 {
            throttle.record_at(ip, false, start);
        }
        assert_eq!(throttle.wait_at(ip, start), MAX_WAIT);
        assert_eq!(throttle.wait_at(other, start), Duration::ZERO, "per address");
        assert_eq!(throttle.wait_at(ip, start + WINDOW), Duration::ZERO, "forgotten after the window");
        // A success halves the count: a mistyped password or two is forgotten,
        // a stream of guesses between successes isn't.
        let typo = "192.0.2.3".parse().unwrap();
        for _ in 0..5 {
            throttle.record_at(typo, false, start);
        }
        throttle.record_at(typo, true, start);
        assert_eq!(throttle.wait_at(typo, start), Duration::ZERO);
        for _ in 0..4 {
            throttle.record_at(typo, false, start);
        }
        assert_eq!(throttle.wait_at(typo, start), Duration::from_secs(2), "2 + 4 failures");
        // IPv6 counts per /64.
        for n in 0..6u16 {
            throttle.record_at(format!("2001:db8::{n:x}").parse().unwrap(), false, start);
        }
        assert_eq!(throttle.wait_at("2001:db8::ffff".parse().unwrap(), start), Duration::from_secs(2));
        assert_eq!(throttle.wait_at("2001:db8:0:1::1".parse().unwrap(), start), Duration::ZERO);
    }
}
