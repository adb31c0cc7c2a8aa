//! A server-wide budget for message bytes held in memory while they are
//! received: SMTP DATA/BDAT and IMAP APPEND literals draw on the same one.
//! Without it, every connection may buffer a maximum-size message (several
//! times over, while buffers grow and are copied), and a few dozen clients
//! exhaust the host. A session that cannot reserve more is refused for now
//! (`452 4.3.1` in SMTP, `NO [LIMIT]` in IMAP) and the client retries later.
//!
//! Counting only (an atomic number of KiB): nothing waits on the budget, so
//! it needs no runtime.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Reservations are made in steps of this many KiB.
const STEP_KIB: usize = 64;

#[derive(Clone, Debug)]
pub struct MemoryBudget {
    /// KiB not reserved by anyone.
    free_kib: Arc<AtomicUsize>,
    total_kib: usize,
}

impl MemoryBudget {
    pub fn new(bytes: usize) -> Self {
        let kib = (bytes / 1024).max(STEP_KIB);
        MemoryBudget { free_kib: Arc::new(AtomicUsize::new(kib)), total_kib: kib }
    }

    /// Bytes not reserved by anyone right now.
    pub fn available(&self) -> usize {
        self.free_kib.load(Ordering::Acquire).saturating_mul(1024)
    }

    /// The whole budget, in bytes.
    pub fn total(&self) -> usize {
        self.total_kib.saturating_mul(1024)
    }

    fn take(&self, kib: usize) -> bool {
        self.free_kib.fetch_update(Ordering::AcqRel, Ordering::Acquire, |free| free.checked_sub(kib)).is_ok()
    }

    fn give_back(&self, kib: usize) {
        self.free_kib.fetch_add(kib, Ordering::AcqRel);
    }
}

/// One message's share of the budget; returned when dropped.
#[derive(Debug)]
pub struct Reservation {
    budget: MemoryBudget,
    kib: usize,
}

impl Reservation {
    pub fn new(budget: &MemoryBudget) -> Self {
        Reservation { budget: budget.clone(), kib: 0 }
    }

    /// Makes sure `bytes` octets of buffers are covered, rounded up to the
    /// next step. `false` when the budget is spent; what is held stays held
    /// until drop.
    pub fn cover(&mut self, bytes: usize) -> bool {
        let want = (bytes / 1024 / STEP_KIB + 1).saturating_mul(STEP_KIB);
        if want <= self.kib {
            return true;
        }
        if self.budget.take(want - self.kib) {
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
            self.budget.give_back(self.kib);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_grow_in_steps_and_are_returned() {
        let budget = MemoryBudget::new(1024 * 1024);
        let mut a = Reservation::new(&budget);
        assert!(a.grow_to(0));
        assert_eq!(budget.available(), (1024 - 64) * 1024);
        assert!(a.grow_to(300 * 1024)); // 600 KiB, rounded up to 640
        assert_eq!(budget.available(), (1024 - 640) * 1024);
        let mut b = Reservation::new(&budget);
        assert!(!b.grow_to(400 * 1024), "more than is left");
        assert!(b.grow_to(100 * 1024));
        drop(a);
        assert!(b.grow_to(400 * 1024), "room again once a message is done");
        drop(b);
        assert_eq!(budget.available(), 1024 * 1024);
    }

    #[test]
    fn many_threads_never_overdraw() {
        let budget = MemoryBudget::new(10 * 64 * 1024);
        let held: Vec<_> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..32)
                .map(|_| {
                    scope.spawn(|| {
                        let mut r = Reservation::new(&budget);
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
