//! Recoverable Items (SPEC §5): an expunge anywhere else moves the messages
//! there ([`Mail::expunge`]), where they wait out the mailbox's
//! `RetainDeletedItemsFor` (14 days unless set) before they are purged.
//! Members restore them themselves — by moving or copying them out over
//! IMAP, or with [`Mail::restore`], which puts each back in the folder it
//! was deleted from — and an administrator with
//! `Get-RecoverableItems` / `Restore-RecoverableItems`
//! ([`Mail::recoverable_for_admin`], [`Mail::restore_for_admin`]). Purging
//! (an expunge in Recoverable Items) needs a grant without NoPurge.

use std::collections::BTreeMap;

use mailroom_types::{FolderId, MailboxId, Uid};

use super::open::{MailRights, OpenFolder, OpenMailbox, require_folder_right};
use super::{Mail, SpecialUse, StoredMessage};
use crate::directory::Actor;
use crate::error::{CoreError, CoreResult};
use crate::store::RecoverableItem;

/// A message of Recoverable Items as people see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recoverable {
    pub item: RecoverableItem,
    pub message: StoredMessage,
    pub subject: String,
    /// The first From address, as `name <address>` or the address.
    pub from: String,
}

/// A message put back: its UID in Recoverable Items, the folder it went
/// to and its UID there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Restored {
    pub uid: Uid,
    pub folder: FolderId,
    pub folder_name: String,
    pub new_uid: Uid,
}

/// How many expired messages one purge transaction takes: enough to keep
/// up, few enough not to hold the store's writer for long.
const PURGE_BATCH: usize = 500;

impl Mail {
    /// The opened mailbox's Recoverable Items, opened.
    pub async fn open_recoverable(&self, open: &OpenMailbox) -> CoreResult<OpenFolder> {
        self.find_folder(open, |f| f.special_use == Some(SpecialUse::Recoverable)).await?.ok_or_else(|| {
            CoreError::NotFound { identity: format!("Recoverable Items of {}", open.mailbox()) }
        })
    }

    /// The messages of Recoverable Items, most recently deleted first.
    pub async fn recoverable(&self, folder: &OpenFolder) -> CoreResult<Vec<Recoverable>> {
        require_recoverable(folder)?;
        require_folder_right(folder, |r| r.read)?;
        let items = self.store.recoverable_items(folder.id()).await?;
        let uids: Vec<Uid> = items.iter().map(|i| i.uid).collect();
        let messages = self.store.messages_by_uid(folder.id(), &uids).await?;
        let summaries = self.store.message_summaries(folder.id(), &uids).await?;
        let by_uid: BTreeMap<Uid, StoredMessage> = messages.into_iter().map(|m| (m.uid, m)).collect();
        let mut out = Vec::with_capacity(items.len());
        for (item, summary) in items.into_iter().zip(summaries) {
            let Some(message) = by_uid.get(&item.uid).cloned() else { continue };
            let envelope = summary.as_ref().map(|s| &s.envelope);
            let subject = envelope.and_then(|e| e.subject.clone()).unwrap_or_default();
            let from = envelope
                .and_then(|e| e.from.first())
                .map(|a| {
                    let address = format!(
                        "{}@{}",
                        a.mailbox.as_deref().unwrap_or_default(),
                        a.host.as_deref().unwrap_or_default()
                    );
                    match a.name.as_deref() {
                        Some(name) if !name.is_empty() => format!("{name} <{address}>"),
                        _ => address,
                    }
                })
                .unwrap_or_default();
            out.push(Recoverable { item, message, subject, from });
        }
        out.sort_by(|a, b| b.item.deleted_at.cmp(&a.item.deleted_at).then(b.item.uid.cmp(&a.item.uid)));
        Ok(out)
    }

    /// Puts messages of Recoverable Items back where they were deleted
    /// from — the Inbox if that folder is gone. Reading is enough: a
    /// restore destroys nothing. UIDs no longer there are skipped.
    pub async fn restore(&self, folder: &OpenFolder, uids: &[Uid]) -> CoreResult<Vec<Restored>> {
        require_recoverable(folder)?;
        require_folder_right(folder, |r| r.read)?;
        let items = self.store.recoverable_items(folder.id()).await?;
        let folders = self.folders(folder.mailbox()).await?;
        let inbox = folders
            .iter()
            .find(|f| f.special_use == Some(SpecialUse::Inbox))
            .ok_or_else(|| CoreError::NotFound { identity: format!("Inbox of {}", folder.mailbox()) })?;
        let mut by_target: BTreeMap<FolderId, Vec<Uid>> = BTreeMap::new();
        for item in items.iter().filter(|i| uids.contains(&i.uid)) {
            let back = item
                .deleted_from
                .and_then(|id| {
                    folders.iter().find(|f| f.id == id && f.special_use != Some(SpecialUse::Recoverable))
                })
                .unwrap_or(inbox);
            by_target.entry(back.id).or_default().push(item.uid);
        }
        if !by_target.is_empty() {
            self.require_room(folder.mailbox()).await?;
        }
        let mut restored = Vec::new();
        for (target, uids) in by_target {
            let name = folders.iter().find(|f| f.id == target).map(|f| f.name.clone()).unwrap_or_default();
            let by = folder.opened().principal();
            let (copied, _) = self.store.move_messages(folder.id(), &uids, target, by).await?;
            restored.extend(copied.pairs.into_iter().map(|(uid, new_uid)| Restored {
                uid,
                folder: target,
                folder_name: name.clone(),
                new_uid,
            }));
        }
        Ok(restored)
    }

    /// `Get-RecoverableItems`: an administrator's view of a mailbox's
    /// Recoverable Items (subjects and where they came from).
    pub async fn recoverable_for_admin(
        &self,
        actor: &Actor,
        mailbox: MailboxId,
    ) -> CoreResult<Vec<Recoverable>> {
        let folder = self.admin_recoverable(actor, mailbox).await?;
        self.recoverable(&folder).await
    }

    /// `Restore-RecoverableItems`: an administrator puts messages back.
    pub async fn restore_for_admin(
        &self,
        actor: &Actor,
        mailbox: MailboxId,
        uids: &[Uid],
    ) -> CoreResult<Vec<Restored>> {
        let folder = self.admin_recoverable(actor, mailbox).await?;
        self.restore(&folder, uids).await
    }

    /// Purges what has been in Recoverable Items longer than its mailbox
    /// keeps deleted items, as of `now` (Unix seconds); returns how many
    /// messages went. The server's sweep calls it.
    pub async fn purge_expired(&self, now: i64) -> CoreResult<usize> {
        let mut purged = 0;
        loop {
            let batch = self.store.purge_expired(now, PURGE_BATCH).await?;
            purged += batch;
            if batch < PURGE_BATCH {
                return Ok(purged);
            }
        }
    }

    /// Recoverable Items opened for an administrator: reading and
    /// restoring, as the cmdlets do; never content changes of their own.
    async fn admin_recoverable(&self, actor: &Actor, mailbox: MailboxId) -> CoreResult<OpenFolder> {
        self.dir.require_admin(actor).await?;
        let owner = match actor {
            Actor::Principal(id) => *id,
            Actor::System => mailbox.principal(),
        };
        let rights = MailRights { lookup: true, read: true, ..MailRights::NONE };
        let open = OpenMailbox::for_admin(owner, mailbox, rights);
        self.open_recoverable(&open).await
    }
}

fn require_recoverable(folder: &OpenFolder) -> CoreResult<()> {
    if folder.is_recoverable() {
        Ok(())
    } else {
        Err(CoreError::Invalid(format!("\"{}\" isn't Recoverable Items.", folder.folder().name)))
    }
}
