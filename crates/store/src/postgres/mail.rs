//! [`MailStore`] on PostgreSQL: folders, messages, and bodies kept in the
//! database in chunks (`blob_chunks`), content-addressed and counted by
//! reference, so every node reads what any node stored.

use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use mailroom_core::mail::activity::{ActivityEntry, ActivityQuery, NewActivity};
use mailroom_core::mail::{
    Flags, Folder, FolderCounts, FolderIndex, MailboxUsage, MessageFilter, MessageSummary, SpecialUse,
    StoredMessage, SystemFlag, TextQuery,
};
use mailroom_core::store::{
    BlobStore, BodyHits, Claim, Copied, Delivered, DeliveryTarget, Expunged, FlagChange, FlagsOutcome,
    FolderRef, MailStore, MessageText, NewMessage, NewQueued, PendingText, QueueEntry, RecoverableItem,
    Recycled, StoreError, StoreResult, TextHits,
};
use mailroom_types::{BlobId, FolderId, MailboxId, ModSeq, PrincipalId, Uid};
use sha2::{Digest, Sha256};
use tokio_postgres::Row;

use super::message_ops;
use super::{PgStore, backend, begin_read, begin_write, exec, now_unix, row, row_opt, rows};

/// Bodies one sweep transaction removes at most.
const SWEEP_PART: i64 = 500;

/// Bodies are stored in pieces of this many bytes.
pub(super) const CHUNK: usize = 256 * 1024;

pub(super) use crate::stored::{blob_id, corrupt};

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
    exec(tx, "INSERT INTO mailbox_usage (mailbox_id) VALUES ($1) ON CONFLICT DO NOTHING", &[&mailbox])
        .await?;
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

pub(super) fn keywords_text(flags: &Flags) -> String {
    flags.keywords.iter().cloned().collect::<Vec<_>>().join(" ")
}

/// The columns [`message_from_row`] reads, in its order.
const MESSAGE_COLUMNS: &str =
    "uid, modseq, flags, keywords, internal_date, size, blob_id, COALESCE(saved_at, internal_date)";

fn message_from_row(r: &Row, folder: FolderId) -> StoreResult<StoredMessage> {
    let keywords: String = r.get(3);
    Ok(StoredMessage {
        folder,
        uid: Uid(r.get::<_, i64>(0) as u32),
        modseq: ModSeq(r.get::<_, i64>(1) as u64),
        flags: Flags {
            system: r.get::<_, i64>(2) as u8,
            keywords: keywords.split_whitespace().map(str::to_string).collect(),
        },
        internal_date: r.get(4),
        saved_at: r.get(7),
        size: r.get::<_, i64>(5) as u64,
        blob: blob_id(r.get(6))?,
    })
}

/// Runs a message query whose columns are [`MESSAGE_COLUMNS`].
async fn message_rows<C: GenericClient>(
    c: &C,
    sql: &str,
    params: super::Params<'_>,
    folder: FolderId,
) -> StoreResult<Vec<StoredMessage>> {
    rows(c, sql, params).await?.iter().map(|r| message_from_row(r, folder)).collect()
}

/// The messages `uids` of `folder` in UID order (missing ones skipped).
async fn messages_with_uids<C: GenericClient>(
    c: &C,
    folder: FolderId,
    uids: &[Uid],
) -> StoreResult<Vec<StoredMessage>> {
    let wanted: Vec<i64> = uids.iter().map(|u| i64::from(u.0)).collect();
    message_rows(
        c,
        &format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE folder_id = $1 AND uid = ANY($2) ORDER BY uid"
        ),
        &[&folder.0, &wanted],
        folder,
    )
    .await
}

/// The message `uid` of a list in UID order.
fn by_uid(list: &[StoredMessage], uid: Uid) -> Option<&StoredMessage> {
    list.binary_search_by_key(&uid, |m| m.uid).ok().map(|at| &list[at])
}

async fn resolve_folder<C: GenericClient>(
    c: &C,
    mailbox: MailboxId,
    folder: FolderRef,
) -> StoreResult<FolderId> {
    let found = match folder {
        FolderRef::Special(special) => {
            row_opt(
                c,
                "SELECT id FROM folders WHERE mailbox_id = $1 AND special_use = $2",
                &[&mailbox.0, &special.storage_name()],
            )
            .await?
        }
        FolderRef::Id(id) => {
            row_opt(c, "SELECT id FROM folders WHERE mailbox_id = $1 AND id = $2", &[&mailbox.0, &id.0])
                .await?
        }
    };
    found
        .map(|r| FolderId(r.get(0)))
        .ok_or_else(|| StoreError::NotFound(format!("folder {folder:?} of mailbox {mailbox}")))
}

/// A message of a batch, ready for its transaction.
struct Prepared {
    id: BlobId,
    bytes: Vec<u8>,
    summary: String,
    internal_date: i64,
    targets: Vec<DeliveryTarget>,
    queue: Vec<NewQueued>,
    claim: Option<Claim>,
    activity: Vec<NewActivity>,
}

/// Stores one body (once, however many messages and queue entries hold
/// it: `copies` references) and a message per target.
async fn deliver_one<C: GenericClient>(c: &C, message: &Prepared) -> StoreResult<Vec<Delivered>> {
    let copies = (message.targets.len() + message.queue.len()) as i64;
    if copies == 0 {
        return Ok(Vec::new());
    }
    let size = message.bytes.len() as i64;
    // `xmax = 0` only for a row this statement inserted (not updated).
    let inserted: bool = row(
        c,
        "INSERT INTO blobs (id, size, refcount, zero_since, summary) VALUES ($1, $2, $3, NULL, $4)
         ON CONFLICT (id) DO UPDATE SET refcount = blobs.refcount + EXCLUDED.refcount, zero_since = NULL
         RETURNING xmax = 0",
        &[&&message.id.0[..], &size, &copies, &message.summary],
    )
    .await?
    .get(0);
    if inserted {
        for (index, piece) in message.bytes.chunks(CHUNK).enumerate() {
            exec(
                c,
                "INSERT INTO blob_chunks (blob_id, chunk, data) VALUES ($1, $2, $3)",
                &[&&message.id.0[..], &(index as i32), &piece],
            )
            .await?;
        }
    }
    let now = now_unix();
    let mut delivered = Vec::with_capacity(message.targets.len());
    for target in &message.targets {
        let folder = resolve_folder(c, target.mailbox, target.folder).await?;
        let counters = row(
            c,
            "UPDATE folders SET uid_next = uid_next + 1, highest_modseq = highest_modseq + 1,
                message_count = message_count + 1, total_size = total_size + $2
             WHERE id = $1 RETURNING uid_next - 1, highest_modseq",
            &[&folder.0, &size],
        )
        .await?;
        let (uid, modseq): (i64, i64) = (counters.get(0), counters.get(1));
        exec(
            c,
            "INSERT INTO messages (folder_id, uid, modseq, flags, keywords, internal_date, size, blob_id, saved_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            &[
                &folder.0,
                &uid,
                &modseq,
                &i64::from(target.flags.system),
                &keywords_text(&target.flags),
                &message.internal_date,
                &size,
                &&message.id.0[..],
                &now,
            ],
        )
        .await?;
        let usage = row(
            c,
            "INSERT INTO mailbox_usage (mailbox_id, bytes, messages) VALUES ($1, $2, 1)
             ON CONFLICT (mailbox_id) DO UPDATE SET bytes = mailbox_usage.bytes + $2,
                 messages = mailbox_usage.messages + 1
             RETURNING bytes, messages",
            &[&target.mailbox.0, &size],
        )
        .await?;
        delivered.push(Delivered {
            mailbox: target.mailbox,
            folder,
            uid: Uid(uid as u32),
            modseq: ModSeq(modseq as u64),
            usage: MailboxUsage {
                bytes: usage.get::<_, i64>(0) as u64,
                messages: usage.get::<_, i64>(1) as u64,
            },
        });
    }
    for entry in &message.queue {
        exec(
            c,
            "INSERT INTO outbound (blob_id, envelope_from, recipient, created, next_attempt)
             VALUES ($1, $2, $3, $4, $5)",
            &[
                &&message.id.0[..],
                &entry.envelope_from.as_ref().map(|a| a.to_string()),
                &entry.recipient.to_string(),
                &now,
                &entry.next_attempt,
            ],
        )
        .await?;
    }
    for entry in &message.activity {
        let trail = super::activity::Trail::open(c, entry.mailbox, entry.actor).await?;
        trail.record(c, entry.action, &[message.id.0.to_vec()], &entry.detail).await?;
    }
    Ok(delivered)
}

/// A whole body; `NotFound` if there is none.
async fn blob_bytes<C: GenericClient>(c: &C, id: BlobId) -> StoreResult<Vec<u8>> {
    let pieces =
        rows(c, "SELECT data FROM blob_chunks WHERE blob_id = $1 ORDER BY chunk", &[&&id.0[..]]).await?;
    if pieces.is_empty() {
        // An empty body has no pieces; a missing one no row either.
        return match row_opt(c, "SELECT size FROM blobs WHERE id = $1", &[&&id.0[..]]).await? {
            Some(_) => Ok(Vec::new()),
            None => Err(StoreError::NotFound(format!("message body {id}"))),
        };
    }
    let mut bytes = Vec::new();
    for piece in &pieces {
        bytes.extend_from_slice(piece.get::<_, &[u8]>(0));
    }
    Ok(bytes)
}

/// Octets `range` of a body (cut at its end), from the pieces that hold them.
async fn blob_range<C: GenericClient>(
    c: &C,
    id: BlobId,
    range: std::ops::Range<u64>,
) -> StoreResult<Vec<u8>> {
    let size = row_opt(c, "SELECT size FROM blobs WHERE id = $1", &[&&id.0[..]])
        .await?
        .map(|r| r.get::<_, i64>(0) as u64)
        .ok_or_else(|| StoreError::NotFound(format!("message body {id}")))?;
    let (start, end) = (range.start.min(size), range.end.min(size));
    if start >= end {
        return Ok(Vec::new());
    }
    let chunk = CHUNK as u64;
    let (first, last) = ((start / chunk) as i32, ((end - 1) / chunk) as i32);
    let pieces = rows(
        c,
        "SELECT data FROM blob_chunks WHERE blob_id = $1 AND chunk BETWEEN $2 AND $3 ORDER BY chunk",
        &[&&id.0[..], &first, &last],
    )
    .await?;
    let mut bytes = Vec::with_capacity((end - start) as usize);
    let mut at = u64::from(first as u32) * chunk;
    for piece in &pieces {
        let data: &[u8] = piece.get(0);
        let (from, to) = (start.saturating_sub(at) as usize, (end - at).min(data.len() as u64) as usize);
        if from < to {
            bytes.extend_from_slice(&data[from..to]);
        }
        at += data.len() as u64;
    }
    Ok(bytes)
}

impl PgStore {
    /// The summaries of these messages (in order), parsed once per body.
    async fn summaries_of<C: GenericClient>(
        &self,
        c: &C,
        messages: &[&StoredMessage],
    ) -> StoreResult<Vec<std::sync::Arc<MessageSummary>>> {
        let cache = &self.inner.summaries;
        let missing: Vec<Vec<u8>> = messages
            .iter()
            .filter(|m| cache.get(&m.blob.0).is_none())
            .map(|m| m.blob.0.to_vec())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut parsed = std::collections::HashMap::new();
        if !missing.is_empty() {
            for found in rows(c, "SELECT id, summary FROM blobs WHERE id = ANY($1)", &[&missing]).await? {
                let id: Vec<u8> = found.get(0);
                let json: &str = found.get(1);
                if let Some(summary) = cache.get_or_parse(&id, json.as_bytes()) {
                    parsed.insert(id, summary);
                }
            }
        }
        messages
            .iter()
            .map(|m| {
                cache
                    .get(&m.blob.0)
                    .or_else(|| parsed.get(&m.blob.0[..]).cloned())
                    .ok_or_else(|| corrupt(format!("summary of body {}", m.blob)))
            })
            .collect()
    }
}

#[async_trait]
impl MailStore for PgStore {
    async fn folders(&self, mailbox: MailboxId) -> StoreResult<Vec<Folder>> {
        let client = self.client().await?;
        let found = rows(
            &client,
            &format!(
                "SELECT {FOLDER_COLUMNS} FROM folders WHERE mailbox_id = $1
                 ORDER BY special_use IS DISTINCT FROM 'inbox', name_key COLLATE \"C\""
            ),
            &[&mailbox.0],
        )
        .await?;
        Ok(found
            .iter()
            .map(|r| {
                let (mut folder, special) = folder_from_row(r);
                folder.special_use = special.as_deref().and_then(SpecialUse::from_storage_name);
                folder
            })
            .collect())
    }

    async fn usage(&self, mailbox: MailboxId) -> StoreResult<MailboxUsage> {
        let client = self.client().await?;
        let found = row_opt(
            &client,
            "SELECT bytes, messages FROM mailbox_usage WHERE mailbox_id = $1",
            &[&mailbox.0],
        )
        .await?;
        Ok(found.map_or_else(MailboxUsage::default, |r| MailboxUsage {
            bytes: r.get::<_, i64>(0) as u64,
            messages: r.get::<_, i64>(1) as u64,
        }))
    }

    async fn deliver_batch(
        &self,
        messages: Vec<NewMessage>,
        dequeue: &[i64],
    ) -> StoreResult<Vec<(BlobId, Vec<Delivered>)>> {
        let mut prepared = Vec::with_capacity(messages.len());
        for message in messages {
            let id = BlobId(Sha256::digest(&message.bytes).into());
            let summary =
                serde_json::to_string(&message.summary).map_err(|e| StoreError::Backend(Box::new(e)))?;
            let NewMessage { bytes, internal_date, targets, queue, claim, activity, .. } = message;
            prepared.push(Prepared { id, bytes, summary, internal_date, targets, queue, claim, activity });
        }
        let mut client = self.client().await?;
        let tx = begin_write(&mut client).await?;
        let mut out = Vec::with_capacity(prepared.len());
        for message in &prepared {
            if let Some(claim) = &message.claim
                && !super::queue::take_claim(&tx, claim).await?
            {
                out.push((message.id, Vec::new()));
                continue;
            }
            out.push((message.id, deliver_one(&tx, message).await?));
        }
        for entry in dequeue {
            super::queue::dequeue(&tx, *entry).await?;
        }
        self.committed(tx).await?;
        Ok(out)
    }

    async fn queued(&self, due_by: Option<i64>) -> StoreResult<Vec<QueueEntry>> {
        super::queue::queued(self, due_by).await
    }

    async fn queue_retry(
        &self,
        id: i64,
        next_attempt: i64,
        error: &str,
        delay_notified: bool,
    ) -> StoreResult<()> {
        super::queue::queue_retry(self, id, next_attempt, error, delay_notified).await
    }

    async fn claim_due(
        &self,
        node: &str,
        now: i64,
        stale_before: i64,
        limit: usize,
    ) -> StoreResult<Vec<QueueEntry>> {
        super::queue::claim_due(self, node, now, stale_before, limit).await
    }

    async fn queue_due_now(&self, id: i64) -> StoreResult<bool> {
        super::queue::queue_due_now(self, id).await
    }

    async fn queue_remove(&self, id: i64) -> StoreResult<bool> {
        super::queue::queue_remove(self, id).await
    }

    async fn claimed(&self, claim: &Claim) -> StoreResult<bool> {
        super::queue::claimed(self, claim).await
    }

    async fn folder(&self, folder: FolderId) -> StoreResult<Option<Folder>> {
        let client = self.client().await?;
        match message_ops::load_folder(&client, folder).await {
            Ok(found) => Ok(Some(found)),
            Err(StoreError::NotFound(_)) => Ok(None),
            Err(err) => Err(err),
        }
    }

    async fn messages(&self, folder: FolderId) -> StoreResult<std::sync::Arc<Vec<StoredMessage>>> {
        let client = self.client().await?;
        let list = message_rows(
            &client,
            &format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE folder_id = $1 ORDER BY uid"),
            &[&folder.0],
            folder,
        )
        .await?;
        Ok(std::sync::Arc::new(list))
    }

    async fn message_page(
        &self,
        folder: FolderId,
        filter: MessageFilter,
        newest_first: bool,
        offset: usize,
        limit: usize,
    ) -> StoreResult<(usize, Vec<StoredMessage>)> {
        // A keyword filter passes its words as parameters: one statement
        // for every alias, so the statement cache stays small.
        let contains = |p: &str| format!("position(' ' || {p} || ' ' in ' ' || lower(keywords) || ' ') > 0");
        let keyed = |first: usize| {
            crate::filters::keyword_condition(&filter, first, |n| format!("${n}::TEXT"), contains)
        };
        let (count_condition, page_condition, words) = match &filter {
            MessageFilter::Unread => {
                (" AND flags & 1 = 0".to_string(), " AND flags & 1 = 0".to_string(), Vec::new())
            }
            MessageFilter::Flagged => {
                (" AND flags & 4 != 0".to_string(), " AND flags & 4 != 0".to_string(), Vec::new())
            }
            _ => match (keyed(2), keyed(4)) {
                (Some((count, words)), Some((page, _))) => (count, page, words),
                _ => (String::new(), String::new(), Vec::new()),
            },
        };
        let mut client = self.client().await?;
        let tx = begin_read(&mut client).await?;
        let mut count_params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = vec![&folder.0];
        count_params.extend(words.iter().map(|w| w as &(dyn tokio_postgres::types::ToSql + Sync)));
        let total: i64 = row(
            &tx,
            &format!("SELECT COUNT(*) FROM messages WHERE folder_id = $1{count_condition}"),
            &count_params,
        )
        .await?
        .get(0);
        let order = if newest_first { "DESC" } else { "ASC" };
        let (limit, offset) =
            (i64::try_from(limit).unwrap_or(i64::MAX), i64::try_from(offset).unwrap_or(i64::MAX));
        let mut page_params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> =
            vec![&folder.0, &limit, &offset];
        page_params.extend(words.iter().map(|w| w as &(dyn tokio_postgres::types::ToSql + Sync)));
        let page = message_rows(
            &tx,
            &format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages WHERE folder_id = $1{page_condition}
                 ORDER BY internal_date {order}, uid {order} LIMIT $2 OFFSET $3"
            ),
            &page_params,
            folder,
        )
        .await?;
        tx.commit().await.map_err(backend)?;
        Ok((total.max(0) as usize, page))
    }

    async fn unseen_count(&self, folder: FolderId) -> StoreResult<u64> {
        let client = self.client().await?;
        let n: i64 = row(
            &client,
            "SELECT COUNT(*) FROM messages WHERE folder_id = $1 AND flags & 1 = 0",
            &[&folder.0],
        )
        .await?
        .get(0);
        Ok(n.max(0) as u64)
    }

    async fn folder_index(&self, folder: FolderId) -> StoreResult<FolderIndex> {
        let mut client = self.client().await?;
        let tx = begin_read(&mut client).await?;
        let mark = row_opt(&tx, "SELECT recent_uid FROM folders WHERE id = $1", &[&folder.0])
            .await?
            .map_or(0, |r| r.get::<_, i64>(0));
        let found = rows(
            &tx,
            "SELECT uid, flags, keywords FROM messages WHERE folder_id = $1 ORDER BY uid",
            &[&folder.0],
        )
        .await?;
        tx.commit().await.map_err(backend)?;
        let mut index = FolderIndex { recent_mark: Uid(mark as u32), ..Default::default() };
        for r in &found {
            index.uids.push(Uid(r.get::<_, i64>(0) as u32));
            if index.first_unseen.is_none() && r.get::<_, i64>(1) & SystemFlag::Seen as i64 == 0 {
                index.first_unseen = Some(index.uids.len() as u32);
            }
            index.keywords.extend(r.get::<_, &str>(2).split_whitespace().map(str::to_string));
        }
        Ok(index)
    }

    async fn folder_counts(&self, folder: FolderId) -> StoreResult<FolderCounts> {
        let client = self.client().await?;
        let r = row(
            &client,
            &format!(
                "SELECT COUNT(*),
                        COUNT(*) FILTER (WHERE flags & {seen} = 0),
                        COUNT(*) FILTER (WHERE flags & {deleted} != 0),
                        COALESCE(SUM(size) FILTER (WHERE flags & {deleted} != 0), 0)::BIGINT,
                        COALESCE(SUM(size), 0)::BIGINT,
                        COUNT(*) FILTER (WHERE uid > (SELECT recent_uid FROM folders WHERE id = $1))
                 FROM messages WHERE folder_id = $1",
                seen = SystemFlag::Seen as u8,
                deleted = SystemFlag::Deleted as u8
            ),
            &[&folder.0],
        )
        .await?;
        Ok(FolderCounts {
            messages: r.get::<_, i64>(0) as u64,
            unseen: r.get::<_, i64>(1) as u64,
            deleted: r.get::<_, i64>(2) as u64,
            deleted_size: r.get::<_, i64>(3) as u64,
            size: r.get::<_, i64>(4) as u64,
            recent: r.get::<_, i64>(5) as u64,
        })
    }

    async fn claim_recent(&self, folder: FolderId, through: Uid) -> StoreResult<Uid> {
        // One statement: the row lock makes two sessions' claims take turns,
        // and only one gets the messages.
        let client = self.client().await?;
        let before = row_opt(
            &client,
            "UPDATE folders f SET recent_uid = GREATEST(f.recent_uid, $2)
             FROM (SELECT id, recent_uid FROM folders WHERE id = $1 FOR UPDATE) old
             WHERE f.id = old.id RETURNING old.recent_uid",
            &[&folder.0, &i64::from(through.0)],
        )
        .await?;
        let before = before.ok_or_else(|| StoreError::NotFound(format!("folder {folder:?}")))?;
        Ok(Uid(before.get::<_, i64>(0) as u32))
    }

    async fn messages_by_uid(&self, folder: FolderId, uids: &[Uid]) -> StoreResult<Vec<StoredMessage>> {
        let client = self.client().await?;
        messages_with_uids(&client, folder, uids).await
    }

    async fn messages_since(&self, folder: FolderId, modseq: ModSeq) -> StoreResult<Vec<StoredMessage>> {
        let client = self.client().await?;
        message_rows(
            &client,
            &format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages WHERE folder_id = $1 AND modseq > $2 ORDER BY uid"
            ),
            &[&folder.0, &(modseq.0 as i64)],
            folder,
        )
        .await
    }

    async fn message_body(&self, folder: FolderId, uid: Uid) -> StoreResult<Vec<u8>> {
        let mut client = self.client().await?;
        let tx = begin_read(&mut client).await?;
        let blob = row_opt(
            &tx,
            "SELECT blob_id FROM messages WHERE folder_id = $1 AND uid = $2",
            &[&folder.0, &i64::from(uid.0)],
        )
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("message {} of folder {folder}", uid.0)))?;
        let bytes = blob_bytes(&tx, blob_id(blob.get(0))?).await?;
        tx.commit().await.map_err(backend)?;
        Ok(bytes)
    }

    async fn message_summaries(
        &self,
        folder: FolderId,
        uids: &[Uid],
    ) -> StoreResult<Vec<Option<std::sync::Arc<MessageSummary>>>> {
        let mut client = self.client().await?;
        let tx = begin_read(&mut client).await?;
        let found = messages_with_uids(&tx, folder, uids).await?;
        let present: Vec<&StoredMessage> = uids.iter().filter_map(|uid| by_uid(&found, *uid)).collect();
        let mut summaries = self.summaries_of(&tx, &present).await?.into_iter();
        tx.commit().await.map_err(backend)?;
        Ok(uids.iter().map(|uid| by_uid(&found, *uid).and_then(|_| summaries.next())).collect())
    }

    async fn message_ranges(
        &self,
        folder: FolderId,
        wanted: &[(Uid, std::ops::Range<u64>)],
    ) -> StoreResult<Vec<Option<Vec<u8>>>> {
        let mut client = self.client().await?;
        let tx = begin_read(&mut client).await?;
        let uids: Vec<Uid> = wanted.iter().map(|(uid, _)| *uid).collect();
        let found = messages_with_uids(&tx, folder, &uids).await?;
        let mut out = Vec::with_capacity(wanted.len());
        for (uid, range) in wanted {
            out.push(match by_uid(&found, *uid) {
                Some(message) => Some(blob_range(&tx, message.blob, range.clone()).await?),
                None => None,
            });
        }
        tx.commit().await.map_err(backend)?;
        Ok(out)
    }

    async fn folder_summaries(
        &self,
        folder: FolderId,
    ) -> StoreResult<Vec<(Uid, std::sync::Arc<MessageSummary>)>> {
        let mut client = self.client().await?;
        let tx = begin_read(&mut client).await?;
        let list = message_rows(
            &tx,
            &format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE folder_id = $1 ORDER BY uid"),
            &[&folder.0],
            folder,
        )
        .await?;
        let refs: Vec<&StoredMessage> = list.iter().collect();
        let summaries = self.summaries_of(&tx, &refs).await?;
        tx.commit().await.map_err(backend)?;
        Ok(list.iter().map(|m| m.uid).zip(summaries).collect())
    }

    async fn search_header(&self, folder: FolderId, name: &str, needle: &str) -> StoreResult<Vec<Uid>> {
        // Folded as the other stores fold it (ASCII only), over the parsed
        // summaries kept in memory.
        let needle = needle.to_ascii_lowercase();
        let summaries = self.folder_summaries(folder).await?;
        Ok(summaries
            .into_iter()
            .filter(|(_, summary)| {
                summary.headers.iter().any(|(field, value)| {
                    field.eq_ignore_ascii_case(name) && value.to_ascii_lowercase().contains(&needle)
                })
            })
            .map(|(uid, _)| uid)
            .collect())
    }

    async fn search_text(
        &self,
        folder: FolderId,
        query: &TextQuery,
        max_hits: usize,
        max_unindexed: usize,
    ) -> StoreResult<TextHits> {
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

    async fn sweep_blobs(&self, grace_seconds: i64) -> StoreResult<usize> {
        // Under the write lock: no delivery can take a new reference on a
        // body between the check and the delete, whichever node it runs on.
        // In parts, each its own transaction, so a sweep after a large
        // mailbox was removed doesn't hold every node's writes up; and a
        // body something still refers to stays, whatever its count says.
        let now = now_unix();
        let mut gone = 0;
        loop {
            let mut client = self.client().await?;
            let tx = begin_write(&mut client).await?;
            exec(&tx, "UPDATE blobs SET zero_since = $1 WHERE refcount <= 0 AND zero_since IS NULL", &[&now])
                .await?;
            let removed = exec(
                &tx,
                "DELETE FROM blobs WHERE id IN (
                     SELECT b.id FROM blobs b
                     WHERE b.refcount <= 0 AND b.zero_since <= $1
                       AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.blob_id = b.id)
                       AND NOT EXISTS (SELECT 1 FROM outbound o WHERE o.blob_id = b.id)
                     LIMIT $2)",
                &[&(now - grace_seconds), &SWEEP_PART],
            )
            .await?;
            self.committed(tx).await?;
            gone += removed as usize;
            if removed < SWEEP_PART as u64 {
                return Ok(gone);
            }
        }
    }

    async fn store_flags(
        &self,
        folder: FolderId,
        uids: &[Uid],
        change: FlagChange,
        flags: &Flags,
        unchanged_since: Option<ModSeq>,
        by: PrincipalId,
    ) -> StoreResult<FlagsOutcome> {
        let mut client = self.client().await?;
        let tx = begin_write(&mut client).await?;
        let outcome = message_ops::store_flags(&tx, folder, uids, change, flags, unchanged_since, by).await?;
        self.committed(tx).await?;
        Ok(outcome)
    }

    async fn expunge(
        &self,
        folder: FolderId,
        uids: Option<&[Uid]>,
        by: PrincipalId,
    ) -> StoreResult<Expunged> {
        let mut client = self.client().await?;
        let tx = begin_write(&mut client).await?;
        let expunged = message_ops::expunge(&tx, folder, uids, by).await?;
        self.committed(tx).await?;
        Ok(expunged)
    }

    async fn recycle(
        &self,
        folder: FolderId,
        uids: Option<&[Uid]>,
        by: PrincipalId,
    ) -> StoreResult<Recycled> {
        let mut client = self.client().await?;
        let tx = begin_write(&mut client).await?;
        let recycled = message_ops::recycle(&tx, folder, uids, by).await?;
        self.committed(tx).await?;
        Ok(recycled)
    }

    async fn recoverable_items(&self, folder: FolderId) -> StoreResult<Vec<RecoverableItem>> {
        let client = self.client().await?;
        message_ops::recoverable_items(&client, folder).await
    }

    async fn purge_expired(&self, now: i64, limit: usize) -> StoreResult<usize> {
        let mut client = self.client().await?;
        let tx = begin_write(&mut client).await?;
        let purged = message_ops::purge_expired(&tx, now, limit).await?;
        self.committed(tx).await?;
        Ok(purged)
    }

    async fn expunged_since(&self, folder: FolderId, modseq: ModSeq) -> StoreResult<Vec<Uid>> {
        let client = self.client().await?;
        message_ops::expunged_since(&client, folder, modseq).await
    }

    async fn copy_messages(
        &self,
        from: FolderId,
        uids: &[Uid],
        to: FolderId,
        by: PrincipalId,
    ) -> StoreResult<Copied> {
        let mut client = self.client().await?;
        let tx = begin_write(&mut client).await?;
        let copied = message_ops::copy(&tx, from, uids, to, by).await?;
        self.committed(tx).await?;
        Ok(copied)
    }

    async fn move_messages(
        &self,
        from: FolderId,
        uids: &[Uid],
        to: FolderId,
        by: PrincipalId,
    ) -> StoreResult<(Copied, Expunged)> {
        let mut client = self.client().await?;
        let tx = begin_write(&mut client).await?;
        let moved = message_ops::move_messages(&tx, from, uids, to, Some(by)).await?;
        self.committed(tx).await?;
        Ok(moved)
    }

    async fn seen_overrides(
        &self,
        folder: FolderId,
        principal: PrincipalId,
        only: Option<&[Uid]>,
    ) -> StoreResult<Vec<(Uid, bool)>> {
        let client = self.client().await?;
        message_ops::seen_overrides(&client, folder, principal, only).await
    }

    async fn member_unseen(&self, folder: FolderId, principal: PrincipalId) -> StoreResult<u64> {
        let client = self.client().await?;
        message_ops::member_unseen(&client, folder, principal).await
    }

    async fn activity(&self, mailbox: MailboxId, query: &ActivityQuery) -> StoreResult<Vec<ActivityEntry>> {
        let client = self.client().await?;
        super::activity::activity(&client, mailbox, query).await
    }

    async fn sweep_activity(&self, now: i64, limit: usize) -> StoreResult<usize> {
        let mut client = self.client().await?;
        let tx = begin_write(&mut client).await?;
        let removed = super::activity::sweep(&tx, now, limit).await?;
        self.committed(tx).await?;
        Ok(removed)
    }

    async fn create_folder(&self, mailbox: MailboxId, name: &str) -> StoreResult<Folder> {
        let mut client = self.client().await?;
        let tx = begin_write(&mut client).await?;
        let folder = message_ops::create_folder(&tx, mailbox, name).await?;
        self.committed(tx).await?;
        Ok(folder)
    }

    async fn rename_folders(&self, renames: &[(FolderId, String)]) -> StoreResult<Vec<Folder>> {
        let mut client = self.client().await?;
        let tx = begin_write(&mut client).await?;
        let mut renamed = Vec::with_capacity(renames.len());
        for (folder, name) in renames {
            renamed.push(message_ops::rename_folder(&tx, *folder, name).await?);
        }
        self.committed(tx).await?;
        Ok(renamed)
    }

    async fn rename_inbox(&self, mailbox: MailboxId, inbox: FolderId, name: &str) -> StoreResult<Folder> {
        let mut client = self.client().await?;
        let tx = begin_write(&mut client).await?;
        if message_ops::load_folder(&tx, inbox).await?.mailbox != mailbox {
            return Err(StoreError::NotFound(format!("folder {inbox} of mailbox {mailbox}")));
        }
        let created = message_ops::create_folder(&tx, mailbox, name).await?;
        let uids = message_ops::uids_of(&tx, inbox).await?;
        message_ops::move_messages(&tx, inbox, &uids, created.id, None).await?;
        let folder = message_ops::load_folder(&tx, created.id).await?;
        self.committed(tx).await?;
        Ok(folder)
    }

    async fn delete_folder(&self, folder: FolderId, by: PrincipalId) -> StoreResult<()> {
        let mut client = self.client().await?;
        let tx = begin_write(&mut client).await?;
        message_ops::delete_folder(&tx, folder, by).await?;
        self.committed(tx).await
    }

    async fn subscriptions(&self, principal: PrincipalId) -> StoreResult<Vec<String>> {
        let client = self.client().await?;
        let found = rows(
            &client,
            "SELECT name FROM subscriptions WHERE principal_id = $1 ORDER BY name COLLATE \"C\"",
            &[&principal.0],
        )
        .await?;
        Ok(found.iter().map(|r| r.get(0)).collect())
    }

    async fn set_subscribed(
        &self,
        principal: PrincipalId,
        name: &str,
        subscribed: bool,
    ) -> StoreResult<bool> {
        let mut client = self.client().await?;
        let tx = begin_write(&mut client).await?;
        let changed = if subscribed {
            exec(
                &tx,
                "INSERT INTO subscriptions (principal_id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[&principal.0, &name],
            )
            .await?
        } else {
            exec(
                &tx,
                "DELETE FROM subscriptions WHERE principal_id = $1 AND name = $2",
                &[&principal.0, &name],
            )
            .await?
        };
        self.committed(tx).await?;
        Ok(changed > 0)
    }
}

#[async_trait]
impl BlobStore for PgStore {
    async fn read_blob(&self, id: BlobId) -> StoreResult<Vec<u8>> {
        let mut client = self.client().await?;
        let tx = begin_read(&mut client).await?;
        let bytes = blob_bytes(&tx, id).await?;
        tx.commit().await.map_err(backend)?;
        Ok(bytes)
    }

    async fn read_blob_range(&self, id: BlobId, range: std::ops::Range<u64>) -> StoreResult<Vec<u8>> {
        let mut client = self.client().await?;
        let tx = begin_read(&mut client).await?;
        let bytes = blob_range(&tx, id, range).await?;
        tx.commit().await.map_err(backend)?;
        Ok(bytes)
    }
}
