//! The IMAP-side mutations of [`MailStore`](mailroom_core::store::MailStore)
//! on SQLite: flags with MODSEQs (RFC 7162), expunge with remembered UIDs,
//! copy and move (bodies shared, never duplicated), folder create, rename,
//! delete, and Recoverable Items (the expunge that keeps, the purge of what
//! has outlived its retention). Each runs as one job of the group-commit writer.

use std::collections::BTreeSet;

use mailroom_core::mail::activity::{ActivityAction, flag_activity, flag_change_is_tracked};
use mailroom_core::mail::seen::{plan, touches_seen};
use mailroom_core::mail::{Flags, Folder, SpecialUse, SystemFlag};
use mailroom_core::store::{
    Copied, Expunged, FlagChange, FlagUpdate, FlagsOutcome, RecoverableItem, Recycled, StoreError,
    StoreResult,
};
use mailroom_types::{FolderId, MailboxId, ModSeq, PrincipalId, Uid};
use rusqlite::{Connection, OptionalExtension, params};

use super::activity::Trail;
use super::mail::{folder_from_row, keywords_text, next_uid_validity};
use super::{CachedSql, backend, now_unix};

fn parse_keywords(text: &str) -> BTreeSet<String> {
    text.split_whitespace().map(str::to_string).collect()
}

pub(super) fn load_folder(conn: &Connection, id: FolderId) -> StoreResult<Folder> {
    let row = conn
        .row(
            "SELECT id, mailbox_id, name, special_use, uid_validity, uid_next, highest_modseq,
                message_count, total_size FROM folders WHERE id = ?1",
            [id.0],
            folder_from_row,
        )
        .optional()
        .map_err(backend)?;
    let (mut folder, special) = row.ok_or_else(|| StoreError::NotFound(format!("folder {id}")))?;
    folder.special_use = special.as_deref().and_then(SpecialUse::from_storage_name);
    Ok(folder)
}

/// The next MODSEQ of a folder (its HIGHESTMODSEQ after this change).
fn bump_modseq(conn: &Connection, folder: FolderId) -> StoreResult<i64> {
    conn.row(
        "UPDATE folders SET highest_modseq = highest_modseq + 1 WHERE id = ?1 RETURNING highest_modseq",
        [folder.0],
        |r| r.get(0),
    )
    .optional()
    .map_err(backend)?
    .ok_or_else(|| StoreError::NotFound(format!("folder {folder}")))
}

pub(super) fn release_blob(conn: &Connection, blob: &[u8]) -> StoreResult<()> {
    conn.exec("UPDATE blobs SET refcount = refcount - 1 WHERE id = ?1", [blob]).map_err(backend)?;
    conn.exec(
        "UPDATE blobs SET zero_since = ?2 WHERE id = ?1 AND refcount <= 0 AND zero_since IS NULL",
        params![blob, now_unix()],
    )
    .map_err(backend)?;
    Ok(())
}

fn adjust_usage(conn: &Connection, mailbox: i64, bytes: i64, messages: i64) -> StoreResult<()> {
    conn.exec("INSERT INTO mailbox_usage (mailbox_id) VALUES (?1) ON CONFLICT DO NOTHING", [mailbox])
        .map_err(backend)?;
    conn.exec(
        "UPDATE mailbox_usage SET bytes = MAX(bytes + ?2, 0), messages = MAX(messages + ?3, 0) WHERE mailbox_id = ?1",
        params![mailbox, bytes, messages],
    )
    .map_err(backend)?;
    Ok(())
}

pub(super) fn store_flags_job(
    conn: &Connection,
    folder: FolderId,
    uids: &[Uid],
    change: FlagChange,
    given: &Flags,
    unchanged_since: Option<ModSeq>,
    by: PrincipalId,
) -> StoreResult<FlagsOutcome> {
    let source = load_folder(conn, folder)?;
    // Only a change that can make an entry pays for the trail's lookups.
    let trail = match flag_change_is_tracked(change, given) {
        true => Some(Trail::open(conn, source.mailbox, Some(by))?).filter(Trail::enabled),
        false => None,
    };
    // Per-member read state: `\Seen` is `by`'s own (read only when asked).
    // The owner of a person's mailbox is its one reader: never per member
    // (as `core` opens it).
    let per_member = touches_seen(change, given)
        && by != source.mailbox.principal()
        && per_member_seen(conn, source.mailbox)?;
    let mut outcome = FlagsOutcome::default();
    let mut modseq: Option<i64> = None;
    for &uid in uids {
        let row: Option<(i64, i64, String, Vec<u8>)> = conn
            .row(
                "SELECT modseq, flags, keywords, blob_id FROM messages WHERE folder_id = ?1 AND uid = ?2",
                params![folder.0, uid.0],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()
            .map_err(backend)?;
        let Some((current_modseq, system, keywords, blob)) = row else { continue };
        if unchanged_since.is_some_and(|since| current_modseq as u64 > since.0) {
            outcome.modified.push(uid);
            continue;
        }
        let current = Flags { system: system as u8, keywords: parse_keywords(&keywords) };
        let own = match per_member {
            true => conn
                .row(
                    "SELECT seen FROM member_seen WHERE folder_id = ?1 AND uid = ?2 AND principal_id = ?3",
                    params![folder.0, uid.0, by.0],
                    |r| r.get::<_, bool>(0),
                )
                .optional()
                .map_err(backend)?,
            false => None,
        };
        let planned = plan(change, given, &current, per_member, own);
        if let Some(trail) = &trail {
            for (action, detail) in flag_activity(change, given, &planned.before, &planned.after) {
                if action == ActivityAction::Read && !trail.first_read(conn, &blob)? {
                    continue;
                }
                trail.record(conn, action, &blob, &detail)?;
            }
        }
        if !planned.changes(&current) {
            continue;
        }
        let new_modseq = match modseq {
            Some(m) => m,
            None => *modseq.insert(bump_modseq(conn, folder)?),
        };
        // The MODSEQ moves for a member's own change too: their other
        // sessions hear of it (RFC 7162).
        conn.exec(
            "UPDATE messages SET flags = ?3, keywords = ?4, modseq = ?5 WHERE folder_id = ?1 AND uid = ?2",
            params![folder.0, uid.0, planned.shared.system, keywords_text(&planned.shared), new_modseq],
        )
        .map_err(backend)?;
        if let Some(seen) = planned.own_seen {
            conn.exec(
                "INSERT INTO member_seen (folder_id, uid, principal_id, seen) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (folder_id, uid, principal_id) DO UPDATE SET seen = excluded.seen",
                params![folder.0, uid.0, by.0, seen],
            )
            .map_err(backend)?;
        }
        outcome.updated.push(FlagUpdate { uid, flags: planned.after, modseq: ModSeq(new_modseq as u64) });
    }
    Ok(outcome)
}

/// Whether the mailbox keeps `\Seen` per member (`SharedSeenState PerMember`).
fn per_member_seen(conn: &Connection, mailbox: MailboxId) -> StoreResult<bool> {
    let found: Option<bool> = conn
        .row("SELECT per_member_seen FROM mailbox_settings WHERE recipient_id = ?1", [mailbox.0], |r| {
            r.get(0)
        })
        .optional()
        .map_err(backend)?;
    Ok(found.unwrap_or(false))
}

pub(super) fn seen_overrides(
    conn: &Connection,
    folder: FolderId,
    principal: PrincipalId,
    only: Option<&[Uid]>,
) -> StoreResult<Vec<(Uid, bool)>> {
    let row = |r: &rusqlite::Row<'_>| Ok((Uid(r.get::<_, i64>(0)? as u32), r.get(1)?));
    let Some(only) = only else {
        let mut stmt = conn
            .prepare_cached(
                "SELECT uid, seen FROM member_seen WHERE folder_id = ?1 AND principal_id = ?2 ORDER BY uid",
            )
            .map_err(backend)?;
        return stmt
            .query_map(params![folder.0, principal.0], row)
            .map_err(backend)?
            .map(|r| r.map_err(backend))
            .collect();
    };
    let mut stmt = conn
        .prepare_cached(
            "SELECT uid, seen FROM member_seen WHERE folder_id = ?1 AND principal_id = ?2 AND uid = ?3",
        )
        .map_err(backend)?;
    let mut out = Vec::new();
    for uid in only {
        if let Some(found) =
            stmt.query_row(params![folder.0, principal.0, uid.0], row).optional().map_err(backend)?
        {
            out.push(found);
        }
    }
    Ok(out)
}

pub(super) fn member_unseen(conn: &Connection, folder: FolderId, principal: PrincipalId) -> StoreResult<u64> {
    // Unread for the mailbox and not read by them, plus read for the
    // mailbox but unread by them.
    let n: i64 = conn
        .row(
            "SELECT (SELECT COUNT(*) FROM messages m WHERE m.folder_id = ?1 AND m.flags & 1 = 0 AND NOT EXISTS (
                        SELECT 1 FROM member_seen ms WHERE ms.folder_id = m.folder_id AND ms.uid = m.uid
                          AND ms.principal_id = ?2 AND ms.seen))
                  + (SELECT COUNT(*) FROM member_seen ms JOIN messages m ON m.folder_id = ms.folder_id AND m.uid = ms.uid
                     WHERE ms.folder_id = ?1 AND ms.principal_id = ?2 AND NOT ms.seen AND m.flags & 1 != 0)",
            params![folder.0, principal.0],
            |r| r.get(0),
        )
        .map_err(backend)?;
    Ok(n.max(0) as u64)
}

/// What a removal or copy puts on the trail for each message: the action
/// and its detail ("from Inbox", "to Archive").
type Note<'a> = Option<(&'a Trail, ActivityAction, &'a str)>;

/// Removes the given messages (all of them, flagged or not) and remembers
/// their UIDs under one new MODSEQ; each gets `note` on the trail.
fn remove_messages(
    conn: &Connection,
    folder: &Folder,
    uids: &[Uid],
    note: Note<'_>,
) -> StoreResult<Expunged> {
    let mut removed = Vec::new();
    let (mut bytes, mut count) = (0i64, 0i64);
    let mut modseq: Option<i64> = None;
    for &uid in uids {
        let row: Option<(i64, Vec<u8>)> = conn
            .row(
                "DELETE FROM messages WHERE folder_id = ?1 AND uid = ?2 RETURNING size, blob_id",
                params![folder.id.0, uid.0],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(backend)?;
        let Some((size, blob)) = row else { continue };
        let m = match modseq {
            Some(m) => m,
            None => *modseq.insert(bump_modseq(conn, folder.id)?),
        };
        conn.exec(
            "INSERT INTO expunged (folder_id, uid, modseq) VALUES (?1, ?2, ?3)
             ON CONFLICT (folder_id, uid) DO UPDATE SET modseq = excluded.modseq",
            params![folder.id.0, uid.0, m],
        )
        .map_err(backend)?;
        if let Some((trail, action, detail)) = note {
            trail.record(conn, action, &blob, detail)?;
        }
        release_blob(conn, &blob)?;
        bytes += size;
        count += 1;
        removed.push(uid);
    }
    if count > 0 {
        conn.exec(
            "UPDATE folders SET message_count = message_count - ?2, total_size = total_size - ?3 WHERE id = ?1",
            params![folder.id.0, count, bytes],
        )
        .map_err(backend)?;
        if counts_for_usage(folder) {
            adjust_usage(conn, folder.mailbox.0, -bytes, -count)?;
        }
    }
    let modseq = modseq.map_or(folder.highest_modseq, |m| ModSeq(m as u64));
    Ok(Expunged { uids: removed, modseq })
}

/// Recoverable Items isn't counted in the mailbox's usage: a delete frees
/// room at once, and a restore takes it again.
fn counts_for_usage(folder: &Folder) -> bool {
    folder.special_use != Some(SpecialUse::Recoverable)
}

pub(super) fn expunge_job(
    conn: &Connection,
    folder: FolderId,
    only: Option<&[Uid]>,
    by: PrincipalId,
) -> StoreResult<Expunged> {
    let folder = load_folder(conn, folder)?;
    let chosen = deleted_uids(conn, &folder, only)?;
    let trail = Trail::open(conn, folder.mailbox, Some(by))?;
    let detail = format!("from {}", folder.name);
    remove_messages(conn, &folder, &chosen, Some((&trail, ActivityAction::Purged, &detail)))
}

/// The UIDs flagged `\Deleted` in `folder` (of `only`, when given).
fn deleted_uids(conn: &Connection, folder: &Folder, only: Option<&[Uid]>) -> StoreResult<Vec<Uid>> {
    // The flag as a literal, not a parameter: a parameter SQLite might
    // compare with a partial index's condition makes it prepare the
    // statement again for every new value it is bound to.
    let sql = format!(
        "SELECT uid FROM messages WHERE folder_id = ?1 AND flags & {} != 0 ORDER BY uid",
        SystemFlag::Deleted as u8
    );
    let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
    let deleted: Vec<Uid> = stmt
        .query_map(params![folder.id.0], |r| r.get::<_, i64>(0))
        .map_err(backend)?
        .map(|uid| uid.map(|u| Uid(u as u32)).map_err(backend))
        .collect::<StoreResult<_>>()?;
    drop(stmt);
    Ok(match only {
        Some(only) => deleted.into_iter().filter(|uid| only.contains(uid)).collect(),
        None => deleted,
    })
}

/// The mailbox's Recoverable Items.
fn recoverable_folder(conn: &Connection, mailbox: MailboxId) -> StoreResult<Folder> {
    let id: Option<i64> = conn
        .row(
            "SELECT id FROM folders WHERE mailbox_id = ?1 AND special_use = ?2",
            params![mailbox.0, SpecialUse::Recoverable.storage_name()],
            |r| r.get(0),
        )
        .optional()
        .map_err(backend)?;
    let id = id.ok_or_else(|| StoreError::NotFound(format!("Recoverable Items of mailbox {mailbox}")))?;
    load_folder(conn, FolderId(id))
}

pub(super) fn recycle_job(
    conn: &Connection,
    folder: FolderId,
    only: Option<&[Uid]>,
    by: PrincipalId,
) -> StoreResult<Recycled> {
    let source = load_folder(conn, folder)?;
    let chosen = deleted_uids(conn, &source, only)?;
    recycle_uids(conn, &source, &chosen, by)
}

/// Moves `uids` of `source` into Recoverable Items, `\Deleted` cleared,
/// with a note of where they were, when and by whom.
fn recycle_uids(conn: &Connection, source: &Folder, uids: &[Uid], by: PrincipalId) -> StoreResult<Recycled> {
    let bin = recoverable_folder(conn, source.mailbox)?;
    if bin.id == source.id {
        return Err(StoreError::NotFound(format!("a folder to recycle other than {}", bin.name)));
    }
    let copied = copy_rows(conn, source.id, uids, &bin, SystemFlag::Deleted as i64, None)?;
    let moved: Vec<Uid> = copied.pairs.iter().map(|(old, _)| *old).collect();
    let trail = Trail::open(conn, source.mailbox, Some(by))?;
    let detail = format!("from {}", source.name);
    let expunged = remove_messages(conn, source, &moved, Some((&trail, ActivityAction::Deleted, &detail)))?;
    let now = now_unix();
    let mut note = conn
        .prepare_cached(
            "INSERT INTO recoverable_items (folder_id, uid, deleted_from, deleted_from_name, deleted_at, deleted_by)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .map_err(backend)?;
    for (_, new_uid) in &copied.pairs {
        note.execute(params![bin.id.0, new_uid.0, source.id.0, source.name, now, by.0]).map_err(backend)?;
    }
    Ok(Recycled { expunged, into: bin.id, copied })
}

pub(super) fn recoverable_items_job(
    conn: &Connection,
    folder: FolderId,
) -> StoreResult<Vec<RecoverableItem>> {
    // From the messages, so that one without its note (none should be)
    // still shows, dated by when it was saved.
    let mut stmt = conn
        .prepare_cached(
            "SELECT m.uid, f.id, COALESCE(ri.deleted_from_name, ''),
                COALESCE(ri.deleted_at, m.saved_at, m.internal_date), ri.deleted_by
             FROM messages m
             LEFT JOIN recoverable_items ri ON ri.folder_id = m.folder_id AND ri.uid = m.uid
             LEFT JOIN folders f ON f.id = ri.deleted_from
             WHERE m.folder_id = ?1 ORDER BY m.uid",
        )
        .map_err(backend)?;
    stmt.query_map([folder.0], |r| {
        Ok(RecoverableItem {
            uid: Uid(r.get::<_, i64>(0)? as u32),
            deleted_from: r.get::<_, Option<i64>>(1)?.map(FolderId),
            deleted_from_name: r.get(2)?,
            deleted_at: r.get(3)?,
            deleted_by: r.get::<_, Option<i64>>(4)?.map(PrincipalId),
        })
    })
    .map_err(backend)?
    .map(|item| item.map_err(backend))
    .collect()
}

pub(super) fn purge_expired_job(conn: &Connection, now: i64, limit: usize) -> StoreResult<usize> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT ri.folder_id, ri.uid FROM recoverable_items ri
             JOIN folders f ON f.id = ri.folder_id
             LEFT JOIN mailbox_settings s ON s.recipient_id = f.mailbox_id
             WHERE ri.deleted_at + COALESCE(s.retain_deleted_seconds, ?3) <= ?1
             ORDER BY ri.deleted_at LIMIT ?2",
        )
        .map_err(backend)?;
    let default = mailroom_core::directory::Retention::default().seconds() as i64;
    let expired: Vec<(i64, i64)> = stmt
        .query_map(params![now, limit as i64, default], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(backend)?
        .collect::<rusqlite::Result<_>>()
        .map_err(backend)?;
    drop(stmt);
    let mut by_folder: std::collections::BTreeMap<i64, Vec<Uid>> = std::collections::BTreeMap::new();
    for (folder, uid) in &expired {
        by_folder.entry(*folder).or_default().push(Uid(*uid as u32));
    }
    // What was removed is counted, not the notes read: the caller loops
    // while whole batches go.
    let mut purged = 0;
    for (folder, uids) in by_folder {
        let folder = load_folder(conn, FolderId(folder))?;
        // No actor: the mailbox's retention period purged them.
        let trail = Trail::open(conn, folder.mailbox, None)?;
        let note = Some((&trail, ActivityAction::Purged, "when its retention period ended"));
        purged += remove_messages(conn, &folder, &uids, note)?.uids.len();
    }
    Ok(purged)
}

pub(super) fn expunged_since(conn: &Connection, folder: FolderId, modseq: ModSeq) -> StoreResult<Vec<Uid>> {
    let mut stmt = conn
        .prepare_cached("SELECT uid FROM expunged WHERE folder_id = ?1 AND modseq > ?2 ORDER BY uid")
        .map_err(backend)?;
    stmt.query_map(params![folder.0, modseq.0 as i64], |r| r.get::<_, i64>(0))
        .map_err(backend)?
        .map(|uid| uid.map(|u| Uid(u as u32)).map_err(backend))
        .collect()
}

pub(super) fn copy_job(
    conn: &Connection,
    from: FolderId,
    uids: &[Uid],
    to: FolderId,
    by: PrincipalId,
) -> StoreResult<Copied> {
    let source = load_folder(conn, from)?;
    let dest = load_folder(conn, to)?;
    let trail = Trail::open(conn, source.mailbox, Some(by))?;
    let action = if source.special_use == Some(SpecialUse::Recoverable) {
        ActivityAction::Restored
    } else {
        ActivityAction::Copied
    };
    let detail = destination(&source, &dest);
    let copied = copy_rows(conn, from, uids, &dest, 0, Some((&trail, action, &detail)))?;
    arrivals(conn, &source, &dest, &copied, by, action)?;
    Ok(copied)
}

/// A copy or move into another mailbox goes on that mailbox's trail too.
fn arrivals(
    conn: &Connection,
    source: &Folder,
    dest: &Folder,
    copied: &Copied,
    by: PrincipalId,
    action: ActivityAction,
) -> StoreResult<()> {
    if source.mailbox == dest.mailbox || copied.pairs.is_empty() {
        return Ok(());
    }
    let trail = Trail::open(conn, dest.mailbox, Some(by))?;
    if !trail.enabled() {
        return Ok(());
    }
    let detail = format!("into {} from another mailbox", dest.name);
    for (_, uid) in &copied.pairs {
        let blob: Vec<u8> = conn
            .row(
                "SELECT blob_id FROM messages WHERE folder_id = ?1 AND uid = ?2",
                params![dest.id.0, uid.0],
                |r| r.get(0),
            )
            .map_err(backend)?;
        trail.record(conn, action, &blob, &detail)?;
    }
    Ok(())
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
fn copy_rows(
    conn: &Connection,
    from: FolderId,
    uids: &[Uid],
    dest: &Folder,
    clear: i64,
    note: Note<'_>,
) -> StoreResult<Copied> {
    load_folder(conn, from)?;
    let to = dest.id;
    let mut sorted: Vec<Uid> = uids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut copied =
        Copied { uid_validity: dest.uid_validity, pairs: Vec::new(), modseq: dest.highest_modseq };
    let (mut bytes, mut count) = (0i64, 0i64);
    for uid in sorted {
        let row: Option<(i64, String, i64, i64, Vec<u8>)> = conn
            .row(
                "SELECT flags, keywords, internal_date, size, blob_id FROM messages WHERE folder_id = ?1 AND uid = ?2",
                params![from.0, uid.0],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .optional()
            .map_err(backend)?;
        let Some((system, keywords, internal_date, size, blob)) = row else { continue };
        let (new_uid, modseq): (i64, i64) = conn
            .row(
                "UPDATE folders SET uid_next = uid_next + 1, highest_modseq = highest_modseq + 1,
                    message_count = message_count + 1, total_size = total_size + ?2
                 WHERE id = ?1 RETURNING uid_next - 1, highest_modseq",
                params![to.0, size],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(backend)?;
        conn.exec(
            "INSERT INTO messages (folder_id, uid, modseq, flags, keywords, internal_date, size, blob_id, saved_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![to.0, new_uid, modseq, system & !clear, keywords, internal_date, size, blob, now_unix()],
        )
        .map_err(backend)?;
        conn.exec("UPDATE blobs SET refcount = refcount + 1, zero_since = NULL WHERE id = ?1", [&blob])
            .map_err(backend)?;
        if let Some((trail, action, detail)) = note {
            trail.record(conn, action, &blob, detail)?;
        }
        bytes += size;
        count += 1;
        copied.pairs.push((uid, Uid(new_uid as u32)));
        copied.modseq = ModSeq(modseq as u64);
    }
    if count > 0 && counts_for_usage(dest) {
        adjust_usage(conn, dest.mailbox.0, bytes, count)?;
    }
    Ok(copied)
}

pub(super) fn move_job(
    conn: &Connection,
    from: FolderId,
    uids: &[Uid],
    to: FolderId,
    by: Option<PrincipalId>,
) -> StoreResult<(Copied, Expunged)> {
    let source = load_folder(conn, from)?;
    let dest = load_folder(conn, to)?;
    let copied = copy_rows(conn, from, uids, &dest, 0, None)?;
    let moved: Vec<Uid> = copied.pairs.iter().map(|(old, _)| *old).collect();
    // `None`: RENAME INBOX, a folder's change rather than a member's move.
    let trail = by.map(|by| Trail::open(conn, source.mailbox, Some(by))).transpose()?;
    let action = if source.special_use == Some(SpecialUse::Recoverable) {
        ActivityAction::Restored
    } else {
        ActivityAction::Moved
    };
    let detail = destination(&source, &dest);
    let note = trail.as_ref().map(|trail| (trail, action, detail.as_str()));
    let expunged = remove_messages(conn, &source, &moved, note)?;
    if let Some(by) = by {
        arrivals(conn, &source, &dest, &copied, by, action)?;
    }
    Ok((copied, expunged))
}

fn name_taken(
    conn: &Connection,
    mailbox: MailboxId,
    name: &str,
    except: Option<FolderId>,
) -> StoreResult<bool> {
    let holder: Option<i64> = conn
        .row(
            "SELECT id FROM folders WHERE mailbox_id = ?1 AND name_key = ?2",
            params![mailbox.0, name.to_lowercase()],
            |r| r.get(0),
        )
        .optional()
        .map_err(backend)?;
    Ok(holder.is_some_and(|id| Some(FolderId(id)) != except))
}

pub(super) fn create_folder_job(conn: &Connection, mailbox: MailboxId, name: &str) -> StoreResult<Folder> {
    let exists: Option<i64> = conn
        .row("SELECT mailbox_id FROM mailbox_usage WHERE mailbox_id = ?1", [mailbox.0], |r| r.get(0))
        .optional()
        .map_err(backend)?;
    if exists.is_none() {
        return Err(StoreError::NotFound(format!("mailbox {mailbox}")));
    }
    if name_taken(conn, mailbox, name, None)? {
        return Err(StoreError::NameTaken { name: name.to_string() });
    }
    let validity = next_uid_validity(conn)?;
    let id: i64 = conn
        .row(
            "INSERT INTO folders (mailbox_id, name, name_key, special_use, uid_validity, created_at)
             VALUES (?1, ?2, ?3, NULL, ?4, ?5) RETURNING id",
            params![mailbox.0, name, name.to_lowercase(), validity, now_unix()],
            |r| r.get(0),
        )
        .map_err(backend)?;
    load_folder(conn, FolderId(id))
}

pub(super) fn rename_folder_job(conn: &Connection, folder: FolderId, name: &str) -> StoreResult<Folder> {
    let current = load_folder(conn, folder)?;
    if name_taken(conn, current.mailbox, name, Some(folder))? {
        return Err(StoreError::NameTaken { name: name.to_string() });
    }
    conn.exec(
        "UPDATE folders SET name = ?2, name_key = ?3 WHERE id = ?1",
        params![folder.0, name, name.to_lowercase()],
    )
    .map_err(backend)?;
    load_folder(conn, folder)
}

/// Every UID of a folder, ascending.
pub(super) fn uids_of(conn: &Connection, folder: FolderId) -> StoreResult<Vec<Uid>> {
    let mut stmt =
        conn.prepare_cached("SELECT uid FROM messages WHERE folder_id = ?1 ORDER BY uid").map_err(backend)?;
    stmt.query_map([folder.0], |r| r.get::<_, i64>(0))
        .map_err(backend)?
        .map(|uid| uid.map(|u| Uid(u as u32)).map_err(backend))
        .collect()
}

pub(super) fn delete_folder_job(conn: &Connection, folder: FolderId, by: PrincipalId) -> StoreResult<()> {
    let current = load_folder(conn, folder)?;
    let uids = uids_of(conn, folder)?;
    if !uids.is_empty() {
        recycle_uids(conn, &current, &uids, by)?;
    }
    conn.exec("DELETE FROM folders WHERE id = ?1", [folder.0]).map_err(backend)?;
    Ok(())
}
