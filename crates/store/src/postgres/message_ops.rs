//! The IMAP-side mutations of [`MailStore`](mailroom_core::store::MailStore)
//! on PostgreSQL: flags with MODSEQs (RFC 7162), expunge with remembered
//! UIDs, copy and move (bodies shared, never duplicated), folder create,
//! rename, delete. Each runs inside its caller's write transaction.

use std::collections::BTreeSet;

use deadpool_postgres::GenericClient;
use mailroom_core::mail::{Flags, Folder, SpecialUse, SystemFlag};
use mailroom_core::store::{Copied, Expunged, FlagChange, FlagUpdate, FlagsOutcome, StoreError, StoreResult};
use mailroom_types::{FolderId, MailboxId, ModSeq, Uid};

use super::mail::{FOLDER_COLUMNS, folder_from_row, keywords_text, next_uid_validity};
use super::{exec, now_unix, row, row_opt, rows};

fn parse_keywords(text: &str) -> BTreeSet<String> {
    text.split_whitespace().map(str::to_string).collect()
}

/// The folder `id` with its counters now; `NotFound` if there is none.
pub(super) async fn load_folder<C: GenericClient>(c: &C, id: FolderId) -> StoreResult<Folder> {
    let found = row_opt(c, &format!("SELECT {FOLDER_COLUMNS} FROM folders WHERE id = $1"), &[&id.0]).await?;
    let found = found.ok_or_else(|| StoreError::NotFound(format!("folder {id}")))?;
    let (mut folder, special) = folder_from_row(&found);
    folder.special_use = special.as_deref().and_then(SpecialUse::from_storage_name);
    Ok(folder)
}

/// The next MODSEQ of a folder (its HIGHESTMODSEQ after this change).
async fn bump_modseq<C: GenericClient>(c: &C, folder: FolderId) -> StoreResult<i64> {
    row_opt(
        c,
        "UPDATE folders SET highest_modseq = highest_modseq + 1 WHERE id = $1 RETURNING highest_modseq",
        &[&folder.0],
    )
    .await?
    .map(|r| r.get(0))
    .ok_or_else(|| StoreError::NotFound(format!("folder {folder}")))
}

/// One reference on a body fewer; the sweep may take it once none are left.
pub(super) async fn release_blob<C: GenericClient>(c: &C, blob: &[u8]) -> StoreResult<()> {
    exec(
        c,
        "UPDATE blobs SET refcount = refcount - 1,
            zero_since = CASE WHEN refcount - 1 <= 0 THEN COALESCE(zero_since, $2) ELSE zero_since END
         WHERE id = $1",
        &[&blob, &now_unix()],
    )
    .await?;
    Ok(())
}

async fn adjust_usage<C: GenericClient>(c: &C, mailbox: i64, bytes: i64, messages: i64) -> StoreResult<()> {
    exec(
        c,
        "INSERT INTO mailbox_usage (mailbox_id, bytes, messages) VALUES ($1, GREATEST($2::BIGINT, 0), GREATEST($3::BIGINT, 0))
         ON CONFLICT (mailbox_id) DO UPDATE SET bytes = GREATEST(mailbox_usage.bytes + $2, 0),
             messages = GREATEST(mailbox_usage.messages + $3, 0)",
        &[&mailbox, &bytes, &messages],
    )
    .await?;
    Ok(())
}

pub(super) async fn store_flags<C: GenericClient>(
    c: &C,
    folder: FolderId,
    uids: &[Uid],
    change: FlagChange,
    given: &Flags,
    unchanged_since: Option<ModSeq>,
) -> StoreResult<FlagsOutcome> {
    load_folder(c, folder).await?;
    let wanted: Vec<i64> = uids.iter().map(|u| i64::from(u.0)).collect();
    let current = rows(
        c,
        "SELECT uid, modseq, flags, keywords FROM messages WHERE folder_id = $1 AND uid = ANY($2)",
        &[&folder.0, &wanted],
    )
    .await?;
    let current: std::collections::HashMap<i64, (i64, i64, String)> =
        current.iter().map(|r| (r.get(0), (r.get(1), r.get(2), r.get(3)))).collect();
    let mut outcome = FlagsOutcome::default();
    let mut modseq: Option<i64> = None;
    // In the order asked, as the SQLite store answers.
    for &uid in uids {
        let Some((current_modseq, system, keywords)) = current.get(&i64::from(uid.0)) else { continue };
        if unchanged_since.is_some_and(|since| *current_modseq as u64 > since.0) {
            outcome.modified.push(uid);
            continue;
        }
        let current = Flags { system: *system as u8, keywords: parse_keywords(keywords) };
        let next = change.apply(&current, given);
        if next == current {
            continue;
        }
        let new_modseq = match modseq {
            Some(m) => m,
            None => *modseq.insert(bump_modseq(c, folder).await?),
        };
        exec(
            c,
            "UPDATE messages SET flags = $3, keywords = $4, modseq = $5 WHERE folder_id = $1 AND uid = $2",
            &[&folder.0, &i64::from(uid.0), &i64::from(next.system), &keywords_text(&next), &new_modseq],
        )
        .await?;
        outcome.updated.push(FlagUpdate { uid, flags: next, modseq: ModSeq(new_modseq as u64) });
    }
    Ok(outcome)
}

/// Removes the given messages (all of them, flagged or not) and remembers
/// their UIDs under one new MODSEQ.
async fn remove_messages<C: GenericClient>(c: &C, folder: &Folder, uids: &[Uid]) -> StoreResult<Expunged> {
    if uids.is_empty() {
        return Ok(Expunged { uids: Vec::new(), modseq: folder.highest_modseq });
    }
    let wanted: Vec<i64> = uids.iter().map(|u| i64::from(u.0)).collect();
    let removed = rows(
        c,
        "DELETE FROM messages WHERE folder_id = $1 AND uid = ANY($2) RETURNING uid, size, blob_id",
        &[&folder.id.0, &wanted],
    )
    .await?;
    if removed.is_empty() {
        return Ok(Expunged { uids: Vec::new(), modseq: folder.highest_modseq });
    }
    let modseq = bump_modseq(c, folder.id).await?;
    let mut gone: Vec<i64> = removed.iter().map(|r| r.get(0)).collect();
    gone.sort_unstable();
    exec(
        c,
        "INSERT INTO expunged (folder_id, uid, modseq) SELECT $1, uid, $3 FROM unnest($2::BIGINT[]) AS uid
         ON CONFLICT (folder_id, uid) DO UPDATE SET modseq = excluded.modseq",
        &[&folder.id.0, &gone, &modseq],
    )
    .await?;
    // Each removed message gives back one reference on its body.
    let blobs: Vec<Vec<u8>> = removed.iter().map(|r| r.get(2)).collect();
    exec(
        c,
        "UPDATE blobs b SET refcount = b.refcount - g.n,
            zero_since = CASE WHEN b.refcount - g.n <= 0 THEN COALESCE(b.zero_since, $2) ELSE b.zero_since END
         FROM (SELECT id, COUNT(*) AS n FROM unnest($1::BYTEA[]) AS id GROUP BY id) g
         WHERE b.id = g.id",
        &[&blobs, &now_unix()],
    )
    .await?;
    let bytes: i64 = removed.iter().map(|r| r.get::<_, i64>(1)).sum();
    let count = removed.len() as i64;
    exec(
        c,
        "UPDATE folders SET message_count = message_count - $2, total_size = total_size - $3 WHERE id = $1",
        &[&folder.id.0, &count, &bytes],
    )
    .await?;
    adjust_usage(c, folder.mailbox.0, -bytes, -count).await?;
    Ok(Expunged { uids: gone.into_iter().map(|u| Uid(u as u32)).collect(), modseq: ModSeq(modseq as u64) })
}

pub(super) async fn expunge<C: GenericClient>(
    c: &C,
    folder: FolderId,
    only: Option<&[Uid]>,
) -> StoreResult<Expunged> {
    let folder = load_folder(c, folder).await?;
    let deleted = rows(
        c,
        &format!(
            "SELECT uid FROM messages WHERE folder_id = $1 AND flags & {} != 0 ORDER BY uid",
            SystemFlag::Deleted as u8
        ),
        &[&folder.id.0],
    )
    .await?;
    let deleted = deleted.iter().map(|r| Uid(r.get::<_, i64>(0) as u32));
    let chosen: Vec<Uid> = match only {
        Some(only) => deleted.filter(|uid| only.contains(uid)).collect(),
        None => deleted.collect(),
    };
    remove_messages(c, &folder, &chosen).await
}

pub(super) async fn expunged_since<C: GenericClient>(
    c: &C,
    folder: FolderId,
    modseq: ModSeq,
) -> StoreResult<Vec<Uid>> {
    let found = rows(
        c,
        "SELECT uid FROM expunged WHERE folder_id = $1 AND modseq > $2 ORDER BY uid",
        &[&folder.0, &(modseq.0 as i64)],
    )
    .await?;
    Ok(found.iter().map(|r| Uid(r.get::<_, i64>(0) as u32)).collect())
}

pub(super) async fn copy<C: GenericClient>(
    c: &C,
    from: FolderId,
    uids: &[Uid],
    to: FolderId,
) -> StoreResult<Copied> {
    load_folder(c, from).await?;
    let dest = load_folder(c, to).await?;
    let mut copied =
        Copied { uid_validity: dest.uid_validity, pairs: Vec::new(), modseq: dest.highest_modseq };
    let wanted: Vec<i64> = uids.iter().map(|u| i64::from(u.0)).collect();
    let sources = rows(
        c,
        "SELECT uid, flags, keywords, internal_date, size, blob_id FROM messages
         WHERE folder_id = $1 AND uid = ANY($2) ORDER BY uid",
        &[&from.0, &wanted],
    )
    .await?;
    if sources.is_empty() {
        return Ok(copied);
    }
    let count = sources.len() as i64;
    let bytes: i64 = sources.iter().map(|r| r.get::<_, i64>(4)).sum();
    // The destination's counters move once for the whole copy: the copies
    // take UIDs first..first+count and one MODSEQ each, in source order.
    let reserved = row(
        c,
        "UPDATE folders SET uid_next = uid_next + $2, highest_modseq = highest_modseq + $2,
            message_count = message_count + $2, total_size = total_size + $3
         WHERE id = $1 RETURNING uid_next - $2, highest_modseq - $2",
        &[&to.0, &count, &bytes],
    )
    .await?;
    let (first_uid, first_modseq): (i64, i64) = (reserved.get(0), reserved.get(1));
    let now = now_unix();
    for (i, source) in sources.iter().enumerate() {
        let (uid, modseq) = (first_uid + i as i64, first_modseq + 1 + i as i64);
        let blob: Vec<u8> = source.get(5);
        exec(
            c,
            "INSERT INTO messages (folder_id, uid, modseq, flags, keywords, internal_date, size, blob_id, saved_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            &[
                &to.0,
                &uid,
                &modseq,
                &source.get::<_, i64>(1),
                &source.get::<_, String>(2),
                &source.get::<_, i64>(3),
                &source.get::<_, i64>(4),
                &blob,
                &now,
            ],
        )
        .await?;
        exec(c, "UPDATE blobs SET refcount = refcount + 1, zero_since = NULL WHERE id = $1", &[&blob])
            .await?;
        copied.pairs.push((Uid(source.get::<_, i64>(0) as u32), Uid(uid as u32)));
        copied.modseq = ModSeq(modseq as u64);
    }
    adjust_usage(c, dest.mailbox.0, bytes, count).await?;
    Ok(copied)
}

pub(super) async fn move_messages<C: GenericClient>(
    c: &C,
    from: FolderId,
    uids: &[Uid],
    to: FolderId,
) -> StoreResult<(Copied, Expunged)> {
    let copied = copy(c, from, uids, to).await?;
    let source = load_folder(c, from).await?;
    let moved: Vec<Uid> = copied.pairs.iter().map(|(old, _)| *old).collect();
    let expunged = remove_messages(c, &source, &moved).await?;
    Ok((copied, expunged))
}

async fn name_taken<C: GenericClient>(
    c: &C,
    mailbox: MailboxId,
    name: &str,
    except: Option<FolderId>,
) -> StoreResult<bool> {
    let holder = row_opt(
        c,
        "SELECT id FROM folders WHERE mailbox_id = $1 AND name_key = $2",
        &[&mailbox.0, &name.to_lowercase()],
    )
    .await?;
    Ok(holder.is_some_and(|r| Some(FolderId(r.get(0))) != except))
}

pub(super) async fn create_folder<C: GenericClient>(
    c: &C,
    mailbox: MailboxId,
    name: &str,
) -> StoreResult<Folder> {
    if row_opt(c, "SELECT mailbox_id FROM mailbox_usage WHERE mailbox_id = $1", &[&mailbox.0])
        .await?
        .is_none()
    {
        return Err(StoreError::NotFound(format!("mailbox {mailbox}")));
    }
    if name_taken(c, mailbox, name, None).await? {
        return Err(StoreError::NameTaken { name: name.to_string() });
    }
    let validity = next_uid_validity(c).await?;
    let id: i64 = row(
        c,
        "INSERT INTO folders (mailbox_id, name, name_key, special_use, uid_validity, created_at)
         VALUES ($1, $2, $3, NULL, $4, $5) RETURNING id",
        &[&mailbox.0, &name, &name.to_lowercase(), &validity, &now_unix()],
    )
    .await?
    .get(0);
    load_folder(c, FolderId(id)).await
}

pub(super) async fn rename_folder<C: GenericClient>(
    c: &C,
    folder: FolderId,
    name: &str,
) -> StoreResult<Folder> {
    let current = load_folder(c, folder).await?;
    if name_taken(c, current.mailbox, name, Some(folder)).await? {
        return Err(StoreError::NameTaken { name: name.to_string() });
    }
    exec(
        c,
        "UPDATE folders SET name = $2, name_key = $3 WHERE id = $1",
        &[&folder.0, &name, &name.to_lowercase()],
    )
    .await?;
    load_folder(c, folder).await
}

/// Every UID of a folder, ascending.
pub(super) async fn uids_of<C: GenericClient>(c: &C, folder: FolderId) -> StoreResult<Vec<Uid>> {
    let found = rows(c, "SELECT uid FROM messages WHERE folder_id = $1 ORDER BY uid", &[&folder.0]).await?;
    Ok(found.iter().map(|r| Uid(r.get::<_, i64>(0) as u32)).collect())
}

pub(super) async fn delete_folder<C: GenericClient>(c: &C, folder: FolderId) -> StoreResult<()> {
    let current = load_folder(c, folder).await?;
    let uids = uids_of(c, folder).await?;
    remove_messages(c, &current, &uids).await?;
    exec(c, "DELETE FROM folders WHERE id = $1", &[&folder.0]).await?;
    Ok(())
}
