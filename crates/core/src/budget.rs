//! A server-wide budget for message bytes held in memory while they are
//! received: SMTP DATA/BDAT and IMAP APPEND literals draw on the same one.
//! Without it, every connection may buffer a maximum-size message (several
//! times over, while buffers grow and are copied), and a few dozen clients
//! exhaust the host. A session that cannot reserve more is refused for now
//! (`452 4.3.1` in SMTP, `NO [LIMIT]` in IMAP) and the client retries later.
//!
//! One client address (an IPv4 address, or an IPv6 /64) may hold at most
//! half of it, so a single host can't starve everyone else.
//!
//! Counting only: nothing waits on the budget, so it needs no runtime.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::throttle::source_key;

/// Reservations are made in steps of this many KiB.
const STEP_KIB: usize = 64;

#[derive(Clone, Debug)]
pub struct MemoryBudget {
    /// KiB not reserved by anyone.
    free_kib: Arc<AtomicUsize>,
    total_kib: usize,
    /// KiB reserved per client address (IPv4, or IPv6 /64), each at most
    /// half the budget: one host can't take all of it.
    by_source: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl MemoryBudget {
    pub fn new(bytes: usize) -> Self {
        let kib = (bytes / 1024).max(STEP_KIB);
        MemoryBudget { free_kib: Arc::new(AtomicUsize::new(kib)), total_kib: kib, by_source: Arc::default() }
    }

    /// Bytes not reserved by anyone right now.
    pub fn available(&self) -> usize {
        self.free_kib.load(Ordering::Acquire).saturating_mul(1024)
    }

    /// The whole budget, in bytes.
    pub fn total(&self) -> usize {
        self.total_kib.saturating_mul(1024)
    }

    /// The most one client address may hold, in bytes.
    pub fn per_source(&self) -> usize {
        (self.total_kib / 2).saturating_mul(1024)
    }

    /// Bytes one client address could still reserve now.
    pub fn available_to(&self, source: IpAddr) -> usize {
        let held = self.sources().get(&source_key(source)).copied().unwrap_or(0);
        self.available().min(self.per_source().saturating_sub(held.saturating_mul(1024)))
    }

    fn sources(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, usize>> {
        // Counters only: a panic elsewhere leaves them usable.
        self.by_source.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn take(&self, source: IpAddr, kib: usize) -> bool {
        let mut sources = self.sources();
        let held = sources.get(&source).copied().unwrap_or(0);
        if held.saturating_add(kib) > self.total_kib / 2 {
            return false;
        }
        let taken = self
            .free_kib
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |free| free.checked_sub(kib))
            .is_ok();
        if taken {
            *sources.entry(source).or_insert(0) += kib;
        }
        taken
    }

    fn give_back(&self, source: IpAddr, kib: usize) {
        let mut sources = self.sources();
        if let Some(held) = sources.get_mut(&source) {
            *held = held.saturating_sub(kib);
            if *held == 0 {
                sources.remove(&source);
            }
        }
        self.free_kib.fetch_add(kib, Ordering::AcqRel);
    }
}

/// One message's share of the budget; returned when dropped.
#[derive(Debug)]
pub struct Reservation {
    budget: MemoryBudget,
    /// The client address (IPv4, or IPv6 /64) it is counted under.
    source: IpAddr,
    kib: usize,
}

impl Reservation {
    /// A share for the client at `source`, which may hold at most half the budget.
    pub fn new(budget: &MemoryBudget, source: IpAddr) -> Self {
        Reservation { budget: budget.clone(), source: source_key(source), kib: 0 }
    }

    /// Makes sure `bytes` octets of buffers are covered, rounded up to the
    /// next step. `false` when the budget (or this client's half of it) is
    /// spent; what is held stays held until drop.
    pub fn cover(&mut self, bytes: usize) -> bool {
        let want = (bytes / 1024 / STEP_KIB + 1).saturating_mul(STEP_KIB);
        if want <= self.kib {
            return true;
        }
        if self.budget.take(self.source, want - self.kib) {
            self.kib = want;
            true
        } else {
            false
        }
    }

    /// Covers a message of `bytes` octets held in a growing buffer, which
    /// may hold double its length for a moment.
    pub fn grow_to(&mut self, bytes: usize) -> bool {
        self.cover(bytes.saturating_mul(2))
    }

    /// Bytes held.
    pub fn held(&self) -> usize {
        self.kib.saturating_mul(1024)
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if self.kib > 0 {
            self.budget.give_back(self.source, self.kib);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One client per call, so the per-client half doesn't apply.
    fn test_client() -> IpAddr {
        use std::sync::atomic::AtomicU32;
        static NEXT: AtomicU32 = AtomicU32::new(1);
        IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + NEXT.fetch_add(1, Ordering::Relaxed)))
    }

    #[test]
    fn reservations_grow_in_steps_and_are_returned() {
        let budget = MemoryBudget::new(1024 * 1024);
        let mut a = Reservation::new(&budget, test_client());
        assert!(a.grow_to(0));
        assert_eq!(budget.available(), (1024 - 64) * 1024);
        assert!(a.grow_to(200 * 1024)); // 400 KiB, rounded up to 448
        assert_eq!(budget.available(), (1024 - 448) * 1024);
        let mut c = Reservation::new(&budget, test_client());
        assert!(c.cover(448 * 1024 - 1));
        let mut b = Reservation::new(&budget, test_client());
        assert!(!b.cover(200 * 1024), "more than is left, though within this client's half");
        assert!(b.cover(100 * 1024));
        drop(a);
        assert!(b.cover(400 * 1024), "room again once a message is done");
        drop((b, c));
        assert_eq!(budget.available(), 1024 * 1024);
    }

    #[test]
    fn one_client_holds_at_most_half() {
        let budget = MemoryBudget::new(1024 * 1024);
        let host: IpAddr = "192.0.2.7".parse().unwrap();
        let mut a = Reservation::new(&budget, host);
        assert!(a.cover(400 * 1024));
        let mut b = Reservation::new(&budget, host);
        assert!(!b.cover(200 * 1024), "past half the budget for this host");
        assert_eq!(budget.available_to(host), 64 * 1024);
        let mut other = Reservation::new(&budget, "192.0.2.8".parse().unwrap());
        assert!(other.cover(400 * 1024), "another host still gets its share");
        drop(a);
        assert!(b.cover(200 * 1024));
        drop((b, other));
        assert_eq!(budget.available(), budget.total());
        assert_eq!(budget.available_to(host), budget.per_source());
    }

    #[test]
    fn many_threads_never_overdraw() {
        let budget = MemoryBudget::new(10 * 64 * 1024);
        let held: Vec<_> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..32)
                .map(|_| {
                    scope.spawn(|| {
                        let mut r = Reservation::new(&budget, test_client());
                        r.cover(1).then_some(r)
                    })
                })
                .collect();
            handles.into_iter().filter_map(|h| h.join().ok().flatten()).collect()
        });
        assert_eq!(held.len(), 10);
        assert_eq!(budget.available(), 0);
        drop(held);
        assert_eq!(budget.available(), budget.total());
    }
}
