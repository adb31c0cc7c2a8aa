//! Conformance tests of `MailStore`.

use std::sync::Arc;

use mailroom_core::directory::model::RecipientKind;
use mailroom_core::mail::{Flags, MessageSummary, SpecialUse};
use mailroom_core::store::{DeliveryTarget, FolderRef, Store, StoreError};
use mailroom_types::{MailboxId, Uid};

use super::{BY, create, create_kind, mailbox, seed_domain};

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
    assert_eq!(
        names,
        ["Inbox", "Archive", "Deleted Items", "Drafts", "Junk Email", "Recoverable Items", "Sent Items"]
    );
    assert_eq!(folders[0].special_use, Some(SpecialUse::Inbox));
    assert!(folders.iter().all(|f| f.special_use.is_some() && f.uid_next == Uid(1) && f.messages == 0));
    let mut validities: Vec<u32> = folders.iter().map(|f| f.uid_validity).collect();
    validities.sort_unstable();
    validities.dedup();
    assert_eq!(validities.len(), 7, "each folder has its own UIDVALIDITY");
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
    let folder = delivered[0].folder;
    let summaries = store.message_summaries(folder, &[delivered[0].uid]).await.unwrap();
    assert_eq!(summaries[0].as_ref().unwrap().envelope.subject.as_deref(), Some("hello"));
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

pub async fn messages_are_read_by_folder_and_uid(store: Arc<dyn Store>) {
    seed_domain(&*store).await;
    let a = create(&*store, "A", "a@contoso.com").await;
    let b = create(&*store, "B", "b@contoso.com").await;
    let (_, in_a) =
        store.deliver(message("for a", 50), &summary("for a"), 0, &[inbox(mailbox(&a))]).await.unwrap();
    let (_, in_b) =
        store.deliver(message("for b", 50), &summary("for b"), 0, &[inbox(mailbox(&b))]).await.unwrap();
    let (folder_a, folder_b) = (in_a[0].folder, in_b[0].folder);
    assert_eq!(store.message_body(folder_a, Uid(1)).await.unwrap(), message("for a", 50));
    // A UID is a message of the folder named, never of another one.
    assert!(matches!(store.message_body(folder_a, Uid(2)).await, Err(StoreError::NotFound(_))));
    assert_eq!(store.message_body(folder_b, Uid(1)).await.unwrap(), message("for b", 50));
    let summaries = store.message_summaries(folder_a, &[Uid(1), Uid(9)]).await.unwrap();
    assert_eq!(summaries[0].as_ref().unwrap().envelope.subject.as_deref(), Some("for a"));
    assert!(summaries[1].is_none(), "a message not (or no longer) there");
    let ranges =
        store.message_ranges(folder_a, &[(Uid(1), 0..8), (Uid(9), 0..8), (Uid(1), 2..4)]).await.unwrap();
    assert_eq!(ranges, [Some(b"From: a@".to_vec()), None, Some(b"om".to_vec())]);
}

pub async fn message_lists_are_paged_in_arrival_order(store: Arc<dyn Store>) {
    use mailroom_core::mail::{MessageFilter, SystemFlag};
    seed_domain(&*store).await;
    let a = create(&*store, "A", "a@contoso.com").await;
    let mut folder = None;
    // Arrival dates out of UID order: the list goes by arrival.
    for (n, date) in [(1, 300), (2, 100), (3, 200), (4, 400), (5, 500)] {
        let flags = match n {
            2 => Flags::default().with(SystemFlag::Seen).with(SystemFlag::Flagged),
            4 | 5 => Flags::default().with(SystemFlag::Seen),
            _ => Flags::default(),
        };
        let target = DeliveryTarget { flags, ..inbox(mailbox(&a)) };
        let (_, delivered) =
            store.deliver(message(&format!("m{n}"), 10), &summary("m"), date, &[target]).await.unwrap();
        folder = Some(delivered[0].folder);
    }
    let folder = folder.unwrap();
    let uids = |page: &(usize, Vec<mailroom_core::mail::StoredMessage>)| {
        page.1.iter().map(|m| m.uid.0).collect::<Vec<_>>()
    };
    let newest = store.message_page(folder, MessageFilter::All, true, 0, 2).await.unwrap();
    assert_eq!((newest.0, uids(&newest)), (5, vec![5, 4]));
    let next = store.message_page(folder, MessageFilter::All, true, 2, 2).await.unwrap();
    assert_eq!(uids(&next), vec![1, 3], "dates 300 then 200");
    let oldest = store.message_page(folder, MessageFilter::All, false, 0, 10).await.unwrap();
    assert_eq!(uids(&oldest), vec![2, 3, 1, 4, 5]);
    let unread = store.message_page(folder, MessageFilter::Unread, true, 0, 10).await.unwrap();
    assert_eq!((unread.0, uids(&unread)), (2, vec![1, 3]));
    let flagged = store.message_page(folder, MessageFilter::Flagged, true, 0, 10).await.unwrap();
    assert_eq!((flagged.0, uids(&flagged)), (1, vec![2]));
    assert!(store.message_page(folder, MessageFilter::All, true, 10, 10).await.unwrap().1.is_empty());
    assert_eq!(store.unseen_count(folder).await.unwrap(), 2);
}

pub async fn lists_filter_by_assignment_and_handled_state(store: Arc<dyn Store>) {
    use mailroom_core::mail::MessageFilter;
    use mailroom_core::store::FlagChange;
    seed_domain(&*store).await;
    let a = create(&*store, "A", "a@contoso.com").await;
    let folder = fill_inbox(&*store, mailbox(&a), 5).await;
    // 1 assigned to bob, 2 to alice (keywords as a client wrote them, in
    // another case), 3 handled, 4 assigned to bob and handled, 5 untouched;
    // a keyword that merely starts like another matches nothing.
    let set = |uid: u32, keywords: &[&str]| {
        let store = Arc::clone(&store);
        let flags = flags_of(&[], keywords);
        async move { store.store_flags(folder, &[Uid(uid)], FlagChange::Add, &flags, None, BY).await.unwrap() }
    };
    set(1, &["$Assigned", "$AssignedTo_bob"]).await;
    set(2, &["$assigned", "$ASSIGNEDTO_ALICE"]).await;
    set(3, &["$Handled"]).await;
    set(4, &["$Assigned", "$AssignedTo_bob", "$Handled"]).await;
    set(5, &["$AssignedTobob", "$Handledx"]).await;
    let uids = |filter: MessageFilter| {
        let store = Arc::clone(&store);
        async move {
            let (total, page) = store.message_page(folder, filter, false, 0, 10).await.unwrap();
            assert_eq!(total, page.len());
            page.iter().map(|m| m.uid.0).collect::<Vec<_>>()
        }
    };
    assert_eq!(uids(MessageFilter::AssignedTo("bob".into())).await, [1], "handled ones are done");
    assert_eq!(uids(MessageFilter::AssignedTo("Alice".into())).await, [2]);
    assert_eq!(uids(MessageFilter::Handled).await, [3, 4]);
    assert_eq!(uids(MessageFilter::Unassigned).await, [5]);
    assert!(uids(MessageFilter::AssignedTo("x' OR 1=1 --".into())).await.is_empty(), "no keyword, no match");
}

pub async fn bodies_are_read_in_ranges(store: Arc<dyn Store>) {
    seed_domain(&*store).await;
    let a = create(&*store, "A", "a@contoso.com").await;
    let small = message("small", 100);
    let big: Vec<u8> = (0..700 * 1024).map(|i| (i % 251) as u8).collect();
    for bytes in [small, big] {
        let (blob, _) = store.deliver(bytes.clone(), &summary("r"), 0, &[inbox(mailbox(&a))]).await.unwrap();
        let len = bytes.len() as u64;
        for range in [0..10, 5..len - 5, len - 3..len, 0..len] {
            let (start, end) = (range.start as usize, range.end as usize);
            assert_eq!(store.read_blob_range(blob, range).await.unwrap(), &bytes[start..end]);
        }
        // Past the end: cut there; wholly past it: nothing.
        assert_eq!(store.read_blob_range(blob, len - 2..len + 100).await.unwrap(), &bytes[bytes.len() - 2..]);
        assert!(store.read_blob_range(blob, len + 5..len + 9).await.unwrap().is_empty());
        assert!(store.read_blob_range(blob, 7..7).await.unwrap().is_empty());
    }
    let missing = mailroom_types::BlobId([7; 32]);
    assert!(matches!(store.read_blob_range(missing, 0..1).await, Err(StoreError::NotFound(_))));
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

pub async fn a_claimed_message_is_stored_once(store: Arc<dyn Store>) {
    use mailroom_core::store::{Claim, NewMessage};
    seed_domain(&*store).await;
    let a = create(&*store, "A", "a@contoso.com").await;
    let claimed = |claim: Claim| NewMessage {
        bytes: message("once", 10),
        summary: summary("once"),
        internal_date: 0,
        targets: vec![inbox(mailbox(&a))],
        queue: Vec::new(),
        claim: Some(claim),
        activity: Vec::new(),
    };
    let warning = Claim::QuotaWarning(mailbox(&a));
    let reply =
        Claim::AutoReply { mailbox: mailbox(&a), sender: "Ann@Fabrikam.example".into(), period: "p1".into() };
    assert!(!store.claimed(&warning).await.unwrap());
    // Two at once: exactly one is stored.
    let (first, second) = tokio::join!(
        store.deliver_batch(vec![claimed(warning.clone())], &[]),
        store.deliver_batch(vec![claimed(warning.clone())], &[])
    );
    let stored = [first.unwrap(), second.unwrap()].iter().filter(|b| !b[0].1.is_empty()).count();
    assert_eq!(stored, 1, "exactly one claim wins");
    assert!(store.claimed(&warning).await.unwrap());
    // Claims are separate: the reply goes once too, the sender without case.
    assert_eq!(store.deliver_batch(vec![claimed(reply.clone())], &[]).await.unwrap()[0].1.len(), 1);
    let again =
        Claim::AutoReply { mailbox: mailbox(&a), sender: "ann@fabrikam.example".into(), period: "p1".into() };
    assert!(store.claimed(&again).await.unwrap());
    assert!(store.deliver_batch(vec![claimed(again)], &[]).await.unwrap()[0].1.is_empty());
    // A new period is a new claim.
    let next =
        Claim::AutoReply { mailbox: mailbox(&a), sender: "ann@fabrikam.example".into(), period: "p2".into() };
    assert_eq!(store.deliver_batch(vec![claimed(next)], &[]).await.unwrap()[0].1.len(), 1);
    assert_eq!(store.usage(mailbox(&a)).await.unwrap().messages, 3);
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

fn flags_of(system: &[mailroom_core::mail::SystemFlag], keywords: &[&str]) -> Flags {
    let mut flags = Flags::default();
    for &f in system {
        flags = flags.with(f);
    }
    flags.keywords = keywords.iter().map(|k| k.to_string()).collect();
    flags
}

/// Delivers `n` messages to the Inbox of `m`; returns the Inbox folder id.
async fn fill_inbox(store: &dyn Store, m: MailboxId, n: u32) -> mailroom_types::FolderId {
    let mut folder = None;
    for i in 1..=n {
        let (_, d) = store
            .deliver(message(&format!("m{i}"), 10 * i as usize), &summary("m"), 0, &[inbox(m)])
            .await
            .unwrap();
        folder = Some(d[0].folder);
    }
    folder.unwrap()
}

pub async fn flags_change_with_one_new_modseq_and_unchangedsince(store: Arc<dyn Store>) {
    use mailroom_core::mail::SystemFlag::{Deleted, Flagged, Seen};
    use mailroom_core::store::FlagChange;
    seed_domain(&*store).await;
    let a = create(&*store, "A", "a@contoso.com").await;
    let folder = fill_inbox(&*store, mailbox(&a), 3).await;
    let before = store.folders(mailbox(&a)).await.unwrap()[0].highest_modseq;

    let out = store
        .store_flags(
            folder,
            &[Uid(1), Uid(2), Uid(99)],
            FlagChange::Add,
            &flags_of(&[Seen], &["$Label1"]),
            None,
            BY,
        )
        .await
        .unwrap();
    assert_eq!(
        out.updated.iter().map(|u| u.uid).collect::<Vec<_>>(),
        [Uid(1), Uid(2)],
        "missing UIDs skipped"
    );
    let modseq = out.updated[0].modseq;
    assert!(
        modseq > before && out.updated.iter().all(|u| u.modseq == modseq),
        "one new MODSEQ for the command"
    );
    assert_eq!(store.folders(mailbox(&a)).await.unwrap()[0].highest_modseq, modseq);

    // Adding what is already there changes nothing and no MODSEQ.
    let again = store
        .store_flags(folder, &[Uid(1)], FlagChange::Add, &flags_of(&[Seen], &[]), None, BY)
        .await
        .unwrap();
    assert!(again.updated.is_empty());
    assert_eq!(store.folders(mailbox(&a)).await.unwrap()[0].highest_modseq, modseq);

    let out = store
        .store_flags(folder, &[Uid(1)], FlagChange::Remove, &flags_of(&[], &["$label1"]), None, BY)
        .await
        .unwrap();
    assert!(out.updated.is_empty(), "keywords are exact strings here; case folding is IMAP's job");
    let out = store
        .store_flags(folder, &[Uid(1)], FlagChange::Replace, &flags_of(&[Flagged], &["Work"]), None, BY)
        .await
        .unwrap();
    assert_eq!(out.updated[0].flags, flags_of(&[Flagged], &["Work"]));
    let messages = store.messages(folder).await.unwrap();
    assert_eq!(messages[0].flags, flags_of(&[Flagged], &["Work"]));
    assert_eq!(messages[1].flags, flags_of(&[Seen], &["$Label1"]));
    assert!(
        messages[2].flags.system == 0 && messages[2].modseq < modseq,
        "untouched message keeps its MODSEQ"
    );

    // UNCHANGEDSINCE: message 1 changed after `modseq`, message 2 did not.
    let out = store
        .store_flags(folder, &[Uid(1), Uid(2)], FlagChange::Add, &flags_of(&[Deleted], &[]), Some(modseq), BY)
        .await
        .unwrap();
    assert_eq!(out.modified, [Uid(1)]);
    assert_eq!(out.updated.iter().map(|u| u.uid).collect::<Vec<_>>(), [Uid(2)]);
}

pub async fn expunge_removes_deleted_messages_and_remembers_them(store: Arc<dyn Store>) {
    use mailroom_core::mail::SystemFlag::Deleted;
    use mailroom_core::store::FlagChange;
    seed_domain(&*store).await;
    let a = create(&*store, "A", "a@contoso.com").await;
    let m = mailbox(&a);
    let folder = fill_inbox(&*store, m, 4).await;
    let usage_before = store.usage(m).await.unwrap();
    let marked = store
        .store_flags(folder, &[Uid(1), Uid(2), Uid(3)], FlagChange::Add, &flags_of(&[Deleted], &[]), None, BY)
        .await
        .unwrap();
    let marked_at = marked.updated[0].modseq;
    // UID EXPUNGE of a subset (RFC 4315): only deleted messages in the set go.
    let gone = store.expunge(folder, Some(&[Uid(2), Uid(4)]), BY).await.unwrap();
    assert_eq!(gone.uids, [Uid(2)]);
    assert!(gone.modseq > marked_at);
    let gone_all = store.expunge(folder, None, BY).await.unwrap();
    assert_eq!(gone_all.uids, [Uid(1), Uid(3)]);
    let nothing = store.expunge(folder, None, BY).await.unwrap();
    assert!(nothing.uids.is_empty());
    assert_eq!(nothing.modseq, gone_all.modseq, "an empty expunge changes no MODSEQ");

    let left = store.messages(folder).await.unwrap();
    assert_eq!(left.iter().map(|m| m.uid).collect::<Vec<_>>(), [Uid(4)]);
    let inbox_now = &store.folders(m).await.unwrap()[0];
    assert_eq!(inbox_now.messages, 1);
    assert_eq!(inbox_now.size, left[0].size);
    let usage = store.usage(m).await.unwrap();
    assert_eq!(usage.messages, 1);
    assert_eq!(usage.bytes, left[0].size);
    assert!(usage.bytes < usage_before.bytes);
    // VANISHED since a MODSEQ (RFC 7162).
    assert_eq!(store.expunged_since(folder, marked_at).await.unwrap(), [Uid(1), Uid(2), Uid(3)]);
    assert_eq!(store.expunged_since(folder, gone.modseq).await.unwrap(), [Uid(1), Uid(3)]);
    assert!(store.expunged_since(folder, gone_all.modseq).await.unwrap().is_empty());
    // The expunged bodies are unreferenced now: the sweep removes them.
    assert_eq!(store.sweep_blobs(-1).await.unwrap(), 3);
    assert_eq!(store.read_blob(left[0].blob).await.unwrap().len() as u64, left[0].size);
}

pub async fn copy_and_move_share_bodies_across_mailboxes(store: Arc<dyn Store>) {
    use mailroom_core::mail::SystemFlag::Seen;
    use mailroom_core::store::FlagChange;
    seed_domain(&*store).await;
    let a = create(&*store, "A", "a@contoso.com").await;
    let info = create(&*store, "Info", "info@contoso.com").await;
    let inbox_a = fill_inbox(&*store, mailbox(&a), 3).await;
    store
        .store_flags(inbox_a, &[Uid(2)], FlagChange::Add, &flags_of(&[Seen], &["$Done"]), None, BY)
        .await
        .unwrap();
    let info_folders = store.folders(mailbox(&info)).await.unwrap();
    let archive = info_folders.iter().find(|f| f.name == "Archive").unwrap();

    // COPY into another mailbox: new UIDs there, same bodies, flags kept, usage counted there.
    let copied = store.copy_messages(inbox_a, &[Uid(3), Uid(2), Uid(42)], archive.id, BY).await.unwrap();
    assert_eq!(copied.uid_validity, archive.uid_validity);
    assert_eq!(copied.pairs, [(Uid(2), Uid(1)), (Uid(3), Uid(2))]);
    let source = store.messages(inbox_a).await.unwrap();
    let copies = store.messages(archive.id).await.unwrap();
    assert_eq!(copies[0].blob, source[1].blob);
    assert_eq!(copies[0].flags, flags_of(&[Seen], &["$Done"]));
    assert_eq!(copies[0].internal_date, source[1].internal_date);
    assert_eq!(store.usage(mailbox(&info)).await.unwrap().messages, 2);
    assert_eq!(store.usage(mailbox(&a)).await.unwrap().messages, 3, "the source keeps its messages");

    // MOVE: copied and gone from the source in one step, remembered as expunged.
    let sent_a =
        store.folders(mailbox(&a)).await.unwrap().into_iter().find(|f| f.name == "Sent Items").unwrap();
    let (moved, expunged) = store.move_messages(inbox_a, &[Uid(1)], sent_a.id, BY).await.unwrap();
    assert_eq!(moved.pairs, [(Uid(1), Uid(1))]);
    assert_eq!(expunged.uids, [Uid(1)]);
    assert_eq!(store.messages(inbox_a).await.unwrap().len(), 2);
    assert_eq!(store.messages(sent_a.id).await.unwrap()[0].blob, source[0].blob);
    assert_eq!(store.usage(mailbox(&a)).await.unwrap().messages, 3, "moved within the mailbox");
    assert_eq!(store.expunged_since(inbox_a, mailroom_types::ModSeq(0)).await.unwrap(), [Uid(1)]);
    // Every body is still referenced: nothing to sweep.
    assert_eq!(store.sweep_blobs(-1).await.unwrap(), 0);
    // Unknown folders are NotFound and change nothing.
    let err =
        store.copy_messages(inbox_a, &[Uid(2)], mailroom_types::FolderId(999_999), BY).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
}

pub async fn folders_are_created_renamed_and_deleted(store: Arc<dyn Store>) {
    seed_domain(&*store).await;
    let a = create(&*store, "A", "a@contoso.com").await;
    let m = mailbox(&a);
    let projects = store.create_folder(m, "Projects").await.unwrap();
    assert_eq!((projects.name.as_str(), projects.special_use, projects.uid_next), ("Projects", None, Uid(1)));
    let err = store.create_folder(m, "projects").await.unwrap_err();
    assert!(matches!(err, StoreError::NameTaken { .. }), "names are unique without case: {err:?}");
    let err = store.create_folder(MailboxId(999_999), "X").await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");

    let inbox_a = fill_inbox(&*store, m, 2).await;
    store.copy_messages(inbox_a, &[Uid(1), Uid(2)], projects.id, BY).await.unwrap();
    let rename = |id, name: &str| vec![(id, name.to_string())];
    let renamed = store.rename_folders(&rename(projects.id, "Projects/2026")).await.unwrap().remove(0);
    assert_eq!((renamed.id, renamed.name.as_str(), renamed.messages), (projects.id, "Projects/2026", 2));
    assert!(matches!(
        store.rename_folders(&rename(projects.id, "INBOX")).await,
        Err(StoreError::NameTaken { .. })
    ));
    // Renaming to its own name in another case is allowed.
    let same = store.rename_folders(&rename(projects.id, "projects/2026")).await.unwrap();
    assert_eq!(same[0].name, "projects/2026");
    // A tree renames whole or not at all: the second name is taken, so the
    // first rename is undone with it.
    let child = store.create_folder(m, "projects/2026/q1").await.unwrap();
    let tree = vec![(projects.id, "Archive 2026".to_string()), (child.id, "Sent Items".to_string())];
    assert!(matches!(store.rename_folders(&tree).await, Err(StoreError::NameTaken { .. })));
    assert!(store.folders(m).await.unwrap().iter().any(|f| f.name == "projects/2026"));
    store.delete_folder(child.id, m.principal()).await.unwrap();
    // RENAME INBOX: its messages move into the new folder, in one step.
    let moved = store.rename_inbox(m, inbox_a, "Old Inbox").await.unwrap();
    assert_eq!((moved.name.as_str(), moved.messages), ("Old Inbox", 2));
    assert!(store.messages(inbox_a).await.unwrap().is_empty());
    let other = create(&*store, "B", "b@contoso.com").await;
    let err = store.rename_inbox(mailbox(&other), inbox_a, "Stolen").await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "another mailbox's Inbox: {err:?}");

    let usage = store.usage(m).await.unwrap();
    store.delete_folder(projects.id, m.principal()).await.unwrap();
    assert_eq!(store.usage(m).await.unwrap().messages, usage.messages - 2);
    assert!(store.folders(m).await.unwrap().iter().all(|f| f.id != projects.id));
    assert!(matches!(store.delete_folder(projects.id, m.principal()).await, Err(StoreError::NotFound(_))));
    // Created again under the old name: a new UIDVALIDITY (RFC 9051 §2.3.1.1).
    let again = store.create_folder(m, "Projects").await.unwrap();
    assert!(again.uid_validity > projects.uid_validity);
    // The old Inbox's bodies are still referenced by the folder they moved to.
    assert_eq!(store.sweep_blobs(-1).await.unwrap(), 0);
}

pub async fn subscriptions_are_per_principal(store: Arc<dyn Store>) {
    seed_domain(&*store).await;
    let a = create(&*store, "A", "a@contoso.com").await;
    let b = create(&*store, "B", "b@contoso.com").await;
    assert!(store.set_subscribed(a.id, "Shared/info@contoso.com/INBOX", true).await.unwrap());
    assert!(!store.set_subscribed(a.id, "Shared/info@contoso.com/INBOX", true).await.unwrap(), "already");
    assert!(store.set_subscribed(a.id, "Archive", true).await.unwrap());
    assert_eq!(store.subscriptions(a.id).await.unwrap(), ["Archive", "Shared/info@contoso.com/INBOX"]);
    assert!(store.subscriptions(b.id).await.unwrap().is_empty());
    assert!(store.set_subscribed(a.id, "Archive", false).await.unwrap());
    assert!(!store.set_subscribed(a.id, "Archive", false).await.unwrap());
    assert_eq!(store.subscriptions(a.id).await.unwrap(), ["Shared/info@contoso.com/INBOX"]);
    store.delete_recipient(a.id).await.unwrap();
    assert!(store.subscriptions(a.id).await.unwrap().is_empty(), "gone with the principal");
}

pub async fn folder_index_and_counts_read_without_rows(store: Arc<dyn Store>) {
    use mailroom_core::mail::SystemFlag::{Deleted, Seen};
    use mailroom_core::mail::{FolderCounts, FolderIndex};
    use mailroom_core::store::FlagChange;
    seed_domain(&*store).await;
    let a = create(&*store, "A", "a@contoso.com").await;
    let empty = store.folders(mailbox(&a)).await.unwrap()[1].id;
    assert_eq!(store.folder_index(empty).await.unwrap(), FolderIndex::default());
    assert_eq!(store.folder_counts(empty).await.unwrap(), FolderCounts::default());

    let folder = fill_inbox(&*store, mailbox(&a), 4).await;
    let sizes: Vec<u64> = store.messages(folder).await.unwrap().iter().map(|m| m.size).collect();
    store
        .store_flags(folder, &[Uid(1), Uid(2)], FlagChange::Add, &flags_of(&[Seen], &["Work"]), None, BY)
        .await
        .unwrap();
    store
        .store_flags(folder, &[Uid(4)], FlagChange::Add, &flags_of(&[Deleted], &["$Late", "Work"]), None, BY)
        .await
        .unwrap();
    store.expunge(folder, Some(&[Uid(2)]), BY).await.unwrap();
    let index = store.folder_index(folder).await.unwrap();
    assert_eq!(index.uids, [Uid(1), Uid(2), Uid(3), Uid(4)], "UID 2 wasn't \\Deleted: still there");
    assert_eq!(index.first_unseen, Some(3));
    assert_eq!(index.keywords.iter().map(String::as_str).collect::<Vec<_>>(), ["$Late", "Work"]);
    let counts = store.folder_counts(folder).await.unwrap();
    assert_eq!(
        counts,
        FolderCounts {
            messages: 4,
            unseen: 2,
            deleted: 1,
            deleted_size: sizes[3],
            size: sizes.iter().sum(),
            recent: 4
        }
    );
}

/// Listings and counts follow every kind of change at once, read after
/// read: a store that keeps folders' listings between calls must bring
/// them up to date exactly. Each listing is checked against the messages
/// changed since MODSEQ 0 (all of them, read afresh), and the counts
/// against the listing.
pub async fn listings_follow_every_change(store: Arc<dyn Store>) {
    use mailroom_core::mail::SystemFlag::{Deleted, Flagged, Seen};
    use mailroom_core::store::FlagChange;
    seed_domain(&*store).await;
    let a = create(&*store, "A", "a@contoso.com").await;
    let m = mailbox(&a);
    let folder = fill_inbox(&*store, m, 6).await;
    let archive = store.folders(m).await.unwrap().into_iter().find(|f| f.name == "Archive").unwrap().id;
    let check = |step: &'static str| {
        let store = Arc::clone(&store);
        async move {
            for f in [folder, archive] {
                let listed = store.messages(f).await.unwrap();
                // Every message has a MODSEQ above 0: read afresh, by MODSEQ.
                let all = store.messages_since(f, mailroom_types::ModSeq(0)).await.unwrap();
                assert_eq!(*listed, all, "{step}: the listing is the folder's messages");
                let by_uid = store.messages_by_uid(f, &(1..100).map(Uid).collect::<Vec<_>>()).await.unwrap();
                assert_eq!(by_uid, all, "{step}: so are the messages read by UID");
                let counts = store.folder_counts(f).await.unwrap();
                assert_eq!(counts.messages, listed.len() as u64, "{step}");
                assert_eq!(
                    counts.unseen,
                    listed.iter().filter(|m| !m.flags.has(Seen)).count() as u64,
                    "{step}"
                );
                assert_eq!(
                    counts.deleted,
                    listed.iter().filter(|m| m.flags.has(Deleted)).count() as u64,
                    "{step}"
                );
                assert_eq!(counts.size, listed.iter().map(|m| m.size).sum::<u64>(), "{step}");
                let index = store.folder_index(f).await.unwrap();
                assert_eq!(index.uids, listed.iter().map(|m| m.uid).collect::<Vec<_>>(), "{step}");
            }
            store.messages(folder).await.unwrap()
        }
    };
    assert_eq!(check("delivered").await.len(), 6);
    store
        .store_flags(folder, &[Uid(2), Uid(5)], FlagChange::Add, &flags_of(&[Seen], &["Work"]), None, BY)
        .await
        .unwrap();
    let listed = check("flags added").await;
    assert_eq!(listed[1].flags, flags_of(&[Seen], &["Work"]));
    store
        .store_flags(folder, &[Uid(2)], FlagChange::Replace, &flags_of(&[Flagged], &[]), None, BY)
        .await
        .unwrap();
    store
        .store_flags(folder, &[Uid(1), Uid(3)], FlagChange::Add, &flags_of(&[Deleted], &[]), None, BY)
        .await
        .unwrap();
    assert_eq!(check("flags replaced").await[1].flags, flags_of(&[Flagged], &[]));
    fill_inbox(&*store, m, 2).await;
    assert_eq!(check("more delivered").await.len(), 8);
    store.expunge(folder, Some(&[Uid(3)]), BY).await.unwrap();
    let listed = check("one expunged").await;
    assert_eq!(listed.iter().map(|m| m.uid.0).collect::<Vec<_>>(), [1, 2, 4, 5, 6, 7, 8]);
    store.copy_messages(folder, &[Uid(4)], archive, BY).await.unwrap();
    store.move_messages(folder, &[Uid(5), Uid(7)], archive, BY).await.unwrap();
    let listed = check("copied and moved").await;
    assert_eq!(listed.iter().map(|m| m.uid.0).collect::<Vec<_>>(), [1, 2, 4, 6, 8]);
    assert_eq!(store.messages(archive).await.unwrap().len(), 3);
    // Several changes between two reads: a flag change, an expunge and a
    // delivery, of which the expunged message had changed too.
    store.store_flags(folder, &[Uid(6)], FlagChange::Add, &flags_of(&[Seen], &[]), None, BY).await.unwrap();
    store
        .store_flags(folder, &[Uid(8)], FlagChange::Add, &flags_of(&[Deleted], &[]), None, BY)
        .await
        .unwrap();
    store.expunge(folder, None, BY).await.unwrap();
    fill_inbox(&*store, m, 1).await;
    let listed = check("several changes").await;
    assert_eq!(listed.iter().map(|m| m.uid.0).collect::<Vec<_>>(), [2, 4, 6, 9]);
    // A deleted folder lists nothing; one created under its name starts empty.
    store.delete_folder(archive, m.principal()).await.unwrap();
    assert!(store.messages(archive).await.unwrap().is_empty());
    let again = store.create_folder(m, "Archive").await.unwrap();
    assert!(store.messages(again.id).await.unwrap().is_empty());
}

/// IMAP's `\Recent`: each message is claimed by one caller only, the mark
/// never goes down, and STATUS counts what is above it.
pub async fn recent_messages_are_claimed_once(store: Arc<dyn Store>) {
    seed_domain(&*store).await;
    let a = create(&*store, "A", "a@contoso.com").await;
    let folder = fill_inbox(&*store, mailbox(&a), 3).await;
    assert_eq!(store.folder_index(folder).await.unwrap().recent_mark, Uid(0));
    assert_eq!(store.folder_counts(folder).await.unwrap().recent, 3);
    // Two claims at once: one gets the messages, the other finds them taken.
    let (first, second) =
        tokio::join!(store.claim_recent(folder, Uid(3)), store.claim_recent(folder, Uid(3)));
    let mut befores = [first.unwrap(), second.unwrap()];
    befores.sort();
    assert_eq!(befores, [Uid(0), Uid(3)]);
    assert_eq!(store.folder_counts(folder).await.unwrap().recent, 0);
    // A claim below the mark changes nothing.
    assert_eq!(store.claim_recent(folder, Uid(1)).await.unwrap(), Uid(3));
    assert_eq!(store.folder_index(folder).await.unwrap().recent_mark, Uid(3));
    assert!(store.claim_recent(mailroom_types::FolderId(i64::MAX), Uid(1)).await.is_err());
}

pub async fn headers_are_searched_case_insensitively_by_the_store(store: Arc<dyn Store>) {
    seed_domain(&*store).await;
    let a = create(&*store, "A", "a@contoso.com").await;
    let mut folder = None;
    for (subject, from) in [
        ("Quarterly Report", "Ann <ann@x.example>"),
        ("lunch", "Bob <bob@x.example>"),
        ("report \"draft\"", ""),
    ] {
        let mut s = summary(subject);
        s.headers = vec![("Subject".into(), subject.into())];
        if !from.is_empty() {
            s.headers.push(("From".into(), from.into()));
        }
        let (_, d) = store.deliver(message(subject, 10), &s, 0, &[inbox(mailbox(&a))]).await.unwrap();
        folder = Some(d[0].folder);
    }
    let folder = folder.unwrap();
    assert_eq!(store.search_header(folder, "subject", "REPORT").await.unwrap(), [Uid(1), Uid(3)]);
    assert_eq!(store.search_header(folder, "FROM", "bob@").await.unwrap(), [Uid(2)]);
    assert_eq!(store.search_header(folder, "From", "").await.unwrap(), [Uid(1), Uid(2)], "has the header");
    assert!(store.search_header(folder, "Subject", "nothing like it").await.unwrap().is_empty());
    assert!(store.search_header(folder, "X-Missing", "").await.unwrap().is_empty());
    // A needle with characters JSON escapes is still found.
    assert_eq!(store.search_header(folder, "subject", "\"DRAFT\"").await.unwrap(), [Uid(3)]);
    // After an expunge, the message is no longer found.
    let deleted = flags_of(&[mailroom_core::mail::SystemFlag::Deleted], &[]);
    store
        .store_flags(folder, &[Uid(1)], mailroom_core::store::FlagChange::Add, &deleted, None, BY)
        .await
        .unwrap();
    store.expunge(folder, None, BY).await.unwrap();
    assert_eq!(store.search_header(folder, "subject", "REPORT").await.unwrap(), [Uid(3)]);
}

pub async fn text_is_indexed_in_the_background_and_searched_by_word_prefix(store: Arc<dyn Store>) {
    use mailroom_core::mail::TextQuery;
    use mailroom_core::store::MessageText;
    seed_domain(&*store).await;
    let a = create(&*store, "A", "a@contoso.com").await;
    let b = create(&*store, "B", "b@contoso.com").await;
    let mut folder = None;
    for subject in ["invoice", "lunch", "shared"] {
        let targets = if subject == "shared" {
            vec![inbox(mailbox(&a)), inbox(mailbox(&b))]
        } else {
            vec![inbox(mailbox(&a))]
        };
        let (_, d) = store.deliver(message(subject, 10), &summary(subject), 0, &targets).await.unwrap();
        folder = Some(d[0].folder);
    }
    let folder = folder.unwrap();
    let words = |typed: &str| TextQuery::parse(typed);
    // Nothing is indexed yet: every message is for the caller to read.
    let uids = |pairs: Vec<(Uid, u64)>| pairs.into_iter().map(|(uid, _)| uid).collect::<Vec<_>>();
    let hits = store.search_text(folder, &words("invoice"), 10, 10).await.unwrap();
    assert!(hits.uids.is_empty());
    assert_eq!(uids(hits.unindexed.clone()), [Uid(3), Uid(2), Uid(1)], "newest first");
    assert_eq!(hits.unindexed[0].1, message("shared", 10).len() as u64, "with its size");
    let two = store.search_text(folder, &words("invoice"), 10, 2).await.unwrap();
    assert_eq!(uids(two.unindexed), [Uid(3), Uid(2)]);
    // The indexer's view: three bodies (the shared one once), in batches.
    let first = store.pending_text(2, usize::MAX).await.unwrap();
    assert_eq!(first.len(), 2);
    assert_eq!(first[0].bytes, message("invoice", 10));
    assert_eq!(store.pending_text(10, 1).await.unwrap().len(), 1, "at least one, whatever its size");
    let all = store.pending_text(10, usize::MAX).await.unwrap();
    assert_eq!(all.len(), 3);
    let text = |subject: &str, body: &str| MessageText {
        subject: subject.into(),
        people: "Ann Lee ann@fabrikam.example".into(),
        body: body.into(),
        search_body: body.to_lowercase(),
    };
    store
        .store_text(vec![
            (all[0].key, text("Invoice 77", "Please pay the café by Friday.")),
            (all[1].key, text("Lunch", "Pizza? Say \"hi\" OR x")),
        ])
        .await
        .unwrap();
    let hits = store.search_text(folder, &words("INV cafe"), 10, 10).await.unwrap();
    assert_eq!(hits.uids, [Uid(1)], "word prefixes, any case, accents ignored");
    assert_eq!(uids(hits.unindexed), [Uid(3)]);
    assert_eq!(
        store.search_text(folder, &words("fabrikam"), 10, 10).await.unwrap().uids,
        [Uid(2), Uid(1)],
        "newest first"
    );
    assert_eq!(
        store.search_text(folder, &words("fabrikam"), 1, 10).await.unwrap().uids,
        [Uid(2)],
        "at most 1"
    );
    assert_eq!(
        store.search_text(folder, &words("ann@fabrikam.example"), 10, 10).await.unwrap().uids,
        [Uid(2), Uid(1)]
    );
    assert_eq!(
        store.search_text(folder, &words("pi"), 10, 10).await.unwrap().uids,
        [Uid(2)],
        "two letters: a prefix"
    );
    assert!(
        store.search_text(folder, &words("p"), 10, 10).await.unwrap().uids.is_empty(),
        "one letter: a word"
    );
    assert!(
        store.search_text(folder, &words("voice"), 10, 10).await.unwrap().uids.is_empty(),
        "a prefix, not any substring"
    );
    // The substring index (IMAP SEARCH BODY): any substring of three
    // characters or more, as lower-cased, accents kept.
    let body = store.search_body(folder, "ay the caf\u{e9} by").await.unwrap();
    assert_eq!(body.uids, [Uid(1)]);
    assert_eq!(body.unindexed, [Uid(3)]);
    assert_eq!(store.search_body(folder, "izz").await.unwrap().uids, [Uid(2)]);
    assert!(store.search_body(folder, "cafe").await.unwrap().uids.is_empty(), "accents count");
    assert_eq!(
        store.search_body(folder, "say \"hi\" or x").await.unwrap().uids,
        [Uid(2)],
        "quotes and OR are text, never query syntax"
    );
    assert!(
        store.search_text(folder, &words("invoice pizza"), 10, 10).await.unwrap().uids.is_empty(),
        "every word"
    );
    assert!(
        store.search_text(folder, &words("\"quoted\" OR NEAR(x"), 10, 10).await.is_ok(),
        "typed words are never query syntax"
    );
    // Indexing a key again, or one no longer pending, changes nothing.
    store.store_text(vec![(all[0].key, text("Other", "other"))]).await.unwrap();
    assert_eq!(store.search_text(folder, &words("invoice"), 10, 10).await.unwrap().uids, [Uid(1)]);
    store.store_text(vec![(all[2].key, text("Shared", "Minutes"))]).await.unwrap();
    assert!(store.pending_text(10, usize::MAX).await.unwrap().is_empty());
    assert!(store.search_text(folder, &words("minutes"), 10, 10).await.unwrap().unindexed.is_empty());
    // The shared body is found in B's Inbox too: one index row per body.
    let b_inbox =
        store.deliver(message("later", 10), &summary("later"), 0, &[inbox(mailbox(&b))]).await.unwrap().1[0]
            .folder;
    let found = store.search_text(b_inbox, &words("minutes"), 10, 10).await.unwrap();
    assert_eq!(found.uids, [Uid(1)]);
    assert_eq!(uids(found.unindexed), [Uid(2)], "the new delivery waits for the indexer");
    // A body swept away leaves the index.
    store.delete_recipient(a.id).await.unwrap();
    assert_eq!(store.sweep_blobs(0).await.unwrap(), 2);
    assert_eq!(
        store.search_text(b_inbox, &words("minutes"), 10, 10).await.unwrap().uids,
        [Uid(1)],
        "still B's"
    );
    let left = store.pending_text(10, usize::MAX).await.unwrap();
    assert_eq!(left.len(), 1, "only B's new body waits");
    // Everything listed again (`mailroom reindex`): searched by reading
    // until indexed again, then from the index, with the new text.
    assert_eq!(store.requeue_text().await.unwrap(), 2);
    let again = store.search_body(b_inbox, "minutes").await.unwrap();
    assert_eq!(again.unindexed.len(), 2, "read until indexed again, whatever old rows say: {again:?}");
    let pending = store.pending_text(10, usize::MAX).await.unwrap();
    store
        .store_text(pending.iter().map(|p| (p.key, text("Shared", "Minutes, revised"))).collect())
        .await
        .unwrap();
    let mut again = store.search_body(b_inbox, "revised").await.unwrap();
    again.uids.sort();
    assert_eq!((again.uids, again.unindexed.len()), (vec![Uid(1), Uid(2)], 0));
    assert_eq!(
        store.search_text(b_inbox, &words("revised"), 10, 10).await.unwrap().uids.len(),
        2,
        "the word index too, one row per body"
    );
}

pub async fn the_outbound_queue_holds_bodies_until_each_recipient_is_done(store: Arc<dyn Store>) {
    use mailroom_core::store::NewQueued;
    seed_domain(&*store).await;
    let a = create(&*store, "A", "a@contoso.com").await;
    let remote = |r: &str, at: i64| NewQueued {
        envelope_from: Some(super::addr("a@contoso.com")),
        recipient: super::addr(r),
        next_attempt: at,
    };
    // One local copy and two remote recipients, in one transaction.
    let (blob, delivered) = store
        .deliver_and_queue(
            message("out", 10),
            &summary("out"),
            0,
            &[inbox(mailbox(&a))],
            &[remote("x@fabrikam.example", 100), remote("y@fabrikam.example", 200)],
        )
        .await
        .unwrap();
    assert_eq!(delivered.len(), 1);
    let queued = store.queued(None).await.unwrap();
    assert_eq!(
        queued.iter().map(|q| q.recipient.to_string()).collect::<Vec<_>>(),
        ["x@fabrikam.example", "y@fabrikam.example"]
    );
    assert!(
        queued.iter().all(|q| q.blob == blob
            && q.attempts == 0
            && q.envelope_from == Some(super::addr("a@contoso.com")))
    );
    assert_eq!(store.queued(Some(150)).await.unwrap().len(), 1, "only what is due");
    // A failed attempt, then an admin's retry.
    store.queue_retry(queued[0].id, 1000, "451 4.4.1 try later", true).await.unwrap();
    let first = &store.queued(None).await.unwrap()[0];
    assert_eq!(
        (first.attempts, first.next_attempt, first.last_error.as_deref(), first.delay_notified),
        (1, 1000, Some("451 4.4.1 try later"), true)
    );
    assert!(store.queue_due_now(first.id).await.unwrap());
    assert!(store.queued(Some(mailroom_store_now())).await.unwrap().iter().any(|q| q.id == first.id));
    // Queued-only bodies survive the sweep; the last removal frees them.
    let (only_queued, _) = store
        .deliver_and_queue(
            message("queued only", 20),
            &summary("q"),
            0,
            &[],
            &[remote("z@fabrikam.example", 0)],
        )
        .await
        .unwrap();
    store.sweep_blobs(0).await.unwrap();
    assert!(store.read_blob(only_queued).await.is_ok());
    let z = store.queued(None).await.unwrap().into_iter().find(|q| q.blob == only_queued).unwrap();
    assert!(store.queue_remove(z.id).await.unwrap());
    assert!(!store.queue_remove(z.id).await.unwrap(), "gone already");
    assert_eq!(store.sweep_blobs(0).await.unwrap(), 1);
    assert!(store.read_blob(only_queued).await.is_err());
    assert_eq!(store.queued(None).await.unwrap().len(), 2);
}

fn mailroom_store_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

pub async fn a_batch_is_stored_whole_or_not_at_all(store: Arc<dyn Store>) {
    use mailroom_core::store::{NewMessage, NewQueued};
    seed_domain(&*store).await;
    let a = create(&*store, "A", "a@contoso.com").await;
    let team = create_kind(&*store, RecipientKind::SecurityGroup, "Team", "team@contoso.com").await;
    let forwarded = |to: &str| NewMessage {
        bytes: message("forwarded copy", 10),
        summary: summary("copy"),
        internal_date: 0,
        targets: Vec::new(),
        queue: vec![NewQueued { envelope_from: None, recipient: super::addr(to), next_attempt: 0 }],
        claim: None,
        activity: Vec::new(),
    };
    let local = |target: DeliveryTarget| NewMessage {
        bytes: message("original", 10),
        summary: summary("original"),
        internal_date: 0,
        targets: vec![target],
        queue: Vec::new(),
        claim: None,
        activity: Vec::new(),
    };
    // The delivery fails (no such folder): its forwarded copy isn't queued either.
    let err = store
        .deliver_batch(vec![forwarded("x@fabrikam.example"), local(inbox(MailboxId(team.id.0)))], &[])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
    assert!(store.queued(None).await.unwrap().is_empty(), "nothing queued");
    // Both succeed together.
    let stored = store
        .deliver_batch(vec![local(inbox(mailbox(&a))), forwarded("x@fabrikam.example")], &[])
        .await
        .unwrap();
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[0].1.len(), 1);
    assert_eq!(store.queued(None).await.unwrap().len(), 1);
    assert_eq!(store.usage(mailbox(&a)).await.unwrap().messages, 1);
    // A bounce and the removal of the entry it reports: one transaction.
    let entry = store.queued(None).await.unwrap()[0].id;
    let failed = store.deliver_batch(vec![local(inbox(MailboxId(team.id.0)))], &[entry]).await;
    assert!(failed.is_err());
    assert_eq!(store.queued(None).await.unwrap().len(), 1, "the entry stays when the notice fails");
    store.deliver_batch(vec![local(inbox(mailbox(&a)))], &[entry]).await.unwrap();
    assert!(store.queued(None).await.unwrap().is_empty());
    assert_eq!(store.usage(mailbox(&a)).await.unwrap().messages, 2);
}

/// SPEC §5: an expunge outside Recoverable Items moves the messages there
/// (`\Deleted` cleared, the rest of their flags kept) with a note of where
/// they came from, when and by whom; they stop counting towards usage; a
/// move out restores them and takes the note with it; deleting a folder
/// keeps its messages the same way; past the mailbox's retention they are
/// purged, a bounded number per call.
pub async fn expunged_messages_stay_recoverable_until_their_retention_ends(store: Arc<dyn Store>) {
    use mailroom_core::mail::SystemFlag::{Deleted, Seen};
    use mailroom_core::store::FlagChange;
    seed_domain(&*store).await;
    let sales = create(&*store, "Sales", "sales@contoso.com").await;
    let alice = create_kind(&*store, RecipientKind::UserMailbox, "Alice", "alice@contoso.com").await;
    let m = mailbox(&sales);
    let inbox_id = fill_inbox(&*store, m, 4).await;
    let bin =
        store.folders(m).await.unwrap().into_iter().find(|f| f.special_use == Some(SpecialUse::Recoverable));
    let bin = bin.expect("every mailbox has Recoverable Items").id;
    let before = store.usage(m).await.unwrap();
    let flags = flags_of(&[Seen, Deleted], &["$Important"]);
    store.store_flags(inbox_id, &[Uid(1)], FlagChange::Add, &flags, None, BY).await.unwrap();
    store
        .store_flags(inbox_id, &[Uid(2), Uid(3)], FlagChange::Add, &flags_of(&[Deleted], &[]), None, BY)
        .await
        .unwrap();
    let started = chrono::Utc::now().timestamp();

    // UID EXPUNGE of 1 and 2 only: 3 stays, flagged, in the Inbox.
    let recycled = store.recycle(inbox_id, Some(&[Uid(1), Uid(2)]), alice.id).await.unwrap();
    assert_eq!(recycled.expunged.uids, [Uid(1), Uid(2)]);
    assert_eq!(recycled.into, bin);
    let kept = store.messages(bin).await.unwrap();
    assert_eq!(kept.len(), 2);
    assert_eq!(
        recycled.copied.pairs.iter().map(|(_, new)| *new).collect::<Vec<_>>(),
        [kept[0].uid, kept[1].uid]
    );
    assert!(kept.iter().all(|k| !k.flags.has(Deleted)), "\\Deleted is cleared in Recoverable Items");
    assert!(kept[0].flags.has(Seen) && kept[0].flags.keywords.contains("$Important"), "other flags stay");
    let inbox_uids: Vec<Uid> = store.messages(inbox_id).await.unwrap().iter().map(|m| m.uid).collect();
    assert_eq!(inbox_uids, [Uid(3), Uid(4)]);
    let deleted_bytes: u64 = kept.iter().map(|k| k.size).sum();
    let after = store.usage(m).await.unwrap();
    assert_eq!((after.messages, after.bytes), (before.messages - 2, before.bytes - deleted_bytes));
    let notes = store.recoverable_items(bin).await.unwrap();
    assert_eq!(notes.len(), 2);
    for note in &notes {
        assert_eq!((note.deleted_from, note.deleted_from_name.as_str()), (Some(inbox_id), "Inbox"));
        assert_eq!(note.deleted_by, Some(alice.id));
        assert!(note.deleted_at >= started && note.deleted_at <= chrono::Utc::now().timestamp());
    }
    // Recoverable Items itself isn't recycled into itself.
    assert!(store.recycle(bin, None, alice.id).await.is_err());

    // A move out restores: the note goes with the message, usage comes back.
    store.move_messages(bin, &[kept[1].uid], inbox_id, BY).await.unwrap();
    assert_eq!(store.recoverable_items(bin).await.unwrap().len(), 1);
    assert_eq!(store.usage(m).await.unwrap().messages, before.messages - 1);

    // Deleting a folder keeps its messages, noted with the folder's name.
    let projects = store.create_folder(m, "Projects").await.unwrap();
    store.move_messages(inbox_id, &[Uid(4)], projects.id, BY).await.unwrap();
    store.delete_folder(projects.id, alice.id).await.unwrap();
    let notes = store.recoverable_items(bin).await.unwrap();
    let from_projects = notes.iter().find(|n| n.deleted_from_name == "Projects").expect("noted");
    assert_eq!(from_projects.deleted_from, None, "the folder is gone");
    assert_eq!(store.usage(m).await.unwrap().messages, before.messages - 2);

    // Nothing has outlived 14 days; with a retention of one minute, a
    // minute later everything has, and purging takes at most `limit`.
    assert_eq!(store.purge_expired(chrono::Utc::now().timestamp(), 100).await.unwrap(), 0);
    let mut settings = store.mailbox_settings(m).await.unwrap().unwrap();
    settings.retain_deleted_items_for = mailroom_core::directory::Retention::from_seconds(60).unwrap();
    store.set_mailbox_settings(m, &settings).await.unwrap();
    assert_eq!(store.mailbox_settings(m).await.unwrap().unwrap().retain_deleted_items_for.seconds(), 60);
    let later = chrono::Utc::now().timestamp() + 61;
    let usage_before_purge = store.usage(m).await.unwrap();
    assert_eq!(store.purge_expired(later, 1).await.unwrap(), 1);
    assert_eq!(store.purge_expired(later, 100).await.unwrap(), 1);
    assert_eq!(store.purge_expired(later, 100).await.unwrap(), 0);
    assert!(store.messages(bin).await.unwrap().is_empty());
    assert!(store.recoverable_items(bin).await.unwrap().is_empty());
    assert_eq!(store.usage(m).await.unwrap(), usage_before_purge, "Recoverable Items wasn't counted");

    // An expunge in Recoverable Items itself purges at once.
    store
        .store_flags(inbox_id, &[Uid(3)], FlagChange::Add, &flags_of(&[Deleted], &[]), None, BY)
        .await
        .unwrap();
    let recycled = store.recycle(inbox_id, None, alice.id).await.unwrap();
    let (_, in_bin) = recycled.copied.pairs[0];
    store.store_flags(bin, &[in_bin], FlagChange::Add, &flags_of(&[Deleted], &[]), None, BY).await.unwrap();
    assert_eq!(store.expunge(bin, None, BY).await.unwrap().uids, [in_bin]);
    assert!(store.recoverable_items(bin).await.unwrap().is_empty());
}

pub async fn actions_are_on_the_activity_trail(store: Arc<dyn Store>) {
    use mailroom_core::mail::SystemFlag::{Answered, Deleted, Flagged, Seen};
    use mailroom_core::mail::activity::{ActivityAction as A, ActivityQuery, NewActivity};
    use mailroom_core::store::{FlagChange, NewMessage};
    seed_domain(&*store).await;
    let sales = create(&*store, "Sales", "sales@contoso.com").await;
    let alice = create_kind(&*store, RecipientKind::UserMailbox, "Alice", "alice@contoso.com").await;
    let bob = create_kind(&*store, RecipientKind::UserMailbox, "Bob", "bob@contoso.com").await;
    let m = mailbox(&sales);
    let mut parsed = summary("Invoice 42");
    parsed.headers.push(("Subject".into(), "Invoice 42".into()));
    let delivery = NewMessage {
        bytes: message("Invoice 42", 10),
        summary: parsed,
        internal_date: 0,
        targets: vec![inbox(m)],
        queue: Vec::new(),
        claim: None,
        activity: vec![NewActivity {
            mailbox: m,
            actor: None,
            action: A::Delivered,
            detail: "from a@fabrikam.com".into(),
        }],
    };
    let (body, delivered) = store.deliver_batch(vec![delivery], &[]).await.unwrap().pop().unwrap();
    let (inbox_id, uid) = (delivered[0].folder, delivered[0].uid);
    let set = |change, system: &[mailroom_core::mail::SystemFlag], keywords: &[&str], by| {
        let store = Arc::clone(&store);
        let flags = flags_of(system, keywords);
        async move { store.store_flags(inbox_id, &[uid], change, &flags, None, by).await.unwrap() }
    };
    set(FlagChange::Add, &[Seen], &[], alice.id).await;
    set(FlagChange::Remove, &[Seen], &[], alice.id).await; // unread again: no entry
    set(FlagChange::Add, &[Seen], &[], bob.id).await; // Bob's first read
    set(FlagChange::Remove, &[Seen], &[], bob.id).await;
    set(FlagChange::Add, &[Seen], &[], alice.id).await; // Alice's second read: no entry
    set(FlagChange::Add, &[Answered, Flagged], &[], alice.id).await;
    set(FlagChange::Add, &[Answered], &[], bob.id).await; // a second answer: on the trail too
    set(FlagChange::Replace, &[Seen, Answered, Flagged], &[], bob.id).await; // a sync: nothing new
    set(FlagChange::Add, &[], &["$Forwarded"], bob.id).await;
    set(FlagChange::Add, &[Deleted], &["$Label1"], bob.id).await; // nothing the trail tracks
    set(FlagChange::Remove, &[Deleted, Flagged], &[], bob.id).await;
    let projects = store.create_folder(m, "Projects").await.unwrap();
    let (moved, _) = store.move_messages(inbox_id, &[uid], projects.id, bob.id).await.unwrap();
    let in_projects = moved.pairs[0].1;
    let copied = store.copy_messages(projects.id, &[in_projects], inbox_id, alice.id).await.unwrap();
    let deleted = flags_of(&[Deleted], &[]);
    store.store_flags(projects.id, &[in_projects], FlagChange::Add, &deleted, None, alice.id).await.unwrap();
    let recycled = store.recycle(projects.id, None, alice.id).await.unwrap();
    let bin = recycled.into;
    let (restored, _) =
        store.move_messages(bin, &[recycled.copied.pairs[0].1], inbox_id, bob.id).await.unwrap();
    // The copy: deleted, then purged from Recoverable Items by Alice.
    let copy_uid = copied.pairs[0].1;
    store.store_flags(inbox_id, &[copy_uid], FlagChange::Add, &deleted, None, alice.id).await.unwrap();
    let again = store.recycle(inbox_id, Some(&[copy_uid]), alice.id).await.unwrap();
    store
        .store_flags(bin, &[again.copied.pairs[0].1], FlagChange::Add, &deleted, None, alice.id)
        .await
        .unwrap();
    store.expunge(bin, None, alice.id).await.unwrap();
    // The restored one: deleted, then purged by the retention period.
    let back = restored.pairs[0].1;
    store.store_flags(inbox_id, &[back], FlagChange::Add, &deleted, None, bob.id).await.unwrap();
    store.recycle(inbox_id, Some(&[back]), bob.id).await.unwrap();
    let later = chrono::Utc::now().timestamp() + 15 * 86_400;
    assert_eq!(store.purge_expired(later, 100).await.unwrap(), 1);

    let all = ActivityQuery { limit: 100, ..ActivityQuery::default() };
    let entries = store.activity(m, &all).await.unwrap();
    let trail: Vec<(A, Option<mailroom_types::PrincipalId>, &str)> =
        entries.iter().rev().map(|e| (e.action, e.actor, e.detail.as_str())).collect();
    let (a, b) = (Some(alice.id), Some(bob.id));
    assert_eq!(
        trail,
        [
            (A::Delivered, None, "from a@fabrikam.com"),
            (A::Read, a, ""),
            (A::Read, b, ""),
            (A::Replied, a, ""),
            (A::Flagged, a, ""),
            (A::Replied, b, ""),
            (A::Forwarded, b, ""),
            (A::Unflagged, b, ""),
            (A::Moved, b, "to Projects"),
            (A::Copied, a, "to Inbox"),
            (A::Deleted, a, "from Projects"),
            (A::Restored, b, "to Inbox"),
            (A::Deleted, a, "from Inbox"),
            (A::Purged, a, "from Recoverable Items"),
            (A::Deleted, b, "from Inbox"),
            (A::Purged, None, "when its retention period ended"),
        ]
    );
    assert!(entries.iter().all(|e| e.blob == Some(body) && e.subject == "Invoice 42" && e.mailbox == m));
    assert!(entries.windows(2).all(|w| w[0].id > w[1].id && w[0].at >= w[1].at), "newest first");

    // Filters: by action, by message, by page, by time.
    let reads = ActivityQuery { actions: vec![A::Read], ..all.clone() };
    let readers: Vec<_> = store.activity(m, &reads).await.unwrap().iter().map(|e| e.actor).collect();
    assert_eq!(readers, [b, a]);
    let other = ActivityQuery { blob: Some(mailroom_types::BlobId([7; 32])), ..all.clone() };
    assert!(store.activity(m, &other).await.unwrap().is_empty());
    let page = ActivityQuery { limit: 5, ..all.clone() };
    let first = store.activity(m, &page).await.unwrap();
    let next = ActivityQuery { before_id: Some(first[4].id), ..page.clone() };
    let second = store.activity(m, &next).await.unwrap();
    assert_eq!(
        second.iter().map(|e| e.id).collect::<Vec<_>>(),
        entries[5..10].iter().map(|e| e.id).collect::<Vec<_>>()
    );
    let future = ActivityQuery { since: Some(later), ..all.clone() };
    assert!(store.activity(m, &future).await.unwrap().is_empty());
    let past = ActivityQuery { until: Some(entries[0].at), ..all.clone() };
    assert_eq!(store.activity(m, &past).await.unwrap().len(), entries.len());
    let before_all = ActivityQuery { until: Some(entries.last().unwrap().at - 1), ..all.clone() };
    assert!(store.activity(m, &before_all).await.unwrap().is_empty(), "until is honoured");
    // Another mailbox's trail holds none of it.
    assert!(store.activity(mailbox(&alice), &all).await.unwrap().is_empty());

    // AuditEnabled $false: actions go on, unrecorded.
    let mut settings = store.mailbox_settings(m).await.unwrap().unwrap();
    settings.audit_enabled = false;
    store.set_mailbox_settings(m, &settings).await.unwrap();
    let quiet = NewMessage {
        bytes: message("quiet", 5),
        summary: summary("quiet"),
        internal_date: 0,
        targets: vec![inbox(m)],
        queue: Vec::new(),
        claim: None,
        activity: vec![NewActivity { mailbox: m, actor: None, action: A::Delivered, detail: String::new() }],
    };
    let (_, d) = store.deliver_batch(vec![quiet], &[]).await.unwrap().pop().unwrap();
    store
        .store_flags(inbox_id, &[d[0].uid], FlagChange::Add, &flags_of(&[Seen, Flagged], &[]), None, bob.id)
        .await
        .unwrap();
    assert_eq!(store.activity(m, &all).await.unwrap().len(), entries.len());

    // Kept for AuditLogAgeLimit (90 days unless set), then swept.
    let now = chrono::Utc::now().timestamp();
    assert_eq!(store.sweep_activity(now + 89 * 86_400, 1000).await.unwrap(), 0);
    settings.audit_log_age_limit = mailroom_core::directory::Retention::from_seconds(60).unwrap();
    store.set_mailbox_settings(m, &settings).await.unwrap();
    assert_eq!(store.sweep_activity(now + 61, 10).await.unwrap(), 10, "at most the limit at once");
    assert_eq!(store.sweep_activity(now + 61, 10).await.unwrap(), entries.len() - 10);
    assert!(store.activity(m, &all).await.unwrap().is_empty());
}

pub async fn each_member_reads_for_themselves_under_per_member_seen(store: Arc<dyn Store>) {
    use mailroom_core::mail::SystemFlag::{Flagged, Seen};
    use mailroom_core::mail::activity::{ActivityAction, ActivityQuery};
    use mailroom_core::store::FlagChange;
    seed_domain(&*store).await;
    let sales = create(&*store, "Sales", "sales@contoso.com").await;
    let alice = create_kind(&*store, RecipientKind::UserMailbox, "Alice", "alice@contoso.com").await;
    let bob = create_kind(&*store, RecipientKind::UserMailbox, "Bob", "bob@contoso.com").await;
    let m = mailbox(&sales);
    let folder = fill_inbox(&*store, m, 3).await;
    let mut settings = store.mailbox_settings(m).await.unwrap().unwrap();
    settings.per_member_seen = true;
    store.set_mailbox_settings(m, &settings).await.unwrap();
    assert!(store.mailbox_settings(m).await.unwrap().unwrap().per_member_seen);
    let shared_seen = |store: Arc<dyn Store>, uid: u32| async move {
        store.messages_by_uid(folder, &[Uid(uid)]).await.unwrap()[0].flags.has(Seen)
    };

    // Alice reads 1: her own state; the shared flag and Bob's view stay unread.
    let before = store.folder(folder).await.unwrap().unwrap().highest_modseq;
    let read = store
        .store_flags(folder, &[Uid(1)], FlagChange::Add, &flags_of(&[Seen], &[]), None, alice.id)
        .await
        .unwrap();
    assert!(read.updated[0].flags.has(Seen), "she is told of her view");
    assert!(read.updated[0].modseq > before, "the MODSEQ moves: her other sessions hear of it");
    assert!(!shared_seen(Arc::clone(&store), 1).await);
    assert_eq!(store.seen_overrides(folder, alice.id, None).await.unwrap(), [(Uid(1), true)]);
    assert!(store.seen_overrides(folder, bob.id, None).await.unwrap().is_empty());
    // Reading it again writes nothing.
    let again = store
        .store_flags(folder, &[Uid(1)], FlagChange::Add, &flags_of(&[Seen], &[]), None, alice.id)
        .await
        .unwrap();
    assert!(again.updated.is_empty());
    // Bob flags 1: shared; his answer shows it unread for him.
    let flagged = store
        .store_flags(folder, &[Uid(1)], FlagChange::Add, &flags_of(&[Flagged], &[]), None, bob.id)
        .await
        .unwrap();
    assert_eq!(flagged.updated[0].flags, flags_of(&[Flagged], &[]));
    // Alice marks 2 read then unread: her own state again, the shared flag never moved.
    store
        .store_flags(folder, &[Uid(2)], FlagChange::Add, &flags_of(&[Seen], &[]), None, alice.id)
        .await
        .unwrap();
    store
        .store_flags(folder, &[Uid(2)], FlagChange::Remove, &flags_of(&[Seen], &[]), None, alice.id)
        .await
        .unwrap();
    assert_eq!(
        store.seen_overrides(folder, alice.id, None).await.unwrap(),
        [(Uid(1), true), (Uid(2), false)]
    );
    // Bob reads 3.
    store
        .store_flags(folder, &[Uid(3)], FlagChange::Add, &flags_of(&[Seen], &[]), None, bob.id)
        .await
        .unwrap();
    assert_eq!(store.unseen_count(folder).await.unwrap(), 3, "the shared count: nobody's");
    // Each member's first read is on the trail.
    let reads = ActivityQuery { actions: vec![ActivityAction::Read], limit: 10, ..ActivityQuery::default() };
    let readers: Vec<_> = store.activity(m, &reads).await.unwrap().iter().map(|e| e.actor).collect();
    assert_eq!(readers, [Some(bob.id), Some(alice.id), Some(alice.id)]);

    // Back to one read state: what anyone had read is read; own states go.
    let before = store.folder(folder).await.unwrap().unwrap().highest_modseq;
    settings.per_member_seen = false;
    store.set_mailbox_settings(m, &settings).await.unwrap();
    let after = store.folder(folder).await.unwrap().unwrap().highest_modseq;
    assert!(after > before, "the folder's MODSEQ moves: sessions hear of it");
    let changed = store.messages_since(folder, before).await.unwrap();
    assert_eq!(changed.iter().map(|m| m.uid.0).collect::<Vec<_>>(), [1, 3]);
    assert!(shared_seen(Arc::clone(&store), 1).await && shared_seen(Arc::clone(&store), 3).await);
    assert!(!shared_seen(Arc::clone(&store), 2).await, "read by nobody in the end");
    assert!(store.seen_overrides(folder, alice.id, None).await.unwrap().is_empty());
    // Now \Seen is the mailbox's again.
    store
        .store_flags(folder, &[Uid(2)], FlagChange::Add, &flags_of(&[Seen], &[]), None, bob.id)
        .await
        .unwrap();
    assert!(shared_seen(Arc::clone(&store), 2).await);
    assert!(store.seen_overrides(folder, bob.id, None).await.unwrap().is_empty());
}

pub async fn a_message_with_odd_header_bytes_goes_on_the_trail(store: Arc<dyn Store>) {
    use mailroom_core::mail::activity::{ActivityAction, ActivityQuery, NewActivity};
    use mailroom_core::store::NewMessage;
    seed_domain(&*store).await;
    let sales = create(&*store, "Sales", "sales@contoso.com").await;
    let m = mailbox(&sales);
    // What a broken message's header can decode to: a NUL, a replacement
    // character. Neither may fail the delivery that records it.
    let mut odd = summary("odd");
    odd.headers.push(("X-Bytes".into(), "\u{0}\u{fffd}".into()));
    odd.headers.push(("Subject".into(), "Odd \u{0} one".into()));
    let delivery = NewMessage {
        bytes: message("odd", 3),
        summary: odd,
        internal_date: 0,
        targets: vec![inbox(m)],
        queue: Vec::new(),
        claim: None,
        activity: vec![NewActivity {
            mailbox: m,
            actor: None,
            action: ActivityAction::Delivered,
            detail: String::new(),
        }],
    };
    let stored = store.deliver_batch(vec![delivery], &[]).await.unwrap();
    assert_eq!(stored[0].1.len(), 1, "delivered");
    let trail = store.activity(m, &ActivityQuery { limit: 10, ..ActivityQuery::default() }).await.unwrap();
    assert_eq!(trail.len(), 1);
    assert!(trail[0].subject.starts_with("Odd"), "{:?}", trail[0].subject);
}
