//! Change events produced by mutations.
//!
//! DESIGN.md rule 8: mutations return changes and the caller publishes them.
//! [`crate::Directory`] publishes what its operations changed to the
//! [`ChangeSink`] it was built with; the server connects that sink to its bus
//! so open IMAP sessions and caches learn about a revoked grant at once
//! (SPEC §2, "Effective immediately").

use mailroom_types::{CalendarId, FolderId, MailboxId, ModSeq, PrincipalId, Uid};

/// Something in the directory changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    DomainsChanged,
    RecipientCreated(PrincipalId),
    /// Identity, addresses, kind (conversion), account or mailbox settings changed.
    RecipientUpdated(PrincipalId),
    RecipientRemoved(PrincipalId),
    /// A grant on this recipient (mailbox or group) was added, changed or removed.
    PermissionsChanged {
        recipient: PrincipalId,
        trustee: PrincipalId,
    },
    /// Direct membership of a group changed; every permission held through the
    /// group may have changed with it.
    GroupMembershipChanged {
        group: PrincipalId,
        member: PrincipalId,
    },
    /// A message arrived in a folder (delivery, APPEND, COPY).
    MessageAdded {
        mailbox: MailboxId,
        folder: FolderId,
        uid: Uid,
        modseq: ModSeq,
    },
    /// Flags of these messages changed (STORE), all to this MODSEQ.
    FlagsChanged {
        mailbox: MailboxId,
        folder: FolderId,
        uids: Vec<Uid>,
        modseq: ModSeq,
    },
    /// A folder of this mailbox was created, renamed or deleted.
    FoldersChanged {
        mailbox: MailboxId,
    },
    /// These messages left the folder (EXPUNGE, MOVE).
    MessagesExpunged {
        mailbox: MailboxId,
        folder: FolderId,
        uids: Vec<Uid>,
        modseq: ModSeq,
    },
    /// An object of a calendar was written or deleted, or the calendar
    /// itself changed (its sync token moved; listeners read it from the store).
    CalendarChanged {
        mailbox: MailboxId,
        calendar: CalendarId,
    },
    /// Remote recipients were added to the outbound queue: the sender wakes.
    OutboundQueued,
}

/// Receives the changes of every successful mutation, after it is durable.
pub trait ChangeSink: Send + Sync {
    fn publish(&self, changes: &[Change]);
}

/// A sink for tools that run without listeners (the one-shot admin CLI).
#[derive(Debug, Default, Clone, Copy)]
pub struct DiscardChanges;

impl ChangeSink for DiscardChanges {
    fn publish(&self, _changes: &[Change]) {}
}
