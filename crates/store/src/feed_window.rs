//! What both stores' change feeds keep in memory: the newest changes read
//! from the change log (a window subscribers read without touching the
//! database), the head they may read up to, and the signal that wakes them.
//! How new rows are found is each backend's own (SQLite polls
//! `data_version`, PostgreSQL listens for notifications); what they are
//! and how subscribers read them is the same.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use mailroom_core::change::{Change, ChangeRecord, FeedRead};
use mailroom_types::{CalendarId, FolderId, MailboxId, ModSeq, PrincipalId, Uid};
use tokio::sync::watch;

/// Changes kept in memory for subscribers.
pub(crate) const WINDOW: usize = 16_384;
/// Changes handed out by one read.
pub(crate) const READ_LIMIT: usize = 4_096;
/// Changes one prune removes at most.
pub(crate) const PRUNE_PART: usize = 50_000;

pub(crate) struct FeedWindow {
    /// The newest sequence in the window: what subscribers may read.
    head: AtomicU64,
    /// Wakes subscribers (carries the head it was sent with).
    wake: watch::Sender<u64>,
    records: Mutex<Records>,
    /// How many changes the window keeps ([`WINDOW`]).
    limit: usize,
}

/// Every change with a sequence above `floor` (up to the head), in order.
struct Records {
    floor: u64,
    list: VecDeque<ChangeRecord>,
}

/// What the window says of a read.
pub(crate) enum Lookup {
    /// The answer.
    Read(FeedRead),
    /// Older than the window but not by much: read from the log, up to `head`.
    FromLog { head: u64 },
}

impl FeedWindow {
    pub(crate) fn new(head: u64, limit: usize) -> Self {
        FeedWindow {
            head: AtomicU64::new(head),
            wake: watch::Sender::new(head),
            records: Mutex::new(Records { floor: head, list: VecDeque::new() }),
            limit,
        }
    }

    pub(crate) fn head(&self) -> u64 {
        self.head.load(Ordering::Acquire)
    }

    /// Whether the log's newest change is further ahead than the window
    /// holds: reading every change in between costs each subscriber more
    /// than resynchronising ([`Self::jump`] then).
    pub(crate) fn too_far_behind(&self, newest: u64) -> bool {
        newest.saturating_sub(self.head()) > self.limit as u64
    }

    /// Skips to `newest`: whoever was behind it is told to resynchronise.
    pub(crate) fn jump(&self, newest: u64) {
        let mut records = self.lock();
        records.list.clear();
        records.floor = newest;
        self.head.store(newest, Ordering::Release);
    }

    /// Adds the changes read after the head, the log read through `last`.
    pub(crate) fn extend(&self, new: Vec<ChangeRecord>, last: u64) {
        {
            let mut records = self.lock();
            records.list.extend(new);
            while records.list.len() > self.limit {
                if let Some(old) = records.list.pop_front() {
                    records.floor = old.seq;
                }
            }
        }
        self.head.store(last, Ordering::Release);
    }

    /// The changes after `after`, if the window can say.
    pub(crate) fn read(&self, after: u64) -> Lookup {
        let head = self.head();
        if after >= head {
            return Lookup::Read(FeedRead::Changes(Vec::new()));
        }
        let records = self.lock();
        if after >= records.floor {
            let start = records.list.partition_point(|r| r.seq <= after);
            return Lookup::Read(FeedRead::Changes(
                records.list.range(start..).take(READ_LIMIT).cloned().collect(),
            ));
        }
        // Far behind (more than a window's worth): resynchronising is
        // cheaper than reading every change in between.
        if records.floor - after > self.limit as u64 {
            return Lookup::Read(FeedRead::Resync { head });
        }
        Lookup::FromLog { head }
    }

    /// Wakes the subscribers waiting for what is in the window now.
    pub(crate) fn wake(&self) {
        // Only ever forward: two loaders may wake at once, and an older
        // head sent last must not undo a newer one.
        self.wake.send_if_modified(|sent| {
            let head = self.head();
            let moved = head > *sent;
            if moved {
                *sent = head;
            }
            moved
        });
    }

    /// Resolves once a change after `after` is in the window.
    pub(crate) async fn wait_after(&self, after: u64) {
        let mut woken = self.wake.subscribe();
        // The sender lives as long as the window, so this only ends when a
        // change after `after` is known (and its subscribers were woken).
        let _ = woken.wait_for(|&h| h > after).await;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Records> {
        self.records.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// One change log row as a change; `None` for a kind this Mailroom doesn't
/// know (written by a newer one).
pub(crate) fn decode(kind: &str, subject: i64, object: i64, uid: i64, modseq: i64) -> Option<Change> {
    let mailbox = MailboxId(subject);
    let folder = FolderId(object);
    let uid = Uid(u32::try_from(uid).unwrap_or(0));
    let modseq = ModSeq(modseq as u64);
    Some(match kind {
        "message_added" => Change::MessageAdded { mailbox, folder, uid, modseq },
        "flags_changed" => Change::FlagsChanged { mailbox, folder, uid, modseq },
        "expunged" => Change::MessageExpunged { mailbox, folder, uid, modseq },
        "folders_changed" => Change::FoldersChanged { mailbox },
        "subscriptions_changed" => Change::SubscriptionsChanged(PrincipalId(subject)),
        "recipient_created" => Change::RecipientCreated(PrincipalId(subject)),
        "recipient_updated" => Change::RecipientUpdated(PrincipalId(subject)),
        "recipient_removed" => Change::RecipientRemoved(PrincipalId(subject)),
        "permissions_changed" => {
            Change::PermissionsChanged { recipient: PrincipalId(subject), trustee: PrincipalId(object) }
        }
        "membership_changed" => {
            Change::GroupMembershipChanged { group: PrincipalId(subject), member: PrincipalId(object) }
        }
        "calendar_changed" => Change::CalendarChanged { mailbox, calendar: CalendarId(object) },
        "domains_changed" => Change::DomainsChanged,
        "outbound_queued" => Change::OutboundQueued,
        _ => return None,
    })
}

/// A row of the change log, decoded (a kind from a newer Mailroom as
/// [`Change::Unknown`], so subscribers move past it).
pub(crate) fn record(seq: i64, kind: &str, subject: i64, object: i64, uid: i64, modseq: i64) -> ChangeRecord {
    let change = decode(kind, subject, object, uid, modseq).unwrap_or_else(|| {
        tracing::debug!(kind, seq, "change feed: unknown change kind");
        Change::Unknown
    });
    ChangeRecord { seq: seq as u64, change }
}
