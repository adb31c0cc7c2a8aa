//! The one door to mail. Every read and write of a mailbox's folders and
//! messages goes through an [`OpenMailbox`] or [`OpenFolder`], which only
//! [`Mail`] hands out: it computes the principal's effective rights when it
//! opens the mailbox (SPEC §2: the owner, or Full Access directly or through
//! a group), and an opened folder is one that belongs to the opened
//! mailbox, found by `core` among the mailbox's folders. Messages are read
//! by (opened folder, UID), so a protocol can't reach another mailbox's
//! messages by a bare folder or body id; and the rights a protocol shows
//! (IMAP's RFC 4314 letters) are a rendering of [`MailRights`], not a
//! decision of its own.

use mailroom_types::{FolderId, MailboxId, ModSeq, PrincipalId, Uid};

use super::{Folder, FolderCounts, FolderIndex, Mail, MessageSummary, SpecialUse, StoredMessage, SystemFlag};
use crate::error::{CoreError, CoreResult};

/// What a principal may do with a mailbox's mail. RFC 4314's rights are
/// named after the same capabilities (`l r s w i p k x t e a`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MailRights {
    /// See the mailbox's folders (LIST).
    pub lookup: bool,
    /// Open folders and read messages.
    pub read: bool,
    /// Keep `\Seen` (read state) across sessions.
    pub keep_seen: bool,
    /// Change flags other than `\Seen` and `\Deleted`.
    pub write_flags: bool,
    /// Add messages (APPEND, COPY and MOVE into a folder).
    pub insert: bool,
    /// Submit mail to the folder (RFC 4314 `p`).
    pub post: bool,
    /// Create and rename folders.
    pub create_folders: bool,
    /// Delete folders.
    pub delete_folders: bool,
    /// Mark messages `\Deleted` and expunge them. Outside Recoverable
    /// Items an expunge keeps the messages there for the retention period.
    pub expunge: bool,
    /// Destroy messages: expunge them from Recoverable Items. The owner's
    /// right, and a Full Access holder's unless every grant that gives
    /// them access says NoPurge.
    pub purge: bool,
    /// Read who holds rights on the mailbox (changing them is an admin's
    /// cmdlet, never a member's).
    pub admin: bool,
}

impl MailRights {
    /// The owner's rights, and a Full Access holder's: Exchange's Full
    /// Access is all of the mailbox's content, and nothing less.
    pub const FULL: MailRights = MailRights {
        lookup: true,
        read: true,
        keep_seen: true,
        write_flags: true,
        insert: true,
        post: true,
        create_folders: true,
        delete_folders: true,
        expunge: true,
        purge: true,
        admin: true,
    };

    /// Nothing: someone without access.
    pub const NONE: MailRights = MailRights {
        lookup: false,
        read: false,
        keep_seen: false,
        write_flags: false,
        insert: false,
        post: false,
        create_folders: false,
        delete_folders: false,
        expunge: false,
        purge: false,
        admin: false,
    };

    /// Whether these rights allow no change to a folder at all — none of
    /// RFC 4314's `i`, `e`, `s`, `w`, `t` — so that a SELECT of it must say
    /// READ-ONLY (RFC 4314 §5.2).
    pub fn change_nothing(self) -> bool {
        !(self.insert || self.expunge || self.keep_seen || self.write_flags)
    }

    /// The rights in `folder`. Recoverable Items is read-only: nothing is
    /// added to it but by a delete, its flags stay as they were, and an
    /// expunge there destroys, so `\Deleted` and EXPUNGE need the right to
    /// purge. Moving a message out of it restores the message, which
    /// reading it allows ([`Mail::move_messages`]).
    pub fn in_folder(self, folder: &Folder) -> MailRights {
        if folder.special_use != Some(SpecialUse::Recoverable) {
            return self;
        }
        MailRights {
            keep_seen: false,
            write_flags: false,
            insert: false,
            post: false,
            create_folders: false,
            delete_folders: false,
            expunge: self.purge,
            ..self
        }
    }
}

/// A mailbox opened by a principal, with the rights it holds there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenMailbox {
    principal: PrincipalId,
    mailbox: MailboxId,
    rights: MailRights,
    /// `\Seen` is the principal's own here (`SharedSeenState PerMember`).
    per_member_seen: bool,
}

impl OpenMailbox {
    /// A mailbox opened for an administrator's cmdlet, with the rights
    /// that cmdlet needs (checked by the caller: an admin role).
    pub(super) fn for_admin(principal: PrincipalId, mailbox: MailboxId, rights: MailRights) -> Self {
        OpenMailbox { principal, mailbox, rights, per_member_seen: false }
    }

    /// Whether `\Seen` in this mailbox is the principal's own ([`super::seen`]).
    pub fn per_member_seen(&self) -> bool {
        self.per_member_seen
    }

    pub fn principal(&self) -> PrincipalId {
        self.principal
    }

    pub fn mailbox(&self) -> MailboxId {
        self.mailbox
    }

    pub fn rights(&self) -> MailRights {
        self.rights
    }
}

/// A folder of an opened mailbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenFolder {
    mailbox: OpenMailbox,
    folder: Folder,
}

impl OpenFolder {
    /// The folder as it was when opened (or last refreshed).
    pub fn folder(&self) -> &Folder {
        &self.folder
    }

    pub fn id(&self) -> FolderId {
        self.folder.id
    }

    pub fn mailbox(&self) -> MailboxId {
        self.mailbox.mailbox
    }

    pub fn opened(&self) -> &OpenMailbox {
        &self.mailbox
    }

    /// The rights in this folder ([`MailRights::in_folder`]).
    pub fn rights(&self) -> MailRights {
        self.mailbox.rights.in_folder(&self.folder)
    }

    /// This folder under its mailbox opened again — with the rights as they
    /// are now (a grant changed to NoPurge, say); `None` for another mailbox.
    pub fn under(&self, mailbox: &OpenMailbox) -> Option<OpenFolder> {
        (mailbox.mailbox == self.mailbox.mailbox)
            .then(|| OpenFolder { mailbox: mailbox.clone(), folder: self.folder.clone() })
    }

    /// Whether this is the mailbox's Recoverable Items.
    pub fn is_recoverable(&self) -> bool {
        self.folder.special_use == Some(SpecialUse::Recoverable)
    }
}

/// Refuses an operation the rights don't cover.
fn require(open: &OpenMailbox, allowed: bool) -> CoreResult<()> {
    if allowed { Ok(()) } else { Err(CoreError::NoAccess { mailbox: open.mailbox.to_string() }) }
}

impl Mail {
    /// Opens `mailbox` for `principal`: its own, or one it holds Full
    /// Access to (directly or through a group). `NoAccess` otherwise, and
    /// `NotFound` for a recipient without a mailbox.
    pub async fn open_mailbox(&self, principal: PrincipalId, mailbox: MailboxId) -> CoreResult<OpenMailbox> {
        let rights = self.rights(principal, mailbox).await?;
        if rights == MailRights::NONE {
            let owner = self.dir.recipient(mailbox.principal()).await?;
            return Err(CoreError::NoAccess { mailbox: owner.primary_address.to_string() });
        }
        // A person's own mailbox has one reader: no setting to read.
        let per_member_seen =
            mailbox.principal() != principal && self.dir.mailbox_settings(mailbox).await?.per_member_seen;
        Ok(OpenMailbox { principal, mailbox, rights, per_member_seen })
    }

    /// The effective rights of `principal` on `mailbox` (none for a
    /// mailbox that doesn't exist).
    async fn rights(&self, principal: PrincipalId, mailbox: MailboxId) -> CoreResult<MailRights> {
        let open = crate::permissions::MailboxAction::Open;
        let Some(access) = self.dir.access_if_mailbox(principal, mailbox).await? else {
            return Ok(MailRights::NONE);
        };
        Ok(if access.allows(open) {
            MailRights { purge: access.may_purge, ..MailRights::FULL }
        } else {
            MailRights::NONE
        })
    }

    /// The opened mailbox's folders, Inbox first then by name.
    pub async fn folders_in(&self, open: &OpenMailbox) -> CoreResult<Vec<Folder>> {
        require(open, open.rights.lookup)?;
        self.folders(open.mailbox).await
    }

    /// The first folder of the opened mailbox that `wanted` picks, as the
    /// store lists them (Inbox first, then by name); `None` if none does.
    pub async fn find_folder(
        &self,
        open: &OpenMailbox,
        wanted: impl Fn(&Folder) -> bool,
    ) -> CoreResult<Option<OpenFolder>> {
        require(open, open.rights.read)?;
        let found = self.folders_in(open).await?.into_iter().find(|f| wanted(f));
        Ok(found.map(|folder| OpenFolder { mailbox: open.clone(), folder }))
    }

    /// Every folder of the opened mailbox, opened, from one listing (a
    /// folder pane).
    pub async fn open_folders(&self, open: &OpenMailbox) -> CoreResult<Vec<OpenFolder>> {
        require(open, open.rights.read)?;
        let folders = self.folders_in(open).await?;
        Ok(folders.into_iter().map(|folder| OpenFolder { mailbox: open.clone(), folder }).collect())
    }

    /// Opens a folder of the opened mailbox by id; `NotFound` if the
    /// mailbox has no such folder (another mailbox's folder included).
    pub async fn open_folder(&self, open: &OpenMailbox, folder: FolderId) -> CoreResult<OpenFolder> {
        self.find_folder(open, |f| f.id == folder)
            .await?
            .ok_or_else(|| CoreError::NotFound { identity: folder.to_string() })
    }

    /// The folder read again (its counters now): one row, not the
    /// mailbox's listing (every IMAP command that reports changes asks).
    pub async fn reopen(&self, folder: &OpenFolder) -> CoreResult<OpenFolder> {
        require(&folder.mailbox, folder.mailbox.rights.read)?;
        match self.store.folder(folder.id()).await? {
            Some(now) if now.mailbox == folder.mailbox.mailbox => {
                Ok(OpenFolder { mailbox: folder.mailbox.clone(), folder: now })
            }
            _ => Err(CoreError::NotFound { identity: folder.id().to_string() }),
        }
    }

    // --- reading ---

    /// What opening a folder needs: its UIDs, first unseen, keywords.
    pub async fn folder_index(&self, folder: &OpenFolder) -> CoreResult<FolderIndex> {
        let mut index = self.store.folder_index(folder.id()).await?;
        if let Some(own) = self.seen_overlay(folder).await? {
            // The member's first unseen, from their view of every message
            // (read, not copied).
            let messages = self.store.messages(folder.id()).await?;
            index.first_unseen = messages
                .iter()
                .position(|m| !own.get(&m.uid).copied().unwrap_or_else(|| m.flags.has(SystemFlag::Seen)))
                .map(|p| p as u32 + 1);
        }
        Ok(index)
    }

    /// A folder's counters, without reading its messages (but for a
    /// member's own read states, under per-member read state).
    pub async fn folder_counts(&self, folder: &OpenFolder) -> CoreResult<FolderCounts> {
        let mut counts = self.store.folder_counts(folder.id()).await?;
        counts.unseen = self.member_unseen(folder, counts.unseen).await?;
        Ok(counts)
    }

    /// The unseen count `shared` as the member sees it (counted by the
    /// store, from their own states, under per-member read state).
    async fn member_unseen(&self, folder: &OpenFolder, shared: u64) -> CoreResult<u64> {
        if !folder.opened().per_member_seen() {
            return Ok(shared);
        }
        Ok(self.store.member_unseen(folder.id(), folder.opened().principal()).await?)
    }

    /// Claims IMAP's `\Recent` for the messages of `folder` up to
    /// `through`; returns the mark before (see
    /// [`crate::store::MailStore::claim_recent`]). Opening the folder was
    /// the check: any session that may see the messages may claim them.
    pub async fn claim_recent(&self, folder: &OpenFolder, through: Uid) -> CoreResult<Uid> {
        Ok(self.store.claim_recent(folder.id(), through).await?)
    }

    /// Every message of the folder, in UID order.
    pub async fn messages(&self, folder: &OpenFolder) -> CoreResult<std::sync::Arc<Vec<StoredMessage>>> {
        let messages = self.store.messages(folder.id()).await?;
        match self.seen_overlay(folder).await? {
            None => Ok(messages),
            Some(own) => {
                let mut mine = messages.as_ref().clone();
                super::seen::apply(&mut mine, &own);
                Ok(std::sync::Arc::new(mine))
            }
        }
    }

    /// The folder's messages for a search: as [`Self::messages`] when the
    /// search reads `\Seen`, else with the mailbox's flags as they stand
    /// (the member's own read states would change no answer, and applying
    /// them reads every one).
    pub async fn messages_for_search(
        &self,
        folder: &OpenFolder,
        reads_seen: bool,
    ) -> CoreResult<std::sync::Arc<Vec<StoredMessage>>> {
        if reads_seen {
            return self.messages(folder).await;
        }
        Ok(self.store.messages(folder.id()).await?)
    }

    /// One page of the folder's messages in arrival order, and how many
    /// match in all (a message list).
    pub async fn message_page(
        &self,
        folder: &OpenFolder,
        filter: super::MessageFilter,
        newest_first: bool,
        offset: usize,
        limit: usize,
    ) -> CoreResult<(usize, Vec<StoredMessage>)> {
        if !folder.opened().per_member_seen() {
            return Ok(self.store.message_page(folder.id(), filter, newest_first, offset, limit).await?);
        }
        if filter != super::MessageFilter::Unread {
            let (total, mut page) =
                self.store.message_page(folder.id(), filter, newest_first, offset, limit).await?;
            self.as_member_sees(folder, &mut page).await?;
            return Ok((total, page));
        }
        // Unread as the member sees it: from their view of every message.
        let mut unread: Vec<StoredMessage> =
            self.messages(folder).await?.iter().filter(|m| !m.flags.has(SystemFlag::Seen)).cloned().collect();
        unread.sort_by_key(|m| (m.internal_date, m.uid));
        if newest_first {
            unread.reverse();
        }
        let total = unread.len();
        Ok((total, unread.into_iter().skip(offset).take(limit).collect()))
    }

    /// How many of the folder's messages are unread (for the member).
    pub async fn unseen_count(&self, folder: &OpenFolder) -> CoreResult<u64> {
        let shared = self.store.unseen_count(folder.id()).await?;
        self.member_unseen(folder, shared).await
    }

    /// The messages with these UIDs (missing ones skipped), in UID order.
    pub async fn messages_by_uid(&self, folder: &OpenFolder, uids: &[Uid]) -> CoreResult<Vec<StoredMessage>> {
        let mut messages = self.store.messages_by_uid(folder.id(), uids).await?;
        self.as_member_sees(folder, &mut messages).await?;
        Ok(messages)
    }

    /// Messages added or changed after `modseq` (RFC 7162), in UID order.
    pub async fn messages_since(
        &self,
        folder: &OpenFolder,
        modseq: ModSeq,
    ) -> CoreResult<Vec<StoredMessage>> {
        let mut messages = self.store.messages_since(folder.id(), modseq).await?;
        self.as_member_sees(folder, &mut messages).await?;
        Ok(messages)
    }

    /// UIDs expunged after `modseq`, ascending.
    pub async fn expunged_since(&self, folder: &OpenFolder, modseq: ModSeq) -> CoreResult<Vec<Uid>> {
        Ok(self.store.expunged_since(folder.id(), modseq).await?)
    }

    /// A message's bytes.
    pub async fn body(&self, folder: &OpenFolder, message: &StoredMessage) -> CoreResult<Vec<u8>> {
        of_folder(folder, message)?;
        Ok(self.store.message_body(folder.id(), message.uid).await?)
    }

    /// A message's summary (envelope, structure, key header fields).
    pub async fn summary(&self, folder: &OpenFolder, message: &StoredMessage) -> CoreResult<MessageSummary> {
        of_folder(folder, message)?;
        let mut one = self.store.message_summaries(folder.id(), &[message.uid]).await?;
        one.pop()
            .flatten()
            .map(std::sync::Arc::unwrap_or_clone)
            .ok_or_else(|| CoreError::NotFound { identity: format!("message {}", message.uid.0) })
    }

    /// The summaries of several messages of the folder, in one store call,
    /// in the order given (`None` for one expunged meanwhile).
    pub async fn summaries(
        &self,
        folder: &OpenFolder,
        messages: &[&StoredMessage],
    ) -> CoreResult<Vec<Option<std::sync::Arc<MessageSummary>>>> {
        messages.iter().try_for_each(|m| of_folder(folder, m))?;
        let uids: Vec<Uid> = messages.iter().map(|m| m.uid).collect();
        Ok(self.store.message_summaries(folder.id(), &uids).await?)
    }

    /// The top-level header of several messages (octets 0 to where each
    /// one's body starts), in one store call, in the order given (`None`
    /// for one expunged meanwhile).
    pub async fn headers(
        &self,
        folder: &OpenFolder,
        messages: &[(&StoredMessage, &MessageSummary)],
    ) -> CoreResult<Vec<Option<Vec<u8>>>> {
        messages.iter().try_for_each(|(m, _)| of_folder(folder, m))?;
        let wanted: Vec<_> =
            messages.iter().map(|(m, summary)| (m.uid, 0..u64::from(summary.body.body_offset))).collect();
        Ok(self.store.message_ranges(folder.id(), &wanted).await?)
    }

    /// The summaries of every message of the folder, by UID.
    pub async fn folder_summaries(
        &self,
        folder: &OpenFolder,
    ) -> CoreResult<Vec<(Uid, std::sync::Arc<MessageSummary>)>> {
        Ok(self.store.folder_summaries(folder.id()).await?)
    }

    /// UIDs of the messages with a top-level header `name` containing
    /// `needle` (ASCII case-insensitively).
    pub async fn search_header(&self, folder: &OpenFolder, name: &str, needle: &str) -> CoreResult<Vec<Uid>> {
        Ok(self.store.search_header(folder.id(), name, needle).await?)
    }

    // --- subscriptions (the signed-in person's own list) ---

    /// The folder names `principal` subscribed to, sorted.
    pub async fn subscriptions(&self, principal: PrincipalId) -> CoreResult<Vec<String>> {
        Ok(self.store.subscriptions(principal).await?)
    }

    /// Subscribes or unsubscribes; `true` if that changed anything.
    pub async fn set_subscribed(
        &self,
        principal: PrincipalId,
        name: &str,
        subscribed: bool,
    ) -> CoreResult<bool> {
        Ok(self.store.set_subscribed(principal, name, subscribed).await?)
    }
}

/// A message listed in one folder is read from that folder only (the store
/// reads by the opened folder and the UID; this says so when they disagree).
fn of_folder(folder: &OpenFolder, message: &StoredMessage) -> CoreResult<()> {
    if message.folder != folder.id() {
        return Err(CoreError::NotFound {
            identity: format!("message {} of folder {}", message.uid.0, message.folder),
        });
    }
    Ok(())
}

pub(super) fn require_right(open: &OpenMailbox, allowed: impl Fn(&MailRights) -> bool) -> CoreResult<()> {
    require(open, allowed(&open.rights))
}

/// Refuses an operation the rights in `folder` don't cover.
pub(super) fn require_folder_right(
    folder: &OpenFolder,
    allowed: impl Fn(&MailRights) -> bool,
) -> CoreResult<()> {
    if allowed(&folder.rights()) {
        Ok(())
    } else if folder.is_recoverable() && allowed(&MailRights { expunge: true, ..folder.rights() }) {
        // Only the right to purge was missing.
        Err(CoreError::NoPurge { mailbox: folder.mailbox.mailbox.to_string() })
    } else if folder.is_recoverable() {
        Err(CoreError::Invalid(format!(
            "\"{}\" keeps deleted messages: nothing can be added or changed there; \
             move a message out of it to restore it.",
            folder.folder.name
        )))
    } else {
        require(&folder.mailbox, false)
    }
}
