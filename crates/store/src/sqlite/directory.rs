//! [`DirectoryStore`] on SQLite.
//!
//! Every write runs as one job of the group-commit writer, so a check and the
//! insert it guards happen in one transaction: uniqueness of names, aliases
//! and addresses can't race, even against another process (the writer's
//! transaction is `BEGIN IMMEDIATE`).

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mailroom_core::directory::model::{
    AcceptedDomain, Account, AdminRole, ApiToken, AutoReplyConfig, AutoReplyState, ExternalAudience,
    MailboxSettings, PasswordHash, Quota, QuotaSettings, Recipient, RecipientKind, Retention,
};
use mailroom_core::directory::{DkimAlgorithm, DkimKey, NewDkimKey};
use mailroom_core::permissions::{PermissionEntry, Right};
use mailroom_core::store::{
    DirectoryStore, MailboxWrite, NewRecipient, RecipientIdentity, SessionLimits, StoreError, StoreResult,
    StoredWebSession,
};
use mailroom_types::{DomainName, EmailAddress, MailboxId, PrincipalId};
use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};

use super::{CachedSql, SqliteStore, backend, now_unix};

fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

fn alias_key(alias: &str) -> String {
    alias.trim().to_lowercase()
}

use crate::stored::corrupt;

const RECIPIENT_COLUMNS: &str = "id, kind, name, display_name, alias";

/// Reads the recipients selected by `filter` (a WHERE clause over
/// `recipients`) with their addresses, ordered by name.
fn select_recipients<P: rusqlite::Params>(
    conn: &Connection,
    filter: &str,
    params: P,
) -> StoreResult<Vec<Recipient>> {
    select_recipients_page(conn, filter, params, "")
}

/// [`select_recipients`] with `page` after the ORDER BY (a LIMIT clause).
fn select_recipients_page<P: rusqlite::Params>(
    conn: &Connection,
    filter: &str,
    params: P,
    page: &str,
) -> StoreResult<Vec<Recipient>> {
    let sql = format!("SELECT {RECIPIENT_COLUMNS} FROM recipients WHERE {filter} ORDER BY name_key{page}");
    let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
    let rows: Vec<(i64, String, String, String, String)> = stmt
        .query_map(params, |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
        .map_err(backend)?
        .collect::<Result<_, _>>()
        .map_err(backend)?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let mut addresses = load_addresses(conn, &ids)?;
    rows.into_iter()
        .map(|(id, kind, name, display_name, alias)| {
            let kind = RecipientKind::from_storage_name(&kind)
                .ok_or_else(|| corrupt(format!("recipient kind {kind}")))?;
            let mut list = addresses.remove(&id).unwrap_or_default().into_iter();
            let (primary, first_is_primary) =
                list.next().ok_or_else(|| corrupt(format!("recipient {id} has no address")))?;
            if !first_is_primary {
                return Err(corrupt(format!("recipient {id} has no primary address")));
            }
            Ok(Recipient {
                id: PrincipalId(id),
                kind,
                name,
                display_name,
                alias,
                primary_address: primary,
                secondary_addresses: list.map(|(a, _)| a).collect(),
            })
        })
        .collect()
}

/// Addresses per recipient, primary first.
fn load_addresses(conn: &Connection, ids: &[i64]) -> StoreResult<BTreeMap<i64, Vec<(EmailAddress, bool)>>> {
    let mut out: BTreeMap<i64, Vec<(EmailAddress, bool)>> = BTreeMap::new();
    // Chunked to stay below SQLite's bound-parameter limit.
    for chunk in ids.chunks(500) {
        let placeholders = vec!["?"; chunk.len()].join(",");
        let sql = format!(
            "SELECT recipient_id, address, is_primary FROM addresses WHERE recipient_id IN ({placeholders})
             ORDER BY recipient_id, is_primary DESC, position"
        );
        let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
        let rows = stmt
            .query_map(params_from_iter(chunk), |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, bool>(2)?))
            })
            .map_err(backend)?;
        for row in rows {
            let (id, text, primary) = row.map_err(backend)?;
            let address = EmailAddress::parse(&text).map_err(corrupt)?;
            out.entry(id).or_default().push((address, primary));
        }
    }
    Ok(out)
}

fn recipient_by_id(conn: &Connection, id: PrincipalId) -> StoreResult<Option<Recipient>> {
    Ok(select_recipients(conn, "id = ?1", [id.0])?.pop())
}

fn require_recipient(conn: &Connection, id: PrincipalId) -> StoreResult<Recipient> {
    recipient_by_id(conn, id)?.ok_or_else(|| StoreError::NotFound(format!("recipient {id}")))
}

/// The integrity checks of creation and editing: name, alias and every
/// address unused by any recipient other than `except`.
fn check_unique(
    conn: &Connection,
    name: &str,
    alias: &str,
    primary: &EmailAddress,
    secondary: &[EmailAddress],
    except: Option<PrincipalId>,
) -> StoreResult<()> {
    let except = except.map_or(-1, |id| id.0);
    let name_holder: Option<String> = conn
        .row(
            "SELECT name FROM recipients WHERE name_key = ?1 AND id <> ?2",
            params![name_key(name), except],
            |r| r.get(0),
        )
        .optional()
        .map_err(backend)?;
    if name_holder.is_some() {
        return Err(StoreError::NameTaken { name: name.to_string() });
    }
    let alias_holder: Option<String> = conn
        .row(
            "SELECT name FROM recipients WHERE alias_key = ?1 AND id <> ?2",
            params![alias_key(alias), except],
            |r| r.get(0),
        )
        .optional()
        .map_err(backend)?;
    if let Some(holder) = alias_holder {
        return Err(StoreError::AliasTaken { alias: alias.to_string(), holder });
    }
    let mut seen = BTreeSet::new();
    for (address, is_primary) in std::iter::once((primary, true)).chain(secondary.iter().map(|a| (a, false)))
    {
        if !seen.insert(address.key().to_string()) {
            continue;
        }
        let holder: Option<String> = conn
            .row(
                "SELECT r.name FROM addresses a JOIN recipients r ON r.id = a.recipient_id
                 WHERE a.address_key = ?1 AND a.recipient_id <> ?2",
                params![address.key(), except],
                |r| r.get(0),
            )
            .optional()
            .map_err(backend)?;
        if let Some(holder) = holder {
            return Err(StoreError::AddressTaken { address: address.clone(), holder, primary: is_primary });
        }
    }
    Ok(())
}

fn insert_addresses(
    conn: &Connection,
    id: i64,
    primary: &EmailAddress,
    secondary: &[EmailAddress],
) -> StoreResult<()> {
    let mut stmt = conn
        .prepare_cached(
            "INSERT INTO addresses (address_key, address, recipient_id, is_primary, position) VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .map_err(backend)?;
    let mut seen = BTreeSet::new();
    for (position, (address, is_primary)) in
        std::iter::once((primary, true)).chain(secondary.iter().map(|a| (a, false))).enumerate()
    {
        if seen.insert(address.key().to_string()) {
            stmt.execute(params![address.key(), address.to_string(), id, is_primary, position as i64])
                .map_err(backend)?;
        }
    }
    Ok(())
}

fn quota_to_sql(q: Quota) -> Option<i64> {
    match q {
        Quota::Unlimited => None,
        Quota::Bytes(b) => Some(i64::try_from(b).unwrap_or(i64::MAX)),
    }
}

fn quota_from_sql(v: Option<i64>) -> Quota {
    v.map_or(Quota::Unlimited, |b| Quota::Bytes(b.max(0) as u64))
}

fn time_to_sql(t: Option<DateTime<Utc>>) -> Option<i64> {
    t.map(|t| t.timestamp())
}

fn time_from_sql(v: Option<i64>) -> Option<DateTime<Utc>> {
    v.and_then(|s| DateTime::from_timestamp(s, 0))
}

fn settings_from_row(r: &Row<'_>) -> rusqlite::Result<(MailboxSettings, Option<String>)> {
    Ok((
        MailboxSettings {
            forwarding_recipient: r.get::<_, Option<i64>>(0)?.map(PrincipalId),
            forwarding_smtp_address: None,
            deliver_to_mailbox_and_forward: r.get(2)?,
            message_copy_for_sent_as: r.get(3)?,
            message_copy_for_send_on_behalf: r.get(4)?,
            quota: QuotaSettings {
                issue_warning: quota_from_sql(r.get(5)?),
                prohibit_send: quota_from_sql(r.get(6)?),
                prohibit_send_receive: quota_from_sql(r.get(7)?),
            },
            automap_groups: r.get(8)?,
            retain_deleted_items_for: Retention::from_seconds(r.get::<_, i64>(9)?.max(0) as u64)
                .unwrap_or_default(),
            recoverable_items_quota: quota_from_sql(r.get(10)?),
            audit_enabled: r.get(11)?,
            audit_log_age_limit: Retention::from_seconds(r.get::<_, i64>(12)?.max(0) as u64)
                .unwrap_or(Retention::AUDIT_LOG_DEFAULT),
            per_member_seen: r.get(13)?,
        },
        r.get(1)?,
    ))
}

fn write_settings(conn: &Connection, id: i64, s: &MailboxSettings) -> StoreResult<()> {
    conn.exec(
        "INSERT INTO mailbox_settings (recipient_id, forwarding_recipient_id, forwarding_smtp_address,
            deliver_to_mailbox_and_forward, message_copy_for_sent_as, message_copy_for_send_on_behalf,
            issue_warning_quota, prohibit_send_quota, prohibit_send_receive_quota, automap_groups,
            retain_deleted_seconds, recoverable_items_quota, audit_enabled, audit_log_age_seconds,
            per_member_seen)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
         ON CONFLICT (recipient_id) DO UPDATE SET
            forwarding_recipient_id = excluded.forwarding_recipient_id,
            forwarding_smtp_address = excluded.forwarding_smtp_address,
            deliver_to_mailbox_and_forward = excluded.deliver_to_mailbox_and_forward,
            message_copy_for_sent_as = excluded.message_copy_for_sent_as,
            message_copy_for_send_on_behalf = excluded.message_copy_for_send_on_behalf,
            issue_warning_quota = excluded.issue_warning_quota,
            prohibit_send_quota = excluded.prohibit_send_quota,
            prohibit_send_receive_quota = excluded.prohibit_send_receive_quota,
            automap_groups = excluded.automap_groups,
            retain_deleted_seconds = excluded.retain_deleted_seconds,
            recoverable_items_quota = excluded.recoverable_items_quota,
            audit_enabled = excluded.audit_enabled,
            audit_log_age_seconds = excluded.audit_log_age_seconds,
            per_member_seen = excluded.per_member_seen",
        params![
            id,
            s.forwarding_recipient.map(|p| p.0),
            s.forwarding_smtp_address.as_ref().map(ToString::to_string),
            s.deliver_to_mailbox_and_forward,
            s.message_copy_for_sent_as,
            s.message_copy_for_send_on_behalf,
            quota_to_sql(s.quota.issue_warning),
            quota_to_sql(s.quota.prohibit_send),
            quota_to_sql(s.quota.prohibit_send_receive),
            s.automap_groups,
            s.retain_deleted_items_for.seconds() as i64,
            quota_to_sql(s.recoverable_items_quota),
            s.audit_enabled,
            s.audit_log_age_limit.seconds() as i64,
            s.per_member_seen,
        ],
    )
    .map_err(backend)?;
    if !s.per_member_seen {
        // Back to one read state (or never left it): what any member had
        // read is read, and the members' own states go.
        // Each folder whose messages turn read takes a new MODSEQ, and they
        // take it: sessions and cached views see the change (RFC 7162).
        conn.exec(
            "UPDATE folders SET highest_modseq = highest_modseq + 1 WHERE id IN (
                 SELECT ms.folder_id FROM member_seen ms
                 JOIN messages m ON m.folder_id = ms.folder_id AND m.uid = ms.uid
                 JOIN folders f ON f.id = ms.folder_id
                 WHERE f.mailbox_id = ?1 AND (ms.seen AND m.flags & 1 = 0 OR NOT ms.seen AND m.flags & 1 != 0))",
            [id],
        )
        .map_err(backend)?;
        conn.exec(
            "UPDATE messages SET flags = flags | 1,
                 modseq = (SELECT highest_modseq FROM folders WHERE folders.id = messages.folder_id)
             WHERE flags & 1 = 0 AND (folder_id, uid) IN (
                 SELECT ms.folder_id, ms.uid FROM member_seen ms JOIN folders f ON f.id = ms.folder_id
                 WHERE f.mailbox_id = ?1 AND ms.seen)",
            [id],
        )
        .map_err(backend)?;
        // A member who had a read message unread for themselves sees it
        // read again: its flags stay, its MODSEQ moves (and the feed hears).
        conn.exec(
            "UPDATE messages SET modseq = (SELECT highest_modseq FROM folders WHERE folders.id = messages.folder_id)
             WHERE flags & 1 != 0 AND (folder_id, uid) IN (
                 SELECT ms.folder_id, ms.uid FROM member_seen ms JOIN folders f ON f.id = ms.folder_id
                 WHERE f.mailbox_id = ?1 AND NOT ms.seen)",
            [id],
        )
        .map_err(backend)?;
        conn.exec(
            "DELETE FROM member_seen WHERE folder_id IN (SELECT id FROM folders WHERE mailbox_id = ?1)",
            [id],
        )
        .map_err(backend)?;
    }
    Ok(())
}

fn permission_from_row(r: &Row<'_>) -> rusqlite::Result<(i64, i64, String, bool, bool)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

fn to_entry(
    (recipient, trustee, right, automapping, no_purge): (i64, i64, String, bool, bool),
) -> StoreResult<PermissionEntry> {
    let right = Right::from_storage_name(&right).ok_or_else(|| corrupt(format!("right {right}")))?;
    Ok(PermissionEntry {
        recipient: PrincipalId(recipient),
        trustee: PrincipalId(trustee),
        right,
        automapping,
        no_purge,
    })
}

fn ids(conn: &Connection, sql: &str, id: i64) -> StoreResult<Vec<PrincipalId>> {
    let mut stmt = conn.prepare_cached(sql).map_err(backend)?;
    let rows = stmt.query_map([id], |r| r.get::<_, i64>(0)).map_err(backend)?;
    rows.map(|r| r.map(PrincipalId).map_err(backend)).collect()
}

fn write_identity(conn: &Connection, id: PrincipalId, identity: &RecipientIdentity) -> StoreResult<()> {
    check_unique(
        conn,
        &identity.name,
        &identity.alias,
        &identity.primary_address,
        &identity.secondary_addresses,
        Some(id),
    )?;
    conn.exec(
        "UPDATE recipients SET name = ?2, name_key = ?3, display_name = ?4, alias = ?5, alias_key = ?6 WHERE id = ?1",
        params![
            id.0,
            identity.name,
            name_key(&identity.name),
            identity.display_name,
            identity.alias,
            alias_key(&identity.alias)
        ],
    )
    .map_err(backend)?;
    conn.exec("DELETE FROM addresses WHERE recipient_id = ?1", [id.0]).map_err(backend)?;
    insert_addresses(conn, id.0, &identity.primary_address, &identity.secondary_addresses)
}

/// Changes the kind and the account's password; a mailbox becoming shared
/// loses its admin roles (see `DirectoryStore::convert_mailbox`).
fn write_conversion(
    conn: &Connection,
    id: MailboxId,
    kind: RecipientKind,
    password_hash: Option<&PasswordHash>,
) -> StoreResult<()> {
    conn.exec("UPDATE recipients SET kind = ?2 WHERE id = ?1", params![id.0, kind.storage_name()])
        .map_err(backend)?;
    conn.exec(
        "INSERT INTO accounts (recipient_id, password_hash, sign_in_blocked) VALUES (?1, ?2, 1)
         ON CONFLICT (recipient_id) DO UPDATE SET password_hash = excluded.password_hash",
        params![id.0, password_hash.map(|h| h.0.as_str())],
    )
    .map_err(backend)?;
    if kind == RecipientKind::SharedMailbox {
        conn.exec("DELETE FROM admin_roles WHERE recipient_id = ?1", [id.0]).map_err(backend)?;
    }
    Ok(())
}

fn set_blocked(conn: &Connection, id: PrincipalId, blocked: bool) -> StoreResult<()> {
    let n = conn
        .exec("UPDATE accounts SET sign_in_blocked = ?2 WHERE recipient_id = ?1", params![id.0, blocked])
        .map_err(backend)?;
    if n == 0 { Err(StoreError::NotFound(format!("account {id}"))) } else { Ok(()) }
}

/// Replaces the grants of `right` on `recipient` with `entries`; returns the
/// trustees added and removed.
fn replace_grants(
    conn: &Connection,
    recipient: PrincipalId,
    right: Right,
    entries: &[PermissionEntry],
) -> StoreResult<(Vec<PrincipalId>, Vec<PrincipalId>)> {
    let mut stmt = conn
        .prepare_cached("SELECT trustee_id FROM permissions WHERE recipient_id = ?1 AND right_name = ?2")
        .map_err(backend)?;
    let current: Vec<PrincipalId> = stmt
        .query_map(params![recipient.0, right.storage_name()], |r| r.get::<_, i64>(0))
        .map_err(backend)?
        .map(|r| r.map(PrincipalId).map_err(backend))
        .collect::<StoreResult<_>>()?;
    let wanted: Vec<PrincipalId> = entries.iter().map(|e| e.trustee).collect();
    let removed: Vec<PrincipalId> = current.iter().filter(|t| !wanted.contains(t)).copied().collect();
    let added: Vec<PrincipalId> = wanted.iter().filter(|t| !current.contains(t)).copied().collect();
    for trustee in &removed {
        conn.exec(
            "DELETE FROM permissions WHERE recipient_id = ?1 AND trustee_id = ?2 AND right_name = ?3",
            params![recipient.0, trustee.0, right.storage_name()],
        )
        .map_err(backend)?;
    }
    let now = now_unix();
    for e in entries.iter().filter(|e| added.contains(&e.trustee)) {
        require_recipient(conn, e.trustee)?;
        conn.exec(
            "INSERT INTO permissions (recipient_id, trustee_id, right_name, automapping, no_purge, granted_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![recipient.0, e.trustee.0, right.storage_name(), e.automapping, e.no_purge, now],
        )
        .map_err(backend)?;
    }
    Ok((added, removed))
}

/// Everything inside a group, through nesting. UNION (not UNION ALL)
/// de-duplicates, which also ends cycles in stored data.
const MEMBERS_INSIDE: &str = "WITH RECURSIVE inside(id) AS (
        SELECT member_id FROM group_members WHERE group_id = ?1
        UNION
        SELECT gm.member_id FROM group_members gm JOIN inside ON gm.group_id = inside.id
     ) SELECT id FROM inside ORDER BY id";

#[async_trait]
impl DirectoryStore for SqliteStore {
    async fn accepted_domains(&self) -> StoreResult<Vec<AcceptedDomain>> {
        self.read(|conn| {
            let mut stmt = conn
                .prepare_cached("SELECT name, is_default FROM accepted_domains ORDER BY name")
                .map_err(backend)?;
            let rows = stmt
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, bool>(1)?)))
                .map_err(backend)?;
            rows.map(|row| {
                let (name, is_default) = row.map_err(backend)?;
                Ok(AcceptedDomain { name: DomainName::parse(&name).map_err(corrupt)?, is_default })
            })
            .collect()
        })
        .await
    }

    async fn dkim_keys(&self, domain: &DomainName) -> StoreResult<Vec<DkimKey>> {
        let domain = domain.clone();
        self.read(move |conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT selector, algorithm, private_key, public_key, created_at, signing FROM dkim_keys
                     WHERE domain = ?1 ORDER BY signing DESC, created_at DESC, selector",
                )
                .map_err(backend)?;
            let rows = stmt
                .query_map([domain.as_str()], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, Vec<u8>>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, i64>(4)?,
                        r.get::<_, bool>(5)?,
                    ))
                })
                .map_err(backend)?;
            rows.map(|row| {
                let (selector, algorithm, private_key, public_key, created, signing) =
                    row.map_err(backend)?;
                let algorithm = DkimAlgorithm::parse(&algorithm).ok_or_else(|| corrupt(algorithm))?;
                Ok(DkimKey {
                    domain: domain.clone(),
                    selector,
                    algorithm,
                    private_key: mailroom_types::Secret::new(private_key),
                    public_key,
                    created,
                    signing,
                })
            })
            .collect()
        })
        .await
    }

    async fn add_dkim_keys(
        &self,
        domain: &DomainName,
        keys: Vec<NewDkimKey>,
        only_if_none: bool,
    ) -> StoreResult<bool> {
        let domain = domain.clone();
        self.write(move |conn| {
            let signing: bool = conn
                .row("SELECT 1 FROM dkim_keys WHERE domain = ?1 AND signing = 1 LIMIT 1", [domain.as_str()], |_| {
                    Ok(true)
                })
                .optional()
                .map_err(backend)?
                .is_some();
            if only_if_none && signing {
                return Ok(false);
            }
            conn.exec("UPDATE dkim_keys SET signing = 0 WHERE domain = ?1", [domain.as_str()]).map_err(backend)?;
            for key in &keys {
                let added = conn.exec(
                    "INSERT INTO dkim_keys (domain, selector, algorithm, private_key, public_key, created_at, signing)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1) ON CONFLICT DO NOTHING",
                    params![
                        domain.as_str(),
                        key.selector,
                        key.algorithm.as_str(),
                        key.private_key.expose(),
                        key.public_key,
                        now_unix()
                    ],
                )
                .map_err(backend)?;
                if added == 0 {
                    return Err(StoreError::NameTaken { name: key.selector.clone() });
                }
            }
            Ok(true)
        })
        .await
    }

    async fn remove_dkim_key(&self, domain: &DomainName, selector: &str) -> StoreResult<bool> {
        let (domain, selector) = (domain.clone(), selector.to_string());
        self.write(move |conn| {
            conn.exec(
                "DELETE FROM dkim_keys WHERE domain = ?1 AND selector = ?2",
                params![domain.as_str(), selector],
            )
            .map(|n| n == 1)
            .map_err(backend)
        })
        .await
    }

    async fn add_accepted_domain(&self, domain: &DomainName, make_default: bool) -> StoreResult<()> {
        let domain = domain.clone();
        self.write(move |conn| {
            let count: i64 =
                conn.row("SELECT COUNT(*) FROM accepted_domains", [], |r| r.get(0)).map_err(backend)?;
            let exists: bool = conn
                .row("SELECT 1 FROM accepted_domains WHERE name = ?1", [domain.as_str()], |_| Ok(true))
                .optional()
                .map_err(backend)?
                .is_some();
            if exists {
                return Err(StoreError::DomainExists(domain));
            }
            let is_default = make_default || count == 0;
            if is_default {
                conn.exec("UPDATE accepted_domains SET is_default = 0", []).map_err(backend)?;
            }
            conn.exec(
                "INSERT INTO accepted_domains (name, is_default, created_at) VALUES (?1, ?2, ?3)",
                params![domain.as_str(), is_default, now_unix()],
            )
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn set_default_domain(&self, domain: &DomainName) -> StoreResult<()> {
        let domain = domain.clone();
        self.write(move |conn| {
            let updated = conn
                .exec("UPDATE accepted_domains SET is_default = (name = ?1)", [domain.as_str()])
                .map_err(backend)?;
            let found: Option<i64> = conn
                .row("SELECT 1 FROM accepted_domains WHERE name = ?1", [domain.as_str()], |r| r.get(0))
                .optional()
                .map_err(backend)?;
            if updated == 0 || found.is_none() {
                return Err(StoreError::NotFound(format!("accepted domain {domain}")));
            }
            Ok(())
        })
        .await
    }

    async fn create_recipient(&self, new: NewRecipient) -> StoreResult<Recipient> {
        self.write(move |conn| {
            check_unique(conn, &new.name, &new.alias, &new.primary_address, &new.secondary_addresses, None)?;
            conn.exec(
                "INSERT INTO recipients (kind, name, name_key, display_name, alias, alias_key, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    new.kind.storage_name(),
                    new.name,
                    name_key(&new.name),
                    new.display_name,
                    new.alias,
                    alias_key(&new.alias),
                    now_unix()
                ],
            )
            .map_err(backend)?;
            let id = conn.last_insert_rowid();
            insert_addresses(conn, id, &new.primary_address, &new.secondary_addresses)?;
            if let Some(account) = &new.account {
                conn.exec(
                    "INSERT INTO accounts (recipient_id, password_hash, sign_in_blocked) VALUES (?1, ?2, ?3)",
                    params![
                        id,
                        account.password_hash.as_ref().map(|h| h.0.as_str()),
                        account.sign_in_blocked
                    ],
                )
                .map_err(backend)?;
                for role in &account.roles {
                    conn.exec(
                        "INSERT INTO admin_roles (recipient_id, role) VALUES (?1, ?2)",
                        params![id, role.as_str()],
                    )
                    .map_err(backend)?;
                }
            }
            if let Some(settings) = &new.mailbox {
                write_settings(conn, id, settings)?;
                super::mail::create_default_folders(conn, id)?;
                super::calendar::create_default_calendar(conn, id)?;
            }
            for member in &new.members {
                require_recipient(conn, *member)?;
                conn.exec(
                    "INSERT INTO group_members (group_id, member_id) VALUES (?1, ?2)",
                    params![id, member.0],
                )
                .map_err(backend)?;
            }
            require_recipient(conn, PrincipalId(id))
        })
        .await
    }

    async fn update_identity(&self, id: PrincipalId, identity: RecipientIdentity) -> StoreResult<Recipient> {
        self.write(move |conn| {
            require_recipient(conn, id)?;
            write_identity(conn, id, &identity)?;
            require_recipient(conn, id)
        })
        .await
    }

    async fn convert_mailbox(
        &self,
        id: MailboxId,
        kind: RecipientKind,
        password_hash: Option<PasswordHash>,
        sign_in_blocked: bool,
    ) -> StoreResult<Recipient> {
        self.write(move |conn| {
            let current = require_recipient(conn, id.principal())?;
            if !current.kind.has_mailbox() || !kind.has_mailbox() {
                return Err(StoreError::NotFound(format!("mailbox {id}")));
            }
            write_conversion(conn, id, kind, password_hash.as_ref())?;
            set_blocked(conn, id.principal(), sign_in_blocked)?;
            require_recipient(conn, id.principal())
        })
        .await
    }

    async fn update_mailbox(&self, id: MailboxId, write: MailboxWrite) -> StoreResult<Recipient> {
        self.write(move |conn| {
            let current = require_recipient(conn, id.principal())?;
            if !current.kind.has_mailbox() {
                return Err(StoreError::NotFound(format!("mailbox {id}")));
            }
            if let Some((kind, hash)) = &write.kind {
                write_conversion(conn, id, *kind, hash.as_ref())?;
            }
            if let Some(blocked) = write.sign_in_blocked {
                set_blocked(conn, id.principal(), blocked)?;
            }
            if let Some(identity) = &write.identity {
                write_identity(conn, id.principal(), identity)?;
            }
            if let Some(settings) = &write.settings {
                write_settings(conn, id.0, settings)?;
            }
            if let Some(trustees) = &write.send_on_behalf {
                let entries: Vec<PermissionEntry> = trustees
                    .iter()
                    .map(|&trustee| PermissionEntry {
                        recipient: id.principal(),
                        trustee,
                        right: Right::SendOnBehalf,
                        automapping: false,
                        no_purge: false,
                    })
                    .collect();
                replace_grants(conn, id.principal(), Right::SendOnBehalf, &entries)?;
            }
            require_recipient(conn, id.principal())
        })
        .await
    }

    async fn delete_recipient(&self, id: PrincipalId) -> StoreResult<()> {
        self.write(move |conn| {
            super::mail::release_blobs_of_mailbox(conn, id.0)?;
            let deleted = conn.exec("DELETE FROM recipients WHERE id = ?1", [id.0]).map_err(backend)?;
            if deleted == 0 {
                return Err(StoreError::NotFound(format!("recipient {id}")));
            }
            Ok(())
        })
        .await
    }

    async fn recipient(&self, id: PrincipalId) -> StoreResult<Option<Recipient>> {
        self.read(move |conn| recipient_by_id(conn, id)).await
    }

    async fn recipient_by_address(&self, address: &EmailAddress) -> StoreResult<Option<Recipient>> {
        let key = address.key().to_string();
        self.read(move |conn| {
            Ok(select_recipients(
                conn,
                "id = (SELECT recipient_id FROM addresses WHERE address_key = ?1)",
                [key],
            )?
            .pop())
        })
        .await
    }

    async fn recipients_by_name_or_alias(&self, text: &str) -> StoreResult<Vec<Recipient>> {
        let (name, alias) = (name_key(text), alias_key(text));
        self.read(move |conn| select_recipients(conn, "name_key = ?1 OR alias_key = ?2", [name, alias])).await
    }

    async fn list_recipients(&self, kinds: &[RecipientKind]) -> StoreResult<Vec<Recipient>> {
        let kinds: Vec<&'static str> = kinds.iter().map(|k| k.storage_name()).collect();
        self.read(move |conn| {
            if kinds.is_empty() {
                return Ok(Vec::new());
            }
            let placeholders = vec!["?"; kinds.len()].join(",");
            select_recipients(conn, &format!("kind IN ({placeholders})"), params_from_iter(kinds))
        })
        .await
    }

    async fn search_recipients(
        &self,
        kinds: &[RecipientKind],
        text: &str,
        offset: usize,
        limit: usize,
    ) -> StoreResult<(usize, Vec<Recipient>)> {
        let kinds: Vec<String> = kinds.iter().map(|k| k.storage_name().to_string()).collect();
        let text = text.trim().to_lowercase();
        self.read(move |conn| {
            if kinds.is_empty() {
                return Ok((0, Vec::new()));
            }
            // instr, not LIKE: a `%` or `_` typed in a search box is text.
            // name_key and address_key are lower-cased when written, the
            // display name by mailroom_lower (Rust's folding, not ASCII's).
            let placeholders = vec!["?"; kinds.len()].join(",");
            let n = kinds.len();
            let filter = format!(
                "kind IN ({placeholders}) AND (?{t} = '' OR instr(name_key, ?{t}) > 0 OR instr(mailroom_lower(display_name), ?{t}) > 0
                 OR id IN (SELECT recipient_id FROM addresses WHERE instr(address_key, ?{t}) > 0))",
                t = n + 1
            );
            use rusqlite::types::Value;
            let mut params: Vec<Value> = kinds.iter().map(|k| Value::Text(k.clone())).collect();
            params.push(Value::Text(text.clone()));
            let total: i64 = conn
                .prepare_cached(&format!("SELECT COUNT(*) FROM recipients WHERE {filter}"))
                .map_err(backend)?
                .query_row(params_from_iter(&params), |r| r.get(0))
                .map_err(backend)?;
            // Bound, not written into the SQL: every page is one cached statement.
            let page = format!(" LIMIT ?{} OFFSET ?{}", n + 2, n + 3);
            params.push(Value::Integer(i64::try_from(limit).unwrap_or(i64::MAX)));
            params.push(Value::Integer(i64::try_from(offset).unwrap_or(i64::MAX)));
            let rows = select_recipients_page(conn, &filter, params_from_iter(&params), &page)?;
            Ok((total.max(0) as usize, rows))
        })
        .await
    }

    async fn account(&self, id: PrincipalId) -> StoreResult<Option<Account>> {
        self.read(move |conn| {
            let row: Option<(Option<String>, bool, Option<String>)> = conn
                .row(
                    "SELECT password_hash, sign_in_blocked, scram_sha256 FROM accounts WHERE recipient_id = ?1",
                    [id.0],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()
                .map_err(backend)?;
            let Some((hash, blocked, scram_verifier)) = row else { return Ok(None) };
            let mut stmt = conn
                .prepare_cached("SELECT role FROM admin_roles WHERE recipient_id = ?1")
                .map_err(backend)?;
            let roles = stmt
                .query_map([id.0], |r| r.get::<_, String>(0))
                .map_err(backend)?
                .map(|r| {
                    let role = r.map_err(backend)?;
                    AdminRole::parse(&role).ok_or_else(|| corrupt(format!("admin role {role}")))
                })
                .collect::<StoreResult<BTreeSet<_>>>()?;
            Ok(Some(Account {
                principal: id,
                password_hash: hash.map(PasswordHash),
                sign_in_blocked: blocked,
                roles,
                scram_verifier,
            }))
        })
        .await
    }

    async fn set_password_hash(&self, id: PrincipalId, hash: Option<PasswordHash>) -> StoreResult<()> {
        self.write(move |conn| {
            let n = conn
                .exec(
                    "UPDATE accounts SET password_hash = ?2 WHERE recipient_id = ?1",
                    params![id.0, hash.map(|h| h.0)],
                )
                .map_err(backend)?;
            if n == 0 { Err(StoreError::NotFound(format!("account {id}"))) } else { Ok(()) }
        })
        .await
    }

    async fn set_scram_verifier(
        &self,
        id: PrincipalId,
        for_hash: &PasswordHash,
        verifier: &str,
    ) -> StoreResult<bool> {
        let (hash, verifier) = (for_hash.0.clone(), verifier.to_string());
        self.write(move |conn| {
            let n = conn
                .exec(
                    "UPDATE accounts SET scram_sha256 = ?3 WHERE recipient_id = ?1 AND password_hash = ?2",
                    params![id.0, hash, verifier],
                )
                .map_err(backend)?;
            Ok(n == 1)
        })
        .await
    }

    async fn set_sign_in_blocked(&self, id: PrincipalId, blocked: bool) -> StoreResult<()> {
        self.write(move |conn| set_blocked(conn, id, blocked)).await
    }

    async fn set_roles(&self, id: PrincipalId, roles: &BTreeSet<AdminRole>) -> StoreResult<()> {
        let roles = roles.clone();
        self.write(move |conn| {
            let exists: Option<i64> = conn
                .row("SELECT 1 FROM accounts WHERE recipient_id = ?1", [id.0], |r| r.get(0))
                .optional()
                .map_err(backend)?;
            if exists.is_none() {
                return Err(StoreError::NotFound(format!("account {id}")));
            }
            conn.exec("DELETE FROM admin_roles WHERE recipient_id = ?1", [id.0]).map_err(backend)?;
            for role in &roles {
                conn.exec(
                    "INSERT INTO admin_roles (recipient_id, role) VALUES (?1, ?2)",
                    params![id.0, role.as_str()],
                )
                .map_err(backend)?;
            }
            Ok(())
        })
        .await
    }

    async fn mailbox_settings(&self, id: MailboxId) -> StoreResult<Option<MailboxSettings>> {
        self.read(move |conn| {
            let row = conn
                .row(
                    "SELECT forwarding_recipient_id, forwarding_smtp_address, deliver_to_mailbox_and_forward,
                        message_copy_for_sent_as, message_copy_for_send_on_behalf, issue_warning_quota,
                        prohibit_send_quota, prohibit_send_receive_quota, automap_groups,
                        retain_deleted_seconds, recoverable_items_quota, audit_enabled, audit_log_age_seconds,
                        per_member_seen
                     FROM mailbox_settings WHERE recipient_id = ?1",
                    [id.0],
                    settings_from_row,
                )
                .optional()
                .map_err(backend)?;
            let Some((mut settings, smtp)) = row else { return Ok(None) };
            settings.forwarding_smtp_address =
                smtp.map(|s| EmailAddress::parse(&s).map_err(corrupt)).transpose()?;
            Ok(Some(settings))
        })
        .await
    }

    async fn set_mailbox_settings(&self, id: MailboxId, settings: &MailboxSettings) -> StoreResult<()> {
        let settings = settings.clone();
        self.write(move |conn| {
            let current = require_recipient(conn, id.principal())?;
            if !current.kind.has_mailbox() {
                return Err(StoreError::NotFound(format!("mailbox {id}")));
            }
            write_settings(conn, id.0, &settings)
        })
        .await
    }

    async fn auto_reply(&self, id: MailboxId) -> StoreResult<AutoReplyConfig> {
        self.read(move |conn| {
            let row: Option<(String, Option<i64>, Option<i64>, String, String, String)> = conn
                .row(
                    "SELECT state, start_time, end_time, internal_message, external_message, external_audience
                     FROM auto_replies WHERE recipient_id = ?1",
                    [id.0],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
                )
                .optional()
                .map_err(backend)?;
            let Some((state, start, end, internal, external, audience)) = row else {
                return Ok(AutoReplyConfig::default());
            };
            Ok(AutoReplyConfig {
                state: AutoReplyState::parse(&state)
                    .ok_or_else(|| corrupt(format!("auto-reply state {state}")))?,
                start_time: time_from_sql(start),
                end_time: time_from_sql(end),
                internal_message: internal,
                external_message: external,
                external_audience: ExternalAudience::parse(&audience)
                    .ok_or_else(|| corrupt(format!("external audience {audience}")))?,
            })
        })
        .await
    }

    async fn set_auto_reply(&self, id: MailboxId, config: &AutoReplyConfig) -> StoreResult<()> {
        let c = config.clone();
        self.write(move |conn| {
            require_recipient(conn, id.principal())?;
            conn.exec(
                "INSERT INTO auto_replies (recipient_id, state, start_time, end_time, internal_message,
                    external_message, external_audience)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (recipient_id) DO UPDATE SET state = excluded.state, start_time = excluded.start_time,
                    end_time = excluded.end_time, internal_message = excluded.internal_message,
                    external_message = excluded.external_message, external_audience = excluded.external_audience",
                params![
                    id.0,
                    c.state.as_str(),
                    time_to_sql(c.start_time),
                    time_to_sql(c.end_time),
                    c.internal_message,
                    c.external_message,
                    c.external_audience.as_str()
                ],
            )
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn group_members(&self, group: PrincipalId) -> StoreResult<Vec<PrincipalId>> {
        self.read(move |conn| {
            ids(conn, "SELECT member_id FROM group_members WHERE group_id = ?1 ORDER BY member_id", group.0)
        })
        .await
    }

    async fn group_members_transitive(&self, group: PrincipalId) -> StoreResult<Vec<PrincipalId>> {
        self.read(move |conn| ids(conn, MEMBERS_INSIDE, group.0)).await
    }

    async fn groups_of(&self, member: PrincipalId) -> StoreResult<Vec<PrincipalId>> {
        self.read(move |conn| {
            ids(
                conn,
                "WITH RECURSIVE outside(id) AS (
                    SELECT group_id FROM group_members WHERE member_id = ?1
                    UNION
                    SELECT gm.group_id FROM group_members gm JOIN outside ON gm.member_id = outside.id
                 ) SELECT id FROM outside ORDER BY id",
                member.0,
            )
        })
        .await
    }

    async fn add_group_member(&self, group: PrincipalId, member: PrincipalId) -> StoreResult<bool> {
        self.write(move |conn| {
            require_recipient(conn, group)?;
            require_recipient(conn, member)?;
            // Checked inside the write transaction, so two concurrent
            // additions (A into B, B into A) can't both pass.
            if group == member || ids(conn, MEMBERS_INSIDE, member.0)?.contains(&group) {
                return Err(StoreError::WouldCycle);
            }
            let n = conn
                .exec(
                    "INSERT INTO group_members (group_id, member_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                    params![group.0, member.0],
                )
                .map_err(backend)?;
            Ok(n > 0)
        })
        .await
    }

    async fn remove_group_member(&self, group: PrincipalId, member: PrincipalId) -> StoreResult<bool> {
        self.write(move |conn| {
            let n = conn
                .exec(
                    "DELETE FROM group_members WHERE group_id = ?1 AND member_id = ?2",
                    params![group.0, member.0],
                )
                .map_err(backend)?;
            Ok(n > 0)
        })
        .await
    }

    async fn permissions_on(&self, recipient: PrincipalId) -> StoreResult<Vec<PermissionEntry>> {
        self.read(move |conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT recipient_id, trustee_id, right_name, automapping, no_purge FROM permissions
                     WHERE recipient_id = ?1 ORDER BY granted_at, trustee_id, right_name",
                )
                .map_err(backend)?;
            let rows = stmt.query_map([recipient.0], permission_from_row).map_err(backend)?;
            rows.map(|r| to_entry(r.map_err(backend)?)).collect()
        })
        .await
    }

    async fn permissions_held_by(&self, trustees: &[PrincipalId]) -> StoreResult<Vec<PermissionEntry>> {
        let trustees: Vec<i64> = trustees.iter().map(|t| t.0).collect();
        self.read(move |conn| {
            let mut out = Vec::new();
            for chunk in trustees.chunks(500) {
                let placeholders = vec!["?"; chunk.len()].join(",");
                let sql = format!(
                    "SELECT recipient_id, trustee_id, right_name, automapping, no_purge FROM permissions
                     WHERE trustee_id IN ({placeholders}) ORDER BY recipient_id, trustee_id, right_name"
                );
                let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
                let rows = stmt.query_map(params_from_iter(chunk), permission_from_row).map_err(backend)?;
                for row in rows {
                    out.push(to_entry(row.map_err(backend)?)?);
                }
            }
            Ok(out)
        })
        .await
    }

    async fn grant(&self, entries: &[PermissionEntry]) -> StoreResult<Vec<bool>> {
        let entries = entries.to_vec();
        self.write(move |conn| {
            let now = now_unix();
            let mut changed = Vec::with_capacity(entries.len());
            for e in &entries {
                require_recipient(conn, e.recipient)?;
                require_recipient(conn, e.trustee)?;
                let current: Option<(bool, bool)> = conn
                    .row(
                        "SELECT automapping, no_purge FROM permissions
                         WHERE recipient_id = ?1 AND trustee_id = ?2 AND right_name = ?3",
                        params![e.recipient.0, e.trustee.0, e.right.storage_name()],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()
                    .map_err(backend)?;
                let did = match current {
                    None => {
                        conn.exec(
                            "INSERT INTO permissions (recipient_id, trustee_id, right_name, automapping, no_purge, granted_at)
                             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                            params![e.recipient.0, e.trustee.0, e.right.storage_name(), e.automapping, e.no_purge, now],
                        )
                        .map_err(backend)?;
                        true
                    }
                    Some(current) if current != (e.automapping, e.no_purge) => {
                        conn.exec(
                            "UPDATE permissions SET automapping = ?4, no_purge = ?5
                             WHERE recipient_id = ?1 AND trustee_id = ?2 AND right_name = ?3",
                            params![e.recipient.0, e.trustee.0, e.right.storage_name(), e.automapping, e.no_purge],
                        )
                        .map_err(backend)?;
                        true
                    }
                    Some(_) => false,
                };
                changed.push(did);
            }
            Ok(changed)
        })
        .await
    }

    async fn set_grants(
        &self,
        recipient: PrincipalId,
        right: Right,
        entries: &[PermissionEntry],
    ) -> StoreResult<(Vec<PrincipalId>, Vec<PrincipalId>)> {
        let entries = entries.to_vec();
        self.write(move |conn| {
            require_recipient(conn, recipient)?;
            replace_grants(conn, recipient, right, &entries)
        })
        .await
    }

    async fn revoke(&self, entries: &[(PrincipalId, PrincipalId, Right)]) -> StoreResult<Vec<bool>> {
        let entries = entries.to_vec();
        self.write(move |conn| {
            let mut removed = Vec::with_capacity(entries.len());
            for (recipient, trustee, right) in &entries {
                let n = conn
                    .exec(
                        "DELETE FROM permissions WHERE recipient_id = ?1 AND trustee_id = ?2 AND right_name = ?3",
                        params![recipient.0, trustee.0, right.storage_name()],
                    )
                    .map_err(backend)?;
                removed.push(n > 0);
            }
            Ok(removed)
        })
        .await
    }

    async fn create_api_token(
        &self,
        name: &str,
        secret_hash: &str,
        created: DateTime<Utc>,
    ) -> StoreResult<()> {
        let (name, hash) = (name.to_string(), secret_hash.to_string());
        self.write(move |conn| {
            let taken = conn
                .row("SELECT 1 FROM api_tokens WHERE name = ?1", [&name], |_| Ok(true))
                .optional()
                .map_err(backend)?
                .is_some();
            if taken {
                return Err(StoreError::NameTaken { name });
            }
            conn.exec(
                "INSERT INTO api_tokens (name, secret_hash, created_at) VALUES (?1, ?2, ?3)",
                params![name, hash, created.timestamp()],
            )
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn api_tokens(&self) -> StoreResult<Vec<ApiToken>> {
        self.read(|conn| {
            let mut stmt = conn
                .prepare_cached("SELECT name, created_at, last_used_at FROM api_tokens ORDER BY name")
                .map_err(backend)?;
            let rows = stmt.query_map([], api_token_row).map_err(backend)?;
            rows.map(|r| r.map_err(backend)).collect()
        })
        .await
    }

    async fn api_token_by_hash(&self, secret_hash: &str) -> StoreResult<Option<ApiToken>> {
        let hash = secret_hash.to_string();
        self.read(move |conn| {
            conn.prepare_cached(
                "SELECT name, created_at, last_used_at FROM api_tokens WHERE secret_hash = ?1",
            )
            .map_err(backend)?
            .query_row([&hash], api_token_row)
            .optional()
            .map_err(backend)
        })
        .await
    }

    async fn touch_api_token(&self, name: &str, at: DateTime<Utc>) -> StoreResult<()> {
        let name = name.to_string();
        self.write(move |conn| {
            conn.exec(
                "UPDATE api_tokens SET last_used_at = ?2 WHERE name = ?1",
                params![name, at.timestamp()],
            )
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn server_secret(&self, name: &str, offered: Vec<u8>) -> StoreResult<Vec<u8>> {
        let name = name.to_string();
        self.write(move |conn| {
            // The first offer stays: a conflict is another node's (or an
            // earlier start's) key, which this one must use too.
            conn.exec(
                "INSERT INTO server_secrets (name, value, created_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (name) DO NOTHING",
                params![name, offered, now_unix()],
            )
            .map_err(backend)?;
            conn.row("SELECT value FROM server_secrets WHERE name = ?1", [&name], |r| r.get(0))
                .map_err(backend)
        })
        .await
    }

    async fn delete_api_token(&self, name: &str) -> StoreResult<bool> {
        let name = name.to_string();
        self.write(move |conn| {
            let n = conn.exec("DELETE FROM api_tokens WHERE name = ?1", [&name]).map_err(backend)?;
            Ok(n > 0)
        })
        .await
    }
    async fn start_web_session(
        &self,
        session: &StoredWebSession,
        limits: &SessionLimits,
    ) -> StoreResult<bool> {
        super::web_sessions::start(self, session, limits).await
    }

    async fn web_session(&self, id_hash: &str) -> StoreResult<Option<StoredWebSession>> {
        super::web_sessions::find(self, id_hash).await
    }

    async fn touch_web_session(&self, id_hash: &str, at: i64) -> StoreResult<()> {
        super::web_sessions::touch(self, id_hash, at).await
    }

    async fn end_web_session(&self, id_hash: &str) -> StoreResult<()> {
        super::web_sessions::end(self, id_hash).await
    }

    async fn end_web_sessions_of(&self, principal: PrincipalId) -> StoreResult<()> {
        super::web_sessions::end_all_of(self, principal).await
    }

    async fn count_web_sessions(&self, limits: &SessionLimits) -> StoreResult<usize> {
        super::web_sessions::count(self, limits).await
    }
}

fn api_token_row(r: &Row<'_>) -> rusqlite::Result<ApiToken> {
    Ok(ApiToken {
        name: r.get(0)?,
        created: DateTime::from_timestamp(r.get(1)?, 0).unwrap_or_default(),
        last_used: r.get::<_, Option<i64>>(2)?.and_then(|s| DateTime::from_timestamp(s, 0)),
    })
}
