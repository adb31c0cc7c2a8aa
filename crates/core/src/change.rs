//! The change feed: what changed, in commit order, for every process.
//!
//! Every change a session, a cache or another process must hear of — mail
//! delivered, flagged or expunged, folders created or renamed, grants,
//! memberships, accounts, settings, calendars, the outbound queue — is
//! recorded by the store **in the transaction that makes it** (DESIGN.md,
//! Changes), with a sequence number that only grows. Nothing in `core`
//! publishes: a change exists exactly when it is durable, whichever process
//! (the server, the admin CLI) wrote it.
//!
//! A [`ChangeFeed`] hands subscribers the changes after a sequence they
//! remember and wakes them when new ones commit. A subscriber that falls so
//! far behind that the oldest rows were pruned is told to resynchronise
//! ([`FeedRead::Resync`]) instead of missing anything silently.

use async_trait::async_trait;
use mailroom_types::{CalendarId, FolderId, MailboxId, ModSeq, PrincipalId, Uid};

use crate::store::StoreResult;

/// Something changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    DomainsChanged,
    RecipientCreated(PrincipalId),
    /// Identity, addresses, kind (conversion), account, roles, mailbox
    /// settings or automatic replies changed.
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
    /// A message arrived in a folder (delivery, APPEND, COPY, MOVE).
    MessageAdded {
        mailbox: MailboxId,
        folder: FolderId,
        uid: Uid,
        modseq: ModSeq,
    },
    /// Flags of a message changed (STORE).
    FlagsChanged {
        mailbox: MailboxId,
        folder: FolderId,
        uid: Uid,
        modseq: ModSeq,
    },
    /// A folder of this mailbox was created, renamed or deleted.
    FoldersChanged {
        mailbox: MailboxId,
    },
    /// This person subscribed to a folder name or unsubscribed from one.
    SubscriptionsChanged(PrincipalId),
    /// A message left the folder (EXPUNGE, MOVE).
    MessageExpunged {
        mailbox: MailboxId,
        folder: FolderId,
        uid: Uid,
        modseq: ModSeq,
    },
    /// An object of a calendar was written or deleted, or the calendar
    /// itself was created, changed or removed.
    CalendarChanged {
        mailbox: MailboxId,
        calendar: CalendarId,
    },
    /// Remote recipients were added to the outbound queue, or an entry was
    /// made due now: the sender wakes.
    OutboundQueued,
    /// A change of a kind this Mailroom doesn't know (written by a newer
    /// one sharing the store): nothing acts on it, but it keeps its place
    /// in the feed, so subscribers move past it.
    Unknown,
}

impl Change {
    /// Whether this change can alter who may sign in or open what: the
    /// changes an open session re-checks its access for (SPEC §2,
    /// "effective immediately").
    pub fn affects_access(&self) -> bool {
        matches!(
            self,
            Change::RecipientUpdated(_)
                | Change::RecipientRemoved(_)
                | Change::PermissionsChanged { .. }
                | Change::GroupMembershipChanged { .. }
        )
    }

    /// The folder this change happened in, for changes to messages.
    pub fn folder(&self) -> Option<FolderId> {
        match self {
            Change::MessageAdded { folder, .. }
            | Change::FlagsChanged { folder, .. }
            | Change::MessageExpunged { folder, .. } => Some(*folder),
            _ => None,
        }
    }
}

/// One change and its place in the feed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangeRecord {
    pub seq: u64,
    pub change: Change,
}

/// What a subscriber reads from the feed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FeedRead {
    /// The changes after the sequence asked for, oldest first (possibly
    /// none; possibly not all of them yet — read again from the last one).
    Changes(Vec<ChangeRecord>),
    /// The changes after the sequence asked for are no longer kept: the
    /// subscriber re-reads what it shows and goes on from `head`.
    Resync { head: u64 },
}

/// The changes of every process, in commit order (DESIGN.md, Changes).
#[async_trait]
pub trait ChangeFeed: Send + Sync + std::fmt::Debug {
    /// The newest sequence this feed knows: a new subscriber starts here.
    fn head(&self) -> u64;
    /// The changes after `after`, oldest first, at most a bounded number
    /// per call. Usually answered from memory; a subscriber far behind is
    /// caught up from the log, or told to resynchronise.
    async fn read_after(&self, after: u64) -> StoreResult<FeedRead>;
    /// Resolves once a change after `after` is known to this feed (at
    /// once if one is). Cancel-safe.
    async fn wait_after(&self, after: u64);
    /// Reads the log now rather than at the feed's next look, and returns
    /// the new head: whoever just committed a change sees it in the feed.
    async fn refresh(&self) -> StoreResult<u64>;
    /// Removes changes recorded before `before` (Unix seconds), so the log
    /// doesn't grow without end; a subscriber still behind them is told to
    /// resynchronise. A backend may remove them in parts (so other writes
    /// aren't held up): it returns how many went, and 0 once none are left.
    async fn prune(&self, before: i64) -> StoreResult<usize>;
}
