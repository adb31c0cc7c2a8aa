//! Slowing down password guessing: after a few failed sign-ins from one
//! address, each further attempt from it waits longer before it is answered
//! (1 s, 2 s, 4 s … up to 30 s), until a sign-in succeeds or the address
//! has been quiet for the window. The wait is the protocol's to make (it
//! owns the timer); the counting is here, shared by SMTP and IMAP.

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
/// Addresses remembered at most (the oldest go first).
const MAX_TRACKED: usize = 100_000;

/// Failed sign-ins per client address.
#[derive(Debug, Default)]
pub struct SignInThrottle {
    failures: Mutex<HashMap<IpAddr, (u32, Instant)>>,
}

impl SignInThrottle {
    /// How long to wait before answering an attempt from `ip` at `now`.
    pub fn wait_at(&self, ip: IpAddr, now: Instant) -> Duration {
        let Ok(failures) = self.failures.lock() else { return Duration::ZERO };
        match failures.get(&ip) {
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
        if succeeded {
            failures.remove(&ip);
            return;
        }
        if failures.len() >= MAX_TRACKED {
            failures.retain(|_, (_, last)| now.duration_since(*last) < WINDOW);
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
        throttle.record_at(ip, true, start);
        assert_eq!(throttle.wait_at(ip, start), Duration::ZERO, "a success clears it");
    }
}
