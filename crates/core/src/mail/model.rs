//! The mail store's objects: folders, flags, stored messages, and the
//! summary each message is parsed into once at delivery.

use std::collections::BTreeSet;

use mailroom_types::{BlobId, FolderId, MailboxId, ModSeq, Uid};
use serde::{Deserialize, Serialize};

/// The folders every mailbox has (SPEC §4; Exchange's names), and their IMAP
/// special-use attribute (RFC 6154).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SpecialUse {
    Inbox,
    Drafts,
    Sent,
    Trash,
    Junk,
    Archive,
    /// Where expunged messages wait out the mailbox's retention period
    /// (Exchange's `RetainDeletedItemsFor`) before they are gone for good:
    /// nothing is added to it but by a delete, and moving a message out of
    /// it restores the message.
    Recoverable,
}

impl SpecialUse {
    pub const ALL: [SpecialUse; 7] = [
        SpecialUse::Inbox,
        SpecialUse::Drafts,
        SpecialUse::Sent,
        SpecialUse::Trash,
        SpecialUse::Junk,
        SpecialUse::Archive,
        SpecialUse::Recoverable,
    ];

    /// The folder's name as Exchange and Outlook show it.
    pub fn folder_name(self) -> &'static str {
        match self {
            SpecialUse::Inbox => "Inbox",
            SpecialUse::Drafts => "Drafts",
            SpecialUse::Sent => "Sent Items",
            SpecialUse::Trash => "Deleted Items",
            SpecialUse::Junk => "Junk Email",
            SpecialUse::Archive => "Archive",
            SpecialUse::Recoverable => "Recoverable Items",
        }
    }

    pub fn storage_name(self) -> &'static str {
        match self {
            SpecialUse::Inbox => "inbox",
            SpecialUse::Drafts => "drafts",
            SpecialUse::Sent => "sent",
            SpecialUse::Trash => "trash",
            SpecialUse::Junk => "junk",
            SpecialUse::Archive => "archive",
            SpecialUse::Recoverable => "recoverable",
        }
    }

    pub fn from_storage_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.storage_name() == name)
    }
}

/// A folder with its IMAP counters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Folder {
    pub id: FolderId,
    pub mailbox: MailboxId,
    pub name: String,
    pub special_use: Option<SpecialUse>,
    pub uid_validity: u32,
    pub uid_next: Uid,
    pub highest_modseq: ModSeq,
    pub messages: u64,
    /// Sum of the sizes of its messages, in bytes.
    pub size: u64,
}

/// IMAP system flags (RFC 9051 §2.3.2), as bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SystemFlag {
    Seen = 1,
    Answered = 2,
    Flagged = 4,
    Deleted = 8,
    Draft = 16,
}

/// A message's flags: system flags and keywords.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Flags {
    pub system: u8,
    pub keywords: BTreeSet<String>,
}

impl Flags {
    pub fn with(mut self, flag: SystemFlag) -> Self {
        self.system |= flag as u8;
        self
    }

    pub fn has(&self, flag: SystemFlag) -> bool {
        self.system & flag as u8 != 0
    }
}

/// What opening a folder needs and no more (IMAP SELECT on a folder of
/// 100,000 messages reads UIDs, not rows).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FolderIndex {
    /// Every UID, ascending.
    pub uids: Vec<Uid>,
    /// The 1-based position of the first message without `\Seen`.
    pub first_unseen: Option<u32>,
    /// Every keyword some message of the folder carries.
    pub keywords: BTreeSet<String>,
    /// The folder's `\Recent` mark: messages above it are recent for the
    /// next session to claim them ([`crate::store::MailStore::claim_recent`]).
    pub recent_mark: Uid,
}

/// A folder's counters, computed by the store (IMAP STATUS).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FolderCounts {
    pub messages: u64,
    pub unseen: u64,
    /// Messages flagged `\Deleted`, and their bytes.
    pub deleted: u64,
    pub deleted_size: u64,
    /// Bytes of every message (RFC 8438 STATUS SIZE).
    pub size: u64,
    /// Messages above the folder's `\Recent` mark, not claimed by any
    /// session yet (RFC 3501 STATUS RECENT).
    pub recent: u64,
}

/// A message in a folder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredMessage {
    pub folder: FolderId,
    pub uid: Uid,
    pub modseq: ModSeq,
    pub flags: Flags,
    /// Unix seconds: when the message arrived (IMAP INTERNALDATE).
    pub internal_date: i64,
    /// Unix seconds: when it was saved into this folder (IMAP SAVEDATE,
    /// RFC 8514) — a copy or a move is saved anew.
    pub saved_at: i64,
    pub size: u64,
    pub blob: BlobId,
}

/// Which messages a list shows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum MessageFilter {
    #[default]
    All,
    /// Without `\Seen`.
    Unread,
    /// With `\Flagged`.
    Flagged,
    /// With `$Handled` (SPEC §5: dealt with).
    Handled,
    /// Neither `$Assigned` nor `$Handled`: what nobody has taken on.
    Unassigned,
    /// Assigned to the member with this alias (`$Assigned` and
    /// `$AssignedTo_<alias>`), and not handled yet.
    AssignedTo(String),
}

impl MessageFilter {
    /// The keywords a message must have and must not have (lower-case, at
    /// most two of each), or `None` for a filter on system flags. An alias
    /// no keyword can name gives a keyword no message has.
    pub fn keywords(&self) -> Option<(Vec<String>, Vec<String>)> {
        use super::assignment::{ASSIGNED, HANDLED, assignee_keyword};
        let low = |k: &str| k.to_ascii_lowercase();
        match self {
            MessageFilter::All | MessageFilter::Unread | MessageFilter::Flagged => None,
            MessageFilter::Handled => Some((vec![low(HANDLED)], Vec::new())),
            MessageFilter::Unassigned => Some((Vec::new(), vec![low(ASSIGNED), low(HANDLED)])),
            MessageFilter::AssignedTo(alias) => {
                let named = assignee_keyword(alias).map_or_else(|| "$nobody".to_string(), |k| low(&k));
                Some((vec![low(ASSIGNED), named], vec![low(HANDLED)]))
            }
        }
    }

    /// Whether a message with `flags` passes (a list filtered in memory).
    pub fn matches(&self, flags: &Flags) -> bool {
        match self {
            MessageFilter::All => true,
            MessageFilter::Unread => !flags.has(SystemFlag::Seen),
            MessageFilter::Flagged => flags.has(SystemFlag::Flagged),
            _ => {
                let Some((with, without)) = self.keywords() else { return true };
                let holds = |k: &String| flags.keywords.iter().any(|f| f.eq_ignore_ascii_case(k));
                with.iter().all(holds) && !without.iter().any(holds)
            }
        }
    }
}

/// Bytes and messages a mailbox holds, counted for quotas (SPEC §3).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MailboxUsage {
    pub bytes: u64,
    pub messages: u64,
}

/// Where a mailbox stands against its staged quota; names are Exchange's
/// `StorageLimitStatus`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum StorageLimitStatus {
    BelowLimit,
    IssueWarning,
    ProhibitSend,
    /// Past ProhibitSendReceive: new mail is refused.
    MailboxDisabled,
}

impl StorageLimitStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            StorageLimitStatus::BelowLimit => "BelowLimit",
            StorageLimitStatus::IssueWarning => "IssueWarning",
            StorageLimitStatus::ProhibitSend => "ProhibitSend",
            StorageLimitStatus::MailboxDisabled => "MailboxDisabled",
        }
    }
}

/// What FETCH and SEARCH need from a message, parsed once at delivery
/// (DESIGN.md, Data) and stored once per distinct message body.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageSummary {
    pub envelope: Envelope,
    pub body: BodyPart,
    /// Top-level header fields, decoded, in order (for SEARCH HEADER and
    /// friends). The fields SEARCH keys name are kept wherever they stand
    /// (64 KiB of each); others only within 256 KiB in all. A sender field
    /// left out is reported in `header_problem`.
    pub headers: Vec<(String, String)>,
    /// Why `headers` may not hold every sender field: a rule that must see
    /// them all (exactly one `From:`, no address of ours from outside)
    /// can't be decided, so such a message is refused where it is sent or
    /// received; one appended over IMAP is kept as it is.
    #[serde(default)]
    pub header_problem: Option<HeaderProblem>,
    /// The Date header as Unix seconds (SEARCH SENTBEFORE ...).
    pub sent_date: Option<i64>,
    /// The MIME structure couldn't be fully understood; the message is kept as it came.
    pub malformed: bool,
    /// The base subject (RFC 5256 §2.1) SORT orders by and THREAD groups
    /// by, and whether a reply or forward marker came off: worked out by
    /// the IMAP layer on first use. Kept here because summaries are shared
    /// and kept in memory, so each body's is worked out once per process.
    #[serde(skip)]
    pub base_subject: Derived<(String, bool)>,
}

/// A value worked out from the value that holds it, on first use, and kept
/// with it. It takes no part in comparing the holder (two holders equal
/// but for what was worked out so far are equal) and is never stored.
#[derive(Default)]
pub struct Derived<T>(std::sync::OnceLock<T>);

impl<T> Derived<T> {
    /// The value, working it out with `compute` the first time.
    pub fn get_or_init(&self, compute: impl FnOnce() -> T) -> &T {
        self.0.get_or_init(compute)
    }
}

impl<T: Clone> Clone for Derived<T> {
    fn clone(&self) -> Self {
        Derived(self.0.clone())
    }
}

impl<T> PartialEq for Derived<T> {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl<T> Eq for Derived<T> {}

impl<T> std::fmt::Debug for Derived<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.get().is_some() { "Derived(worked out)" } else { "Derived(not yet)" })
    }
}

impl MessageSummary {
    /// How many top-level fields named `name` the header has, as far as
    /// the summary holds them (sender fields always, unless
    /// [`Self::header_problem`] says otherwise).
    pub fn field_count(&self, name: &str) -> usize {
        self.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)).count()
    }

    /// The decoded value of the first top-level field named `name`
    /// (ignoring case), trimmed; empty if there is none.
    pub fn field(&self, name: &str) -> &str {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map_or("", |(_, v)| v.trim())
    }
}

/// Why a message's header couldn't be summarised whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum HeaderProblem {
    /// `From:` or `Sender:` fields past what the summary holds (64 KiB of
    /// each): more than any real message has.
    TooLarge,
    /// The parser stopped before the header's end (a line holding only a
    /// stray CR or spaces, which it reads as the end) while fields follow,
    /// which an IMAP client reading the header would show; or the parser
    /// failed altogether.
    Unreadable,
}

/// RFC 9051 §7.5.2 ENVELOPE, with text decoded to UTF-8.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    pub date: Option<String>,
    pub subject: Option<String>,
    pub from: Vec<EnvelopeAddress>,
    pub sender: Vec<EnvelopeAddress>,
    pub reply_to: Vec<EnvelopeAddress>,
    pub to: Vec<EnvelopeAddress>,
    pub cc: Vec<EnvelopeAddress>,
    pub bcc: Vec<EnvelopeAddress>,
    pub in_reply_to: Option<String>,
    pub message_id: Option<String>,
}

/// An address as IMAP's ENVELOPE carries it. A group starts with
/// `mailbox = group name, host = None` and ends with all fields `None`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvelopeAddress {
    pub name: Option<String>,
    pub mailbox: Option<String>,
    pub host: Option<String>,
}

/// One MIME part (RFC 2045) with its place in the message bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BodyPart {
    /// Lower-case `text`, `multipart`, ...
    pub media_type: String,
    pub media_subtype: String,
    pub params: Vec<(String, String)>,
    pub id: Option<String>,
    pub description: Option<String>,
    /// Content-Transfer-Encoding, upper-case (`7BIT` when absent).
    pub encoding: String,
    /// Offsets into the whole message: where this part's header starts, its
    /// body starts, and the part ends.
    pub header_offset: u32,
    pub body_offset: u32,
    pub end_offset: u32,
    /// Lines in the body (IMAP reports it for text and message/rfc822 parts).
    pub lines: u32,
    pub md5: Option<String>,
    pub disposition: Option<(String, Vec<(String, String)>)>,
    pub language: Vec<String>,
    pub location: Option<String>,
    /// Children of a multipart.
    pub parts: Vec<BodyPart>,
    /// The message inside a message/rfc822 part.
    pub message: Option<Box<EmbeddedMessage>>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmbeddedMessage {
    pub envelope: Envelope,
    pub body: BodyPart,
}

impl BodyPart {
    /// The body's size in bytes.
    pub fn body_size(&self) -> u32 {
        self.end_offset.saturating_sub(self.body_offset)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// What a caller worked out from a summary is kept with it (and with
    /// its copies), yet the summary compares as if it weren't there.
    #[test]
    fn derived_values_are_kept_but_not_compared() {
        let plain =
            MessageSummary { headers: vec![("Subject".into(), "Re: Hi".into())], ..Default::default() };
        let worked = plain.clone();
        let mut calls = 0;
        for _ in 0..2 {
            let value = worked.base_subject.get_or_init(|| {
                calls += 1;
                ("HI".to_string(), true)
            });
            assert_eq!(value, &("HI".to_string(), true));
        }
        assert_eq!(calls, 1, "worked out once");
        assert_eq!(plain, worked);
        let copied = worked.clone();
        assert_eq!(copied.base_subject.get_or_init(|| unreachable!()), &("HI".to_string(), true));
    }
}
