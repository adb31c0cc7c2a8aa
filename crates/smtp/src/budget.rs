//! A server-wide budget for message bytes held in memory while they are
//! transferred. Without it, every connection may buffer a maximum-size
//! message (twice, while buffers grow), and a few dozen clients exhaust the
//! host. A session that cannot reserve more gets `452 4.3.1` and the client
//! retries later, as it does for any temporary failure (RFC 5321 §4.2.5).

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Reservations are made in steps of this many KiB.
const STEP_KIB: usize = 64;

#[derive(Clone, Debug)]
pub struct MemoryBudget {
    permits: Arc<Semaphore>,
}

impl MemoryBudget {
    pub fn new(bytes: usize) -> Self {
        let kib = (bytes / 1024).clamp(STEP_KIB, Semaphore::MAX_PERMITS);
        MemoryBudget { permits: Arc::new(Semaphore::new(kib)) }
    }

    /// Bytes not reserved by anyone right now.
    pub fn available(&self) -> usize {
        self.permits.available_permits().saturating_mul(1024)
    }
}

/// One message's share of the budget; returned when dropped.
#[derive(Debug)]
pub struct Reservation {
    budget: MemoryBudget,
    held: Option<OwnedSemaphorePermit>,
    kib: usize,
}

impl Reservation {
    pub fn new(budget: &MemoryBudget) -> Self {
        Reservation { budget: budget.clone(), held: None, kib: 0 }
    }

    /// Makes sure a message of `bytes` octets is covered (twice over: a
    /// growing buffer may hold double its length for a moment). `false` when
    /// the budget is spent; what is held stays held until drop.
    pub fn grow_to(&mut self, bytes: usize) -> bool {
        let want = (bytes.saturating_mul(2) / 1024 / STEP_KIB + 1).saturating_mul(STEP_KIB);
        if want <= self.kib {
            return true;
        }
        let more = u32::try_from(want - self.kib).unwrap_or(u32::MAX);
        match self.budget.permits.clone().try_acquire_many_owned(more) {
            Ok(permit) => {
                match self.held.as_mut() {
                    Some(held) => held.merge(permit),
                    None => self.held = Some(permit),
                }
                self.kib = want;
                true
            }
            Err(_) => false,
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
}
