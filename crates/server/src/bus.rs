//! The in-process change bus (DESIGN.md, Changes): every mutation's
//! [`Change`]s are broadcast to whoever listens — IMAP IDLE sessions and
//! caches in later issues. Publishing never blocks the writer; a listener
//! that falls behind is told it lagged and must resynchronise.

use mailroom_core::change::{Change, ChangeSink};
use tokio::sync::broadcast;

#[derive(Debug, Clone)]
pub struct ChangeBus {
    sender: broadcast::Sender<Change>,
}

impl ChangeBus {
    pub fn new(capacity: usize) -> Self {
        let (sender, _) = broadcast::channel(capacity);
        ChangeBus { sender }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.sender.subscribe()
    }

    /// The sending side, for services that subscribe per session (IMAP IDLE).
    pub fn sender(&self) -> broadcast::Sender<Change> {
        self.sender.clone()
    }
}

impl ChangeSink for ChangeBus {
    fn publish(&self, changes: &[Change]) {
        for change in changes {
            // No subscriber is fine: nobody is watching.
            let _ = self.sender.send(change.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use mailroom_types::PrincipalId;

    #[tokio::test]
    async fn subscribers_see_published_changes_in_order() {
        let bus = ChangeBus::new(8);
        let mut rx = bus.subscribe();
        bus.publish(&[Change::DomainsChanged, Change::RecipientCreated(PrincipalId(7))]);
        assert_eq!(rx.recv().await.unwrap(), Change::DomainsChanged);
        assert_eq!(rx.recv().await.unwrap(), Change::RecipientCreated(PrincipalId(7)));
    }
}
