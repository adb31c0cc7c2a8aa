//! Numeric identifiers of directory objects.
//!
//! Every recipient (user, shared mailbox, group) is a *principal* with one
//! [`PrincipalId`]. Recipients that own a mailbox (users and shared mailboxes)
//! are also addressed by [`MailboxId`], which carries the same number: a
//! mailbox *is* its principal, so converting a user mailbox to a shared one
//! keeps both ids (SPEC §1, Conversion).

use std::fmt;

/// Any recipient of the directory: a user, a shared mailbox or a group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PrincipalId(pub i64);

/// A recipient that owns a mailbox (user mailbox or shared mailbox).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MailboxId(pub i64);

impl MailboxId {
    /// The principal that owns this mailbox (the same directory object).
    pub fn principal(self) -> PrincipalId {
        PrincipalId(self.0)
    }
}

impl From<MailboxId> for PrincipalId {
    fn from(id: MailboxId) -> Self {
        id.principal()
    }
}

/// A folder inside a mailbox (Inbox, Sent Items, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FolderId(pub i64);

/// A message's IMAP UID: unique and ascending within its folder (RFC 9051 §2.3.1.1).
/// UIDs start at 1, so the default, 0, comes before every message (a mark
/// below which nothing is).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Uid(pub u32);

/// A modification sequence number (RFC 7162 §3.1): grows with every change in a folder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ModSeq(pub u64);

impl fmt::Display for FolderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Display for Uid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Display for ModSeq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Display for PrincipalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Display for MailboxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A calendar (CalDAV collection) inside a mailbox.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CalendarId(pub i64);

impl fmt::Display for CalendarId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}
