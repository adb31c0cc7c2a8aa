//! The nodes of one organisation: every running server (`mailroom serve`)
//! on the same store records itself and beats every [`HEARTBEAT`];
//! `mailroom status` lists them. A node that hasn't beaten for [`DOWN_AFTER`]
//! is taken as gone: the outbound entries it was sending are taken over by
//! the others ([`crate::mail::Mail::claim_due`]).

use std::sync::Arc;
use std::time::Duration;

use crate::CoreResult;
use crate::store::ClusterStore;

/// How often a running node records that it is alive.
pub const HEARTBEAT: Duration = Duration::from_secs(5);
/// Seconds without a beat after which a node is taken as gone (four beats
/// missed: a busy node isn't mistaken for a dead one).
pub const DOWN_AFTER: i64 = 20;

/// What a node records of itself at each beat.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeBeat {
    pub name: String,
    /// Unix seconds: when this run of the node started.
    pub started_at: i64,
    pub version: String,
    /// What it serves, for people (its listeners).
    pub details: String,
}

/// A node as the store knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeStatus {
    pub name: String,
    pub started_at: i64,
    /// Unix seconds of its latest beat.
    pub heartbeat_at: i64,
    pub version: String,
    pub details: String,
}

impl NodeStatus {
    /// Whether the node beat recently enough at `now` to be running.
    pub fn is_up(&self, now: i64) -> bool {
        now - self.heartbeat_at <= DOWN_AFTER
    }
}

/// The nodes of the store.
#[derive(Clone, Debug)]
pub struct Cluster {
    store: Arc<dyn ClusterStore>,
}

impl Cluster {
    pub fn new(store: Arc<dyn ClusterStore>) -> Self {
        Cluster { store }
    }

    /// Records that this node is running, now (Unix seconds).
    pub async fn beat(&self, node: &NodeBeat, now: i64) -> CoreResult<()> {
        Ok(self.store.heartbeat(node, now).await?)
    }

    /// Every node that ever ran on this store, by name.
    pub async fn nodes(&self) -> CoreResult<Vec<NodeStatus>> {
        Ok(self.store.nodes().await?)
    }

    /// Forgets a node that is gone for good (`false` if there was none, or
    /// it is still beating).
    pub async fn forget(&self, name: &str, now: i64) -> CoreResult<bool> {
        Ok(self.store.forget_node(name, now - DOWN_AFTER).await?)
    }
}
