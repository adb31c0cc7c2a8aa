//! Conformance tests of the nodes' heartbeats and of the outbound queue
//! shared by several nodes: each due entry is claimed by one live node, and
//! a node that stops beating lets go of what it held.

use std::collections::BTreeSet;
use std::sync::Arc;

use mailroom_core::cluster::{DOWN_AFTER, NodeBeat};
use mailroom_core::mail::{Flags, MessageSummary, SpecialUse};
use mailroom_core::store::{DeliveryTarget, FolderRef, NewQueued, Store};

use super::{addr, create, mailbox, seed_domain};

fn beat(name: &str, started_at: i64) -> NodeBeat {
    NodeBeat { name: name.into(), started_at, version: "test".into(), details: format!("{name} listeners") }
}

pub async fn nodes_beat_and_are_listed(store: Arc<dyn Store>) {
    assert!(store.nodes().await.unwrap().is_empty());
    store.heartbeat(&beat("b", 90), 100).await.unwrap();
    store.heartbeat(&beat("a", 95), 100).await.unwrap();
    store.heartbeat(&beat("a", 95), 105).await.unwrap();
    let nodes = store.nodes().await.unwrap();
    assert_eq!(nodes.iter().map(|n| n.name.as_str()).collect::<Vec<_>>(), ["a", "b"]);
    assert_eq!((nodes[0].started_at, nodes[0].heartbeat_at), (95, 105), "the latest beat counts");
    assert_eq!(nodes[1].details, "b listeners");
    assert!(nodes[0].is_up(105 + DOWN_AFTER));
    assert!(!nodes[0].is_up(106 + DOWN_AFTER));
    // A restart replaces the start time.
    store.heartbeat(&beat("b", 200), 200).await.unwrap();
    assert_eq!(store.nodes().await.unwrap()[1].started_at, 200);
    // A node still beating isn't forgotten; one that stopped is.
    assert!(!store.forget_node("b", 150).await.unwrap());
    assert!(store.forget_node("a", 150).await.unwrap());
    assert!(!store.forget_node("nobody", 150).await.unwrap());
    assert_eq!(store.nodes().await.unwrap().iter().map(|n| n.name.as_str()).collect::<Vec<_>>(), ["b"]);
}

pub async fn queue_entries_are_claimed_by_one_live_node(store: Arc<dyn Store>) {
    seed_domain(&*store).await;
    let info = create(&*store, "Info", "info@contoso.com").await;
    let remote = |r: &str, at: i64| NewQueued {
        envelope_from: Some(addr("info@contoso.com")),
        recipient: addr(r),
        next_attempt: at,
    };
    let target = DeliveryTarget {
        mailbox: mailbox(&info),
        folder: FolderRef::Special(SpecialUse::Inbox),
        flags: Flags::default(),
    };
    store
        .deliver_and_queue(
            b"Subject: out\r\n\r\nx\r\n".to_vec(),
            &MessageSummary::default(),
            0,
            &[target],
            &[
                remote("one@fabrikam.example", 100),
                remote("two@fabrikam.example", 100),
                remote("three@fabrikam.example", 100),
                remote("later@fabrikam.example", 10_000),
            ],
        )
        .await
        .unwrap();
    let ids: Vec<i64> = store.queued(None).await.unwrap().iter().map(|e| e.id).collect();
    let (one, two, three) = (ids[0], ids[1], ids[2]);
    let claim = |node: &'static str, now: i64, limit: usize| {
        let store = store.clone();
        async move {
            store
                .claim_due(node, now, now - DOWN_AFTER, limit)
                .await
                .unwrap()
                .iter()
                .map(|e| e.id)
                .collect::<Vec<_>>()
        }
    };
    store.heartbeat(&beat("a", 1000), 1000).await.unwrap();
    store.heartbeat(&beat("b", 1000), 1000).await.unwrap();
    // Oldest first, at most the limit; what isn't due stays.
    assert_eq!(claim("a", 1000, 2).await, [one, two]);
    // What a live node holds, another doesn't get.
    assert_eq!(claim("b", 1000, 10).await, [three]);
    // A node claims again what it holds (a pass after a restart).
    assert_eq!(claim("a", 1001, 10).await, [one, two]);
    // A retry lets go: any node takes the entry when it is due again.
    store.queue_retry(one, 5000, "451 later", false).await.unwrap();
    store.heartbeat(&beat("a", 1000), 6000).await.unwrap();
    store.heartbeat(&beat("b", 1000), 6000).await.unwrap();
    assert_eq!(claim("b", 6000, 10).await, [one, three]);
    // A stops beating: once it is taken as gone, B takes over what it held.
    store.heartbeat(&beat("b", 1000), 6000 + DOWN_AFTER).await.unwrap();
    assert_eq!(claim("b", 6000 + DOWN_AFTER, 10).await, [one, three], "not before A is gone");
    store.heartbeat(&beat("b", 1000), 6001 + DOWN_AFTER).await.unwrap();
    assert_eq!(claim("b", 6001 + DOWN_AFTER, 10).await, [one, two, three]);
    // A removed entry is claimed by nobody.
    assert!(store.queue_remove(two).await.unwrap());
    assert_eq!(claim("b", 6002 + DOWN_AFTER, 10).await, [one, three]);
}

pub async fn concurrent_claims_never_share_an_entry(store: Arc<dyn Store>) {
    seed_domain(&*store).await;
    let info = create(&*store, "Info", "info@contoso.com").await;
    let queue: Vec<NewQueued> = (0..40)
        .map(|n| NewQueued {
            envelope_from: Some(addr("info@contoso.com")),
            recipient: addr(&format!("r{n}@fabrikam.example")),
            next_attempt: 0,
        })
        .collect();
    assert!(mailbox(&info).0 > 0);
    store
        .deliver_and_queue(b"Subject: many\r\n\r\nx\r\n".to_vec(), &MessageSummary::default(), 0, &[], &queue)
        .await
        .unwrap();
    for node in ["a", "b", "c", "d"] {
        store.heartbeat(&beat(node, 1), 100).await.unwrap();
    }
    // Four nodes claim a few at a time, all at once, and "send" (remove)
    // what they got, until nothing is left. A removal that finds its entry
    // gone would mean two nodes held it.
    let mut tasks = Vec::new();
    for node in ["a", "b", "c", "d"] {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let got = store.claim_due(node, 100, 100 - DOWN_AFTER, 3).await.unwrap();
                if got.is_empty() {
                    return mine;
                }
                for entry in got {
                    assert!(store.queue_remove(entry.id).await.unwrap(), "{node} sent {} alone", entry.id);
                    mine.push(entry.id);
                }
            }
        }));
    }
    let mut seen = BTreeSet::new();
    let mut total = 0;
    for task in tasks {
        let mine = task.await.unwrap();
        total += mine.len();
        seen.extend(mine);
    }
    assert_eq!(seen.len(), 40, "every entry claimed");
    assert_eq!(total, 40, "and none by two nodes");
}
