//! The storage traits a backend implements.
//!
//! The traits are coarse on purpose: each method is one domain operation that
//! the backend performs atomically (one transaction), so that SQLite and
//! PostgreSQL can each do it their own way and both pass the same
//! conformance suite (`crates/store/tests/conformance`). Policy (who may call
//! what, which values are valid) stays in [`crate::Directory`]; the store
//! only guarantees integrity: unique names, aliases and addresses, and
//! removal of everything that referred to a removed recipient.

use std::collections::BTreeSet;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mailroom_types::{
    BlobId, CalendarId, DomainName, EmailAddress, FolderId, MailboxId, ModSeq, PrincipalId, Uid,
};

use crate::calendar::{
    Calendar, CalendarActivity, CalendarObject, CalendarProps, DeleteOutcome, NewCalendarObject,
    ObjectChange, Precondition, PutOutcome, TimeSpan,
};

use crate::directory::model::{
    AcceptedDomain, Account, AdminRole, ApiToken, AutoReplyConfig, MailboxSettings, PasswordHash, Recipient,
    RecipientKind,
};
use crate::directory::{DkimKey, NewDkimKey};
use crate::mail::activity::{ActivityEntry, ActivityQuery, NewActivity};
use crate::mail::{Flags, Folder, MailboxUsage, MessageSummary, SpecialUse, StoredMessage, TextQuery};
use crate::permissions::{PermissionEntry, Right};

pub type StoreResult<T> = Result<T, StoreError>;

/// Failures a store reports. Integrity conflicts are domain errors the
/// caller turns into messages; `Backend` is anything else.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("address {address} is used by {holder}")]
    AddressTaken {
        address: EmailAddress,
        holder: String,
        /// Whether the new address was to be a primary one (Exchange prints `SMTP:` then).
        primary: bool,
    },
    #[error("name {name} is taken")]
    NameTaken { name: String },
    #[error("alias {alias} is used by {holder}")]
    AliasTaken { alias: String, holder: String },
    #[error("domain {0} exists")]
    DomainExists(DomainName),
    /// Adding the member would put a group inside itself.
    #[error("group membership would form a cycle")]
    WouldCycle,
    #[error("{0} not found")]
    NotFound(String),
    #[error("storage backend: {0}")]
    Backend(Box<dyn std::error::Error + Send + Sync>),
}

/// A recipient to create, with its account and mailbox rows when it has them.
#[derive(Clone, Debug)]
pub struct NewRecipient {
    pub kind: RecipientKind,
    pub name: String,
    pub display_name: String,
    pub alias: String,
    pub primary_address: EmailAddress,
    pub secondary_addresses: Vec<EmailAddress>,
    /// Present for user and shared mailboxes.
    pub account: Option<NewAccount>,
    /// Present for user and shared mailboxes.
    pub mailbox: Option<MailboxSettings>,
    /// First members, for a group.
    pub members: Vec<PrincipalId>,
}

#[derive(Clone, Debug)]
pub struct NewAccount {
    pub password_hash: Option<PasswordHash>,
    pub sign_in_blocked: bool,
    pub roles: BTreeSet<AdminRole>,
}

/// The identity fields of a recipient after an edit (all replaced at once).
#[derive(Clone, Debug)]
pub struct RecipientIdentity {
    pub name: String,
    pub display_name: String,
    pub alias: String,
    pub primary_address: EmailAddress,
    pub secondary_addresses: Vec<EmailAddress>,
}

/// One admin edit of a mailbox, written in one transaction (`Set-Mailbox`
/// with many parameters changes all of them or none). `None` leaves a part as it is.
#[derive(Clone, Debug, Default)]
pub struct MailboxWrite {
    /// Convert: the new kind and the account's new password hash. Becoming
    /// shared also drops the account's admin roles.
    pub kind: Option<(RecipientKind, Option<PasswordHash>)>,
    pub identity: Option<RecipientIdentity>,
    pub settings: Option<MailboxSettings>,
    /// The complete new list of Send on Behalf holders.
    pub send_on_behalf: Option<Vec<PrincipalId>>,
    pub sign_in_blocked: Option<bool>,
}

/// The directory: domains, recipients, accounts, groups and permissions.
#[async_trait]
pub trait DirectoryStore: Send + Sync + std::fmt::Debug {
    // --- accepted domains ---

    async fn accepted_domains(&self) -> StoreResult<Vec<AcceptedDomain>>;
    /// The DKIM keys of `domain`, signing ones first, newest first.
    async fn dkim_keys(&self, domain: &DomainName) -> StoreResult<Vec<DkimKey>>;
    /// Adds signing keys to `domain` in one transaction, the old ones no
    /// longer signing; with `only_if_none`, only when it has no signing key
    /// (`false` then). A selector the domain has already is `NameTaken`.
    async fn add_dkim_keys(
        &self,
        domain: &DomainName,
        keys: Vec<NewDkimKey>,
        only_if_none: bool,
    ) -> StoreResult<bool>;
    /// Removes one key; `false` if there was none.
    async fn remove_dkim_key(&self, domain: &DomainName, selector: &str) -> StoreResult<bool>;
    /// Adds a domain; the first domain, or one added with `make_default`,
    /// becomes the only default. `DomainExists` if present.
    async fn add_accepted_domain(&self, domain: &DomainName, make_default: bool) -> StoreResult<()>;
    /// `NotFound` if the domain is not accepted.
    async fn set_default_domain(&self, domain: &DomainName) -> StoreResult<()>;

    // --- recipients ---

    /// Creates the recipient and its account and mailbox rows in one
    /// transaction. Fails with `NameTaken`, `AliasTaken` or `AddressTaken`
    /// (case-insensitive) without writing anything.
    async fn create_recipient(&self, new: NewRecipient) -> StoreResult<Recipient>;
    /// Replaces name, display name, alias and addresses, with the same
    /// uniqueness checks as creation (the recipient's own values don't clash).
    async fn update_identity(&self, id: PrincipalId, identity: RecipientIdentity) -> StoreResult<Recipient>;
    /// Changes a mailbox between user and shared in place (same id; mail,
    /// calendar and permissions kept) and sets its account at the same time.
    /// Becoming shared drops the account's admin roles: nobody signs in to a
    /// shared mailbox, and a role must not survive a round trip through one.
    async fn convert_mailbox(
        &self,
        id: MailboxId,
        kind: RecipientKind,
        password_hash: Option<PasswordHash>,
        sign_in_blocked: bool,
    ) -> StoreResult<Recipient>;
    /// Applies every part of `write` in one transaction, with the same
    /// integrity checks as the single-purpose operations.
    async fn update_mailbox(&self, id: MailboxId, write: MailboxWrite) -> StoreResult<Recipient>;
    /// Removes the recipient with its account, settings, memberships and every
    /// permission it holds or that others hold on it; forwarding to it stops.
    async fn delete_recipient(&self, id: PrincipalId) -> StoreResult<()>;
    async fn recipient(&self, id: PrincipalId) -> StoreResult<Option<Recipient>>;
    async fn recipient_by_address(&self, address: &EmailAddress) -> StoreResult<Option<Recipient>>;
    /// Recipients whose Name or Alias equals `text`, ignoring case.
    async fn recipients_by_name_or_alias(&self, text: &str) -> StoreResult<Vec<Recipient>>;
    /// All recipients of the given kinds, ordered by name.
    async fn list_recipients(&self, kinds: &[RecipientKind]) -> StoreResult<Vec<Recipient>>;
    /// One page of the recipients of the given kinds whose name, display
    /// name or an address contains `text` (ignoring case as `str::to_lowercase` does; empty
    /// matches all), ordered by name: `limit` of them after skipping
    /// `offset`, and how many match in all.
    async fn search_recipients(
        &self,
        kinds: &[RecipientKind],
        text: &str,
        offset: usize,
        limit: usize,
    ) -> StoreResult<(usize, Vec<Recipient>)>;

    // --- accounts ---

    async fn account(&self, id: PrincipalId) -> StoreResult<Option<Account>>;
    async fn set_password_hash(&self, id: PrincipalId, hash: Option<PasswordHash>) -> StoreResult<()>;
    /// Keeps the SCRAM verifier `verifier` for the account, only while its
    /// password hash is still `for_hash` (a password changed meanwhile
    /// wins); whether it was kept. A change of the hash drops the verifier.
    async fn set_scram_verifier(
        &self,
        id: PrincipalId,
        for_hash: &PasswordHash,
        verifier: &str,
    ) -> StoreResult<bool>;
    async fn set_sign_in_blocked(&self, id: PrincipalId, blocked: bool) -> StoreResult<()>;
    async fn set_roles(&self, id: PrincipalId, roles: &BTreeSet<AdminRole>) -> StoreResult<()>;

    // --- mailbox settings ---

    async fn mailbox_settings(&self, id: MailboxId) -> StoreResult<Option<MailboxSettings>>;
    async fn set_mailbox_settings(&self, id: MailboxId, settings: &MailboxSettings) -> StoreResult<()>;
    /// The configuration, or the default when none was ever set.
    async fn auto_reply(&self, id: MailboxId) -> StoreResult<AutoReplyConfig>;
    async fn set_auto_reply(&self, id: MailboxId, config: &AutoReplyConfig) -> StoreResult<()>;

    // --- groups ---

    /// Direct members of a group.
    async fn group_members(&self, group: PrincipalId) -> StoreResult<Vec<PrincipalId>>;
    /// Every principal inside the group, through nested groups too (groups
    /// included), each once. Cycles in stored data terminate.
    async fn group_members_transitive(&self, group: PrincipalId) -> StoreResult<Vec<PrincipalId>>;
    /// Every group the principal belongs to, directly or through nesting.
    async fn groups_of(&self, member: PrincipalId) -> StoreResult<Vec<PrincipalId>>;
    /// `false` if the member was already there; `WouldCycle` if the group
    /// is inside the member (checked in the same transaction as the insert).
    async fn add_group_member(&self, group: PrincipalId, member: PrincipalId) -> StoreResult<bool>;
    /// `false` if it was not a member.
    async fn remove_group_member(&self, group: PrincipalId, member: PrincipalId) -> StoreResult<bool>;

    // --- permissions ---

    /// Grants on one recipient (a mailbox, or a group for Send As / on Behalf).
    async fn permissions_on(&self, recipient: PrincipalId) -> StoreResult<Vec<PermissionEntry>>;
    /// Grants held by any of these trustees.
    async fn permissions_held_by(&self, trustees: &[PrincipalId]) -> StoreResult<Vec<PermissionEntry>>;
    /// Adds or updates grants in one transaction; per entry, whether anything changed.
    async fn grant(&self, entries: &[PermissionEntry]) -> StoreResult<Vec<bool>>;
    /// Makes `entries` exactly the grants of `right` on `recipient`, in one
    /// transaction; returns the trustees added and removed.
    async fn set_grants(
        &self,
        recipient: PrincipalId,
        right: Right,
        entries: &[PermissionEntry],
    ) -> StoreResult<(Vec<PrincipalId>, Vec<PrincipalId>)>;
    /// Removes grants in one transaction; per entry, whether it existed.
    async fn revoke(&self, entries: &[(PrincipalId, PrincipalId, Right)]) -> StoreResult<Vec<bool>>;

    // --- API tokens ---

    /// Stores a token by name and the hash of its secret; `NameTaken` if
    /// the name is in use.
    async fn create_api_token(
        &self,
        name: &str,
        secret_hash: &str,
        created: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Every token, ordered by name.
    async fn api_tokens(&self) -> StoreResult<Vec<ApiToken>>;
    /// The token whose secret hashes to `secret_hash`.
    async fn api_token_by_hash(&self, secret_hash: &str) -> StoreResult<Option<ApiToken>>;
    /// Records a use of the token.
    async fn touch_api_token(&self, name: &str, at: DateTime<Utc>) -> StoreResult<()>;

    // --- server secrets ---

    /// The server's secret `name` (the SRS key): the value stored first, by
    /// whichever node or process asked first, so every one on this store
    /// uses the same; `offered` is stored when there is none yet. Never
    /// changes once stored.
    async fn server_secret(&self, name: &str, offered: Vec<u8>) -> StoreResult<Vec<u8>>;
    /// Removes a token; `false` if there was none of that name.
    async fn delete_api_token(&self, name: &str) -> StoreResult<bool>;

    // --- browser sessions (crate::directory::web_sessions) ---

    /// Stores a new session in one transaction: expired sessions go first,
    /// then the principal's least recently used ones beyond
    /// `limits.per_principal - 1`; `false` (nothing stored) when
    /// `limits.total` live sessions remain.
    async fn start_web_session(
        &self,
        session: &StoredWebSession,
        limits: &SessionLimits,
    ) -> StoreResult<bool>;
    /// The session stored under `id_hash`, live or not.
    async fn web_session(&self, id_hash: &str) -> StoreResult<Option<StoredWebSession>>;
    /// Records a use of the session at `at` (Unix seconds).
    async fn touch_web_session(&self, id_hash: &str, at: i64) -> StoreResult<()>;
    async fn end_web_session(&self, id_hash: &str) -> StoreResult<()>;
    /// Ends every session of `principal`.
    async fn end_web_sessions_of(&self, principal: PrincipalId) -> StoreResult<()>;
    /// Sessions neither idle since `limits.idle_before` nor created before
    /// `limits.created_before`.
    async fn count_web_sessions(&self, limits: &SessionLimits) -> StoreResult<usize>;

    // --- failed sign-ins shared by the nodes (crate::throttle::shared) ---

    /// The record of failed sign-ins that every node on this store shares,
    /// or `None` where one server has the store to itself (the embedded
    /// store: that server's own throttle sees every attempt).
    fn shared_sign_in_pressure(&self) -> Option<&dyn SignInPressureStore> {
        None
    }
}

/// Failed sign-ins counted across the nodes of one store
/// ([`crate::throttle::shared`]), each under a key naming a client source
/// or an account. Times are the database's clock in milliseconds, so the
/// nodes' own clocks don't matter.
#[async_trait]
pub trait SignInPressureStore: Send + Sync {
    /// Places an attempt counted under `keys` by
    /// [`crate::throttle::shared::decide`] over their records: when none is
    /// under pressure, at once and writing nothing; otherwise the slot is
    /// taken atomically (concurrent attempts on any node get later ones)
    /// and recorded as each key's latest start. The wait (`None`: refused)
    /// and whether any key had a record.
    async fn admit_sign_in(&self, keys: &[String]) -> StoreResult<crate::throttle::shared::SharedAdmission>;
    /// Counts a failure against each of `failed` (a key quiet for
    /// [`crate::throttle::WINDOW`] starts again from one) and against each
    /// of `refused` that has a record already (a refusal creates none), and
    /// halves the failures of each of `succeeded`.
    async fn record_sign_in(
        &self,
        failed: &[String],
        refused: &[String],
        succeeded: &[String],
    ) -> StoreResult<()>;
    /// Forgets keys quiet for the window; how many.
    async fn prune_sign_in_pressure(&self) -> StoreResult<u64>;
}

/// A browser session as the store keeps it: the SHA-256 of its cookie's
/// token, never the token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredWebSession {
    pub id_hash: String,
    pub principal: PrincipalId,
    /// What the account looked like at sign-in (hashed).
    pub fingerprint: String,
    /// The account held an admin role at sign-in.
    pub admin: bool,
    /// Unix seconds.
    pub created_at: i64,
    pub last_seen: i64,
}

/// Which sessions are live, and how many there may be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionLimits {
    /// A session last used before this (Unix seconds) has ended.
    pub idle_before: i64,
    /// A session created before this has ended.
    pub created_before: i64,
    pub per_principal: usize,
    pub total: usize,
}

/// Which folder of a mailbox a message goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FolderRef {
    Special(SpecialUse),
    Id(FolderId),
}

/// One mailbox a message is delivered to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryTarget {
    pub mailbox: MailboxId,
    pub folder: FolderRef,
    pub flags: Flags,
}

/// A remote recipient of a message, to be sent by the outbound queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewQueued {
    /// `None` is the null sender `<>` (a DSN: never bounced).
    pub envelope_from: Option<EmailAddress>,
    pub recipient: EmailAddress,
    /// When the first attempt is due (Unix seconds).
    pub next_attempt: i64,
}

/// One message of a batch stored in one transaction ([`MailStore::deliver_batch`]).
#[derive(Clone, Debug)]
pub struct NewMessage {
    pub bytes: Vec<u8>,
    pub summary: MessageSummary,
    pub internal_date: i64,
    pub targets: Vec<DeliveryTarget>,
    pub queue: Vec<NewQueued>,
    /// A message that may go out once only (an automatic reply, a quota
    /// warning): stored only if this claim wasn't taken before, and the
    /// claim taken with it — one transaction, so neither a crash nor a
    /// retry can lose it or send it twice.
    pub claim: Option<Claim>,
    /// Trail entries written with the message (its delivery, its sending
    /// from a shared mailbox), in the same transaction; left out with the
    /// message when its claim was taken.
    pub activity: Vec<NewActivity>,
}

/// Something that happens once ([`NewMessage::claim`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claim {
    /// `mailbox` answers `sender` (lower-cased by the store) once per
    /// enabled `period` of its automatic replies.
    AutoReply { mailbox: MailboxId, sender: String, period: String },
    /// The mailbox is told once that it passed its warning quota.
    QuotaWarning(MailboxId),
}

/// One queued remote recipient (SPEC §3, outbound).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueEntry {
    pub id: i64,
    pub blob: BlobId,
    pub envelope_from: Option<EmailAddress>,
    pub recipient: EmailAddress,
    /// Unix seconds.
    pub created: i64,
    pub attempts: u32,
    pub next_attempt: i64,
    pub last_error: Option<String>,
    /// The sender was told it is delayed (once).
    pub delay_notified: bool,
    /// The node sending it now ([`MailStore::claim_due`]), if one is.
    pub lease_node: Option<String>,
}

/// Where a delivered copy landed, and the mailbox's usage after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Delivered {
    pub mailbox: MailboxId,
    pub folder: FolderId,
    pub uid: Uid,
    pub modseq: ModSeq,
    pub usage: MailboxUsage,
}

/// The searchable text of a message, as the indexer extracts it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MessageText {
    pub subject: String,
    /// From, To and Cc: names and addresses.
    pub people: String,
    /// The text (made from the HTML when there's no text part) and the
    /// attachments' names.
    pub body: String,
    /// The body as IMAP SEARCH BODY and TEXT compare it, lower-cased
    /// (`mailroom_mime::readable::body_search_haystack`): kept in a
    /// substring index, so those searches read only what it finds.
    pub search_body: String,
}

/// What the substring index says of one needle in one folder.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BodyHits {
    /// Indexed messages whose body contains the needle.
    pub uids: Vec<Uid>,
    /// Messages not indexed yet: their bodies must be read (one listed
    /// to be indexed again may be in `uids` too, by its old text).
    pub unindexed: Vec<Uid>,
}

/// A body waiting to be indexed.
#[derive(Clone, Debug)]
pub struct PendingText {
    /// Its key in the index.
    pub key: i64,
    pub bytes: Vec<u8>,
}

/// What a text search found in a folder.
#[derive(Clone, Debug, Default)]
pub struct TextHits {
    /// Messages whose indexed text matches, newest first.
    pub uids: Vec<Uid>,
    /// Messages whose bodies aren't indexed yet, newest first, with their sizes.
    pub unindexed: Vec<(Uid, u64)>,
}

/// How a flag update combines with a message's flags (IMAP STORE
/// `+FLAGS` / `-FLAGS` / `FLAGS`, RFC 9051 §6.4.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlagChange {
    Add,
    Remove,
    Replace,
}

impl FlagChange {
    /// `current` after this change with `given`.
    pub fn apply(self, current: &Flags, given: &Flags) -> Flags {
        match self {
            FlagChange::Add => Flags {
                system: current.system | given.system,
                keywords: current.keywords.union(&given.keywords).cloned().collect(),
            },
            FlagChange::Remove => Flags {
                system: current.system & !given.system,
                keywords: current.keywords.difference(&given.keywords).cloned().collect(),
            },
            FlagChange::Replace => given.clone(),
        }
    }
}

/// A message whose flags a STORE changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlagUpdate {
    pub uid: Uid,
    pub flags: Flags,
    pub modseq: ModSeq,
}

/// What a flag update did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FlagsOutcome {
    /// Messages whose flags changed, each with its new MODSEQ.
    pub updated: Vec<FlagUpdate>,
    /// Messages left alone because they changed after `UNCHANGEDSINCE`
    /// (RFC 7162 §3.1.3: the `MODIFIED` response code).
    pub modified: Vec<Uid>,
}

/// Messages removed from a folder, and the MODSEQ their removal got
/// (remembered for QRESYNC's VANISHED, RFC 7162 §3.2.10).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expunged {
    pub uids: Vec<Uid>,
    pub modseq: ModSeq,
}

/// Messages moved into Recoverable Items by an expunge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recycled {
    /// Removed from the folder expunged.
    pub expunged: Expunged,
    /// Recoverable Items, and the UIDs the messages got there.
    pub into: FolderId,
    pub copied: Copied,
}

/// A message of Recoverable Items: where it was deleted from, when, and by whom.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecoverableItem {
    /// Its UID in Recoverable Items.
    pub uid: Uid,
    /// The folder it was in, if that folder still exists.
    pub deleted_from: Option<FolderId>,
    /// That folder's name when the message was deleted.
    pub deleted_from_name: String,
    /// Unix seconds.
    pub deleted_at: i64,
    /// Who deleted it (`None` once that account is gone).
    pub deleted_by: Option<PrincipalId>,
}

/// Messages copied into a folder (UIDPLUS `COPYUID`, RFC 4315 §3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Copied {
    pub uid_validity: u32,
    /// (source UID, new UID) in source UID order.
    pub pairs: Vec<(Uid, Uid)>,
    /// The destination folder's HIGHESTMODSEQ after the copy.
    pub modseq: ModSeq,
}

/// Message bodies: immutable, content-addressed (SHA-256), stored once
/// however many folders hold them (DESIGN.md, Data) — in files and inline
/// in the database today.
#[async_trait]
pub trait BlobStore: Send + Sync + std::fmt::Debug {
    /// A message body by its content address.
    async fn read_blob(&self, id: BlobId) -> StoreResult<Vec<u8>>;
    /// Octets `range` of a body (cut at its end): what a partial FETCH
    /// sends, without reading the rest.
    async fn read_blob_range(&self, id: BlobId, range: std::ops::Range<u64>) -> StoreResult<Vec<u8>>;
}

/// Messages: folders, content-addressed bodies, and delivery.
#[async_trait]
pub trait MailStore: BlobStore {
    /// A mailbox's folders, Inbox first then by name.
    async fn folders(&self, mailbox: MailboxId) -> StoreResult<Vec<Folder>>;
    async fn usage(&self, mailbox: MailboxId) -> StoreResult<MailboxUsage>;
    /// Stores `bytes` once under their SHA-256 (however many targets) with
    /// the summary parsed from them, and adds a message to every target's
    /// folder, all in one transaction. Returns only when it is durable
    /// (DESIGN.md, durability rule). A target whose mailbox or folder is gone
    /// fails the whole delivery with `NotFound`.
    async fn deliver(
        &self,
        bytes: Vec<u8>,
        summary: &MessageSummary,
        internal_date: i64,
        targets: &[DeliveryTarget],
    ) -> StoreResult<(BlobId, Vec<Delivered>)> {
        self.deliver_and_queue(bytes, summary, internal_date, targets, &[]).await
    }
    /// `deliver`, and in the same transaction the message's remote
    /// recipients into the outbound queue (each holds the body too): a
    /// submission is acknowledged once both are durable.
    async fn deliver_and_queue(
        &self,
        bytes: Vec<u8>,
        summary: &MessageSummary,
        internal_date: i64,
        targets: &[DeliveryTarget],
        queue: &[NewQueued],
    ) -> StoreResult<(BlobId, Vec<Delivered>)> {
        let message = NewMessage {
            bytes,
            summary: summary.clone(),
            internal_date,
            targets: targets.to_vec(),
            queue: queue.to_vec(),
            claim: None,
            activity: Vec::new(),
        };
        let mut stored = self.deliver_batch(vec![message], &[]).await?;
        stored.pop().ok_or_else(|| StoreError::Backend("a one-message batch stored nothing".into()))
    }
    /// Several messages (their local copies and queue entries) in one
    /// transaction: all durable, or none — a delivery and the forwarded
    /// copies and automatic replies it causes are acknowledged together.
    /// A message whose [`Claim`] was taken before is left out (its entry
    /// in the answer delivers nowhere). The queue entries `dequeue` are
    /// removed in the same transaction (a bounce and the entries it reports).
    async fn deliver_batch(
        &self,
        messages: Vec<NewMessage>,
        dequeue: &[i64],
    ) -> StoreResult<Vec<(BlobId, Vec<Delivered>)>>;
    /// The queue, oldest first; only entries due at `due_by` when given.
    async fn queued(&self, due_by: Option<i64>) -> StoreResult<Vec<QueueEntry>>;
    /// Records a failed attempt and when to try again; the entry's claim
    /// ends (any node may take it when it is due).
    async fn queue_retry(
        &self,
        id: i64,
        next_attempt: i64,
        error: &str,
        delay_notified: bool,
    ) -> StoreResult<()>;
    /// Claims entries due at `now` for `node` to send, oldest first, at
    /// most `limit`: those no node holds, those `node` holds already, and
    /// those held by a node whose latest beat is older than `stale_before`
    /// (it died). A claimed entry carries `node`'s name until it is
    /// retried or removed, so no other live node sends it too.
    async fn claim_due(
        &self,
        node: &str,
        now: i64,
        stale_before: i64,
        limit: usize,
    ) -> StoreResult<Vec<QueueEntry>>;
    /// Makes an entry due now (an admin's retry); `false` if it's gone.
    async fn queue_due_now(&self, id: i64) -> StoreResult<bool>;
    /// Removes an entry (sent, bounced or deleted) and releases its body;
    /// `false` if it was already gone.
    async fn queue_remove(&self, id: i64) -> StoreResult<bool>;
    /// One folder by id, with its counters now; `None` if there is none.
    async fn folder(&self, folder: FolderId) -> StoreResult<Option<Folder>>;
    /// The messages of a folder in UID order, shared: a store may keep the
    /// listing between calls, and callers read it without copying.
    async fn messages(&self, folder: FolderId) -> StoreResult<std::sync::Arc<Vec<StoredMessage>>>;
    /// One page of a folder's messages in arrival order (newest first, or
    /// oldest first), optionally only the unread or the flagged ones, and
    /// how many there are in all: what a message list shows, without
    /// reading the folder.
    async fn message_page(
        &self,
        folder: FolderId,
        filter: crate::mail::MessageFilter,
        newest_first: bool,
        offset: usize,
        limit: usize,
    ) -> StoreResult<(usize, Vec<StoredMessage>)>;
    /// How many of a folder's messages are unread.
    async fn unseen_count(&self, folder: FolderId) -> StoreResult<u64>;
    /// What opening a folder needs: its UIDs, first unseen, keywords.
    async fn folder_index(&self, folder: FolderId) -> StoreResult<crate::mail::FolderIndex>;
    /// A folder's counters, without reading its messages.
    async fn folder_counts(&self, folder: FolderId) -> StoreResult<crate::mail::FolderCounts>;
    /// Claims IMAP's `\Recent` (RFC 3501 §2.3.2) up to `through`: raises
    /// the folder's recent mark to `through` if it is lower and returns the
    /// mark before. The messages between the two are recent for the caller
    /// alone; a caller that finds the mark at or past `through` has none.
    async fn claim_recent(&self, folder: FolderId, through: Uid) -> StoreResult<Uid>;
    /// The messages of a folder with these UIDs (missing ones skipped), in UID order.
    async fn messages_by_uid(&self, folder: FolderId, uids: &[Uid]) -> StoreResult<Vec<StoredMessage>>;
    /// Messages added or changed after `modseq` (RFC 7162), in UID order.
    async fn messages_since(&self, folder: FolderId, modseq: ModSeq) -> StoreResult<Vec<StoredMessage>>;
    /// The body of the message `uid` of `folder` (`NotFound` if the folder
    /// has no such message): read by the message, never by a body id a
    /// caller supplies.
    async fn message_body(&self, folder: FolderId, uid: Uid) -> StoreResult<Vec<u8>>;
    /// The summaries of these messages of `folder`, in one call, in order
    /// (`None` for a message no longer there: expunged meanwhile).
    async fn message_summaries(
        &self,
        folder: FolderId,
        uids: &[Uid],
    ) -> StoreResult<Vec<Option<std::sync::Arc<MessageSummary>>>>;
    /// Octets `range` of each of these messages of `folder` (cut at each
    /// one's end), in one call, in order (`None` for a message no longer
    /// there): a client listing the headers of a hundred messages costs one
    /// round trip, and no body is read past its header.
    async fn message_ranges(
        &self,
        folder: FolderId,
        wanted: &[(Uid, std::ops::Range<u64>)],
    ) -> StoreResult<Vec<Option<Vec<u8>>>>;
    /// The summaries of every message of a folder, by UID, in one read
    /// (SEARCH over headers).
    async fn folder_summaries(
        &self,
        folder: FolderId,
    ) -> StoreResult<Vec<(Uid, std::sync::Arc<MessageSummary>)>>;
    /// UIDs of the messages of `folder` with a top-level header `name` whose
    /// decoded value contains `needle`, both compared ASCII case-insensitively
    /// (an empty needle: any message with the header). IMAP SEARCH FROM,
    /// SUBJECT, HEADER... answered by the store, without reading summaries.
    async fn search_header(&self, folder: FolderId, name: &str, needle: &str) -> StoreResult<Vec<Uid>>;
    /// The newest `max_hits` messages of `folder` whose indexed text has
    /// every word of `query` as a word prefix, and the newest
    /// `max_unindexed` of those whose bodies aren't indexed yet (the caller
    /// reads and matches them).
    async fn search_text(
        &self,
        folder: FolderId,
        query: &TextQuery,
        max_hits: usize,
        max_unindexed: usize,
    ) -> StoreResult<TextHits>;
    /// The messages of `folder` whose body (as [`MessageText::search_body`]
    /// has it) contains `needle` — lower-case, at least three characters —
    /// from the substring index, and those whose bodies aren't indexed yet.
    async fn search_body(&self, folder: FolderId, needle: &str) -> StoreResult<BodyHits>;
    /// Lists every stored body for indexing again (after an upgrade of the
    /// text extraction); returns how many.
    async fn requeue_text(&self) -> StoreResult<u64>;
    /// Bodies stored but not indexed yet, oldest first: at most `limit`,
    /// and no more once they add up to `max_bytes` (at least one).
    async fn pending_text(&self, limit: usize, max_bytes: usize) -> StoreResult<Vec<PendingText>>;
    /// Indexes extracted texts, by [`PendingText::key`], in one
    /// transaction; a key no longer pending (its body removed) is skipped.
    async fn store_text(&self, texts: Vec<(i64, MessageText)>) -> StoreResult<()>;
    /// How many bodies wait to be indexed.
    async fn text_backlog(&self) -> StoreResult<u64>;
    /// Whether `claim` was taken (by a message stored with it).
    async fn claimed(&self, claim: &Claim) -> StoreResult<bool>;
    /// Removes bodies no message refers to any more, once they have been
    /// unreferenced for `grace_seconds`; returns how many.
    async fn sweep_blobs(&self, grace_seconds: i64) -> StoreResult<usize>;

    /// Changes the flags of the messages `uids` of `folder` (missing UIDs are
    /// skipped). Messages whose flags change share one new MODSEQ; unchanged
    /// ones keep theirs. With `unchanged_since`, a message modified after it
    /// is left alone and reported. What `by` did goes on the mailbox's
    /// activity trail in the same transaction
    /// ([`crate::mail::activity::flag_activity`]; a read only the first
    /// time `by` reads the message). Under per-member read state
    /// ([`crate::mail::seen`]) `\Seen` is `by`'s own: written apart, the
    /// shared flag left alone, and the outcome is `by`'s view.
    async fn store_flags(
        &self,
        folder: FolderId,
        uids: &[Uid],
        change: FlagChange,
        flags: &Flags,
        unchanged_since: Option<ModSeq>,
        by: PrincipalId,
    ) -> StoreResult<FlagsOutcome>;
    /// Removes the messages of `folder` flagged `\Deleted` — only those in
    /// `uids` when given (UID EXPUNGE, RFC 4315 §2.1) — for good: the
    /// expunge of Recoverable Items (a purge, on the trail as `by`'s).
    async fn expunge(&self, folder: FolderId, uids: Option<&[Uid]>, by: PrincipalId)
    -> StoreResult<Expunged>;
    /// The expunge of every other folder (SPEC §5): moves the messages of
    /// `folder` flagged `\Deleted` (only those in `uids` when given) into
    /// its mailbox's Recoverable Items with `\Deleted` cleared, noting
    /// where they were, when, and `by` whom, on the trail too — one transaction. Recoverable
    /// Items doesn't count towards the mailbox's usage (as in Exchange,
    /// where it has a quota of its own), so a delete frees room at once.
    async fn recycle(&self, folder: FolderId, uids: Option<&[Uid]>, by: PrincipalId)
    -> StoreResult<Recycled>;
    /// What Recoverable Items (`folder`) knows of its messages, by UID.
    async fn recoverable_items(&self, folder: FolderId) -> StoreResult<Vec<RecoverableItem>>;
    /// Purges messages that have been in Recoverable Items longer than
    /// their mailbox's `RetainDeletedItemsFor` at `now` (Unix seconds), at
    /// most `limit` in one transaction; returns how many went.
    async fn purge_expired(&self, now: i64, limit: usize) -> StoreResult<usize>;
    /// UIDs expunged from `folder` after `modseq`, ascending.
    async fn expunged_since(&self, folder: FolderId, modseq: ModSeq) -> StoreResult<Vec<Uid>>;
    /// Copies messages (same body, flags and internal date) into `to`, which
    /// may belong to another mailbox; usage is counted there. On the
    /// trail as `by`'s copy (a restore, out of Recoverable Items).
    async fn copy_messages(
        &self,
        from: FolderId,
        uids: &[Uid],
        to: FolderId,
        by: PrincipalId,
    ) -> StoreResult<Copied>;
    /// Moves messages atomically: a copy into `to` and their removal from
    /// `from` (RFC 6851), in one transaction. On the trail as `by`'s move
    /// (a restore, out of Recoverable Items).
    async fn move_messages(
        &self,
        from: FolderId,
        uids: &[Uid],
        to: FolderId,
        by: PrincipalId,
    ) -> StoreResult<(Copied, Expunged)>;
    /// `principal`'s own `\Seen` of messages of `folder` where it differs
    /// from the shared flag (per-member read state), by UID — of the
    /// messages `only` names, when given.
    async fn seen_overrides(
        &self,
        folder: FolderId,
        principal: PrincipalId,
        only: Option<&[Uid]>,
    ) -> StoreResult<Vec<(Uid, bool)>>;
    /// How many of `folder`'s messages are unread for `principal` under
    /// per-member read state (their own `\Seen` where they have one).
    async fn member_unseen(&self, folder: FolderId, principal: PrincipalId) -> StoreResult<u64>;
    /// The activity trail of `mailbox`, newest first, as `query` picks.
    async fn activity(&self, mailbox: MailboxId, query: &ActivityQuery) -> StoreResult<Vec<ActivityEntry>>;
    /// Removes trail entries older than their mailbox's `AuditLogAgeLimit`
    /// at `now` (Unix seconds), at most `limit`; returns how many.
    async fn sweep_activity(&self, now: i64, limit: usize) -> StoreResult<usize>;
    /// A new empty folder with a fresh UIDVALIDITY; `NameTaken` if the
    /// mailbox has one by that name (any case).
    async fn create_folder(&self, mailbox: MailboxId, name: &str) -> StoreResult<Folder>;
    /// Renames folders (a folder and those under it) in one transaction:
    /// all or none; `NameTaken` if a new name is in use.
    async fn rename_folders(&self, renames: &[(FolderId, String)]) -> StoreResult<Vec<Folder>>;
    /// RENAME INBOX (RFC 9051 §6.3.6): a new folder `name` with every
    /// message of `inbox` moved into it, in one transaction.
    async fn rename_inbox(&self, mailbox: MailboxId, inbox: FolderId, name: &str) -> StoreResult<Folder>;
    /// Deletes a folder; its messages go to Recoverable Items, deleted
    /// `by` that principal ([`MailStore::recycle`]), in the same transaction.
    async fn delete_folder(&self, folder: FolderId, by: PrincipalId) -> StoreResult<()>;
    /// The folder names `principal` subscribed to, sorted.
    async fn subscriptions(&self, principal: PrincipalId) -> StoreResult<Vec<String>>;
    /// Subscribes or unsubscribes; `true` if that changed anything.
    async fn set_subscribed(&self, principal: PrincipalId, name: &str, subscribed: bool)
    -> StoreResult<bool>;
}

/// Calendars and their iCalendar resources (CalDAV, SPEC §4). Every mailbox
/// has a default calendar, created with it by [`DirectoryStore::create_recipient`].
#[async_trait]
pub trait CalendarStore: Send + Sync + std::fmt::Debug {
    /// A mailbox's calendars, the default one first, then by slug.
    async fn calendars(&self, mailbox: MailboxId) -> StoreResult<Vec<Calendar>>;
    async fn calendar(&self, mailbox: MailboxId, slug: &str) -> StoreResult<Option<Calendar>>;
    /// `NameTaken` if the mailbox has a calendar with this slug.
    async fn create_calendar(
        &self,
        mailbox: MailboxId,
        slug: &str,
        display_name: &str,
        props: &CalendarProps,
    ) -> StoreResult<Calendar>;
    async fn update_calendar(&self, id: CalendarId, props: &CalendarProps) -> StoreResult<Calendar>;
    /// Removes a calendar with its objects, change log and activity.
    async fn delete_calendar(&self, id: CalendarId) -> StoreResult<()>;
    async fn calendar_object(&self, id: CalendarId, name: &str) -> StoreResult<Option<CalendarObject>>;
    /// Every object of the calendar, by name.
    async fn calendar_objects(&self, id: CalendarId) -> StoreResult<Vec<CalendarObject>>;
    /// The objects with these names (missing ones skipped), by name.
    async fn calendar_objects_named(
        &self,
        id: CalendarId,
        names: &[String],
    ) -> StoreResult<Vec<CalendarObject>>;
    /// Objects whose span overlaps `span` (a superset of a time-range
    /// query's answer: the caller checks each occurrence), by name.
    async fn calendar_objects_overlapping(
        &self,
        id: CalendarId,
        span: TimeSpan,
    ) -> StoreResult<Vec<CalendarObject>>;
    /// Writes an object if `precondition` holds and no other object of the
    /// calendar has its UID, moving the calendar's sync sequence and
    /// recording `actor`'s activity, in one transaction.
    async fn put_calendar_object(
        &self,
        id: CalendarId,
        name: &str,
        object: &NewCalendarObject,
        precondition: &Precondition,
        actor: PrincipalId,
    ) -> StoreResult<PutOutcome>;
    /// Deletes an object (leaving a tombstone for sync), with the same
    /// guarantees as a write.
    async fn delete_calendar_object(
        &self,
        id: CalendarId,
        name: &str,
        precondition: &Precondition,
        actor: PrincipalId,
    ) -> StoreResult<DeleteOutcome>;
    /// Objects written or deleted after `since`, ascending by sequence.
    async fn calendar_changes(&self, id: CalendarId, since: u64) -> StoreResult<Vec<ObjectChange>>;
    /// The most recent activity first, at most `limit` entries.
    async fn calendar_activity(&self, id: CalendarId, limit: usize) -> StoreResult<Vec<CalendarActivity>>;
}

/// The nodes running on one store ([`crate::cluster`]).
#[async_trait]
pub trait ClusterStore: Send + Sync + std::fmt::Debug {
    /// Records `node` as running at `now`: its row is made at its first
    /// beat and its start and version replaced when it starts again.
    async fn heartbeat(&self, node: &crate::cluster::NodeBeat, now: i64) -> StoreResult<()>;
    /// Every node recorded, by name.
    async fn nodes(&self) -> StoreResult<Vec<crate::cluster::NodeStatus>>;
    /// Removes a node's row unless it beat at or after `stale_before`;
    /// whether it was removed.
    async fn forget_node(&self, name: &str, stale_before: i64) -> StoreResult<bool>;
}

/// A backend that keeps the directory, the mail, the calendars and the
/// nodes (one database).
pub trait Store: DirectoryStore + MailStore + CalendarStore + ClusterStore {}

impl<T: DirectoryStore + MailStore + CalendarStore + ClusterStore + ?Sized> Store for T {}
