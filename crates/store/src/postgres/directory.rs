//! [`DirectoryStore`] on PostgreSQL.
//!
//! The same semantics as the SQLite directory. Every write runs in one
//! transaction that first takes the store's write lock ([`begin_write`]), so
//! a uniqueness check and the insert it guards can't race with another
//! node's: the checks are plain SELECTs before the writes (a failed
//! statement would abort the transaction), and the unique constraints of the
//! schema remain the last word.
//!
//! Case-folded keys (`name_key`, `alias_key`, `address_key`) are computed in
//! Rust, as by the SQLite store, and lists ordered by them compare bytes
//! (`COLLATE "C"`), as SQLite does, whatever the database's collation.

use std::collections::BTreeSet;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
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
use tokio_postgres::Row;

use super::mail::corrupt;
use super::{Params, PgStore, backend, begin_read, begin_write, exec, now_unix, row, row_opt, rows};

fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

fn alias_key(alias: &str) -> String {
    alias.trim().to_lowercase()
}

/// A recipient with its addresses (primary first) and whether it has a
/// primary one, in one statement; [`recipient_from_row`] reads it.
const RECIPIENT_SELECT: &str = "SELECT r.id, r.kind, r.name, r.display_name, r.alias,
        ARRAY(SELECT a.address FROM addresses a WHERE a.recipient_id = r.id
              ORDER BY a.is_primary DESC, a.position),
        EXISTS(SELECT 1 FROM addresses a WHERE a.recipient_id = r.id AND a.is_primary)
     FROM recipients r";

fn recipient_from_row(r: &Row) -> StoreResult<Recipient> {
    let id: i64 = r.get(0);
    let kind: String = r.get(1);
    let kind =
        RecipientKind::from_storage_name(&kind).ok_or_else(|| corrupt(format!("recipient kind {kind}")))?;
    let addresses: Vec<String> = r.get(5);
    let has_primary: bool = r.get(6);
    let mut list = addresses.iter().map(|a| EmailAddress::parse(a).map_err(corrupt));
    let primary = list.next().ok_or_else(|| corrupt(format!("recipient {id} has no address")))??;
    if !has_primary {
        return Err(corrupt(format!("recipient {id} has no primary address")));
    }
    Ok(Recipient {
        id: PrincipalId(id),
        kind,
        name: r.get(2),
        display_name: r.get(3),
        alias: r.get(4),
        primary_address: primary,
        secondary_addresses: list.collect::<StoreResult<_>>()?,
    })
}

/// The recipients selected by `filter` (a WHERE clause over `recipients`)
/// with their addresses, ordered by name; `page` follows the ORDER BY.
async fn select_recipients<C: GenericClient>(
    c: &C,
    filter: &str,
    params: Params<'_>,
    page: &str,
) -> StoreResult<Vec<Recipient>> {
    let sql = format!("{RECIPIENT_SELECT} WHERE {filter} ORDER BY r.name_key COLLATE \"C\"{page}");
    rows(c, &sql, params).await?.iter().map(recipient_from_row).collect()
}

async fn recipient_by_id<C: GenericClient>(c: &C, id: PrincipalId) -> StoreResult<Option<Recipient>> {
    Ok(select_recipients(c, "id = $1", &[&id.0], "").await?.pop())
}

async fn require_recipient<C: GenericClient>(c: &C, id: PrincipalId) -> StoreResult<Recipient> {
    recipient_by_id(c, id).await?.ok_or_else(|| StoreError::NotFound(format!("recipient {id}")))
}

/// The integrity checks of creation and editing: name, alias and every
/// address unused by any recipient other than `except`.
async fn check_unique<C: GenericClient>(
    c: &C,
    name: &str,
    alias: &str,
    primary: &EmailAddress,
    secondary: &[EmailAddress],
    except: Option<PrincipalId>,
) -> StoreResult<()> {
    let except = except.map_or(-1, |id| id.0);
    let name_holder = row_opt(
        c,
        "SELECT name FROM recipients WHERE name_key = $1 AND id <> $2",
        &[&name_key(name), &except],
    )
    .await?;
    if name_holder.is_some() {
        return Err(StoreError::NameTaken { name: name.to_string() });
    }
    let alias_holder = row_opt(
        c,
        "SELECT name FROM recipients WHERE alias_key = $1 AND id <> $2",
        &[&alias_key(alias), &except],
    )
    .await?;
    if let Some(holder) = alias_holder {
        return Err(StoreError::AliasTaken { alias: alias.to_string(), holder: holder.get(0) });
    }
    let mut seen = BTreeSet::new();
    for (address, is_primary) in std::iter::once((primary, true)).chain(secondary.iter().map(|a| (a, false)))
    {
        if !seen.insert(address.key().to_string()) {
            continue;
        }
        let holder = row_opt(
            c,
            "SELECT r.name FROM addresses a JOIN recipients r ON r.id = a.recipient_id
             WHERE a.address_key = $1 AND a.recipient_id <> $2",
            &[&address.key(), &except],
        )
        .await?;
        if let Some(holder) = holder {
            return Err(StoreError::AddressTaken {
                address: address.clone(),
                holder: holder.get(0),
                primary: is_primary,
            });
        }
    }
    Ok(())
}

async fn insert_addresses<C: GenericClient>(
    c: &C,
    id: i64,
    primary: &EmailAddress,
    secondary: &[EmailAddress],
) -> StoreResult<()> {
    let mut seen = BTreeSet::new();
    for (position, (address, is_primary)) in
        std::iter::once((primary, true)).chain(secondary.iter().map(|a| (a, false))).enumerate()
    {
        if seen.insert(address.key().to_string()) {
            exec(
                c,
                "INSERT INTO addresses (address_key, address, recipient_id, is_primary, position)
                 VALUES ($1, $2, $3, $4, $5)",
                &[&address.key(), &address.to_string(), &id, &is_primary, &(position as i64)],
            )
            .await?;
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

fn settings_from_row(r: &Row) -> StoreResult<MailboxSettings> {
    let smtp: Option<String> = r.get(1);
    Ok(MailboxSettings {
        forwarding_recipient: r.get::<_, Option<i64>>(0).map(PrincipalId),
        forwarding_smtp_address: smtp.map(|s| EmailAddress::parse(&s).map_err(corrupt)).transpose()?,
        deliver_to_mailbox_and_forward: r.get(2),
        message_copy_for_sent_as: r.get(3),
        message_copy_for_send_on_behalf: r.get(4),
        quota: QuotaSettings {
            issue_warning: quota_from_sql(r.get(5)),
            prohibit_send: quota_from_sql(r.get(6)),
            prohibit_send_receive: quota_from_sql(r.get(7)),
        },
        automap_groups: r.get(8),
        retain_deleted_items_for: Retention::from_seconds(r.get::<_, i64>(9).max(0) as u64)
            .unwrap_or_default(),
        recoverable_items_quota: quota_from_sql(r.get(10)),
        audit_enabled: r.get(11),
        audit_log_age_limit: Retention::from_seconds(r.get::<_, i64>(12).max(0) as u64)
            .unwrap_or(Retention::AUDIT_LOG_DEFAULT),
        per_member_seen: r.get(13),
    })
}

async fn write_settings<C: GenericClient>(c: &C, id: i64, s: &MailboxSettings) -> StoreResult<()> {
    exec(
        c,
        "INSERT INTO mailbox_settings (recipient_id, forwarding_recipient_id, forwarding_smtp_address,
            deliver_to_mailbox_and_forward, message_copy_for_sent_as, message_copy_for_send_on_behalf,
            issue_warning_quota, prohibit_send_quota, prohibit_send_receive_quota, automap_groups,
            retain_deleted_seconds, recoverable_items_quota, audit_enabled, audit_log_age_seconds,
            per_member_seen)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
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
        &[
            &id,
            &s.forwarding_recipient.map(|p| p.0),
            &s.forwarding_smtp_address.as_ref().map(ToString::to_string),
            &s.deliver_to_mailbox_and_forward,
            &s.message_copy_for_sent_as,
            &s.message_copy_for_send_on_behalf,
            &quota_to_sql(s.quota.issue_warning),
            &quota_to_sql(s.quota.prohibit_send),
            &quota_to_sql(s.quota.prohibit_send_receive),
            &s.automap_groups,
            &(s.retain_deleted_items_for.seconds() as i64),
            &quota_to_sql(s.recoverable_items_quota),
            &s.audit_enabled,
            &(s.audit_log_age_limit.seconds() as i64),
            &s.per_member_seen,
        ],
    )
    .await?;
    if !s.per_member_seen {
        // Back to one read state (or never left it): what any member had
        // read is read, and the members' own states go.
        // Each folder whose messages turn read takes a new MODSEQ, and they
        // take it: sessions and cached views see the change (RFC 7162).
        exec(
            c,
            "UPDATE folders SET highest_modseq = highest_modseq + 1 WHERE id IN (
                 SELECT ms.folder_id FROM member_seen ms
                 JOIN messages m ON m.folder_id = ms.folder_id AND m.uid = ms.uid
                 JOIN folders f ON f.id = ms.folder_id
                 WHERE f.mailbox_id = $1 AND (ms.seen AND m.flags & 1 = 0 OR NOT ms.seen AND m.flags & 1 != 0))",
            &[&id],
        )
        .await?;
        exec(
            c,
            "UPDATE messages SET flags = flags | 1,
                 modseq = (SELECT highest_modseq FROM folders WHERE folders.id = messages.folder_id)
             WHERE flags & 1 = 0 AND (folder_id, uid) IN (
                 SELECT ms.folder_id, ms.uid FROM member_seen ms JOIN folders f ON f.id = ms.folder_id
                 WHERE f.mailbox_id = $1 AND ms.seen)",
            &[&id],
        )
        .await?;
        // A member who had a read message unread for themselves sees it
        // read again: its flags stay, its MODSEQ moves (and the feed hears).
        exec(
            c,
            "UPDATE messages SET modseq = (SELECT highest_modseq FROM folders WHERE folders.id = messages.folder_id)
             WHERE flags & 1 != 0 AND (folder_id, uid) IN (
                 SELECT ms.folder_id, ms.uid FROM member_seen ms JOIN folders f ON f.id = ms.folder_id
                 WHERE f.mailbox_id = $1 AND NOT ms.seen)",
            &[&id],
        )
        .await?;
        exec(
            c,
            "DELETE FROM member_seen WHERE folder_id IN (SELECT id FROM folders WHERE mailbox_id = $1)",
            &[&id],
        )
        .await?;
    }
    Ok(())
}

const PERMISSION_COLUMNS: &str = "recipient_id, trustee_id, right_name, automapping, no_purge";

fn permission_from_row(r: &Row) -> StoreResult<PermissionEntry> {
    let right: String = r.get(2);
    let right = Right::from_storage_name(&right).ok_or_else(|| corrupt(format!("right {right}")))?;
    Ok(PermissionEntry {
        recipient: PrincipalId(r.get(0)),
        trustee: PrincipalId(r.get(1)),
        right,
        automapping: r.get(3),
        no_purge: r.get(4),
    })
}

/// The ids a statement of one id parameter returns.
async fn ids<C: GenericClient>(c: &C, sql: &str, id: i64) -> StoreResult<Vec<PrincipalId>> {
    Ok(rows(c, sql, &[&id]).await?.iter().map(|r| PrincipalId(r.get(0))).collect())
}

async fn write_identity<C: GenericClient>(
    c: &C,
    id: PrincipalId,
    identity: &RecipientIdentity,
) -> StoreResult<()> {
    check_unique(
        c,
        &identity.name,
        &identity.alias,
        &identity.primary_address,
        &identity.secondary_addresses,
        Some(id),
    )
    .await?;
    exec(
        c,
        "UPDATE recipients SET name = $2, name_key = $3, display_name = $4, alias = $5, alias_key = $6
         WHERE id = $1",
        &[
            &id.0,
            &identity.name,
            &name_key(&identity.name),
            &identity.display_name,
            &identity.alias,
            &alias_key(&identity.alias),
        ],
    )
    .await?;
    exec(c, "DELETE FROM addresses WHERE recipient_id = $1", &[&id.0]).await?;
    insert_addresses(c, id.0, &identity.primary_address, &identity.secondary_addresses).await
}

/// Changes the kind and the account's password; a mailbox becoming shared
/// loses its admin roles (see `DirectoryStore::convert_mailbox`).
async fn write_conversion<C: GenericClient>(
    c: &C,
    id: MailboxId,
    kind: RecipientKind,
    password_hash: Option<&PasswordHash>,
) -> StoreResult<()> {
    exec(c, "UPDATE recipients SET kind = $2 WHERE id = $1", &[&id.0, &kind.storage_name()]).await?;
    exec(
        c,
        "INSERT INTO accounts (recipient_id, password_hash, sign_in_blocked) VALUES ($1, $2, TRUE)
         ON CONFLICT (recipient_id) DO UPDATE SET password_hash = excluded.password_hash",
        &[&id.0, &password_hash.map(|h| h.0.as_str())],
    )
    .await?;
    if kind == RecipientKind::SharedMailbox {
        exec(c, "DELETE FROM admin_roles WHERE recipient_id = $1", &[&id.0]).await?;
    }
    Ok(())
}

async fn set_blocked<C: GenericClient>(c: &C, id: PrincipalId, blocked: bool) -> StoreResult<()> {
    let n = exec(c, "UPDATE accounts SET sign_in_blocked = $2 WHERE recipient_id = $1", &[&id.0, &blocked])
        .await?;
    if n == 0 { Err(StoreError::NotFound(format!("account {id}"))) } else { Ok(()) }
}

/// Replaces the grants of `right` on `recipient` with `entries`; returns the
/// trustees added and removed.
async fn replace_grants<C: GenericClient>(
    c: &C,
    recipient: PrincipalId,
    right: Right,
    entries: &[PermissionEntry],
) -> StoreResult<(Vec<PrincipalId>, Vec<PrincipalId>)> {
    let current: Vec<PrincipalId> = rows(
        c,
        "SELECT trustee_id FROM permissions WHERE recipient_id = $1 AND right_name = $2 ORDER BY trustee_id",
        &[&recipient.0, &right.storage_name()],
    )
    .await?
    .iter()
    .map(|r| PrincipalId(r.get(0)))
    .collect();
    let wanted: Vec<PrincipalId> = entries.iter().map(|e| e.trustee).collect();
    let removed: Vec<PrincipalId> = current.iter().filter(|t| !wanted.contains(t)).copied().collect();
    let added: Vec<PrincipalId> = wanted.iter().filter(|t| !current.contains(t)).copied().collect();
    for trustee in &removed {
        exec(
            c,
            "DELETE FROM permissions WHERE recipient_id = $1 AND trustee_id = $2 AND right_name = $3",
            &[&recipient.0, &trustee.0, &right.storage_name()],
        )
        .await?;
    }
    let now = now_unix();
    for e in entries.iter().filter(|e| added.contains(&e.trustee)) {
        require_recipient(c, e.trustee).await?;
        exec(
            c,
            "INSERT INTO permissions (recipient_id, trustee_id, right_name, automapping, no_purge, granted_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[&recipient.0, &e.trustee.0, &right.storage_name(), &e.automapping, &e.no_purge, &now],
        )
        .await?;
    }
    Ok((added, removed))
}

/// Grants one entry; whether that changed anything (a new grant, or its
/// automapping changed).
async fn grant_one<C: GenericClient>(c: &C, e: &PermissionEntry, now: i64) -> StoreResult<bool> {
    require_recipient(c, e.recipient).await?;
    require_recipient(c, e.trustee).await?;
    let current = row_opt(
        c,
        "SELECT automapping, no_purge FROM permissions WHERE recipient_id = $1 AND trustee_id = $2 AND right_name = $3",
        &[&e.recipient.0, &e.trustee.0, &e.right.storage_name()],
    )
    .await?
    .map(|r| (r.get::<_, bool>(0), r.get::<_, bool>(1)));
    match current {
        None => {
            exec(
                c,
                "INSERT INTO permissions (recipient_id, trustee_id, right_name, automapping, no_purge, granted_at)
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[&e.recipient.0, &e.trustee.0, &e.right.storage_name(), &e.automapping, &e.no_purge, &now],
            )
            .await?;
            Ok(true)
        }
        Some(current) if current != (e.automapping, e.no_purge) => {
            exec(
                c,
                "UPDATE permissions SET automapping = $4, no_purge = $5
                 WHERE recipient_id = $1 AND trustee_id = $2 AND right_name = $3",
                &[&e.recipient.0, &e.trustee.0, &e.right.storage_name(), &e.automapping, &e.no_purge],
            )
            .await?;
            Ok(true)
        }
        Some(_) => Ok(false),
    }
}

/// Writes a new recipient's rows: the recipient, its addresses, account,
/// mailbox (settings, default folders and calendar) and members.
async fn insert_recipient<C: GenericClient>(c: &C, new: &NewRecipient) -> StoreResult<i64> {
    check_unique(c, &new.name, &new.alias, &new.primary_address, &new.secondary_addresses, None).await?;
    let id: i64 = row(
        c,
        "INSERT INTO recipients (kind, name, name_key, display_name, alias, alias_key, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        &[
            &new.kind.storage_name(),
            &new.name,
            &name_key(&new.name),
            &new.display_name,
            &new.alias,
            &alias_key(&new.alias),
            &now_unix(),
        ],
    )
    .await?
    .get(0);
    insert_addresses(c, id, &new.primary_address, &new.secondary_addresses).await?;
    if let Some(account) = &new.account {
        exec(
            c,
            "INSERT INTO accounts (recipient_id, password_hash, sign_in_blocked) VALUES ($1, $2, $3)",
            &[&id, &account.password_hash.as_ref().map(|h| h.0.as_str()), &account.sign_in_blocked],
        )
        .await?;
        for role in &account.roles {
            exec(c, "INSERT INTO admin_roles (recipient_id, role) VALUES ($1, $2)", &[&id, &role.as_str()])
                .await?;
        }
    }
    if let Some(settings) = &new.mailbox {
        write_settings(c, id, settings).await?;
        super::mail::create_default_folders(c, id).await?;
        super::calendar::create_default_calendar(c, id).await?;
    }
    for member in &new.members {
        require_recipient(c, *member).await?;
        exec(c, "INSERT INTO group_members (group_id, member_id) VALUES ($1, $2)", &[&id, &member.0]).await?;
    }
    Ok(id)
}

/// Applies every part of a [`MailboxWrite`]; the caller's transaction makes
/// it all or nothing.
async fn write_mailbox<C: GenericClient>(c: &C, id: MailboxId, write: &MailboxWrite) -> StoreResult<()> {
    let current = require_recipient(c, id.principal()).await?;
    if !current.kind.has_mailbox() {
        return Err(StoreError::NotFound(format!("mailbox {id}")));
    }
    if let Some((kind, hash)) = &write.kind {
        write_conversion(c, id, *kind, hash.as_ref()).await?;
    }
    if let Some(blocked) = write.sign_in_blocked {
        set_blocked(c, id.principal(), blocked).await?;
    }
    if let Some(identity) = &write.identity {
        write_identity(c, id.principal(), identity).await?;
    }
    if let Some(settings) = &write.settings {
        write_settings(c, id.0, settings).await?;
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
        replace_grants(c, id.principal(), Right::SendOnBehalf, &entries).await?;
    }
    Ok(())
}

/// Everything inside a group, through nesting. UNION (not UNION ALL)
/// de-duplicates, which also ends cycles in stored data.
const MEMBERS_INSIDE: &str = "WITH RECURSIVE inside(id) AS (
        SELECT member_id FROM group_members WHERE group_id = $1
        UNION
        SELECT gm.member_id FROM group_members gm JOIN inside ON gm.group_id = inside.id
     ) SELECT id FROM inside ORDER BY id";

/// `text` as a LIKE pattern matching it anywhere: a `%` or `_` typed in a
/// search box is text.
fn contains_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for ch in text.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(ch);
    }
    pattern.push('%');
    pattern
}

fn api_token_from_row(r: &Row) -> ApiToken {
    ApiToken {
        name: r.get(0),
        created: DateTime::from_timestamp(r.get(1), 0).unwrap_or_default(),
        last_used: r.get::<_, Option<i64>>(2).and_then(|s| DateTime::from_timestamp(s, 0)),
    }
}

#[async_trait]
impl DirectoryStore for PgStore {
    async fn accepted_domains(&self) -> StoreResult<Vec<AcceptedDomain>> {
        let client = self.client().await?;
        rows(&client, "SELECT name, is_default FROM accepted_domains ORDER BY name COLLATE \"C\"", &[])
            .await?
            .iter()
            .map(|r| {
                let name: String = r.get(0);
                Ok(AcceptedDomain { name: DomainName::parse(&name).map_err(corrupt)?, is_default: r.get(1) })
            })
            .collect()
    }

    async fn dkim_keys(&self, domain: &DomainName) -> StoreResult<Vec<DkimKey>> {
        let client = self.client().await?;
        rows(
            &client,
            "SELECT selector, algorithm, private_key, public_key, created_at, signing FROM dkim_keys
             WHERE domain = $1 ORDER BY signing DESC, created_at DESC, selector COLLATE \"C\"",
            &[&domain.as_str()],
        )
        .await?
        .iter()
        .map(|r| {
            let algorithm: String = r.get(1);
            let algorithm = DkimAlgorithm::parse(&algorithm).ok_or_else(|| corrupt(algorithm))?;
            Ok(DkimKey {
                domain: domain.clone(),
                selector: r.get(0),
                algorithm,
                private_key: mailroom_types::Secret::new(r.get(2)),
                public_key: r.get(3),
                created: r.get(4),
                signing: r.get(5),
            })
        })
        .collect()
    }

    async fn add_dkim_keys(
        &self,
        domain: &DomainName,
        keys: Vec<NewDkimKey>,
        only_if_none: bool,
    ) -> StoreResult<bool> {
        let mut client = self.client().await?;
        let tx = begin_write(&mut client).await?;
        let signing = row_opt(
            &tx,
            "SELECT 1 FROM dkim_keys WHERE domain = $1 AND signing LIMIT 1",
            &[&domain.as_str()],
        )
        .await?
        .is_some();
        if only_if_none && signing {
            return Ok(false);
        }
        exec(&tx, "UPDATE dkim_keys SET signing = FALSE WHERE domain = $1", &[&domain.as_str()]).await?;
        for key in &keys {
            let added = exec(
                &tx,
                "INSERT INTO dkim_keys (domain, selector, algorithm, private_key, public_key, created_at, signing)
                 VALUES ($1, $2, $3, $4, $5, $6, TRUE) ON CONFLICT DO NOTHING",
                &[
                    &domain.as_str(),
                    &key.selector,
                    &key.algorithm.as_str(),
                    key.private_key.expose(),
                    &key.public_key,
                    &now_unix(),
                ],
            )
            .await?;
            if added == 0 {
                // Dropping the transaction rolls back the keys added so far.
                return Err(StoreError::NameTaken { name: key.selector.clone() });
            }
        }
        self.committed(tx).await?;
        Ok(true)
    }

    async fn remove_dkim_key(&self, domain: &DomainName, selector: &str) -> StoreResult<bool> {
        let mut client = self.client().await?;
        let tx = begin_write(&mut client).await?;
        let n = exec(
            &tx,
            "DELETE FROM dkim_keys WHERE domain = $1 AND selector = $2",
            &[&domain.as_str(), &selector],
        )
        .await?;
        self.committed(tx).await?;
        Ok(n == 1)
    }

    async fn add_accepted_domain(&self, domain: &DomainName, make_default: bool) -> StoreResult<()> {
        let mut client = self.client().await?;
        let tx = begin_write(&mut client).await?;
        let count: i64 = row(&tx, "SELECT COUNT(*) FROM accepted_domains", &[]).await?.get(0);
        let exists = row_opt(&tx, "SELECT 1 FROM accepted_domains WHERE name = $1", &[&domain.as_str()])
            .await?
            .is_some();
        if exists {
            return Err(StoreError::DomainExists(domain.clone()));
        }
        let is_default = make_default || count == 0;
        if is_default {
            exec(&tx, "UPDATE accepted_domains SET is_default = FALSE WHERE is_default", &[]).await?;
        }
        exec(
            &tx,
            "INSERT INTO accepted_domains (name, is_default, created_at) VALUES ($1, $2, $3)",
            &[&domain.as_str(), &is_default, &now_unix()],
        )
        .await?;
        self.committed(tx).await
    }

    async fn set_default_domain(&self, domain: &DomainName) -> StoreResult<()> {
        let mut client = self.client().await?;
        let tx = begin_write(&mut client).await?;
        let found = row_opt(&tx, "SELECT 1 FROM accepted_domains WHERE name = $1", &[&domain.as_str()])
            .await?
            .is_some();
        if !found {
            return Err(StoreError::NotFound(format!("accepted domain {domain}")));
        }
        // Only the rows that change: each update is logged as a change.
        exec(
            &tx,
            "UPDATE accepted_domains SET is_default = (name = $1) WHERE is_default <> (name = $1)",
            &[&domain.as_str()],
        )
        .await?;
        self.committed(tx).await
    }

    async fn create_recipient(&self, new: NewRecipient) -> StoreResult<Recipient> {
        let mut client = self.client().await?;
        let tx = begin_write(&mut client).await?;
        let id = insert_recipient(&tx, &new).await?;
        let recipient = require_recipient(&tx, PrincipalId(id)).await?;
        self.committed(tx).await?;
        Ok(recipient)
    }

    async fn update_identity(&self, id: PrincipalId, identity: RecipientIdentity) -> StoreResult<Recipient> {
        let mut client = self.client().await?;
        let tx = begin_write(&mut client).await?;
        require_recipient(&tx, id).await?;
        write_identity(&tx, id, &identity).await?;
        let recipient = require_recipient(&tx, id).await?;
        self.committed(tx).await?;
        Ok(recipient)
    }

    async fn convert_mailbox(
        &self,
        id: MailboxId,
        kind: RecipientKind,
        password_hash: Option<PasswordHash>,
        sign_in_blocked: bool,
    ) -> StoreResult<Recipient> {
        let mut client = self.client().await?;
        let tx = begin_write(&mut client).await?;
        let current = require_recipient(&tx, id.principal()).await?;
        if !current.kind.has_mailbox() || !kind.has_mailbox() {
            return Err(StoreError::NotFound(format!("mailbox {id}")));
        }
        write_conversion(&tx, id, kind, password_hash.as_ref()).await?;
        set_blocked(&tx, id.principal(), sign_in_blocked).await?;
        let recipient = require_recipient(&tx, id.principal()).await?;
        self.committed(tx).await?;
        Ok(recipient)
    }

    async fn update_mailbox(&self, id: MailboxId, write: MailboxWrite) -> StoreResult<Recipient> {
        let mut client = self.client().await?;
        let tx = begin_write(&mut client).await?;
        write_mailbox(&tx, id, &write).await?;
        let recipient = require_recipient(&tx, id.principal()).await?;
        self.committed(tx).await?;
        Ok(recipient)
    }

    async fn delete_recipient(&self, id: PrincipalId) -> StoreResult<()> {
        let mut client = self.client().await?;
        let tx = begin_write(&mut client).await?;
        // Its messages' references on their bodies go before the rows do
        // (the cascade would drop the messages without counting down).
        super::mail::release_blobs_of_mailbox(&tx, id.0).await?;
        let deleted = exec(&tx, "DELETE FROM recipients WHERE id = $1", &[&id.0]).await?;
        if deleted == 0 {
            return Err(StoreError::NotFound(format!("recipient {id}")));
        }
        self.committed(tx).await
    }

    async fn recipient(&self, id: PrincipalId) -> StoreResult<Option<Recipient>> {
        let client = self.client().await?;
        recipient_by_id(&client, id).await
    }

    async fn recipient_by_address(&self, address: &EmailAddress) -> StoreResult<Option<Recipient>> {
        let client = self.client().await?;
        Ok(select_recipients(
            &client,
            "id = (SELECT recipient_id FROM addresses WHERE address_key = $1)",
            &[&address.key()],
            "",
        )
        .await?
        .pop())
    }

    async fn recipients_by_name_or_alias(&self, text: &str) -> StoreResult<Vec<Recipient>> {
        if text.contains('\0') {
            // PostgreSQL's text can't hold NUL, so nothing stored does:
            // such a lookup names nobody (rather than failing).
            return Ok(Vec::new());
        }
        let client = self.client().await?;
        select_recipients(
            &client,
            "name_key = $1 OR alias_key = $2",
            &[&name_key(text), &alias_key(text)],
            "",
        )
        .await
    }

    async fn list_recipients(&self, kinds: &[RecipientKind]) -> StoreResult<Vec<Recipient>> {
        if kinds.is_empty() {
            return Ok(Vec::new());
        }
        let kinds: Vec<&str> = kinds.iter().map(|k| k.storage_name()).collect();
        let client = self.client().await?;
        select_recipients(&client, "kind = ANY($1)", &[&kinds], "").await
    }

    async fn search_recipients(
        &self,
        kinds: &[RecipientKind],
        text: &str,
        offset: usize,
        limit: usize,
    ) -> StoreResult<(usize, Vec<Recipient>)> {
        if kinds.is_empty() || text.contains('\0') {
            // No text stored holds NUL (PostgreSQL's can't).
            return Ok((0, Vec::new()));
        }
        let kinds: Vec<&str> = kinds.iter().map(|k| k.storage_name()).collect();
        // name_key and address_key are lower-cased in Rust when written; the
        // display name is folded by the database's lower(). An empty text
        // makes the pattern `%%`, which matches everything.
        let pattern = contains_pattern(&text.trim().to_lowercase());
        let filter = r"kind = ANY($1) AND (name_key LIKE $2 ESCAPE '\' OR lower(display_name) LIKE $2 ESCAPE '\'
            OR id IN (SELECT recipient_id FROM addresses WHERE address_key LIKE $2 ESCAPE '\'))";
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let offset = i64::try_from(offset).unwrap_or(i64::MAX);
        let mut client = self.client().await?;
        let tx = begin_read(&mut client).await?;
        let total: i64 =
            row(&tx, &format!("SELECT COUNT(*) FROM recipients WHERE {filter}"), &[&kinds, &pattern])
                .await?
                .get(0);
        let page =
            select_recipients(&tx, filter, &[&kinds, &pattern, &limit, &offset], " LIMIT $3 OFFSET $4")
                .await?;
        tx.commit().await.map_err(backend)?;
        Ok((total.max(0) as usize, page))
    }

    async fn account(&self, id: PrincipalId) -> StoreResult<Option<Account>> {
        let client = self.client().await?;
        let Some(r) = row_opt(
            &client,
            "SELECT password_hash, sign_in_blocked, scram_sha256,
                    ARRAY(SELECT role FROM admin_roles WHERE recipient_id = $1)
             FROM accounts WHERE recipient_id = $1",
            &[&id.0],
        )
        .await?
        else {
            return Ok(None);
        };
        let roles = r
            .get::<_, Vec<String>>(3)
            .into_iter()
            .map(|role| AdminRole::parse(&role).ok_or_else(|| corrupt(format!("admin role {role}"))))
            .collect::<StoreResult<BTreeSet<_>>>()?;
        Ok(Some(Account {
            principal: id,
            password_hash: r.get::<_, Option<String>>(0).map(PasswordHash),
            sign_in_blocked: r.get(1),
            roles,
            scram_verifier: r.get(2),
        }))
    }

    async fn set_password_hash(&self, id: PrincipalId, hash: Option<PasswordHash>) -> StoreResult<()> {
        let mut client = self.client().await?;
        let tx = begin_write(&mut client).await?;
        // The schema's trigger drops the SCRAM verifier of the old hash.
        let n = exec(
            &tx,
            "UPDATE accounts SET password_hash = $2 WHERE recipient_id = $1",
            &[&id.0, &hash.map(|h| h.0)],
        )
        .await?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("account {id}")));
        }
        self.committed(tx).await
    }

    async fn set_scram_verifier(
        &self,
        id: PrincipalId,
        for_hash: &PasswordHash,
        verifier: &str,
    ) -> StoreResult<bool> {
        let mut client = self.client().await?;
        let tx = begin_write(&mut client).await?;
        // Only for the hash it was derived from: a password changed since
        // leaves the verifier unwritten.
        let n = exec(
            &tx,
            "UPDATE accounts SET scram_sha256 = $3 WHERE recipient_id = $1 AND password_hash = $2",
            &[&id.0, &for_hash.0, &verifier],
        )
        .await?;
        self.committed(tx).await?;
        Ok(n == 1)
    }

    async fn set_sign_in_blocked(&self, id: PrincipalId, blocked: bool) -> StoreResult<()> {
        let mut client = self.client().await?;
        let tx = begin_write(&mut client).await?;
        set_blocked(&tx, id, blocked).await?;
        self.committed(tx).await
    }

    async fn set_roles(&self, id: PrincipalId, roles: &BTreeSet<AdminRole>) -> StoreResult<()> {
        let mut client = self.client().await?;
        let tx = begin_write(&mut client).await?;
        if row_opt(&tx, "SELECT 1 FROM accounts WHERE recipient_id = $1", &[&id.0]).await?.is_none() {
            return Err(StoreError::NotFound(format!("account {id}")));
        }
        exec(&tx, "DELETE FROM admin_roles WHERE recipient_id = $1", &[&id.0]).await?;
        for role in roles {
            exec(
                &tx,
                "INSERT INTO admin_roles (recipient_id, role) VALUES ($1, $2)",
                &[&id.0, &role.as_str()],
            )
            .await?;
        }
        self.committed(tx).await
    }

    async fn mailbox_settings(&self, id: MailboxId) -> StoreResult<Option<MailboxSettings>> {
        let client = self.client().await?;
        row_opt(
            &client,
            "SELECT forwarding_recipient_id, forwarding_smtp_address, deliver_to_mailbox_and_forward,
                message_copy_for_sent_as, message_copy_for_send_on_behalf, issue_warning_quota,
                prohibit_send_quota, prohibit_send_receive_quota, automap_groups, retain_deleted_seconds,
                recoverable_items_quota, audit_enabled, audit_log_age_seconds, per_member_seen
             FROM mailbox_settings WHERE recipient_id = $1",
            &[&id.0],
        )
        .await?
        .as_ref()
        .map(settings_from_row)
        .transpose()
    }

    async fn set_mailbox_settings(&self, id: MailboxId, settings: &MailboxSettings) -> StoreResult<()> {
        let mut client = self.client().await?;
        let tx = begin_write(&mut client).await?;
        let current = require_recipient(&tx, id.principal()).await?;
        if !current.kind.has_mailbox() {
            return Err(StoreError::NotFound(format!("mailbox {id}")));
        }
        write_settings(&tx, id.0, settings).await?;
        self.committed(tx).await
    }

    async fn auto_reply(&self, id: MailboxId) -> StoreResult<AutoReplyConfig> {
        let client = self.client().await?;
        let Some(r) = row_opt(
            &client,
            "SELECT state, start_time, end_time, internal_message, external_message, external_audience
             FROM auto_replies WHERE recipient_id = $1",
            &[&id.0],
        )
        .await?
        else {
            return Ok(AutoReplyConfig::default());
        };
        let state: String = r.get(0);
        let audience: String = r.get(5);
        Ok(AutoReplyConfig {
            state: AutoReplyState::parse(&state)
                .ok_or_else(|| corrupt(format!("auto-reply state {state}")))?,
            start_time: time_from_sql(r.get(1)),
            end_time: time_from_sql(r.get(2)),
            internal_message: r.get(3),
            external_message: r.get(4),
            external_audience: ExternalAudience::parse(&audience)
                .ok_or_else(|| corrupt(format!("external audience {audience}")))?,
        })
    }

    async fn set_auto_reply(&self, id: MailboxId, config: &AutoReplyConfig) -> StoreResult<()> {
        let mut client = self.client().await?;
        let tx = begin_write(&mut client).await?;
        require_recipient(&tx, id.principal()).await?;
        exec(
            &tx,
            "INSERT INTO auto_replies (recipient_id, state, start_time, end_time, internal_message,
                external_message, external_audience)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (recipient_id) DO UPDATE SET state = excluded.state, start_time = excluded.start_time,
                end_time = excluded.end_time, internal_message = excluded.internal_message,
                external_message = excluded.external_message, external_audience = excluded.external_audience",
            &[
                &id.0,
                &config.state.as_str(),
                &time_to_sql(config.start_time),
                &time_to_sql(config.end_time),
                &config.internal_message,
                &config.external_message,
                &config.external_audience.as_str(),
            ],
        )
        .await?;
        self.committed(tx).await
    }

    async fn group_members(&self, group: PrincipalId) -> StoreResult<Vec<PrincipalId>> {
        let client = self.client().await?;
        ids(&client, "SELECT member_id FROM group_members WHERE group_id = $1 ORDER BY member_id", group.0)
            .await
    }

    async fn group_members_transitive(&self, group: PrincipalId) -> StoreResult<Vec<PrincipalId>> {
        let client = self.client().await?;
        ids(&client, MEMBERS_INSIDE, group.0).await
    }

    async fn groups_of(&self, member: PrincipalId) -> StoreResult<Vec<PrincipalId>> {
        let client = self.client().await?;
        ids(
            &client,
            "WITH RECURSIVE outside(id) AS (
                SELECT group_id FROM group_members WHERE member_id = $1
                UNION
                SELECT gm.group_id FROM group_members gm JOIN outside ON gm.member_id = outside.id
             ) SELECT id FROM outside ORDER BY id",
            member.0,
        )
        .await
    }

    async fn add_group_member(&self, group: PrincipalId, member: PrincipalId) -> StoreResult<bool> {
        let mut client = self.client().await?;
        let tx = begin_write(&mut client).await?;
        require_recipient(&tx, group).await?;
        require_recipient(&tx, member).await?;
        // Checked under the write lock, so two concurrent additions (A into
        // B, B into A) can't both pass.
        if group == member || ids(&tx, MEMBERS_INSIDE, member.0).await?.contains(&group) {
            return Err(StoreError::WouldCycle);
        }
        let n = exec(
            &tx,
            "INSERT INTO group_members (group_id, member_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&group.0, &member.0],
        )
        .await?;
        self.committed(tx).await?;
        Ok(n > 0)
    }

    async fn remove_group_member(&self, group: PrincipalId, member: PrincipalId) -> StoreResult<bool> {
        let mut client = self.client().await?;
        let tx = begin_write(&mut client).await?;
        let n = exec(
            &tx,
            "DELETE FROM group_members WHERE group_id = $1 AND member_id = $2",
            &[&group.0, &member.0],
        )
        .await?;
        self.committed(tx).await?;
        Ok(n > 0)
    }

    async fn permissions_on(&self, recipient: PrincipalId) -> StoreResult<Vec<PermissionEntry>> {
        let client = self.client().await?;
        rows(
            &client,
            &format!(
                "SELECT {PERMISSION_COLUMNS} FROM permissions
                 WHERE recipient_id = $1 ORDER BY granted_at, trustee_id, right_name COLLATE \"C\""
            ),
            &[&recipient.0],
        )
        .await?
        .iter()
        .map(permission_from_row)
        .collect()
    }

    async fn permissions_held_by(&self, trustees: &[PrincipalId]) -> StoreResult<Vec<PermissionEntry>> {
        let trustees: Vec<i64> = trustees.iter().map(|t| t.0).collect();
        let client = self.client().await?;
        rows(
            &client,
            &format!(
                "SELECT {PERMISSION_COLUMNS} FROM permissions
                 WHERE trustee_id = ANY($1) ORDER BY recipient_id, trustee_id, right_name COLLATE \"C\""
            ),
            &[&trustees],
        )
        .await?
        .iter()
        .map(permission_from_row)
        .collect()
    }

    async fn grant(&self, entries: &[PermissionEntry]) -> StoreResult<Vec<bool>> {
        let mut client = self.client().await?;
        let tx = begin_write(&mut client).await?;
        let now = now_unix();
        let mut changed = Vec::with_capacity(entries.len());
        for e in entries {
            changed.push(grant_one(&tx, e, now).await?);
        }
        self.committed(tx).await?;
        Ok(changed)
    }

    async fn set_grants(
        &self,
        recipient: PrincipalId,
        right: Right,
        entries: &[PermissionEntry],
    ) -> StoreResult<(Vec<PrincipalId>, Vec<PrincipalId>)> {
        let mut client = self.client().await?;
        let tx = begin_write(&mut client).await?;
        require_recipient(&tx, recipient).await?;
        let changed = replace_grants(&tx, recipient, right, entries).await?;
        self.committed(tx).await?;
        Ok(changed)
    }

    async fn revoke(&self, entries: &[(PrincipalId, PrincipalId, Right)]) -> StoreResult<Vec<bool>> {
        let mut client = self.client().await?;
        let tx = begin_write(&mut client).await?;
        let mut removed = Vec::with_capacity(entries.len());
        for (recipient, trustee, right) in entries {
            let n = exec(
                &tx,
                "DELETE FROM permissions WHERE recipient_id = $1 AND trustee_id = $2 AND right_name = $3",
                &[&recipient.0, &trustee.0, &right.storage_name()],
            )
            .await?;
            removed.push(n > 0);
        }
        self.committed(tx).await?;
        Ok(removed)
    }

    async fn create_api_token(
        &self,
        name: &str,
        secret_hash: &str,
        created: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut client = self.client().await?;
        let tx = begin_write(&mut client).await?;
        if row_opt(&tx, "SELECT 1 FROM api_tokens WHERE name = $1", &[&name]).await?.is_some() {
            return Err(StoreError::NameTaken { name: name.to_string() });
        }
        exec(
            &tx,
            "INSERT INTO api_tokens (name, secret_hash, created_at) VALUES ($1, $2, $3)",
            &[&name, &secret_hash, &created.timestamp()],
        )
        .await?;
        self.committed(tx).await
    }

    async fn api_tokens(&self) -> StoreResult<Vec<ApiToken>> {
        let client = self.client().await?;
        Ok(rows(
            &client,
            "SELECT name, created_at, last_used_at FROM api_tokens ORDER BY name COLLATE \"C\"",
            &[],
        )
        .await?
        .iter()
        .map(api_token_from_row)
        .collect())
    }

    async fn api_token_by_hash(&self, secret_hash: &str) -> StoreResult<Option<ApiToken>> {
        let client = self.client().await?;
        Ok(row_opt(
            &client,
            "SELECT name, created_at, last_used_at FROM api_tokens WHERE secret_hash = $1",
            &[&secret_hash],
        )
        .await?
        .as_ref()
        .map(api_token_from_row))
    }

    async fn touch_api_token(&self, name: &str, at: DateTime<Utc>) -> StoreResult<()> {
        let mut client = self.client().await?;
        let tx = begin_write(&mut client).await?;
        exec(&tx, "UPDATE api_tokens SET last_used_at = $2 WHERE name = $1", &[&name, &at.timestamp()])
            .await?;
        self.committed(tx).await
    }

    async fn server_secret(&self, name: &str, offered: Vec<u8>) -> StoreResult<Vec<u8>> {
        let mut client = self.client().await?;
        let tx = begin_write(&mut client).await?;
        // The first offer stays: a conflict is another node's (or an
        // earlier start's) key, which this one must use too.
        exec(
            &tx,
            "INSERT INTO server_secrets (name, value, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO NOTHING",
            &[&name, &offered, &now_unix()],
        )
        .await?;
        let value: Vec<u8> =
            row(&tx, "SELECT value FROM server_secrets WHERE name = $1", &[&name]).await?.get(0);
        self.committed(tx).await?;
        Ok(value)
    }

    async fn delete_api_token(&self, name: &str) -> StoreResult<bool> {
        let mut client = self.client().await?;
        let tx = begin_write(&mut client).await?;
        let n = exec(&tx, "DELETE FROM api_tokens WHERE name = $1", &[&name]).await?;
        self.committed(tx).await?;
        Ok(n > 0)
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

    fn shared_sign_in_pressure(&self) -> Option<&dyn mailroom_core::store::SignInPressureStore> {
        Some(self)
    }
}
