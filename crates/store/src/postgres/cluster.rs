//! [`ClusterStore`] on PostgreSQL: the nodes' heartbeats.

use async_trait::async_trait;
use mailroom_core::cluster::{NodeBeat, NodeStatus};
use mailroom_core::store::{ClusterStore, StoreError, StoreResult};

use super::{PgStore, exec, rows};

#[async_trait]
impl ClusterStore for PgStore {
    async fn heartbeat(&self, node: &NodeBeat, now: i64) -> StoreResult<()> {
        let client = self.inner.beats.get().await.map_err(|e| StoreError::Backend(Box::new(e)))?;
        exec(
            &client,
            "INSERT INTO nodes (name, started_at, heartbeat_at, version, details) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (name) DO UPDATE SET started_at = excluded.started_at,
                 heartbeat_at = excluded.heartbeat_at, version = excluded.version, details = excluded.details",
            &[&node.name, &node.started_at, &now, &node.version, &node.details],
        )
        .await?;
        Ok(())
    }

    async fn nodes(&self) -> StoreResult<Vec<NodeStatus>> {
        let client = self.client().await?;
        let found = rows(
            &client,
            "SELECT name, started_at, heartbeat_at, version, details FROM nodes ORDER BY name COLLATE \"C\"",
            &[],
        )
        .await?;
        Ok(found
            .iter()
            .map(|r| NodeStatus {
                name: r.get(0),
                started_at: r.get(1),
                heartbeat_at: r.get(2),
                version: r.get(3),
                details: r.get(4),
            })
            .collect())
    }

    async fn forget_node(&self, name: &str, stale_before: i64) -> StoreResult<bool> {
        let client = self.client().await?;
        let gone =
            exec(&client, "DELETE FROM nodes WHERE name = $1 AND heartbeat_at < $2", &[&name, &stale_before])
                .await?;
        Ok(gone > 0)
    }
}
