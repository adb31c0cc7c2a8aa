//! `mailroom status`: the store this data directory names and the nodes
//! running on it — each `mailroom serve` records itself there and beats
//! every few seconds, so one command on any node shows them all.

use std::process::ExitCode;

use anyhow::Result;
use mailroom_core::cluster::NodeStatus;
use mailroom_exo::{PsObject, PsValue};

use super::{Env, ok};

pub async fn run(env: &Env) -> Result<ExitCode> {
    let config = mailroom_server::Config::load(&env.data, None)?;
    let location = config.store_location(&env.data)?;
    env.require_initialized()?;
    let cluster = mailroom_server::open_cluster(&env.data, &config)?;
    let now = chrono::Utc::now().timestamp();
    let nodes = cluster.nodes().await.map_err(super::core)?;
    env.note(&format!("Store: {location}"));
    if nodes.is_empty() {
        env.note("No node has run on this store yet: start one with 'mailroom serve'.");
    }
    env.print(&nodes.iter().map(|node| node_object(node, now)).collect::<Vec<_>>());
    ok()
}

/// One node as `mailroom status` shows it.
fn node_object(node: &NodeStatus, now: i64) -> PsObject {
    let when = |unix: i64| {
        chrono::DateTime::from_timestamp(unix, 0)
            .map(|d| d.format("%Y-%m-%d %H:%M:%S UTC").to_string())
            .unwrap_or_default()
    };
    PsObject::new(
        "Node",
        node.name.clone(),
        vec![
            ("Name", PsValue::text(node.name.clone())),
            ("State", PsValue::text(if node.is_up(now) { "Up" } else { "Down" })),
            ("LastHeartbeat", PsValue::text(when(node.heartbeat_at))),
            ("SecondsSinceHeartbeat", PsValue::Int((now - node.heartbeat_at).max(0))),
            ("Started", PsValue::text(when(node.started_at))),
            ("Version", PsValue::text(node.version.clone())),
            ("Listeners", PsValue::text(node.details.clone())),
        ],
        &["Name", "State", "LastHeartbeat", "Started", "Version", "Listeners"],
    )
}
