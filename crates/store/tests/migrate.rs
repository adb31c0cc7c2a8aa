//! `migrate_to_postgres`: an organisation built in the embedded store
//! through the store traits arrives whole in PostgreSQL — every row, every
//! body byte, ids kept and new ids after them — an interrupted copy
//! continues where it stopped, and targets it mustn't touch are refused.
//!
//! The database is the one `MAILROOM_TEST_PG` names, each test in a schema
//! of its own (as `tests/postgres.rs`); without it the tests say so loudly
//! and pass, except under CI.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

#[allow(unused)] // the helpers, not the suite
mod conformance;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use mailroom_core::calendar::{CalendarProps, ComponentKind, NewCalendarObject, Precondition, TimeSpan};
use mailroom_core::cluster::NodeBeat;
use mailroom_core::directory::model::{
    AdminRole, AutoReplyConfig, AutoReplyState, MailboxSettings, PasswordHash, RecipientKind,
};
use mailroom_core::directory::{DkimAlgorithm, NewDkimKey};
use mailroom_core::mail::{Flags, MessageSummary, SpecialUse, SystemFlag};
use mailroom_core::permissions::Right;
use mailroom_core::store::{
    BlobStore, CalendarStore, ClusterStore, DeliveryTarget, FlagChange, FolderRef, MailStore, NewQueued,
    Store,
};
use mailroom_store::scratch::ScratchSchema;
use mailroom_store::{
    MigrateError, MigrateOptions, MigrateReport, PgStore, SqliteStore, migrate_to_postgres,
};
use mailroom_types::{BlobId, MailboxId, ModSeq, PrincipalId, Uid};
use sha2::{Digest, Sha256};

use conformance::{addr, create_kind, domain, entry, mailbox, new_mailbox, seed_domain};

// ------------------------------------------------------------------ the target

/// The test's target: a schema of its own, dropped with the guard.
struct Schema {
    scratch: ScratchSchema,
}

impl Schema {
    fn url(&self) -> String {
        self.scratch.url()
    }

    fn name(&self) -> &str {
        self.scratch.name()
    }

    async fn client(&self) -> tokio_postgres::Client {
        let (client, connection) = tokio_postgres::connect(&self.url(), tokio_postgres::NoTls).await.unwrap();
        tokio::spawn(connection);
        client
    }

    async fn count(&self, sql: &str) -> i64 {
        self.client().await.query_one(sql, &[]).await.unwrap().get(0)
    }
}

/// A new schema in `MAILROOM_TEST_PG`'s database, or `None` (said loudly)
/// when there is none outside CI.
async fn new_schema() -> Option<Schema> {
    Some(Schema { scratch: ScratchSchema::create()? })
}

async fn migrate(
    path: &Path,
    schema: &Schema,
    options: &MigrateOptions,
) -> Result<MigrateReport, MigrateError> {
    migrate_to_postgres(path, &schema.url(), schema.name(), options, |_| {}).await
}

fn batches(rows: usize, stop: Option<u64>) -> MigrateOptions {
    MigrateOptions { batch_rows: rows, stop_after_batches: stop, ..MigrateOptions::default() }
}

// ------------------------------------------------------------------ the source

/// What the test checks after the copy besides the dump.
struct Org {
    _dir: tempfile::TempDir,
    path: PathBuf,
    store: SqliteStore,
    /// The last recipient made, deleted before the copy, and the highest
    /// folder and calendar ids it had: none may come back.
    deleted: (PrincipalId, i64, i64),
    /// The body above the inline limit, kept in a file and shared.
    big: BlobId,
    removed_queue_entry: i64,
}

fn message(subject: &str, body_len: usize) -> Vec<u8> {
    let mut m = format!("From: a@fabrikam.com\r\nSubject: {subject}\r\n\r\n").into_bytes();
    m.extend((0..body_len).map(|i| b'a' + (i % 26) as u8));
    m
}

fn summary(subject: &str) -> MessageSummary {
    let mut s = MessageSummary::default();
    s.envelope.subject = Some(subject.into());
    s.headers = vec![("Subject".into(), subject.into())];
    s
}

fn into(m: MailboxId, folder: FolderRef, flags: Flags) -> DeliveryTarget {
    DeliveryTarget { mailbox: m, folder, flags }
}

fn inbox(m: MailboxId) -> DeliveryTarget {
    into(m, FolderRef::Special(SpecialUse::Inbox), Flags::default())
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

/// An organisation with some of everything, built through the traits.
async fn organisation() -> Org {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mailroom.db");
    let store = SqliteStore::open(&path).unwrap();
    let s: &dyn Store = &store;

    seed_domain(s).await;
    s.add_accepted_domain(&domain("fabrikam.com"), false).await.unwrap();
    let key = |selector: &str, algorithm, bytes: Vec<u8>| NewDkimKey {
        selector: selector.into(),
        algorithm,
        private_key: mailroom_types::Secret::new(bytes),
        public_key: format!("{selector}-public"),
    };
    s.add_dkim_keys(
        &domain("contoso.com"),
        vec![
            key("mr1e", DkimAlgorithm::Ed25519, vec![1, 2, 3]),
            key("mr1r", DkimAlgorithm::Rsa, vec![0, 255]),
        ],
        true,
    )
    .await
    .unwrap();

    // People, a shared mailbox, groups; a recipient made and removed.
    let alice = create_kind(s, RecipientKind::UserMailbox, "Alice", "alice@contoso.com").await;
    let mut new_bob = new_mailbox(RecipientKind::UserMailbox, "Bob Smith", "bob@contoso.com");
    new_bob.secondary_addresses = vec![addr("robert@fabrikam.com")];
    let bob = s.create_recipient(new_bob).await.unwrap();
    let sales = create_kind(s, RecipientKind::SharedMailbox, "Sales", "sales@contoso.com").await;
    let team = create_kind(s, RecipientKind::SecurityGroup, "Team", "team@contoso.com").await;
    let list = create_kind(s, RecipientKind::DistributionGroup, "All", "all@contoso.com").await;
    // The newest recipient, with its folders and calendar, goes: ids above
    // every remaining one that the copy mustn't hand out again.
    let temp = create_kind(s, RecipientKind::UserMailbox, "Temp", "temp@contoso.com").await;
    let temp_folders = s.folders(mailbox(&temp)).await.unwrap().iter().map(|f| f.id.0).max().unwrap();
    let temp_calendar = s.calendars(mailbox(&temp)).await.unwrap().iter().map(|c| c.id.0).max().unwrap();
    s.delete_recipient(temp.id).await.unwrap();
    s.add_group_member(team.id, alice.id).await.unwrap();
    s.add_group_member(team.id, bob.id).await.unwrap();
    s.add_group_member(list.id, team.id).await.unwrap();
    s.set_roles(alice.id, &BTreeSet::from([AdminRole::GlobalAdmin])).await.unwrap();
    s.set_scram_verifier(alice.id, &PasswordHash("$argon2id$fake".into()), "SCRAM-SHA-256$4096:x$y:z")
        .await
        .unwrap();
    s.set_sign_in_blocked(bob.id, true).await.unwrap();
    let settings = MailboxSettings {
        forwarding_recipient: Some(bob.id),
        deliver_to_mailbox_and_forward: true,
        ..MailboxSettings::default()
    };
    s.set_mailbox_settings(mailbox(&alice), &settings).await.unwrap();
    let away = AutoReplyConfig {
        state: AutoReplyState::Enabled,
        internal_message: "Away — back Monday".into(),
        ..AutoReplyConfig::default()
    };
    s.set_auto_reply(mailbox(&sales), &away).await.unwrap();
    s.grant(&[
        entry(&sales, &team, Right::FullAccess, true),
        entry(&sales, &alice, Right::FullAccess, false),
        entry(&sales, &bob, Right::SendAs, false),
    ])
    .await
    .unwrap();
    s.create_api_token("deploy", "hash-of-secret", chrono::Utc::now()).await.unwrap();
    s.server_secret("srs", vec![7; 32]).await.unwrap();

    // Mail: several folders, flags and keywords, an expunge, a copy, and
    // one large body (in a file) in two mailboxes.
    let (a, b, m) = (mailbox(&alice), mailbox(&bob), mailbox(&sales));
    let projects = s.create_folder(m, "Projects").await.unwrap();
    let archive = s.create_folder(m, "Projects/2025").await.unwrap();
    for i in 0..12 {
        let flags = if i % 3 == 0 { Flags::default().with(SystemFlag::Seen) } else { Flags::default() };
        let target = match i % 4 {
            0 => inbox(a),
            1 => into(m, FolderRef::Id(projects.id), flags),
            2 => into(m, FolderRef::Id(archive.id), Flags::default()),
            _ => into(b, FolderRef::Special(SpecialUse::Sent), flags),
        };
        let subject = format!("message {i}");
        s.deliver(message(&subject, 200 + i * 50), &summary(&subject), 1_800_000_000 + i as i64, &[target])
            .await
            .unwrap();
    }
    let big: Vec<u8> =
        message("big", 600 * 1024).into_iter().enumerate().map(|(i, c)| c ^ (i % 7) as u8).collect();
    let (big_id, _) = s.deliver(big, &summary("big"), 1_800_000_100, &[inbox(a), inbox(m)]).await.unwrap();
    s.deliver(Vec::new(), &summary(""), 1_800_000_200, &[inbox(b)]).await.unwrap();
    let flagged =
        Flags { system: SystemFlag::Flagged as u8, keywords: BTreeSet::from(["$Important".into()]) };
    s.store_flags(projects.id, &[Uid(1), Uid(2)], FlagChange::Add, &flagged, None, conformance::BY)
        .await
        .unwrap();
    let deleted = Flags::default().with(SystemFlag::Deleted);
    s.store_flags(archive.id, &[Uid(1)], FlagChange::Add, &deleted, None, conformance::BY).await.unwrap();
    s.expunge(archive.id, None, conformance::BY).await.unwrap();
    s.copy_messages(projects.id, &[Uid(1), Uid(3)], archive.id, conformance::BY).await.unwrap();
    s.set_subscribed(alice.id, "Shared/sales@contoso.com/Projects", true).await.unwrap();

    // The queue: a message for two remote recipients.
    let remote = |to: &str, at: i64| NewQueued {
        envelope_from: Some(addr("alice@contoso.com")),
        recipient: addr(to),
        next_attempt: at,
    };
    s.deliver_and_queue(
        message("outgoing", 300),
        &summary("outgoing"),
        1_800_000_300,
        &[into(a, FolderRef::Special(SpecialUse::Sent), Flags::default().with(SystemFlag::Seen))],
        &[remote("x@fabrikam.net", 1_800_000_400), remote("y@example.org", 1_800_000_500)],
    )
    .await
    .unwrap();
    let queued = s.queued(None).await.unwrap();
    s.queue_retry(queued[0].id, 1_800_001_000, "451 try later", true).await.unwrap();
    // The newest entry is gone: its id mustn't come back either.
    s.queue_remove(queued[1].id).await.unwrap();

    // Calendars: the default one and another, objects, a tombstone.
    let rota = s
        .create_calendar(
            m,
            "rota",
            "Rota",
            &CalendarProps { color: Some(Some("#00FF00".into())), ..Default::default() },
        )
        .await
        .unwrap();
    let default = s.calendar(m, "calendar").await.unwrap().unwrap();
    for (calendar, n) in [(default.id, 3), (rota.id, 2)] {
        for i in 0..n {
            let object = NewCalendarObject {
                uid: format!("event-{i}"),
                component: ComponentKind::Event,
                data: format!("BEGIN:VCALENDAR\r\nUID:event-{i}\r\nEND:VCALENDAR\r\n"),
                span: TimeSpan { start: 1_800_000_000 + i * 3600, end: 1_800_003_600 + i * 3600 },
            };
            s.put_calendar_object(calendar, &format!("e{i}.ics"), &object, &Precondition::None, alice.id)
                .await
                .unwrap();
        }
    }
    s.delete_calendar_object(default.id, "e1.ics", &Precondition::None, alice.id).await.unwrap();

    // A server ran on the store once, long ago.
    let node = NodeBeat { name: "mx1".into(), started_at: 1, version: "0".into(), details: String::new() };
    s.heartbeat(&node, now() - 3600).await.unwrap();

    Org {
        _dir: dir,
        path,
        store,
        deleted: (temp.id, temp_folders as i64, temp_calendar as i64),
        big: big_id,
        removed_queue_entry: queued[1].id,
    }
}

// ------------------------------------------------------------------ comparing

fn digest(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Everything the traits show of an organisation, one line per read.
async fn dump(s: &dyn Store) -> Vec<String> {
    let mut out = Vec::new();
    let domains = s.accepted_domains().await.unwrap();
    out.push(format!("domains {domains:?}"));
    for d in &domains {
        for k in s.dkim_keys(&d.name).await.unwrap() {
            out.push(format!(
                "dkim {} {} {:?} {:?} {} {} {}",
                k.domain,
                k.selector,
                k.algorithm,
                k.private_key.expose(),
                k.public_key,
                k.created,
                k.signing
            ));
        }
    }
    out.push(format!("tokens {:?}", s.api_tokens().await.unwrap()));
    // Offered something else: the answer is what is stored.
    out.push(format!("secret {:?}", s.server_secret("srs", vec![0; 32]).await.unwrap()));
    out.push(format!("queue {:?}", s.queued(None).await.unwrap()));
    let recipients = s.list_recipients(&RecipientKind::ALL).await.unwrap();
    out.push(format!("recipients {recipients:?}"));
    for r in &recipients {
        let id = r.id;
        out.push(format!("{} account {:?}", r.name, s.account(id).await.unwrap()));
        out.push(format!("{} members {:?}", r.name, s.group_members(id).await.unwrap()));
        out.push(format!("{} groups {:?}", r.name, s.groups_of(id).await.unwrap()));
        out.push(format!("{} grants {:?}", r.name, s.permissions_on(id).await.unwrap()));
        out.push(format!("{} subscriptions {:?}", r.name, s.subscriptions(id).await.unwrap()));
        let Some(m) = r.mailbox_id() else { continue };
        out.push(format!("{} settings {:?}", r.name, s.mailbox_settings(m).await.unwrap()));
        out.push(format!("{} auto reply {:?}", r.name, s.auto_reply(m).await.unwrap()));
        out.push(format!("{} usage {:?}", r.name, s.usage(m).await.unwrap()));
        let trail = mailroom_core::mail::ActivityQuery { limit: 1000, ..Default::default() };
        out.push(format!("{} trail {:?}", r.name, s.activity(m, &trail).await.unwrap()));
        for folder in s.folders(m).await.unwrap() {
            out.push(format!("folder {folder:?}"));
            let messages = s.messages(folder.id).await.unwrap();
            for message in messages.iter() {
                let body = s.message_body(folder.id, message.uid).await.unwrap();
                out.push(format!("message {message:?} body {}", digest(&body)));
            }
            let uids: Vec<Uid> = messages.iter().map(|m| m.uid).collect();
            out.push(format!("summaries {:?}", s.message_summaries(folder.id, &uids).await.unwrap()));
            out.push(format!("expunged {:?}", s.expunged_since(folder.id, ModSeq(0)).await.unwrap()));
        }
        for calendar in s.calendars(m).await.unwrap() {
            out.push(format!("calendar {calendar:?}"));
            out.push(format!("objects {:?}", s.calendar_objects(calendar.id).await.unwrap()));
            out.push(format!("changes {:?}", s.calendar_changes(calendar.id, 0).await.unwrap()));
            out.push(format!("activity {:?}", s.calendar_activity(calendar.id, 100).await.unwrap()));
        }
    }
    out
}

/// The copy shows exactly what the source does, line by line.
async fn assert_same(source: &dyn Store, copy: &dyn Store) {
    let (before, after) = (dump(source).await, dump(copy).await);
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(b, a);
    }
    assert_eq!(before.len(), after.len());
    assert!(before.len() > 40, "the dump covers the organisation: {} lines", before.len());
}

/// Nothing the copy did is left switched off or logged.
async fn assert_clean(schema: &Schema) {
    let disabled = schema
        .count(
            "SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
             WHERE c.relnamespace = current_schema()::regnamespace AND NOT t.tgisinternal AND t.tgenabled = 'D'",
        )
        .await;
    assert_eq!(disabled, 0, "every trigger is on again");
    assert_eq!(schema.count("SELECT count(*) FROM change_log").await, 0, "the new store's log starts empty");
}

// ------------------------------------------------------------------ tests

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organisation_arrives_whole_and_new_ids_follow_the_copied_ones() {
    let Some(schema) = new_schema().await else { return };
    let org = organisation().await;
    let mut seen = Vec::new();
    let report =
        migrate_to_postgres(&org.path, &schema.url(), schema.name(), &MigrateOptions::default(), |p| {
            seen.push((p.table.to_string(), p.done, p.total))
        })
        .await
        .unwrap();
    assert!(report.verified(), "{report:?}");
    assert!(!report.resumed && report.already_copied_at.is_none());
    let count = |table: &str| report.tables.iter().find(|t| t.table == table).unwrap().target;
    assert_eq!(count("messages"), 12 + 2 + 1 + 1 + 2 - 1);
    assert_eq!(count("outbound"), 1);
    assert_eq!(count("expunged"), 1);
    // Flagged twice, copied twice, purged once.
    assert_eq!(count("mailbox_activity"), 5);
    assert!(report.body_bytes.0 > 600 * 1024 && report.body_bytes.0 == report.body_bytes.1);
    let (_, done, total) = seen.last().unwrap().clone();
    assert_eq!(done, total, "the progress ends at its total");
    assert!(seen.windows(2).all(|w| w[0].1 <= w[1].1), "the progress only grows");

    assert!(org.path.with_file_name("blobs").is_dir(), "the large body was in a file");

    let pg = PgStore::connect(&schema.url(), schema.name()).await.unwrap();
    assert_same(&org.store, &pg).await;
    assert_clean(&schema).await;
    assert_eq!(schema.count("SELECT count(*) FROM nodes").await, 0, "the old store's servers stay behind");
    assert_eq!(schema.count("SELECT count(*) FROM outbound WHERE lease_node IS NOT NULL").await, 0);
    assert_eq!(schema.count("SELECT count(*) FROM blob_chunks WHERE blob_id = (SELECT id FROM blobs ORDER BY size DESC LIMIT 1)").await, 3);

    // The large body, read in ranges across its pieces.
    for range in [0..10, 262_140..262_150, 600_000..700_000] {
        assert_eq!(
            org.store.read_blob_range(org.big, range.clone()).await.unwrap(),
            pg.read_blob_range(org.big, range).await.unwrap()
        );
    }
    // Every body waits for the background indexer.
    assert_eq!(pg.text_backlog().await.unwrap(), count("blobs"));

    // New rows get ids after the copied ones, and after the ids the source
    // handed out to rows deleted since.
    let s: &dyn Store = &org.store;
    let (deleted, deleted_folder, deleted_calendar) = org.deleted;
    let sales = s.recipient_by_address(&addr("sales@contoso.com")).await.unwrap().unwrap();
    let m = mailbox(&sales);
    let most = s.list_recipients(&RecipientKind::ALL).await.unwrap().iter().map(|r| r.id.0).max().unwrap();
    assert!(deleted.0 > most, "the deleted recipient was the newest");
    let newest = create_kind(&pg, RecipientKind::UserMailbox, "Carol", "carol@contoso.com").await;
    assert_eq!(newest.id.0, deleted.0 + 1, "{newest:?}");
    let folders = s.folders(m).await.unwrap();
    let folder = pg.create_folder(m, "New").await.unwrap();
    assert!(folder.id.0 > deleted_folder, "{folder:?}");
    assert!(
        folders.iter().all(|f| f.uid_validity < folder.uid_validity),
        "UIDVALIDITY goes on from the source's"
    );
    let inbox_before = folders.iter().find(|f| f.special_use == Some(SpecialUse::Inbox)).unwrap();
    let (_, delivered) = pg.deliver(message("after", 10), &summary("after"), 0, &[inbox(m)]).await.unwrap();
    assert_eq!(delivered[0].uid, inbox_before.uid_next);
    let calendar = pg.create_calendar(m, "later", "Later", &CalendarProps::default()).await.unwrap();
    assert!(calendar.id.0 > deleted_calendar, "{calendar:?}");
    let queued_before: Vec<i64> = s.queued(None).await.unwrap().iter().map(|q| q.id).collect();
    pg.deliver_and_queue(
        message("again", 10),
        &summary("again"),
        0,
        &[],
        &[NewQueued { envelope_from: None, recipient: addr("z@example.org"), next_attempt: 0 }],
    )
    .await
    .unwrap();
    let new_ids: Vec<i64> = pg
        .queued(None)
        .await
        .unwrap()
        .iter()
        .map(|q| q.id)
        .filter(|id| !queued_before.contains(id))
        .collect();
    assert_eq!(new_ids, [org.removed_queue_entry + 1], "after the entry removed before the copy");
    let next_text_key: i64 = rusqlite::Connection::open(&org.path)
        .unwrap()
        .query_row("SELECT next FROM text_keys", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        schema.count(&format!("SELECT count(*) FROM blobs WHERE text_key >= {next_text_key}")).await,
        2,
        "the two new bodies have text keys after the source's"
    );

    // Run again: the copy is there, nothing is done.
    let again = migrate(&org.path, &schema, &MigrateOptions::default()).await.unwrap();
    assert!(again.already_copied_at.is_some() && again.tables.is_empty(), "{again:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_copy_continues_after_its_last_batch() {
    let Some(schema) = new_schema().await else { return };
    let org = organisation().await;
    // Two rows a batch: the stops fall in the middle of tables.
    for stop in [4, 9, 17] {
        match migrate(&org.path, &schema, &batches(2, Some(stop))).await {
            Err(MigrateError::Stopped(n)) => assert_eq!(n, stop),
            other => panic!("expected a stop: {other:?}"),
        }
        assert_clean(&schema).await;
    }
    // What the progress says was copied is what the tables hold: each
    // batch committed with its progress, none twice, none lost.
    let client = schema.client().await;
    let progress = client.query("SELECT table_name, copied, done FROM migrate_progress", &[]).await.unwrap();
    let mut copied = 0;
    for row in &progress {
        let (table, rows): (&str, i64) = (row.get(0), row.get(1));
        assert_eq!(schema.count(&format!("SELECT count(*) FROM {table}")).await, rows, "{table}");
        copied += rows;
    }
    assert!(copied > 30, "{copied} rows copied before the last run");
    assert!(progress.iter().any(|r| r.get::<_, bool>(2)) && progress.iter().any(|r| !r.get::<_, bool>(2)));
    let report = migrate(&org.path, &schema, &batches(2, None)).await.unwrap();
    assert!(report.verified() && report.resumed, "{report:?}");
    let pg = PgStore::connect(&schema.url(), schema.name()).await.unwrap();
    assert_same(&org.store, &pg).await;
    assert_clean(&schema).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_of_a_store_that_changed_since_is_refused() {
    let Some(schema) = new_schema().await else { return };
    let org = organisation().await;
    assert!(matches!(migrate(&org.path, &schema, &batches(3, Some(2))).await, Err(MigrateError::Stopped(2))));
    create_kind(&org.store, RecipientKind::UserMailbox, "Dave", "dave@contoso.com").await;
    let err = migrate(&org.path, &schema, &MigrateOptions::default()).await.unwrap_err();
    assert!(matches!(err, MigrateError::Refused(_)) && err.to_string().contains("changed since"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_with_an_organisation_or_a_source_in_use_is_refused() {
    let Some(schema) = new_schema().await else { return };
    let org = organisation().await;
    // A server beating on the source now.
    let node =
        NodeBeat { name: "mx1".into(), started_at: now(), version: "0".into(), details: String::new() };
    org.store.heartbeat(&node, now()).await.unwrap();
    let err = migrate(&org.path, &schema, &MigrateOptions::default()).await.unwrap_err();
    assert!(err.to_string().contains("is running on"), "{err}");
    org.store.heartbeat(&node, now() - 3600).await.unwrap();

    // A target that already serves an organisation of its own.
    let other = PgStore::connect(&schema.url(), schema.name()).await.unwrap();
    seed_domain(&other).await;
    let err = migrate(&org.path, &schema, &MigrateOptions::default()).await.unwrap_err();
    assert!(err.to_string().contains("already holds an organisation"), "{err}");
    assert!(!err.to_string().contains("postgres://"), "the URL isn't shown: {err}");

    // A source that isn't there.
    let missing = org.path.with_file_name("nothing.db");
    let err = migrate(&missing, &schema, &MigrateOptions::default()).await.unwrap_err();
    assert!(err.to_string().contains("no Mailroom store"), "{err}");
    assert!(!missing.exists(), "nothing was created");
}
