//! [`MailStore`] on PostgreSQL: folders, messages, and bodies kept in the
//! database in chunks (`blob_chunks`), content-addressed and counted by
//! reference, so every node reads what any node stored.

use async_trait::async_trait;
#[allow(unused_imports)]
use mailroom_core::mail::*;
#[allow(unused_imports)]
use mailroom_core::store::*;
#[allow(unused_imports)]
use mailroom_types::*;
use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

use super::{PgStore, exec, now_unix, row};

/// Bodies are stored in pieces of this many bytes.
pub(super) const CHUNK: usize = 256 * 1024;

pub(super) fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("stored data is not valid: {what}").into())
}

pub(super) fn blob_id(bytes: Vec<u8>) -> StoreResult<BlobId> {
    let array: [u8; 32] = bytes.try_into().map_err(|_| corrupt("blob id length"))?;
    Ok(BlobId(array))
}

/// A strictly increasing UIDVALIDITY: a folder created again under an old
/// name never reuses one (RFC 9051 §2.3.1.1).
pub(super) async fn next_uid_validity<C: GenericClient>(tx: &C) -> StoreResult<i64> {
    Ok(row(
        tx,
        "UPDATE counters SET value = LEAST(GREATEST(value + 1, $1), 4294967295)
         WHERE name = 'uid_validity' RETURNING value",
        &[&now_unix()],
    )
    .await?
    .get(0))
}

/// Every new mailbox gets Exchange's default folders and a usage row.
pub(super) async fn create_default_folders<C: GenericClient>(tx: &C, mailbox: i64) -> StoreResult<()> {
    exec(tx, "INSERT INTO mailbox_usage (mailbox_id) VALUES ($1) ON CONFLICT DO NOTHING", &[&mailbox]).await?;
    for special in SpecialUse::ALL {
        let validity = next_uid_validity(tx).await?;
        exec(
            tx,
            "INSERT INTO folders (mailbox_id, name, name_key, special_use, uid_validity, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &mailbox,
                &special.folder_name(),
                &special.folder_name().to_lowercase(),
                &special.storage_name(),
                &validity,
                &now_unix(),
            ],
        )
        .await?;
    }
    Ok(())
}

/// Before a mailbox's rows go, its messages stop referring to their bodies.
pub(super) async fn release_blobs_of_mailbox<C: GenericClient>(tx: &C, mailbox: i64) -> StoreResult<()> {
    exec(
        tx,
        "UPDATE blobs b SET refcount = b.refcount - m.n,
                zero_since = CASE WHEN b.refcount - m.n <= 0 THEN COALESCE(b.zero_since, $2) ELSE b.zero_since END
         FROM (SELECT m.blob_id, COUNT(*) AS n FROM messages m JOIN folders f ON f.id = m.folder_id
               WHERE f.mailbox_id = $1 GROUP BY m.blob_id) m
         WHERE b.id = m.blob_id",
        &[&mailbox, &now_unix()],
    )
    .await?;
    Ok(())
}

/// The columns [`folder_from_row`] reads, in its order.
pub(super) const FOLDER_COLUMNS: &str =
    "id, mailbox_id, name, special_use, uid_validity, uid_next, highest_modseq, message_count, total_size";

/// A folder and its stored special-use name.
pub(super) fn folder_from_row(r: &Row) -> (Folder, Option<String>) {
    (
        Folder {
            id: FolderId(r.get(0)),
            mailbox: MailboxId(r.get(1)),
            name: r.get(2),
            special_use: None,
            uid_validity: r.get::<_, i64>(4) as u32,
            uid_next: Uid(r.get::<_, i64>(5) as u32),
            highest_modseq: ModSeq(r.get::<_, i64>(6) as u64),
            messages: r.get::<_, i64>(7) as u64,
            size: r.get::<_, i64>(8) as u64,
        },
        r.get(3),
    )
}

#[async_trait]
impl MailStore for PgStore {
    async fn folders(&self, mailbox: MailboxId) -> StoreResult<Vec<Folder>> {
        todo!()
    }
    async fn usage(&self, mailbox: MailboxId) -> StoreResult<MailboxUsage> {
        todo!()
    }
    async fn deliver(&self, bytes: Vec<u8>, summary: &MessageSummary, internal_date: i64, targets: &[DeliveryTarget]) -> StoreResult<(BlobId, Vec<Delivered>)> {
        todo!()
    }
    async fn deliver_and_queue(&self, bytes: Vec<u8>, summary: &MessageSummary, internal_date: i64, targets: &[DeliveryTarget], queue: &[NewQueued]) -> StoreResult<(BlobId, Vec<Delivered>)> {
        todo!()
    }
    async fn deliver_batch(&self, messages: Vec<NewMessage>, dequeue: &[i64]) -> StoreResult<Vec<(BlobId, Vec<Delivered>)>> {
        todo!()
    }
    async fn queued(&self, due_by: Option<i64>) -> StoreResult<Vec<QueueEntry>> {
        super::queue::queued(self, due_by).await
    }
    async fn queue_retry(&self, id: i64, next_attempt: i64, error: &str, delay_notified: bool) -> StoreResult<()> {
        super::queue::queue_retry(self, id, next_attempt, error, delay_notified).await
    }
    async fn queue_due_now(&self, id: i64) -> StoreResult<bool> {
        super::queue::queue_due_now(self, id).await
    }
    async fn queue_remove(&self, id: i64) -> StoreResult<bool> {
        super::queue::queue_remove(self, id).await
    }
    async fn folder(&self, folder: FolderId) -> StoreResult<Option<Folder>> {
        todo!()
    }
    async fn messages(&self, folder: FolderId) -> StoreResult<std::sync::Arc<Vec<StoredMessage>>> {
        todo!()
    }
    async fn message_page(&self, folder: FolderId, filter: mailroom_core::mail::MessageFilter, newest_first: bool, offset: usize, limit: usize) -> StoreResult<(usize, Vec<StoredMessage>)> {
        todo!()
    }
    async fn unseen_count(&self, folder: FolderId) -> StoreResult<u64> {
        todo!()
    }
    async fn folder_index(&self, folder: FolderId) -> StoreResult<mailroom_core::mail::FolderIndex> {
        todo!()
    }
    async fn folder_counts(&self, folder: FolderId) -> StoreResult<mailroom_core::mail::FolderCounts> {
        todo!()
    }
    async fn claim_recent(&self, folder: FolderId, through: Uid) -> StoreResult<Uid> {
        todo!()
    }
    async fn messages_by_uid(&self, folder: FolderId, uids: &[Uid]) -> StoreResult<Vec<StoredMessage>> {
        todo!()
    }
    async fn messages_since(&self, folder: FolderId, modseq: ModSeq) -> StoreResult<Vec<StoredMessage>> {
        todo!()
    }
    async fn message_body(&self, folder: FolderId, uid: Uid) -> StoreResult<Vec<u8>> {
        todo!()
    }
    async fn message_summaries(&self, folder: FolderId, uids: &[Uid]) -> StoreResult<Vec<Option<std::sync::Arc<MessageSummary>>>> {
        todo!()
    }
    async fn message_ranges(&self, folder: FolderId, wanted: &[(Uid, std::ops::Range<u64>)]) -> StoreResult<Vec<Option<Vec<u8>>>> {
        todo!()
    }
    async fn folder_summaries(&self, folder: FolderId) -> StoreResult<Vec<(Uid, std::sync::Arc<MessageSummary>)>> {
        todo!()
    }
    async fn search_header(&self, folder: FolderId, name: &str, needle: &str) -> StoreResult<Vec<Uid>> {
        todo!()
    }
    async fn search_text(&self, folder: FolderId, query: &TextQuery, max_hits: usize, max_unindexed: usize) -> StoreResult<TextHits> {
        super::text::search_text(self, folder, query, max_hits, max_unindexed).await
    }
    async fn search_body(&self, folder: FolderId, needle: &str) -> StoreResult<BodyHits> {
        super::text::search_body(self, folder, needle).await
    }
    async fn requeue_text(&self) -> StoreResult<u64> {
        super::text::requeue_text(self).await
    }
    async fn pending_text(&self, limit: usize, max_bytes: usize) -> StoreResult<Vec<PendingText>> {
        super::text::pending_text(self, limit, max_bytes).await
    }
    async fn store_text(&self, texts: Vec<(i64, MessageText)>) -> StoreResult<()> {
        super::text::store_text(self, texts).await
    }
    async fn text_backlog(&self) -> StoreResult<u64> {
        super::text::text_backlog(self).await
    }
    async fn claimed(&self, claim: &Claim) -> StoreResult<bool> {
        super::queue::claimed(self, claim).await
    }
    async fn sweep_blobs(&self, grace_seconds: i64) -> StoreResult<usize> {
        todo!()
    }
    async fn store_flags(&self, folder: FolderId, uids: &[Uid], change: FlagChange, flags: &Flags, unchanged_since: Option<ModSeq>) -> StoreResult<FlagsOutcome> {
        todo!()
    }
    async fn expunge(&self, folder: FolderId, uids: Option<&[Uid]>) -> StoreResult<Expunged> {
        todo!()
    }
    async fn expunged_since(&self, folder: FolderId, modseq: ModSeq) -> StoreResult<Vec<Uid>> {
        todo!()
    }
    async fn copy_messages(&self, from: FolderId, uids: &[Uid], to: FolderId) -> StoreResult<Copied> {
        todo!()
    }
    async fn move_messages(&self, from: FolderId, uids: &[Uid], to: FolderId) -> StoreResult<(Copied, Expunged)> {
        todo!()
    }
    async fn create_folder(&self, mailbox: MailboxId, name: &str) -> StoreResult<Folder> {
        todo!()
    }
    async fn rename_folders(&self, renames: &[(FolderId, String)]) -> StoreResult<Vec<Folder>> {
        todo!()
    }
    async fn rename_inbox(&self, mailbox: MailboxId, inbox: FolderId, name: &str) -> StoreResult<Folder> {
        todo!()
    }
    async fn delete_folder(&self, folder: FolderId) -> StoreResult<()> {
        todo!()
    }
    async fn subscriptions(&self, principal: PrincipalId) -> StoreResult<Vec<String>> {
        todo!()
    }
    async fn set_subscribed(&self, principal: PrincipalId, name: &str, subscribed: bool) -> StoreResult<bool> {
        todo!()
    }
}

#[async_trait]
impl BlobStore for PgStore {
    async fn read_blob(&self, id: BlobId) -> StoreResult<Vec<u8>> {
        todo!()
    }
    async fn read_blob_range(&self, id: BlobId, range: std::ops::Range<u64>) -> StoreResult<Vec<u8>> {
        todo!()
    }
}
