//! The mail store's domain: folders, inbound routing, delivery and staged
//! quotas (SPEC §3). [`Mail`] decides; the [`MailStore`](crate::store::MailStore)
//! keeps; protocols translate.

pub mod activity;
pub mod assignment;
mod auto_reply;
pub mod forwarding;
pub mod model;
mod notice;
mod open;
pub mod outbound;
mod recoverable;
pub mod seen;
mod sender_auth;
mod sender_policy;
mod submit;
mod text_search;

use std::collections::BTreeSet;
use std::sync::Arc;

use mailroom_types::{EmailAddress, MailboxId};

use crate::directory::{AdminRole, Directory, RecipientKind};
use crate::error::{CoreError, CoreResult};
use crate::store::{
    Copied, Delivered, DeliveryTarget, Expunged, FlagChange, FlagsOutcome, FolderRef, MailStore,
};
use mailroom_types::{ModSeq, Uid};

pub use activity::{ActivityAction, ActivityEntry, ActivityQuery, NewActivity};
pub use auto_reply::AutoReply;
pub use forwarding::{FORWARDED_BY, InboundPlan};
pub use model::*;
pub use open::{MailRights, OpenFolder, OpenMailbox};
pub use outbound::{AfterFailure, Outbound, OutgoingCopy, RetryPolicy};
pub use recoverable::{Recoverable, Restored};
pub use sender_auth::{
    Disposition, DmarcEnforcement, DmarcOutcome, DmarcPolicy, FilterVerdict, SenderChecks, disposition,
};
pub use sender_policy::{OwnOrigin, SenderRefusal};
pub use submit::{Submission, SubmitRefusal, header_problem_text};
pub use text_search::{TextExtractor, TextFound, TextQuery};

/// The role address every domain must accept (RFC 5321 §4.5.1).
pub const POSTMASTER: &str = "postmaster";

/// What to do with one RCPT TO of an unauthenticated (inbound) transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InboundRoute {
    /// Accept; deliver to these mailboxes (a distribution group expanded,
    /// each mailbox once). Empty for a group without members.
    Deliver(Vec<MailboxId>),
    /// An address in one of our domains that nobody has (`550 5.1.1`).
    Unknown,
    /// Not one of our domains: no relaying for unauthenticated clients (`550 5.7.1`).
    Relay,
    /// The mailbox is past ProhibitSendReceive (`552 5.2.2`).
    MailboxFull,
}

/// Who gives a recipient (RCPT TO), for [`Mail::route_recipient`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Submitter {
    /// Nobody signed in (port 25); `null_sender` for `MAIL FROM:<>` (a bounce).
    Anonymous { null_sender: bool },
    /// A signed-in person (submission).
    SignedIn(mailroom_types::PrincipalId),
}

/// Where one recipient of a transaction goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecipientRoute {
    /// Delivered here, to these mailboxes (a group expanded, each once).
    Deliver(Vec<MailboxId>),
    /// Through the outbound queue to this address: a signed-in person's
    /// mail for another domain, or a bounce going back through SRS to the
    /// original sender.
    Queue(EmailAddress),
    /// An address in one of our domains that nobody has (`550 5.1.1`).
    Unknown,
    /// Not ours, and nobody signed in: no open relay (`550 5.7.1`).
    RelayDenied,
    /// Past ProhibitSendReceive (`552 5.2.2`).
    MailboxFull,
}

/// Mail delivery and the mailbox's store, with the rules of SPEC §3.
#[derive(Clone)]
pub struct Mail {
    dir: Directory,
    store: Arc<dyn MailStore>,
    /// Copies delivered into mailboxes since start (for metrics).
    delivered: Arc<std::sync::atomic::AtomicU64>,
}

impl std::fmt::Debug for Mail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mail").field("store", &self.store).finish_non_exhaustive()
    }
}

impl Mail {
    pub fn new(dir: Directory, store: Arc<dyn MailStore>) -> Self {
        Mail { dir, store, delivered: Arc::default() }
    }

    /// Copies delivered into mailboxes by this process since it started.
    pub fn deliveries(&self) -> u64 {
        self.delivered.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn directory(&self) -> &Directory {
        &self.dir
    }

    /// Decides one inbound recipient (SPEC §3: unknown recipients refused at
    /// RCPT, no open relay, mail to a full mailbox refused).
    pub async fn route_inbound(&self, rcpt: &EmailAddress) -> CoreResult<InboundRoute> {
        if !self.dir.is_accepted_domain(rcpt.domain()).await? {
            return Ok(InboundRoute::Relay);
        }
        let recipient = match self.dir.resolve_address(rcpt).await? {
            Some(r) => r,
            // RFC 5321 §4.5.1: postmaster must be accepted, whoever exists.
            None if rcpt.local_part().eq_ignore_ascii_case(POSTMASTER) => {
                return Ok(InboundRoute::Deliver(self.postmaster_mailboxes().await?));
            }
            None => return Ok(InboundRoute::Unknown),
        };
        let candidates = self.mailboxes_of(&recipient).await?;
        if candidates.is_empty() {
            // A group without members: accepted, delivered nowhere.
            return Ok(InboundRoute::Deliver(Vec::new()));
        }
        let mut open = Vec::with_capacity(candidates.len());
        for mailbox in candidates {
            if self.storage_status(mailbox).await?.1 != StorageLimitStatus::MailboxDisabled {
                open.push(mailbox);
            }
        }
        Ok(if open.is_empty() { InboundRoute::MailboxFull } else { InboundRoute::Deliver(open) })
    }

    /// Decides one recipient of a transaction, inbound or submitted (SPEC
    /// §3): local delivery, the outbound queue for a signed-in sender, a
    /// bounce back through one of our SRS addresses, or a refusal.
    /// `srs_original` is the address behind `rcpt` when `rcpt` is an SRS
    /// address the protocol verified with its key; it counts only for
    /// bounces (the null sender, nobody signed in), so a valid SRS address
    /// can't be used to relay.
    pub async fn route_recipient(
        &self,
        submitter: Submitter,
        rcpt: &EmailAddress,
        srs_original: Option<EmailAddress>,
    ) -> CoreResult<RecipientRoute> {
        if let (Submitter::Anonymous { null_sender: true }, Some(original)) = (submitter, srs_original) {
            return Ok(RecipientRoute::Queue(original));
        }
        Ok(match self.route_inbound(rcpt).await? {
            InboundRoute::Deliver(mailboxes) => RecipientRoute::Deliver(mailboxes),
            InboundRoute::Unknown => RecipientRoute::Unknown,
            InboundRoute::MailboxFull => RecipientRoute::MailboxFull,
            // Signed-in senders may send anywhere: the outbound queue takes it.
            InboundRoute::Relay => match submitter {
                Submitter::SignedIn(_) => RecipientRoute::Queue(rcpt.clone()),
                Submitter::Anonymous { .. } => RecipientRoute::RelayDenied,
            },
        })
    }

    /// The mailboxes mail to `recipient` reaches: its own, or a group's
    /// members' (nested groups expanded, each mailbox once).
    pub(crate) async fn mailboxes_of(
        &self,
        recipient: &crate::directory::Recipient,
    ) -> CoreResult<Vec<MailboxId>> {
        Ok(match recipient.kind {
            RecipientKind::UserMailbox | RecipientKind::SharedMailbox => {
                recipient.mailbox_id().into_iter().collect()
            }
            RecipientKind::SecurityGroup | RecipientKind::DistributionGroup => self
                .dir
                .expand_to_mailboxes(recipient.id)
                .await?
                .iter()
                .filter_map(|m| m.mailbox_id())
                .collect(),
        })
    }

    /// Where mail to `postmaster@` a domain that has no such address goes
    /// (RFC 5321 §4.5.1: it must be accepted): the recipient that holds
    /// `postmaster@` the default domain; else the global admins; else the
    /// exchange admins; else a shared mailbox `Postmaster` made now
    /// ([`Self::create_postmaster_mailbox`]), so it is never refused.
    pub async fn postmaster_mailboxes(&self) -> CoreResult<Vec<MailboxId>> {
        let default = self.dir.default_domain().await?;
        let configured = EmailAddress::from_parts(POSTMASTER, default);
        if let Some(holder) = self.dir.resolve_address(&configured).await? {
            let mailboxes = self.mailboxes_of(&holder).await?;
            if !mailboxes.is_empty() {
                return Ok(mailboxes);
            }
        }
        for role in [AdminRole::GlobalAdmin, AdminRole::ExchangeAdmin] {
            let admins = self.admin_mailboxes(role).await?;
            if !admins.is_empty() {
                return Ok(admins);
            }
        }
        let created = self.create_postmaster_mailbox().await?;
        tracing::warn!(address = %created.primary_address, "no postmaster and no admin: created a shared mailbox for postmaster mail");
        Ok(created.mailbox_id().into_iter().collect())
    }

    /// A shared mailbox `Postmaster` at `postmaster@` the default domain,
    /// for an organisation with nobody to read postmaster mail (made by
    /// `init` without an admin). Members are added like any shared mailbox's.
    pub async fn create_postmaster_mailbox(&self) -> CoreResult<crate::directory::Recipient> {
        let default = self.dir.default_domain().await?;
        let spec = crate::directory::NewMailbox {
            name: "Postmaster".into(),
            display_name: Some("Postmaster".into()),
            alias: Some(POSTMASTER.into()),
            primary_address: Some(EmailAddress::from_parts(POSTMASTER, default)),
            kind: crate::directory::NewMailboxKind::Shared,
        };
        self.dir.create_mailbox(&crate::directory::Actor::System, spec).await
    }

    async fn admin_mailboxes(&self, role: AdminRole) -> CoreResult<Vec<MailboxId>> {
        let mut out = Vec::new();
        for user in self.dir.list(&[RecipientKind::UserMailbox]).await? {
            if self.dir.account(user.id).await?.roles.contains(&role) {
                out.extend(user.mailbox_id());
            }
        }
        Ok(out)
    }

    /// Delivers one message to the Inbox of each mailbox (each once), durably,
    /// then sends a quota warning to any mailbox this delivery took past its
    /// warning level for the first time (SPEC §3).
    pub async fn deliver(
        &self,
        bytes: Vec<u8>,
        summary: &MessageSummary,
        mailboxes: &[MailboxId],
    ) -> CoreResult<Vec<Delivered>> {
        self.deliver_with_copies(bytes, summary, mailboxes, SpecialUse::Inbox, Vec::new()).await
    }

    /// [`Self::deliver`] into the mailboxes' `into` folder (the Inbox, or
    /// Junk Email for mail the checks found suspect), and in the same
    /// transaction the copies it causes for other domains (forwarded
    /// copies, bounces going back through SRS): acknowledged together, so a
    /// sender's retry after a failure can't queue a copy twice.
    pub async fn deliver_with_copies(
        &self,
        bytes: Vec<u8>,
        summary: &MessageSummary,
        mailboxes: &[MailboxId],
        into: SpecialUse,
        copies: Vec<outbound::OutgoingCopy>,
    ) -> CoreResult<Vec<Delivered>> {
        let unique: BTreeSet<MailboxId> = mailboxes.iter().copied().collect();
        if unique.is_empty() && copies.is_empty() {
            return Ok(Vec::new());
        }
        let targets: Vec<DeliveryTarget> = unique
            .iter()
            .map(|&mailbox| DeliveryTarget {
                mailbox,
                folder: FolderRef::Special(into),
                flags: Flags::default(),
            })
            .collect();
        let activity = activity::delivered(&targets, summary);
        let delivered = if copies.is_empty() {
            self.store_local(bytes, summary, &targets, activity).await?
        } else {
            self.store_with_copies(bytes, summary, targets, &Outbound::default(), copies, activity).await?
        };
        self.delivered.fetch_add(delivered.len() as u64, std::sync::atomic::Ordering::Relaxed);
        for copy in &delivered {
            // The message is durable now: a failing warning must not turn
            // into an error the sender retries (and so a second copy).
            if let Err(err) = self.warn_if_over_quota(copy).await {
                tracing::warn!(mailbox = %copy.mailbox, error = %err, "could not deliver the quota warning");
            }
        }
        Ok(delivered)
    }

    async fn store_local(
        &self,
        bytes: Vec<u8>,
        summary: &MessageSummary,
        targets: &[DeliveryTarget],
        activity: Vec<NewActivity>,
    ) -> CoreResult<Vec<Delivered>> {
        self.store_local_at(bytes, summary, chrono::Utc::now().timestamp(), targets, activity).await
    }

    /// One message into local folders, with its trail entries, in one transaction.
    async fn store_local_at(
        &self,
        bytes: Vec<u8>,
        summary: &MessageSummary,
        internal_date: i64,
        targets: &[DeliveryTarget],
        activity: Vec<NewActivity>,
    ) -> CoreResult<Vec<Delivered>> {
        let message = crate::store::NewMessage {
            bytes,
            summary: summary.clone(),
            internal_date,
            targets: targets.to_vec(),
            queue: Vec::new(),
            claim: None,
            activity,
        };
        let mut stored = self.store.deliver_batch(vec![message], &[]).await?;
        Ok(stored.pop().map(|(_, delivered)| delivered).unwrap_or_default())
    }

    /// The warning goes in one transaction with its claim, so exactly one
    /// is delivered; should the process die before this runs, the next
    /// delivery to the mailbox (still past the level, still unclaimed)
    /// sends it.
    async fn warn_if_over_quota(&self, copy: &Delivered) -> CoreResult<()> {
        let settings = self.dir.mailbox_settings(copy.mailbox).await?;
        if !settings.quota.issue_warning.exceeded_by(copy.usage.bytes) {
            return Ok(());
        }
        let claim = crate::store::Claim::QuotaWarning(copy.mailbox);
        if self.store.claimed(&claim).await? {
            return Ok(());
        }
        let recipient = self.dir.recipient(copy.mailbox.principal()).await?;
        let domain = self.dir.default_domain().await?;
        let (bytes, summary) = notice::quota_warning(&recipient, &domain, copy.usage, &settings.quota);
        let target = DeliveryTarget {
            mailbox: copy.mailbox,
            folder: FolderRef::Special(SpecialUse::Inbox),
            flags: Flags::default(),
        };
        let activity = activity::delivered(std::slice::from_ref(&target), &summary);
        let warning = crate::store::NewMessage {
            bytes,
            summary,
            internal_date: chrono::Utc::now().timestamp(),
            targets: vec![target],
            queue: Vec::new(),
            claim: Some(claim),
            activity,
        };
        let stored = self.store.deliver_batch(vec![warning], &[]).await?;
        if stored.iter().any(|(_, delivered)| !delivered.is_empty()) {
            tracing::info!(mailbox = %copy.mailbox, bytes = copy.usage.bytes, "quota warning delivered");
        }
        Ok(())
    }

    /// Usage and where it stands against the staged quota.
    pub async fn storage_status(&self, mailbox: MailboxId) -> CoreResult<(MailboxUsage, StorageLimitStatus)> {
        let settings = self.dir.mailbox_settings(mailbox).await?;
        let usage = self.store.usage(mailbox).await?;
        let q = settings.quota;
        let status = if q.prohibit_send_receive.exceeded_by(usage.bytes) {
            StorageLimitStatus::MailboxDisabled
        } else if q.prohibit_send.exceeded_by(usage.bytes) {
            StorageLimitStatus::ProhibitSend
        } else if q.issue_warning.exceeded_by(usage.bytes) {
            StorageLimitStatus::IssueWarning
        } else {
            StorageLimitStatus::BelowLimit
        };
        Ok((usage, status))
    }

    /// Refuses adding to a mailbox past ProhibitSendReceive (SPEC §3); the
    /// same rule SMTP applies at RCPT, for APPEND, COPY and MOVE.
    async fn require_room(&self, mailbox: MailboxId) -> CoreResult<()> {
        if self.storage_status(mailbox).await?.1 == StorageLimitStatus::MailboxDisabled {
            let owner = self.dir.recipient(mailbox.principal()).await?;
            return Err(CoreError::MailboxFull { mailbox: owner.primary_address.to_string() });
        }
        Ok(())
    }

    /// Adds a message to a folder (IMAP APPEND) with its flags and internal
    /// date, durably.
    pub async fn append(
        &self,
        folder: &OpenFolder,
        bytes: Vec<u8>,
        summary: &MessageSummary,
        flags: Flags,
        internal_date: i64,
    ) -> CoreResult<Delivered> {
        open::require_folder_right(folder, |r| r.insert)?;
        self.require_room(folder.mailbox()).await?;
        let target = DeliveryTarget { mailbox: folder.mailbox(), folder: FolderRef::Id(folder.id()), flags };
        let saved = saved_by(folder);
        let delivered = self.store_local_at(bytes, summary, internal_date, &[target], saved).await?;
        delivered.into_iter().next().ok_or_else(|| CoreError::NotFound { identity: folder.id().to_string() })
    }

    /// Adds several messages to a folder in one transaction (IMAP
    /// MULTIAPPEND, RFC 3502): all durable, or none. Each is (bytes,
    /// summary, flags, internal date); the answer is in the same order.
    pub async fn append_many(
        &self,
        folder: &OpenFolder,
        messages: Vec<(Vec<u8>, MessageSummary, Flags, i64)>,
    ) -> CoreResult<Vec<Delivered>> {
        open::require_folder_right(folder, |r| r.insert)?;
        self.require_room(folder.mailbox()).await?;
        let count = messages.len();
        let batch = messages
            .into_iter()
            .map(|(bytes, summary, flags, internal_date)| crate::store::NewMessage {
                bytes,
                summary,
                internal_date,
                targets: vec![DeliveryTarget {
                    mailbox: folder.mailbox(),
                    folder: FolderRef::Id(folder.id()),
                    flags,
                }],
                queue: Vec::new(),
                claim: None,
                activity: saved_by(folder),
            })
            .collect();
        let stored = self.store.deliver_batch(batch, &[]).await?;
        let delivered: Vec<Delivered> = stored.into_iter().flat_map(|(_, copies)| copies).collect();
        // Committed: the client is told of what was stored, never NO for it.
        if delivered.len() != count {
            tracing::error!(folder = %folder.id(), count, stored = delivered.len(), "append_many stored fewer copies");
        }
        Ok(delivered)
    }

    /// Changes flags (IMAP STORE), with RFC 4314's rights: `\Seen` needs
    /// the right to keep read state (`s`), `\Deleted` the right to expunge
    /// (`t`), anything else the right to write flags (`w`); a replace names
    /// them all. In Recoverable Items only `\Deleted` changes, and only for
    /// those who may purge.
    pub async fn store_flags(
        &self,
        folder: &OpenFolder,
        uids: &[Uid],
        change: FlagChange,
        flags: &Flags,
        unchanged_since: Option<ModSeq>,
    ) -> CoreResult<FlagsOutcome> {
        let replace = change == FlagChange::Replace;
        let seen = replace || flags.has(SystemFlag::Seen);
        let deleted = replace || flags.has(SystemFlag::Deleted);
        let others = replace
            || !flags.keywords.is_empty()
            || flags.system & !(SystemFlag::Seen as u8 | SystemFlag::Deleted as u8) != 0;
        open::require_folder_right(folder, |r| {
            (!seen || r.keep_seen) && (!deleted || r.expunge) && (!others || r.write_flags)
        })?;
        let by = folder.opened().principal();
        let mut outcome =
            self.store.store_flags(folder.id(), uids, change, flags, unchanged_since, by).await?;
        if folder.opened().per_member_seen() && !seen::touches_seen(change, flags) {
            // The store answered with the shared `\Seen`: the member's own
            // goes over it (a STORE of `\Seen` answers with it already).
            let updated: Vec<Uid> = outcome.updated.iter().map(|u| u.uid).collect();
            if let Some(own) = self.seen_overlay_of(folder, Some(&updated)).await? {
                for update in &mut outcome.updated {
                    if let Some(&mine) = own.get(&update.uid) {
                        update.flags = seen::with_seen(&update.flags, mine);
                    }
                }
            }
        }
        Ok(outcome)
    }

    /// Expunges `\Deleted` messages (all, or those in `uids`). Outside
    /// Recoverable Items they move there (SPEC §5) and stay for the
    /// mailbox's retention period; in Recoverable Items they are purged,
    /// which needs the right to purge (not NoPurge). Either way the folder
    /// expunged loses them, which is all its sessions see.
    pub async fn expunge(&self, folder: &OpenFolder, uids: Option<&[Uid]>) -> CoreResult<Expunged> {
        open::require_folder_right(folder, |r| r.expunge)?;
        if folder.is_recoverable() {
            return Ok(self.store.expunge(folder.id(), uids, folder.opened().principal()).await?);
        }
        let adding = match uids {
            None => self.store.folder_counts(folder.id()).await?.deleted_size,
            Some(uids) => {
                let chosen = self.store.messages_by_uid(folder.id(), uids).await?;
                chosen.iter().filter(|m| m.flags.has(SystemFlag::Deleted)).map(|m| m.size).sum()
            }
        };
        self.require_recoverable_room(folder.mailbox(), adding).await?;
        Ok(self.store.recycle(folder.id(), uids, folder.opened().principal()).await?.expunged)
    }

    /// Deletes these messages (the web app's Delete in Deleted Items, and
    /// its Delete permanently in Recoverable Items): `\Deleted`, then the
    /// expunge of just them. If the expunge is refused (Recoverable Items
    /// full, no right to purge) the flag comes off again, so no later
    /// EXPUNGE by anyone takes them by surprise.
    pub async fn delete_messages(&self, folder: &OpenFolder, uids: &[Uid]) -> CoreResult<Expunged> {
        let by = folder.opened().principal();
        let deleted = Flags::default().with(SystemFlag::Deleted);
        self.store_flags(folder, uids, FlagChange::Add, &deleted, None).await?;
        match self.expunge(folder, Some(uids)).await {
            Ok(expunged) => Ok(expunged),
            Err(err) => {
                if let Err(undo) =
                    self.store.store_flags(folder.id(), uids, FlagChange::Remove, &deleted, None, by).await
                {
                    tracing::warn!(error = %undo, "a refused delete left its messages flagged \\Deleted");
                }
                Err(err)
            }
        }
    }

    /// Removes a message the server itself replaced with a newer one (a
    /// draft saved again from the web app): not a person's delete, so it
    /// goes for good where the person may purge, and to Recoverable Items
    /// (as any delete) where their grant is NoPurge.
    pub async fn discard_replaced(&self, folder: &OpenFolder, uids: &[Uid]) -> CoreResult<()> {
        if !folder.rights().purge || folder.is_recoverable() {
            return self.delete_messages(folder, uids).await.map(|_| ());
        }
        let deleted = Flags::default().with(SystemFlag::Deleted);
        self.store_flags(folder, uids, FlagChange::Add, &deleted, None).await?;
        self.store.expunge(folder.id(), Some(uids), folder.opened().principal()).await?;
        Ok(())
    }

    /// Refuses a delete that would take Recoverable Items past its
    /// `RecoverableItemsQuota` (checked before the delete: deletes running
    /// at the same moment may each pass).
    async fn require_recoverable_room(&self, mailbox: MailboxId, adding: u64) -> CoreResult<()> {
        if adding == 0 {
            return Ok(());
        }
        let settings = self.dir.mailbox_settings(mailbox).await?;
        let crate::directory::Quota::Bytes(limit) = settings.recoverable_items_quota else { return Ok(()) };
        let folders = self.folders(mailbox).await?;
        let held =
            folders.iter().find(|f| f.special_use == Some(SpecialUse::Recoverable)).map_or(0, |f| f.size);
        if held.saturating_add(adding) > limit {
            let owner = self.dir.recipient(mailbox.principal()).await?;
            return Err(CoreError::RecoverableItemsFull { mailbox: owner.primary_address.to_string() });
        }
        Ok(())
    }

    /// Copies messages into `to`, which may be in another opened mailbox.
    /// A copy out of Recoverable Items restores the message and leaves it
    /// recoverable too.
    pub async fn copy(&self, from: &OpenFolder, uids: &[Uid], to: &OpenFolder) -> CoreResult<Copied> {
        open::require_folder_right(from, |r| r.read)?;
        open::require_folder_right(to, |r| r.insert)?;
        self.require_room(to.mailbox()).await?;
        Ok(self.store.copy_messages(from.id(), uids, to.id(), from.opened().principal()).await?)
    }

    /// Moves messages (RFC 6851): a copy and the removal, in one
    /// transaction. Out of Recoverable Items a move is a restore: reading
    /// the folder is enough, since it destroys nothing (RFC 4314's `t` and
    /// `e` there are the right to purge).
    pub async fn move_messages(
        &self,
        from: &OpenFolder,
        uids: &[Uid],
        to: &OpenFolder,
    ) -> CoreResult<(Copied, Expunged)> {
        let elsewhere = from.mailbox() != to.mailbox();
        let may_purge = from.rights().purge;
        if from.is_recoverable() {
            open::require_folder_right(from, |r| r.read)?;
            // Out of the mailbox is out of reach of its Recoverable Items:
            // a restore stays home unless the member may purge anyway.
            if elsewhere && !may_purge {
                return Err(CoreError::NoPurge { mailbox: from.mailbox().to_string() });
            }
        } else {
            open::require_folder_right(from, |r| r.read && r.expunge)?;
        }
        open::require_folder_right(to, |r| r.insert)?;
        // Within one mailbox a move adds nothing to it — except out of
        // Recoverable Items, which isn't counted.
        if elsewhere || from.is_recoverable() {
            self.require_room(to.mailbox()).await?;
        }
        if elsewhere && !may_purge && !from.is_recoverable() {
            // A NoPurge member's move to another mailbox leaves the
            // originals recoverable here, as their delete would: a copy,
            // then the originals recycled. A failure between the steps
            // leaves one more copy, never one fewer.
            let sizes = self.store.messages_by_uid(from.id(), uids).await?;
            self.require_recoverable_room(from.mailbox(), sizes.iter().map(|m| m.size).sum()).await?;
            let by = from.opened().principal();
            let copied = self.store.copy_messages(from.id(), uids, to.id(), by).await?;
            let moved: Vec<Uid> = copied.pairs.iter().map(|(old, _)| *old).collect();
            let deleted = Flags::default().with(SystemFlag::Deleted);
            self.store.store_flags(from.id(), &moved, FlagChange::Add, &deleted, None, by).await?;
            let recycled = self.store.recycle(from.id(), Some(&moved), by).await?;
            return Ok((copied, recycled.expunged));
        }
        Ok(self.store.move_messages(from.id(), uids, to.id(), from.opened().principal()).await?)
    }

    /// Creates a folder (IMAP CREATE). Names are unique without case.
    pub async fn create_folder(&self, mailbox: &OpenMailbox, name: &str) -> CoreResult<Folder> {
        open::require_right(mailbox, |r| r.create_folders)?;
        self.require_outside_recoverable(mailbox.mailbox(), name).await?;
        Ok(self.store.create_folder(mailbox.mailbox(), name).await?)
    }

    /// Renames a folder and every folder under it (`Projects` and
    /// `Projects/2026` alike), in one transaction: a failure renames
    /// nothing. The default folders keep their names (as in Exchange:
    /// clients find them by their special use) — except that renaming the
    /// Inbox, as IMAP defines it (RFC 9051 §6.3.6), moves its messages into
    /// a new folder of that name and leaves the Inbox empty, also at once.
    pub async fn rename_folder(&self, folder: &OpenFolder, new_path: &str) -> CoreResult<Folder> {
        open::require_right(folder.opened(), |r| r.create_folders)?;
        let current = folder.folder();
        if current.special_use == Some(SpecialUse::Inbox) {
            open::require_right(folder.opened(), |r| r.insert && r.expunge)?;
            self.require_outside_recoverable(folder.mailbox(), new_path).await?;
            return Ok(self.store.rename_inbox(folder.mailbox(), current.id, new_path).await?);
        }
        if current.special_use.is_some() {
            return Err(CoreError::Invalid(format!(
                "\"{}\" is a default folder and keeps its name.",
                current.name
            )));
        }
        let old = current.name.clone();
        let children = self.folders(folder.mailbox()).await?.into_iter().filter(|f| {
            f.name.get(..old.len()).is_some_and(|head| head.eq_ignore_ascii_case(&old))
                && f.name.get(old.len()..).is_some_and(|rest| rest.starts_with('/'))
        });
        self.require_outside_recoverable(folder.mailbox(), new_path).await?;
        let mut renames = vec![(current.id, new_path.to_string())];
        renames.extend(children.map(|child| {
            let rest = child.name.get(old.len()..).unwrap_or_default();
            (child.id, format!("{new_path}{rest}"))
        }));
        let mut renamed = self.store.rename_folders(&renames).await?;
        Ok(renamed.swap_remove(0))
    }

    /// Deletes a folder; its messages go to Recoverable Items (SPEC §5).
    /// The default folders stay.
    pub async fn delete_folder(&self, folder: &OpenFolder) -> CoreResult<()> {
        open::require_right(folder.opened(), |r| r.delete_folders)?;
        if folder.folder().special_use.is_some() {
            return Err(CoreError::Invalid(format!(
                "\"{}\" is a default folder and can't be deleted.",
                folder.folder().name
            )));
        }
        let size = self.store.folder_counts(folder.id()).await?.size;
        self.require_recoverable_room(folder.mailbox(), size).await?;
        Ok(self.store.delete_folder(folder.id(), folder.opened().principal()).await?)
    }

    /// Folders under Recoverable Items would be folders nothing can be
    /// added to: refused, with the reason.
    async fn require_outside_recoverable(&self, mailbox: MailboxId, path: &str) -> CoreResult<()> {
        let recoverable = SpecialUse::Recoverable.folder_name();
        let under = path.get(..recoverable.len()).is_some_and(|head| head.eq_ignore_ascii_case(recoverable))
            && path.get(recoverable.len()..).is_some_and(|rest| rest.starts_with('/'));
        if under
            && self.folders(mailbox).await?.iter().any(|f| f.special_use == Some(SpecialUse::Recoverable))
        {
            return Err(CoreError::Invalid(format!(
                "\"{recoverable}\" keeps deleted messages and can't hold folders; choose another place for \"{path}\"."
            )));
        }
        Ok(())
    }

    /// A mailbox's folders with their counters, for an admin's statistics
    /// (`Get-MailboxFolderStatistics`): names and sizes, no content.
    pub async fn folder_statistics(
        &self,
        actor: &crate::directory::Actor,
        mailbox: MailboxId,
    ) -> CoreResult<Vec<Folder>> {
        self.dir.require_admin(actor).await?;
        self.folders(mailbox).await
    }

    /// A mailbox's folders (policy-free: callers are `core`'s own).
    async fn folders(&self, mailbox: MailboxId) -> CoreResult<Vec<Folder>> {
        let folders = self.store.folders(mailbox).await?;
        if folders.is_empty() {
            // Every mailbox has its folders; none means it isn't a mailbox.
            return Err(CoreError::NotFound { identity: mailbox.to_string() });
        }
        Ok(folders)
    }
}

/// The trail entry of a message a member adds to a folder (IMAP APPEND).
fn saved_by(folder: &OpenFolder) -> Vec<NewActivity> {
    vec![NewActivity {
        mailbox: folder.mailbox(),
        actor: Some(folder.opened().principal()),
        action: ActivityAction::Saved,
        detail: format!("in {}", folder.folder().name),
    }]
}
