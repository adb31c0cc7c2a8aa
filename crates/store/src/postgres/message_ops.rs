//! The IMAP-side mutations of [`MailStore`](mailroom_core::store::MailStore)
//! on PostgreSQL: flags with MODSEQs (RFC 7162), expunge with remembered
//! UIDs, copy and move (bodies shared, never duplicated), folder create,
//! rename, delete, and Recoverable Items (the expunge that keeps, the purge
//! of what has outlived its retention). Each runs inside its caller's write
//! transaction.

use std::collections::BTreeSet;

use deadpool_postgres::GenericClient;
use mailroom_core::mail::activity::{ActivityAction, flag_activity, flag_change_is_tracked};
use mailroom_core::mail::seen::{plan, touches_seen};
use mailroom_core::mail::{Flags, Folder, SpecialUse, SystemFlag};
use mailroom_core::store::{
    Copied, Expunged, FlagChange, FlagUpdate, FlagsOutcome, RecoverableItem, Recycled, StoreError,
    StoreResult,
};
use mailroom_types::{FolderId, MailboxId, ModSeq, PrincipalId, Uid};

use super::activity::Trail;
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
    by: PrincipalId,
) -> StoreResult<FlagsOutcome> {
    let source = load_folder(c, folder).await?;
    // Only a change that can make an entry pays for the trail's lookups.
    let trail = match flag_change_is_tracked(change, given) {
        true => Some(Trail::open(c, source.mailbox, Some(by)).await?).filter(Trail::enabled),
        false => None,
    };
    let wanted: Vec<i64> = uids.iter().map(|u| i64::from(u.0)).collect();
    let current = rows(
        c,
        "SELECT uid, modseq, flags, keywords, blob_id FROM messages WHERE folder_id = $1 AND uid = ANY($2)",
        &[&folder.0, &wanted],
    )
    .await?;
    let current: std::collections::HashMap<i64, (i64, i64, String, Vec<u8>)> =
        current.iter().map(|r| (r.get(0), (r.get(1), r.get(2), r.get(3), r.get(4)))).collect();
    // Per-member read state: `\Seen` is `by`'s own (read only when asked).
    // The owner of a person's mailbox is its one reader: never per member
    // (as `core` opens it).
    let own: Option<std::collections::HashMap<i64, bool>> = if touches_seen(change, given)
        && by != source.mailbox.principal()
        && row_opt(
            c,
            "SELECT per_member_seen FROM mailbox_settings WHERE recipient_id = $1",
            &[&source.mailbox.0],
        )
        .await?
        .is_some_and(|r| r.get::<_, bool>(0))
    {
        let found = rows(
            c,
            "SELECT uid, seen FROM member_seen WHERE folder_id = $1 AND principal_id = $2 AND uid = ANY($3)",
            &[&folder.0, &by.0, &wanted],
        )
        .await?;
        Some(found.iter().map(|r| (r.get(0), r.get(1))).collect())
    } else {
        None
    };
    let mut outcome = FlagsOutcome::default();
    let mut modseq: Option<i64> = None;
    // By (action, detail): one insert for each.
    let mut entries: std::collections::BTreeMap<(ActivityAction, String), Vec<Vec<u8>>> = Default::default();
    // In the order asked, as the SQLite store answers.
    for &uid in uids {
        let Some((current_modseq, system, keywords, blob)) = current.get(&i64::from(uid.0)) else { continue };
        if unchanged_since.is_some_and(|since| *current_modseq as u64 > since.0) {
            outcome.modified.push(uid);
            continue;
        }
        let current = Flags { system: *system as u8, keywords: parse_keywords(keywords) };
        let mine = own.as_ref().and_then(|own| own.get(&i64::from(uid.0)).copied());
        let planned = plan(change, given, &current, own.is_some(), mine);
        if trail.is_some() {
            for entry in flag_activity(change, given, &planned.before, &planned.after) {
                entries.entry(entry).or_default().push(blob.clone());
            }
        }
        if !planned.changes(&current) {
            continue;
        }
        let new_modseq = match modseq {
            Some(m) => m,
            None => *modseq.insert(bump_modseq(c, folder).await?),
        };
        // The MODSEQ moves for a member's own change too: their other
        // sessions hear of it (RFC 7162).
        let shared = &planned.shared;
        exec(
            c,
            "UPDATE messages SET flags = $3, keywords = $4, modseq = $5 WHERE folder_id = $1 AND uid = $2",
            &[&folder.0, &i64::from(uid.0), &i64::from(shared.system), &keywords_text(shared), &new_modseq],
        )
        .await?;
        if let Some(seen) = planned.own_seen {
            exec(
                c,
                "INSERT INTO member_seen (folder_id, uid, principal_id, seen) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (folder_id, uid, principal_id) DO UPDATE SET seen = excluded.seen",
                &[&folder.0, &i64::from(uid.0), &by.0, &seen],
            )
            .await?;
        }
        outcome.updated.push(FlagUpdate { uid, flags: planned.after, modseq: ModSeq(new_modseq as u64) });
    }
    if let Some(trail) = &trail {
        if let Some(read) = entries.get_mut(&(ActivityAction::Read, String::new())) {
            // Once per member and body: not again, nor twice in one change.
            let mut before = trail.read_before(c, read).await?;
            read.retain(|blob| before.insert(blob.clone()));
        }
        for ((action, detail), blobs) in &entries {
            trail.record(c, *action, blobs, detail).await?;
        }
    }
    Ok(outcome)
}

/// What a removal or copy puts on the trail for each message: the action
/// and its detail ("from Inbox", "to Archive").
type Note<'a> = Option<(&'a Trail, ActivityAction, &'a str)>;

/// Removes the given messages (all of them, flagged or not) and remembers
/// their UIDs under one new MODSEQ; each gets `note` on the trail.
async fn remove_messages<C: GenericClient>(
    c: &C,
    folder: &Folder,
    uids: &[Uid],
    note: Note<'_>,
) -> StoreResult<Expunged> {
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
    if let Some((trail, action, detail)) = note {
        trail.record(c, action, &blobs, detail).await?;
    }
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
    if counts_for_usage(folder) {
        adjust_usage(c, folder.mailbox.0, -bytes, -count).await?;
    }
    Ok(Expunged { uids: gone.into_iter().map(|u| Uid(u as u32)).collect(), modseq: ModSeq(modseq as u64) })
}

/// Recoverable Items isn't counted in the mailbox's usage: a delete frees
/// room at once, and a restore takes it again.
fn counts_for_usage(folder: &Folder) -> bool {
    folder.special_use != Some(SpecialUse::Recoverable)
}

pub(super) async fn expunge<C: GenericClient>(
    c: &C,
    folder: FolderId,
    only: Option<&[Uid]>,
    by: PrincipalId,
) -> StoreResult<Expunged> {
    let folder = load_folder(c, folder).await?;
    let chosen = deleted_uids(c, &folder, only).await?;
    let trail = Trail::open(c, folder.mailbox, Some(by)).await?;
    let detail = format!("from {}", folder.name);
    remove_messages(c, &folder, &chosen, Some((&trail, ActivityAction::Purged, &detail))).await
}

/// The UIDs flagged `\Deleted` in `folder` (of `only`, when given).
async fn deleted_uids<C: GenericClient>(
    c: &C,
    folder: &Folder,
    only: Option<&[Uid]>,
) -> StoreResult<Vec<Uid>> {
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
    Ok(match only {
        Some(only) => deleted.filter(|uid| only.contains(uid)).collect(),
        None => deleted.collect(),
    })
}

/// The mailbox's Recoverable Items.
async fn recoverable_folder<C: GenericClient>(c: &C, mailbox: MailboxId) -> StoreResult<Folder> {
    let found = row_opt(
        c,
        "SELECT id FROM folders WHERE mailbox_id = $1 AND special_use = $2",
        &[&mailbox.0, &SpecialUse::Recoverable.storage_name()],
    )
    .await?;
    let id: i64 =
        found.ok_or_else(|| StoreError::NotFound(format!("Recoverable Items of mailbox {mailbox}")))?.get(0);
    load_folder(c, FolderId(id)).await
}

pub(super) async fn recycle<C: GenericClient>(
    c: &C,
    folder: FolderId,
    only: Option<&[Uid]>,
    by: PrincipalId,
) -> StoreResult<Recycled> {
    let source = load_folder(c, folder).await?;
    let chosen = deleted_uids(c, &source, only).await?;
    recycle_uids(c, &source, &chosen, by).await
}

/// Moves `uids` of `source` into Recoverable Items, `\Deleted` cleared,
/// with a note of where they were, when and by whom.
async fn recycle_uids<C: GenericClient>(
    c: &C,
    source: &Folder,
    uids: &[Uid],
    by: PrincipalId,
) -> StoreResult<Recycled> {
    let bin = recoverable_folder(c, source.mailbox).await?;
    if bin.id == source.id {
        return Err(StoreError::NotFound(format!("a folder to recycle other than {}", bin.name)));
    }
    let copied = copy_rows(c, source.id, uids, &bin, SystemFlag::Deleted as i64, None).await?;
    let moved: Vec<Uid> = copied.pairs.iter().map(|(old, _)| *old).collect();
    let trail = Trail::open(c, source.mailbox, Some(by)).await?;
    let detail = format!("from {}", source.name);
    let expunged =
        remove_messages(c, source, &moved, Some((&trail, ActivityAction::Deleted, &detail))).await?;
    let new_uids: Vec<i64> = copied.pairs.iter().map(|(_, new)| i64::from(new.0)).collect();
    exec(
        c,
        "INSERT INTO recoverable_items (folder_id, uid, deleted_from, deleted_from_name, deleted_at, deleted_by)
         SELECT $1, uid, $3, $4, $5, $6 FROM unnest($2::BIGINT[]) AS uid",
        &[&bin.id.0, &new_uids, &source.id.0, &source.name, &now_unix(), &by.0],
    )
    .await?;
    Ok(Recycled { expunged, into: bin.id, copied })
}

pub(super) async fn recoverable_items<C: GenericClient>(
    c: &C,
    folder: FolderId,
) -> StoreResult<Vec<RecoverableItem>> {
    // From the messages, so that one without its note (none should be)
    // still shows, dated by when it was saved.
    let found = rows(
        c,
        "SELECT m.uid, f.id, COALESCE(ri.deleted_from_name, ''),
            COALESCE(ri.deleted_at, m.saved_at, m.internal_date), ri.deleted_by
         FROM messages m
         LEFT JOIN recoverable_items ri ON ri.folder_id = m.folder_id AND ri.uid = m.uid
         LEFT JOIN folders f ON f.id = ri.deleted_from
         WHERE m.folder_id = $1 ORDER BY m.uid",
        &[&folder.0],
    )
    .await?;
    Ok(found
        .iter()
        .map(|r| RecoverableItem {
            uid: Uid(r.get::<_, i64>(0) as u32),
            deleted_from: r.get::<_, Option<i64>>(1).map(FolderId),
            deleted_from_name: r.get(2),
            deleted_at: r.get(3),
            deleted_by: r.get::<_, Option<i64>>(4).map(PrincipalId),
        })
        .collect())
}

pub(super) async fn purge_expired<C: GenericClient>(c: &C, now: i64, limit: usize) -> StoreResult<usize> {
    let default = mailroom_core::directory::Retention::default().seconds() as i64;
    let expired = rows(
        c,
        "SELECT ri.folder_id, ri.uid FROM recoverable_items ri
         JOIN folders f ON f.id = ri.folder_id
         LEFT JOIN mailbox_settings s ON s.recipient_id = f.mailbox_id
         WHERE ri.deleted_at + COALESCE(s.retain_deleted_seconds, $3) <= $1
         ORDER BY ri.deleted_at LIMIT $2",
        &[&now, &(limit as i64), &default],
    )
    .await?;
    let mut by_folder: std::collections::BTreeMap<i64, Vec<Uid>> = std::collections::BTreeMap::new();
    for r in &expired {
        by_folder.entry(r.get(0)).or_default().push(Uid(r.get::<_, i64>(1) as u32));
    }
    // What was removed is counted, not the notes read: the caller loops
    // while whole batches go.
    let mut purged = 0;
    for (folder, uids) in by_folder {
        let folder = load_folder(c, FolderId(folder)).await?;
        // No actor: the mailbox's retention period purged them.
        let trail = Trail::open(c, folder.mailbox, None).await?;
        let note = Some((&trail, ActivityAction::Purged, "when its retention period ended"));
        purged += remove_messages(c, &folder, &uids, note).await?.uids.len();
    }
    Ok(purged)
}

pub(super) async fn seen_overrides<C: GenericClient>(
    c: &C,
    folder: FolderId,
    principal: PrincipalId,
    only: Option<&[Uid]>,
) -> StoreResult<Vec<(Uid, bool)>> {
    let found = match only {
        None => {
            rows(
                c,
                "SELECT uid, seen FROM member_seen WHERE folder_id = $1 AND principal_id = $2 ORDER BY uid",
                &[&folder.0, &principal.0],
            )
            .await?
        }
        Some(only) => {
            let wanted: Vec<i64> = only.iter().map(|u| i64::from(u.0)).collect();
            rows(
                c,
                "SELECT uid, seen FROM member_seen WHERE folder_id = $1 AND principal_id = $2 AND uid = ANY($3)
                 ORDER BY uid",
                &[&folder.0, &principal.0, &wanted],
            )
            .await?
        }
    };
    Ok(found.iter().map(|r| (Uid(r.get::<_, i64>(0) as u32), r.get(1))).collect())
}

pub(super) async fn member_unseen<C: GenericClient>(
    c: &C,
    folder: FolderId,
    principal: PrincipalId,
) -> StoreResult<u64> {
    // Unread for the mailbox and not read by them, plus read for the
    // mailbox but unread by them.
    let n: i64 = row(
        c,
        "SELECT (SELECT COUNT(*) FROM messages m WHERE m.folder_id = $1 AND m.flags & 1 = 0 AND NOT EXISTS (
                    SELECT 1 FROM member_seen ms WHERE ms.folder_id = m.folder_id AND ms.uid = m.uid
                      AND ms.principal_id = $2 AND ms.seen))
              + (SELECT COUNT(*) FROM member_seen ms JOIN messages m ON m.folder_id = ms.folder_id AND m.uid = ms.uid
                 WHERE ms.folder_id = $1 AND ms.principal_id = $2 AND NOT ms.seen AND m.flags & 1 != 0)",
        &[&folder.0, &principal.0],
    )
    .await?
    .get(0);
    Ok(n.max(0) as u64)
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
    by: PrincipalId,
) -> StoreResult<Copied> {
    let source = load_folder(c, from).await?;
    let dest = load_folder(c, to).await?;
    let trail = Trail::open(c, source.mailbox, Some(by)).await?;
    let action = if source.special_use == Some(SpecialUse::Recoverable) {
        ActivityAction::Restored
    } else {
        ActivityAction::Copied
    };
    let detail = destination(&source, &dest);
    let copied = copy_rows(c, from, uids, &dest, 0, Some((&trail, action, &detail))).await?;
    arrivals(c, &source, &dest, &copied, by, action).await?;
    Ok(copied)
}

/// A copy or move into another mailbox goes on that mailbox's trail too.
async fn arrivals<C: GenericClient>(
    c: &C,
    source: &Folder,
    dest: &Folder,
    copied: &Copied,
    by: PrincipalId,
    action: ActivityAction,
) -> StoreResult<()> {
    if source.mailbox == dest.mailbox || copied.pairs.is_empty() {
        return Ok(());
    }
    let trail = Trail::open(c, dest.mailbox, Some(by)).await?;
    if !trail.enabled() {
        return Ok(());
    }
    let uids: Vec<i64> = copied.pairs.iter().map(|(_, new)| i64::from(new.0)).collect();
    let found = rows(
        c,
        "SELECT blob_id FROM messages WHERE folder_id = $1 AND uid = ANY($2) ORDER BY uid",
        &[&dest.id.0, &uids],
    )
    .await?;
    let blobs: Vec<Vec<u8>> = found.iter().map(|r| r.get(0)).collect();
    trail.record(c, action, &blobs, &format!("into {} from another mailbox", dest.name)).await
}

/// "to Archive", or "to another mailbox" when it is one.
fn destination(source: &Folder, dest: &Folder) -> String {
    if source.mailbox == dest.mailbox {
        format!("to {}", dest.name)
    } else {
        "to another mailbox".to_string()
    }
}

/// Copies messages into `dest` with the flags in `clear` taken off; each
/// gets `note` on the trail.
async fn copy_rows<C: GenericClient>(
    c: &C,
    from: FolderId,
    uids: &[Uid],
    dest: &Folder,
    clear: i64,
    note: Note<'_>,
) -> StoreResult<Copied> {
    load_folder(c, from).await?;
    let to = dest.id;
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
                &(source.get::<_, i64>(1) & !clear),
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
    if counts_for_usage(dest) {
        adjust_usage(c, dest.mailbox.0, bytes, count).await?;
    }
    if let Some((trail, action, detail)) = note {
        let blobs: Vec<Vec<u8>> = sources.iter().map(|r| r.get(5)).collect();
        trail.record(c, action, &blobs, detail).await?;
    }
    Ok(copied)
}

pub(super) async fn move_messages<C: GenericClient>(
    c: &C,
    from: FolderId,
    uids: &[Uid],
    to: FolderId,
    by: Option<PrincipalId>,
) -> StoreResult<(Copied, Expunged)> {
    let source = load_folder(c, from).await?;
    let dest = load_folder(c, to).await?;
    let copied = copy_rows(c, from, uids, &dest, 0, None).await?;
    let moved: Vec<Uid> = copied.pairs.iter().map(|(old, _)| *old).collect();
    // `None`: RENAME INBOX, a folder's change rather than a member's move.
    let trail = match by {
        Some(by) => Some(Trail::open(c, source.mailbox, Some(by)).await?),
        None => None,
    };
    let action = if source.special_use == Some(SpecialUse::Recoverable) {
        ActivityAction::Restored
    } else {
        ActivityAction::Moved
    };
    let detail = destination(&source, &dest);
    let note = trail.as_ref().map(|trail| (trail, action, detail.as_str()));
    let expunged = remove_messages(c, &source, &moved, note).await?;
    if let Some(by) = by {
        arrivals(c, &source, &dest, &copied, by, action).await?;
    }
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

pub(super) async fn delete_folder<C: GenericClient>(
    c: &C,
    folder: FolderId,
    by: PrincipalId,
) -> StoreResult<()> {
    let current = load_folder(c, folder).await?;
    let uids = uids_of(c, folder).await?;
    if !uids.is_empty() {
        recycle_uids(c, &current, &uids, by).await?;
    }
    exec(c, "DELETE FROM folders WHERE id = $1", &[&folder.0]).await?;
    Ok(())
}
