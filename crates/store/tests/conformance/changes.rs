//! Conformance tests of the change log and its feed: every backend records
//! changes in the transaction that makes them, in commit order, wakes
//! subscribers in other processes, catches up late ones and prunes.
//!
//! A backend's factory gives a store, a second handle on the same data as
//! another process would open it, and a feed over the first.

use std::sync::Arc;
use std::time::Duration;

use mailroom_core::change::{Change, ChangeFeed, ChangeRecord, FeedRead};
use mailroom_core::directory::model::{Recipient, RecipientKind};
use mailroom_core::mail::{Flags, MessageSummary, SpecialUse, SystemFlag};
use mailroom_core::permissions::Right;
use mailroom_core::store::{DeliveryTarget, FlagChange, FolderRef, Store};
use mailroom_types::{ModSeq, Uid};

use super::{BY, create, create_kind, entry, mailbox, seed_domain};

/// What a backend gives these tests.
pub struct Backend {
    pub store: Arc<dyn Store>,
    /// The same data opened again, as the admin CLI opens it beside the server.
    pub other_process: Arc<dyn Store>,
    pub feed: Arc<dyn ChangeFeed>,
    /// Starts another feed over the same data (a late subscriber's process).
    pub new_feed: Box<dyn Fn() -> Arc<dyn ChangeFeed> + Send + Sync>,
}

fn inbox(m: mailroom_types::MailboxId) -> DeliveryTarget {
    DeliveryTarget { mailbox: m, folder: FolderRef::Special(SpecialUse::Inbox), flags: Flags::default() }
}

async fn deliver(
    store: &dyn Store,
    m: mailroom_types::MailboxId,
    subject: &str,
) -> mailroom_core::store::Delivered {
    let bytes = format!("Subject: {subject}\r\n\r\nx\r\n").into_bytes();
    let (_, delivered) = store.deliver(bytes, &MessageSummary::default(), 0, &[inbox(m)]).await.unwrap();
    delivered[0]
}

/// contoso.com with the shared mailbox Info and the user Alice.
async fn info_and_alice(store: &dyn Store) -> (Recipient, Recipient) {
    seed_domain(store).await;
    let info = create(store, "Info", "info@contoso.com").await;
    let alice = create_kind(store, RecipientKind::UserMailbox, "Alice", "alice@contoso.com").await;
    (info, alice)
}

/// Every change after `after`, reading until the feed has no more.
async fn read_all(feed: &dyn ChangeFeed, mut after: u64) -> Vec<ChangeRecord> {
    let mut out = Vec::new();
    loop {
        match feed.read_after(after).await.unwrap() {
            FeedRead::Changes(records) if records.is_empty() => return out,
            FeedRead::Changes(records) => {
                after = records.last().unwrap().seq;
                out.extend(records);
            }
            FeedRead::Resync { head } => panic!("unexpected resync at {head}"),
        }
    }
}

pub async fn changes_are_logged_in_commit_order(backend: Backend) {
    let Backend { store, feed, .. } = backend;
    let (info, alice) = info_and_alice(&*store).await;
    let start = feed.refresh().await.unwrap();
    let first = deliver(&*store, mailbox(&info), "one").await;
    let seen = Flags::default().with(SystemFlag::Seen);
    let flagged =
        store.store_flags(first.folder, &[first.uid], FlagChange::Add, &seen, None, BY).await.unwrap();
    let deleted = Flags::default().with(SystemFlag::Deleted);
    store.store_flags(first.folder, &[first.uid], FlagChange::Add, &deleted, None, BY).await.unwrap();
    let expunged = store.expunge(first.folder, None, BY).await.unwrap();
    store.grant(&[entry(&info, &alice, Right::FullAccess, true)]).await.unwrap();
    feed.refresh().await.unwrap();
    let records = read_all(&*feed, start).await;
    assert!(records.windows(2).all(|w| w[0].seq < w[1].seq), "sequences only grow: {records:?}");
    let changes: Vec<Change> = records.into_iter().map(|r| r.change).collect();
    let (m, f, uid) = (mailbox(&info), first.folder, first.uid);
    assert_eq!(
        changes,
        vec![
            Change::MessageAdded { mailbox: m, folder: f, uid, modseq: first.modseq },
            Change::FlagsChanged { mailbox: m, folder: f, uid, modseq: flagged.updated[0].modseq },
            Change::FlagsChanged {
                mailbox: m,
                folder: f,
                uid,
                modseq: ModSeq(flagged.updated[0].modseq.0 + 1)
            },
            Change::MessageExpunged { mailbox: m, folder: f, uid, modseq: expunged.modseq },
            Change::PermissionsChanged { recipient: info.id, trustee: alice.id },
        ]
    );
}

pub async fn a_failed_write_logs_nothing(backend: Backend) {
    let Backend { store, feed, .. } = backend;
    seed_domain(&*store).await;
    let info = create(&*store, "Info", "info@contoso.com").await;
    let start = feed.refresh().await.unwrap();
    // The second target doesn't exist: the whole delivery fails, and with
    // it the change the first target's message would have made.
    let missing = DeliveryTarget {
        mailbox: mailbox(&info),
        folder: FolderRef::Id(mailroom_types::FolderId(999_999)),
        flags: Flags::default(),
    };
    let failed =
        store.deliver(b"x".to_vec(), &MessageSummary::default(), 0, &[inbox(mailbox(&info)), missing]).await;
    assert!(failed.is_err());
    assert_eq!(feed.refresh().await.unwrap(), start, "nothing was committed, nothing is logged");
}

pub async fn another_process_wakes_the_feed(backend: Backend) {
    let Backend { store, other_process, feed, .. } = backend;
    let (info, alice) = info_and_alice(&*store).await;
    store.grant(&[entry(&info, &alice, Right::FullAccess, true)]).await.unwrap();
    let start = feed.refresh().await.unwrap();
    // No refresh from here: the feed must notice the other writer by itself.
    other_process.revoke(&[(info.id, alice.id, Right::FullAccess)]).await.unwrap();
    tokio::time::timeout(Duration::from_secs(5), feed.wait_after(start))
        .await
        .expect("the feed woke for another process's commit");
    let records = read_all(&*feed, start).await;
    assert_eq!(
        records.iter().map(|r| &r.change).collect::<Vec<_>>(),
        [&Change::PermissionsChanged { recipient: info.id, trustee: alice.id }]
    );
}

pub async fn a_late_subscriber_catches_up_from_the_log(backend: Backend) {
    let Backend { store, feed, new_feed, .. } = backend;
    seed_domain(&*store).await;
    let info = create(&*store, "Info", "info@contoso.com").await;
    let start = feed.refresh().await.unwrap();
    let mut expected = Vec::new();
    for n in 0..5 {
        let d = deliver(&*store, mailbox(&info), &format!("m{n}")).await;
        expected.push(Change::MessageAdded {
            mailbox: d.mailbox,
            folder: d.folder,
            uid: d.uid,
            modseq: d.modseq,
        });
    }
    // A feed started now holds nothing older in memory: it reads the table.
    let late = new_feed();
    let records = read_all(&*late, start).await;
    assert_eq!(records.into_iter().map(|r| r.change).collect::<Vec<_>>(), expected);
}

pub async fn pruned_changes_ask_for_a_resync(backend: Backend) {
    let Backend { store, feed, new_feed, .. } = backend;
    seed_domain(&*store).await;
    let info = create(&*store, "Info", "info@contoso.com").await;
    let start = feed.refresh().await.unwrap();
    deliver(&*store, mailbox(&info), "old").await;
    let head = feed.refresh().await.unwrap();
    assert!(head > start);
    let future = chrono::Utc::now().timestamp() + 60;
    assert!(feed.prune(future).await.unwrap() > 0, "everything was older than a minute from now");
    // Someone behind the pruned rows is told to resynchronise, not given a gap.
    let late = new_feed();
    assert_eq!(late.head(), head, "the sequence never goes back, even with the log emptied");
    assert_eq!(late.read_after(start).await.unwrap(), FeedRead::Resync { head });
    // New changes carry on from the head.
    let d = deliver(&*store, mailbox(&info), "new").await;
    late.refresh().await.unwrap();
    let records = read_all(&*late, head).await;
    assert!(records[0].seq > head);
    assert!(records.iter().any(|r| r.change
        == Change::MessageAdded { mailbox: d.mailbox, folder: d.folder, uid: d.uid, modseq: d.modseq }));
}

pub async fn concurrent_deliveries_to_one_folder_lose_nothing(backend: Backend) {
    let Backend { store, other_process, feed, .. } = backend;
    seed_domain(&*store).await;
    let info = create(&*store, "Info", "info@contoso.com").await;
    let start = feed.refresh().await.unwrap();
    // Two writers (as two processes) deliver to one Inbox at the same time.
    let mut tasks = Vec::new();
    for n in 0..40 {
        let writer = if n % 2 == 0 { store.clone() } else { other_process.clone() };
        let m = mailbox(&info);
        tasks.push(tokio::spawn(async move { deliver(&*writer, m, &format!("m{n}")).await }));
    }
    let mut delivered = Vec::new();
    for task in tasks {
        delivered.push(task.await.unwrap());
    }
    let folder = delivered[0].folder;
    let messages = store.messages(folder).await.unwrap();
    assert_eq!(messages.len(), 40, "none lost");
    assert_eq!(messages.iter().map(|m| m.uid.0).collect::<Vec<_>>(), (1..=40).collect::<Vec<_>>());
    let mut modseqs: Vec<u64> = messages.iter().map(|m| m.modseq.0).collect();
    assert!(modseqs.windows(2).all(|w| w[0] < w[1]), "MODSEQs grow with UIDs: {modseqs:?}");
    modseqs.dedup();
    assert_eq!(modseqs.len(), 40);
    feed.refresh().await.unwrap();
    let added = read_all(&*feed, start)
        .await
        .into_iter()
        .filter_map(|r| match r.change {
            Change::MessageAdded { uid, .. } => Some(uid),
            _ => None,
        })
        .collect::<Vec<Uid>>();
    assert_eq!(
        added.iter().map(|u| u.0).collect::<Vec<_>>(),
        (1..=40).collect::<Vec<_>>(),
        "logged in commit order"
    );
}

pub async fn removing_a_group_logs_what_it_took_with_it(backend: Backend) {
    let Backend { store, feed, .. } = backend;
    let (info, alice) = info_and_alice(&*store).await;
    let mut team = super::new_mailbox(RecipientKind::SecurityGroup, "Team", "team@contoso.com");
    team.members = vec![alice.id];
    let team = store.create_recipient(team).await.unwrap();
    store.grant(&[entry(&info, &team, Right::FullAccess, true)]).await.unwrap();
    let start = feed.refresh().await.unwrap();
    // The membership and the grant go with the group (foreign-key cascades):
    // a session that held Full Access through it must hear of both.
    store.delete_recipient(team.id).await.unwrap();
    feed.refresh().await.unwrap();
    let changes: Vec<Change> = read_all(&*feed, start).await.into_iter().map(|r| r.change).collect();
    for expected in [
        Change::RecipientRemoved(team.id),
        Change::GroupMembershipChanged { group: team.id, member: alice.id },
        Change::PermissionsChanged { recipient: info.id, trustee: team.id },
    ] {
        assert!(changes.contains(&expected), "{expected:?} in {changes:?}");
    }
}

pub async fn subscribing_and_unsubscribing_are_logged(backend: Backend) {
    let Backend { store, feed, .. } = backend;
    let (_, alice) = info_and_alice(&*store).await;
    let start = feed.refresh().await.unwrap();
    assert!(store.set_subscribed(alice.id, "Projects", true).await.unwrap());
    // Nothing changed, nothing logged.
    assert!(!store.set_subscribed(alice.id, "Projects", true).await.unwrap());
    assert!(store.set_subscribed(alice.id, "Projects", false).await.unwrap());
    feed.refresh().await.unwrap();
    let changes: Vec<Change> = read_all(&*feed, start).await.into_iter().map(|r| r.change).collect();
    assert_eq!(changes, [Change::SubscriptionsChanged(alice.id), Change::SubscriptionsChanged(alice.id)]);
}
