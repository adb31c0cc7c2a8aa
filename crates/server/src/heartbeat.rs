//! This node's heartbeat: recorded in the store when the server starts and
//! every [`HEARTBEAT`] after, so `mailroom status` lists the nodes running on
//! one store and the outbound entries of a node that stopped beating pass
//! to the others ([`mailroom_core::cluster`]).

use std::time::Duration;

use mailroom_core::cluster::{Cluster, HEARTBEAT, NodeBeat};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::stopped;

/// Unix seconds now.
pub(crate) fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// Records the node's first beat, warning when a live node of the same name
/// is already on the store (two nodes sharing a name would send each
/// other's queue entries twice).
pub(crate) async fn first_beat(cluster: &Cluster, node: &NodeBeat) -> anyhow::Result<()> {
    let now = now();
    if let Some(twin) = cluster.nodes().await?.into_iter().find(|n| n.name == node.name && n.is_up(now)) {
        tracing::warn!(
            node = node.name,
            beat_seconds_ago = now - twin.heartbeat_at,
            "another node with this name is running on this store; give each node its own [cluster] node_name"
        );
    }
    cluster.beat(node, now).await?;
    Ok(())
}

/// Beats every [`HEARTBEAT`] until shutdown. A beat that fails is logged;
/// the next one tries again (the node goes on serving meanwhile).
pub(crate) fn spawn(cluster: Cluster, node: NodeBeat, mut shutdown: watch::Receiver<bool>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(HEARTBEAT);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut failing = false;
        loop {
            tokio::select! {
                biased;
                _ = stopped(&mut shutdown) => break,
                _ = every.tick() => {
                    match tokio::time::timeout(HEARTBEAT + Duration::from_secs(5), cluster.beat(&node, now())).await {
                        Ok(Ok(())) => failing = false,
                        Ok(Err(err)) if !failing => {
                            failing = true;
                            tracing::error!(error = %err, "heartbeat not recorded; trying again");
                        }
                        Err(_) if !failing => {
                            failing = true;
                            tracing::error!("heartbeat not recorded in time; trying again");
                        }
                        _ => {}
                    }
                }
            }
        }
    })
}
