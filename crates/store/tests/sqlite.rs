//! Runs the store conformance suite against the embedded SQLite store, plus
//! the checks that only make sense for a file on disk.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod conformance;

use std::sync::Arc;

use mailroom_core::store::{DirectoryStore, Store};
use mailroom_store::{SqliteFeed, SqliteStore};
use tempfile::TempDir;

/// A fresh store in its own temporary directory (kept alive by the guard).
async fn fresh() -> Option<(TempDir, Arc<dyn Store>)> {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(&dir.path().join("mailroom.db")).expect("open store");
    Some((dir, Arc::new(store)))
}

/// A fresh store with a second handle on its file (another process's view)
/// and the change feed over it.
async fn fresh_feed() -> Option<(TempDir, conformance::changes::Backend)> {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("mailroom.db");
    let store = SqliteStore::open(&path).expect("open store");
    let other_process = SqliteStore::open(&path).expect("open again");
    let feed = SqliteFeed::start(&store).expect("feed");
    let for_new = store.clone();
    let backend = conformance::changes::Backend {
        store: Arc::new(store),
        other_process: Arc::new(other_process),
        feed: Arc::new(feed),
        new_feed: Box::new(move || Arc::new(SqliteFeed::start(&for_new).expect("feed"))),
    };
    Some((dir, backend))
}

conformance::suite!(fresh, fresh_feed);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_survives_reopening_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mailroom.db");
    {
        let store = SqliteStore::open(&path).unwrap();
        conformance::seed_domain(&store).await;
        conformance::create(&store, "Sales", "sales@contoso.com").await;
    }
    let store = SqliteStore::open(&path).unwrap();
    let found = store.recipient_by_address(&conformance::addr("SALES@contoso.com")).await.unwrap();
    assert_eq!(found.map(|r| r.name), Some("Sales".to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_uses_wal_journal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mailroom.db");
    let _store = SqliteStore::open(&path).unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
}

/// A store at `path` with one message, `body`, in Sales' Inbox (a test
/// then takes the schema back to see a migration run over it).
async fn one_message(
    path: &std::path::Path,
    body: &[u8],
    summary: mailroom_core::mail::MessageSummary,
) -> (SqliteStore, mailroom_types::FolderId) {
    use mailroom_core::mail::{Flags, SpecialUse};
    use mailroom_core::store::{DeliveryTarget, FolderRef, MailStore};
    let store = SqliteStore::open(path).unwrap();
    conformance::seed_domain(&store).await;
    let sales = conformance::create(&store, "Sales", "sales@contoso.com").await;
    let target = DeliveryTarget {
        mailbox: conformance::mailbox(&sales),
        folder: FolderRef::Special(SpecialUse::Inbox),
        flags: Flags::default(),
    };
    let (_, delivered) = store.deliver(body.to_vec(), &summary, 0, &[target]).await.unwrap();
    (store, delivered[0].folder)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migration_4_fills_the_searchable_headers_of_existing_bodies() {
    use mailroom_core::mail::MessageSummary;
    use mailroom_core::store::MailStore;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mailroom.db");
    let summary = MessageSummary {
        headers: vec![("Subject".into(), "Quarterly report".into())],
        ..MessageSummary::default()
    };
    let (_, folder) = one_message(&path, b"Subject: Quarterly report\r\n\r\nx", summary).await;
    // Back to schema 3: no headers column (nor the later outbound table).
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        let triggers: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'change%'")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        for trigger in triggers {
            conn.execute_batch(&format!("DROP TRIGGER {trigger}")).unwrap();
        }
        conn.execute_batch(
            "DROP TRIGGER blobs_substrings_gone; DROP TRIGGER blobs_substrings_pending; DROP TABLE body_substrings;
             DROP TABLE substring_pending;
             DROP TABLE change_log; ALTER TABLE blobs DROP COLUMN headers; DROP TABLE outbound; DROP TABLE auto_reply_sent;
             DROP TABLE calendar_activity; DROP TABLE calendar_objects; DROP TABLE calendars;
             DROP TABLE api_tokens; DROP INDEX messages_by_date; DROP INDEX messages_unread; DROP INDEX messages_flagged;
             DROP TRIGGER blobs_text_pending; DROP TRIGGER blobs_text_gone; DROP TABLE message_text; DROP TABLE text_pending;
             DROP TABLE text_keys; DROP INDEX blobs_by_text_key; ALTER TABLE blobs DROP COLUMN text_key; DROP TABLE dkim_keys;
             ALTER TABLE folders DROP COLUMN recent_uid; ALTER TABLE messages DROP COLUMN saved_at;
             DROP TRIGGER IF EXISTS accounts_password_drops_scram; ALTER TABLE accounts DROP COLUMN scram_sha256;
             DROP TABLE server_secrets; DROP TABLE nodes; DROP TABLE web_sessions;
             DROP TABLE recoverable_items; DELETE FROM folders WHERE special_use = 'recoverable';
             ALTER TABLE permissions DROP COLUMN no_purge; ALTER TABLE mailbox_settings DROP COLUMN retain_deleted_seconds;
             ALTER TABLE mailbox_settings DROP COLUMN recoverable_items_quota;
             DROP TABLE mailbox_activity; ALTER TABLE mailbox_settings DROP COLUMN audit_enabled;
             ALTER TABLE mailbox_settings DROP COLUMN audit_log_age_seconds;
             DROP TRIGGER IF EXISTS change_own_seen;
             DROP TABLE member_seen; ALTER TABLE mailbox_settings DROP COLUMN per_member_seen;
             DELETE FROM schema_migrations WHERE version >= 4;",
        )
        .unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.search_header(folder, "subject", "REPORT").await.unwrap(), [mailroom_types::Uid(1)]);
    // Migration 21 gave the mailbox Recoverable Items, with a UIDVALIDITY
    // above every other folder's.
    let mailbox = store.folder(folder).await.unwrap().unwrap().mailbox;
    let folders = store.folders(mailbox).await.unwrap();
    let bin = folders.iter().find(|f| f.special_use == Some(mailroom_core::mail::SpecialUse::Recoverable));
    let bin = bin.expect("Recoverable Items made by the migration");
    assert_eq!(bin.name, "Recoverable Items");
    assert!(folders.iter().all(|f| f.id == bin.id || f.uid_validity < bin.uid_validity));
    // Migration 11 listed the body stored before it for the search indexer.
    assert_eq!(store.text_backlog().await.unwrap(), 1);
    let pending = store.pending_text(10, usize::MAX).await.unwrap();
    assert_eq!(pending[0].bytes, b"Subject: Quarterly report\r\n\r\nx");
    // Migration 7 gave the mailbox made before calendars existed its default calendar.
    let sales = mailroom_core::store::DirectoryStore::recipient_by_address(
        &store,
        &mailroom_types::EmailAddress::parse("sales@contoso.com").unwrap(),
    )
    .await
    .unwrap()
    .unwrap();
    let calendars =
        mailroom_core::store::CalendarStore::calendars(&store, sales.mailbox_id().unwrap()).await.unwrap();
    assert_eq!(calendars.iter().map(|c| c.slug.as_str()).collect::<Vec<_>>(), ["calendar"]);
}

/// Migration 16 lists the bodies stored before it for the substring index
/// only: the word index (the web app's search) keeps what it had.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migration_16_indexes_substrings_and_leaves_the_word_index() {
    use mailroom_core::mail::{MessageSummary, TextQuery};
    use mailroom_core::store::{MailStore, MessageText};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mailroom.db");
    let folder = {
        let body = b"Subject: Minutes\r\n\r\nquarterly minutes";
        let (store, folder) = one_message(&path, body, MessageSummary::default()).await;
        let pending = store.pending_text(10, usize::MAX).await.unwrap();
        let text = MessageText {
            body: "quarterly minutes".into(),
            search_body: "quarterly minutes".into(),
            ..Default::default()
        };
        store.store_text(vec![(pending[0].key, text)]).await.unwrap();
        folder
    };
    // Back to schema 15: no substring index.
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "DROP TRIGGER blobs_substrings_gone; DROP TRIGGER blobs_substrings_pending; DROP TABLE body_substrings;
             DROP TABLE substring_pending; DROP TRIGGER accounts_password_drops_scram;
             ALTER TABLE accounts DROP COLUMN scram_sha256; DROP TABLE server_secrets;
             DROP TABLE nodes; DROP TABLE web_sessions; ALTER TABLE outbound DROP COLUMN lease_node; ALTER TABLE outbound DROP COLUMN leased_at;
             DROP TABLE recoverable_items; DELETE FROM folders WHERE special_use = 'recoverable';
             ALTER TABLE permissions DROP COLUMN no_purge; ALTER TABLE mailbox_settings DROP COLUMN retain_deleted_seconds;
             ALTER TABLE mailbox_settings DROP COLUMN recoverable_items_quota;
             DROP TABLE mailbox_activity; ALTER TABLE mailbox_settings DROP COLUMN audit_enabled;
             ALTER TABLE mailbox_settings DROP COLUMN audit_log_age_seconds;
             DROP TRIGGER IF EXISTS change_own_seen;
             DROP TABLE member_seen; ALTER TABLE mailbox_settings DROP COLUMN per_member_seen;
             DELETE FROM schema_migrations WHERE version >= 16;
             INSERT INTO folders (mailbox_id, name, name_key, uid_validity, created_at)
             SELECT mailbox_id, 'Recoverable Items', 'recoverable items', 1, 0 FROM folders LIMIT 1;
             INSERT INTO folders (mailbox_id, name, name_key, uid_validity, created_at)
             SELECT mailbox_id, 'Recoverable Items/Sub', 'recoverable items/sub', 2, 0 FROM folders LIMIT 1;",
        )
        .unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    // Migration 21 moved a person's "Recoverable Items" (and what is under
    // it) aside for the real one.
    let mailbox = store.folder(folder).await.unwrap().unwrap().mailbox;
    let mut names: Vec<String> = store.folders(mailbox).await.unwrap().into_iter().map(|f| f.name).collect();
    names.retain(|n| n.starts_with("Recoverable Items"));
    names.sort();
    let renamed = format!("Recoverable Items (renamed {})", mailbox.0);
    assert_eq!(names, ["Recoverable Items".to_string(), renamed.clone(), format!("{renamed}/Sub")]);
    let words = store.search_text(folder, &TextQuery::parse("quarterly"), 10, 10).await.unwrap();
    assert_eq!((words.uids.len(), words.unindexed.len()), (1, 0), "the word index as it was");
    let substrings = store.search_body(folder, "rly min").await.unwrap();
    assert_eq!((substrings.uids.len(), substrings.unindexed.len()), (0, 1), "read until indexed");
    assert_eq!(store.text_backlog().await.unwrap(), 1);
    let pending = store.pending_text(10, usize::MAX).await.unwrap();
    let text = MessageText {
        body: "quarterly minutes".into(),
        search_body: "quarterly minutes".into(),
        ..Default::default()
    };
    store.store_text(vec![(pending[0].key, text)]).await.unwrap();
    let substrings = store.search_body(folder, "rly min").await.unwrap();
    assert_eq!((substrings.uids.len(), substrings.unindexed.len()), (1, 0));
    assert_eq!(store.text_backlog().await.unwrap(), 0);
}

/// A body whose file is gone can't stop the search indexer: it comes out
/// empty (logged), is indexed as such, and those after it go on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_cant_be_read_doesnt_stall_the_indexer() {
    use mailroom_core::mail::{Flags, MessageSummary, SpecialUse};
    use mailroom_core::store::{DeliveryTarget, FolderRef, MailStore, MessageText};
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("mailroom.db")).unwrap();
    conformance::seed_domain(&store).await;
    let sales = conformance::create(&store, "Sales", "sales@contoso.com").await;
    let target = DeliveryTarget {
        mailbox: conformance::mailbox(&sales),
        folder: FolderRef::Special(SpecialUse::Inbox),
        flags: Flags::default(),
    };
    // Over the inline limit: the body is a file beside the database.
    let mut big = b"Subject: big\r\n\r\n".to_vec();
    big.extend(std::iter::repeat_n(b'x', 300 * 1024));
    store.deliver(big, &MessageSummary::default(), 0, std::slice::from_ref(&target)).await.unwrap();
    store
        .deliver(b"Subject: small\r\n\r\nfine".to_vec(), &MessageSummary::default(), 0, &[target])
        .await
        .unwrap();
    std::fs::remove_dir_all(dir.path().join("blobs")).unwrap();
    let pending = store.pending_text(10, usize::MAX).await.unwrap();
    assert_eq!(pending.len(), 2);
    assert!(pending[0].bytes.is_empty(), "the lost body comes out empty");
    assert_eq!(pending[1].bytes, b"Subject: small\r\n\r\nfine");
    let texts = pending.iter().map(|p| (p.key, MessageText::default())).collect();
    store.store_text(texts).await.unwrap();
    assert_eq!(store.text_backlog().await.unwrap(), 0, "nothing left to retry forever");
}

/// A folder too large to keep in memory is answered from SQL: by UID for
/// FETCH's reads, counted for STATUS. The limit is lowered here (it is
/// 100,000 messages by default) so a small folder takes that path; every
/// answer must equal what the folder's listing says.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn folders_too_large_to_keep_are_read_by_uid_and_counted_in_sql() {
    use mailroom_core::mail::{Flags, SystemFlag};
    use mailroom_core::store::{FlagChange, MailStore};
    use mailroom_types::Uid;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mailroom.db");
    let summary = |subject: &str| {
        let mut s = mailroom_core::mail::MessageSummary::default();
        s.envelope.subject = Some(subject.into());
        s
    };
    let (store, folder) = one_message(&path, b"Subject: one\r\n\r\n1", summary("one")).await;
    store.set_folder_view_limit(2);
    for n in 2..=4 {
        let body = format!("Subject: {n}\r\n\r\n{n}").into_bytes();
        let target = mailroom_core::store::DeliveryTarget {
            mailbox: store.folder(folder).await.unwrap().unwrap().mailbox,
            folder: mailroom_core::store::FolderRef::Id(folder),
            flags: Flags::default(),
        };
        store.deliver(body, &summary(&n.to_string()), 0, &[target]).await.unwrap();
    }
    let seen = Flags::default().with(SystemFlag::Seen);
    store.store_flags(folder, &[Uid(2)], FlagChange::Add, &seen, None, conformance::BY).await.unwrap();
    let deleted = Flags::default().with(SystemFlag::Deleted);
    store.store_flags(folder, &[Uid(3)], FlagChange::Add, &deleted, None, conformance::BY).await.unwrap();

    let all = store.messages(folder).await.unwrap();
    assert_eq!(all.len(), 4);
    let by_uid = store.messages_by_uid(folder, &[Uid(4), Uid(2), Uid(9), Uid(2)]).await.unwrap();
    assert_eq!(by_uid, vec![all[1].clone(), all[3].clone()], "in UID order, missing and repeated skipped");
    let summaries = store.message_summaries(folder, &[Uid(3), Uid(9)]).await.unwrap();
    assert_eq!(summaries[0].as_ref().unwrap().envelope.subject.as_deref(), Some("3"));
    assert!(summaries[1].is_none());
    let ranges = store.message_ranges(folder, &[(Uid(1), 0..7), (Uid(9), 0..7)]).await.unwrap();
    assert_eq!(ranges, [Some(b"Subject".to_vec()), None]);
    let counts = store.folder_counts(folder).await.unwrap();
    assert_eq!((counts.messages, counts.unseen, counts.deleted), (4, 3, 1));
    assert_eq!(counts.size, all.iter().map(|m| m.size).sum::<u64>());
    assert_eq!(counts.deleted_size, all[2].size);
    assert_eq!(counts.recent, 4, "nobody claimed them");
}
