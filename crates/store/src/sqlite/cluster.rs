//! [`ClusterStore`] on SQLite: one machine, but the same record of the
//! node (or nodes, for a test running two servers on one file) and its beats.

use async_trait::async_trait;
use mailroom_core::cluster::{NodeBeat, NodeStatus};
use mailroom_core::store::{ClusterStore, StoreResult};
use rusqlite::params;

use super::{CachedSql, SqliteStore, backend};

#[async_trait]
impl ClusterStore for SqliteStore {
    async fn heartbeat(&self, node: &NodeBeat, now: i64) -> StoreResult<()> {
        let node = node.clone();
        self.write(move |conn| {
            conn.exec(
                "INSERT INTO nodes (name, started_at, heartbeat_at, version, details) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (name) DO UPDATE SET started_at = excluded.started_at,
                     heartbeat_at = excluded.heartbeat_at, version = excluded.version, details = excluded.details",
                params![node.name, node.started_at, now, node.version, node.details],
            )
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn nodes(&self) -> StoreResult<Vec<NodeStatus>> {
        self.read(|conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT name, started_at, heartbeat_at, version, details FROM nodes ORDER BY name",
                )
                .map_err(backend)?;
            let rows = stmt
                .query_map([], |r| {
                    Ok(NodeStatus {
                        name: r.get(0)?,
                        started_at: r.get(1)?,
                        heartbeat_at: r.get(2)?,
                        version: r.get(3)?,
                        details: r.get(4)?,
                    })
                })
                .map_err(backend)?;
            rows.map(|r| r.map_err(backend)).collect()
        })
        .await
    }

    async fn forget_node(&self, name: &str, stale_before: i64) -> StoreResult<bool> {
        let name = name.to_string();
        self.write(move |conn| {
            let gone = conn
                .exec("DELETE FROM nodes WHERE name = ?1 AND heartbeat_at < ?2", params![name, stale_before])
                .map_err(backend)?;
            Ok(gone > 0)
        })
        .await
    }
}
