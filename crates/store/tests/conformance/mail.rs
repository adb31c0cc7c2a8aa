//! Conformance tests of `MailStore`.

use std::sync::Arc;

use mailroom_core::directory::model::RecipientKind;
use mailroom_core::mail::{Flags, MessageSummary, SpecialUse};
use mailroom_core::store::{DeliveryTarget, FolderRef, Store, StoreError};
use mailroom_types::{MailboxId, Uid};

use super::{create, create_kind, mailbox, seed_domain};

fn inbox(m: MailboxId) -> DeliveryTarget {
    DeliveryTarget { mailbox: m, folder: FolderRef::Special(SpecialUse::Inbox), flags: Flags::default() }
}

fn message(subject: &str, body_len: usize) -> Vec<u8> {
    let mut m = format!("From: a@fabrikam.com\\r\\nSubject: {subject}\\r\\n\\r\\n").into_bytes();
    m.extend(std::iter::repeat_n(b'x', body_len));
    m
}

fn summary(subject: &str) -> MessageSummary {
    let mut s = MessageSummary::default();
    s.envelope.subject = Some(subject.into());
    s
}

pub async fn new_mailboxes_get_the_default_folders(store: Arc<dyn Store>) {
    seed_domain(&*store).await;
    let sales = create(&*store, "Sales", "sales@contoso.com").await;
    let folders = store.folders(mailbox(&sales)).await.unwrap();
    let names: Vec<&str> = folders.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["Inbox", "Archive", "Deleted Items", "Drafts", "Junk Email", "Sent Items"]);
    assert_eq!(folders[0].special_use, Some(SpecialUse::Inbox));
    assert!(folders.iter().all(|f| f.special_use.is_some() && f.uid_next == Uid(1) && f.messages == 0));
    let mut validities: Vec<u32> = folders.iter().map(|f| f.uid_validity).collect();
    validities.dedup();
    assert_eq!(validities.len(), 6, "each folder has its own UIDVALIDITY");
    assert_eq!(store.usage(mailbox(&sales)).await.unwrap().bytes, 0);
    let team = create_kind(&*store, RecipientKind::SecurityGroup, "Team", "team@contoso.com").await;
    assert!(store.folders(MailboxId(team.id.0)).await.unwrap().is_empty(), "groups have no folders");
}

pub async fn one_body_serves_every_target(store: Arc<dyn Store>) {
    seed_domain(&*store).await;
    let a = create(&*store, "A", "a@contoso.com").await;
    let b = create(&*store, "B", "b@contoso.com").await;
    let bytes = message("hello", 100);
    let (blob, delivered) = store
        .deliver(bytes.clone(), &summary("hello"), 1_800_000_000, &[inbox(mailbox(&a)), inbox(mailbox(&b))])
        .await
        .unwrap();
    assert_eq!(delivered.len(), 2);
    assert!(
        delivered
            .iter()
            .all(|d| d.uid == Uid(1) && d.usage.bytes == bytes.len() as u64 && d.usage.messages == 1)
    );
    for d in &delivered {
        let messages = store.messages(d.folder).await.unwrap();
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0].blob, blob);
        assert_eq!(messages[0].internal_date, 1_800_000_000);
        assert_eq!(messages[0].size, bytes.len() as u64);
    }
    assert_eq!(store.read_blob(blob).await.unwrap(), bytes);
    assert_eq!(store.summary(blob).await.unwrap().envelope.subject.as_deref(), Some("hello"));
    // The same body again: still one blob.
    let (again, _) = store.deliver(bytes.clone(), &summary("hello"), 0, &[inbox(mailbox(&a))]).await.unwrap();
    assert_eq!(again, blob);
}

pub async fn uids_modseqs_and_usage_grow(store: Arc<dyn Store>) {
    seed_domain(&*store).await;
    let a = create(&*store, "A", "a@contoso.com").await;
    let mut last_modseq = 0;
    for i in 1..=3u32 {
        let (_, d) = store
            .deliver(message(&format!("m{i}"), 10), &summary("m"), 0, &[inbox(mailbox(&a))])
            .await
            .unwrap();
        assert_eq!(d[0].uid, Uid(i));
        assert!(d[0].modseq.0 > last_modseq);
        last_modseq = d[0].modseq.0;
    }
    let inbox_folder = &store.folders(mailbox(&a)).await.unwrap()[0];
    assert_eq!(inbox_folder.uid_next, Uid(4));
    assert_eq!(inbox_folder.messages, 3);
    assert_eq!(inbox_folder.highest_modseq.0, last_modseq);
    let usage = store.usage(mailbox(&a)).await.unwrap();
    assert_eq!(usage.messages, 3);
    assert_eq!(usage.bytes, inbox_folder.size);
    let flagged = DeliveryTarget {
        mailbox: mailbox(&a),
        folder: FolderRef::Special(SpecialUse::Sent),
        flags: Flags::default().with(mailroom_core::mail::SystemFlag::Seen),
    };
    let (_, d) = store.deliver(message("sent", 5), &summary("s"), 0, &[flagged]).await.unwrap();
    let sent = store.messages(d[0].folder).await.unwrap();
    assert!(sent[0].flags.has(mailroom_core::mail::SystemFlag::Seen));
}

pub async fn a_missing_folder_fails_the_whole_delivery(store: Arc<dyn Store>) {
    seed_domain(&*store).await;
    let a = create(&*store, "A", "a@contoso.com").await;
    let team = create_kind(&*store, RecipientKind::SecurityGroup, "Team", "team@contoso.com").await;
    let bytes = message("lost", 10);
    let err = store
        .deliver(bytes.clone(), &summary("lost"), 0, &[inbox(mailbox(&a)), inbox(MailboxId(team.id.0))])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
    assert_eq!(store.usage(mailbox(&a)).await.unwrap().messages, 0, "the valid target got nothing");
    assert!(store.folders(mailbox(&a)).await.unwrap()[0].messages == 0);
    let (blob, _) = store.deliver(bytes, &summary("lost"), 0, &[]).await.unwrap();
    assert!(matches!(store.read_blob(blob).await, Err(StoreError::NotFound(_))), "no orphan body");
}

pub async fn large_bodies_round_trip_through_files(store: Arc<dyn Store>) {
    seed_domain(&*store).await;
    let a = create(&*store, "A", "a@contoso.com").await;
    let b = create(&*store, "B", "b@contoso.com").await;
    let big: Vec<u8> = message("big", 600 * 1024)
        .into_iter()
        .enumerate()
        .map(|(i, c)| if i > 40 { (i % 251) as u8 } else { c })
        .collect();
    let (blob, _) = store.deliver(big.clone(), &summary("big"), 0, &[inbox(mailbox(&a))]).await.unwrap();
    let (again, _) = store.deliver(big.clone(), &summary("big"), 0, &[inbox(mailbox(&b))]).await.unwrap();
    assert_eq!(blob, again);
    assert_eq!(store.read_blob(blob).await.unwrap(), big);
}

pub async fn sweeping_removes_only_unreferenced_bodies(store: Arc<dyn Store>) {
    seed_domain(&*store).await;
    let a = create(&*store, "A", "a@contoso.com").await;
    let b = create(&*store, "B", "b@contoso.com").await;
    let (only_a, _) = store.deliver(message("a", 10), &summary("a"), 0, &[inbox(mailbox(&a))]).await.unwrap();
    let (big_a, _) =
        store.deliver(message("big", 400 * 1024), &summary("big"), 0, &[inbox(mailbox(&a))]).await.unwrap();
    let (shared, _) = store
        .deliver(message("both", 10), &summary("both"), 0, &[inbox(mailbox(&a)), inbox(mailbox(&b))])
        .await
        .unwrap();
    assert_eq!(store.sweep_blobs(0).await.unwrap(), 0, "everything is referenced");
    store.delete_recipient(a.id).await.unwrap();
    assert_eq!(store.sweep_blobs(3600).await.unwrap(), 0, "within the grace period nothing goes");
    assert_eq!(store.sweep_blobs(0).await.unwrap(), 2);
    assert!(matches!(store.read_blob(only_a).await, Err(StoreError::NotFound(_))));
    assert!(matches!(store.read_blob(big_a).await, Err(StoreError::NotFound(_))));
    assert_eq!(store.read_blob(shared).await.unwrap(), message("both", 10), "still used by B");
}

pub async fn the_quota_warning_is_claimed_once(store: Arc<dyn Store>) {
    seed_domain(&*store).await;
    let a = create(&*store, "A", "a@contoso.com").await;
    let (first, second) =
        tokio::join!(store.claim_quota_warning(mailbox(&a)), store.claim_quota_warning(mailbox(&a)));
    assert_ne!(first.unwrap(), second.unwrap(), "exactly one claim wins");
    assert!(!store.claim_quota_warning(mailbox(&a)).await.unwrap());
}

pub async fn conversion_keeps_folders_and_messages(store: Arc<dyn Store>) {
    seed_domain(&*store).await;
    let a = create_kind(&*store, RecipientKind::UserMailbox, "A", "a@contoso.com").await;
    store.deliver(message("kept", 10), &summary("kept"), 0, &[inbox(mailbox(&a))]).await.unwrap();
    let before = store.folders(mailbox(&a)).await.unwrap();
    store.convert_mailbox(mailbox(&a), RecipientKind::SharedMailbox, None, true).await.unwrap();
    assert_eq!(store.folders(mailbox(&a)).await.unwrap(), before);
    assert_eq!(store.usage(mailbox(&a)).await.unwrap().messages, 1);
}
