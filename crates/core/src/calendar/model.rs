//! The calendar's values: calendars, the objects (iCalendar resources) in
//! them, their changes and the activity they record.

use mailroom_types::{CalendarId, MailboxId, PrincipalId};

/// The slug of the calendar every mailbox gets when it is created (SPEC §4).
pub const DEFAULT_CALENDAR: &str = "calendar";
/// Its display name.
pub const DEFAULT_CALENDAR_NAME: &str = "Calendar";

/// One calendar collection of a mailbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Calendar {
    pub id: CalendarId,
    pub mailbox: MailboxId,
    /// The last path segment of its URL; unique per mailbox.
    pub slug: String,
    pub display_name: String,
    /// `#RRGGBB` or `#RRGGBBAA`, as Apple's `calendar-color` carries it.
    pub color: Option<String>,
    pub description: Option<String>,
    /// Grows with every change of an object in it (the sync token, RFC 6578).
    pub sync_seq: u64,
}

impl Calendar {
    pub fn is_default(&self) -> bool {
        self.slug == DEFAULT_CALENDAR
    }
}

/// Which iCalendar component a resource holds (RFC 4791 §4.1: one kind per resource).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ComponentKind {
    Event,
    Todo,
    Journal,
}

impl ComponentKind {
    pub fn ical_name(self) -> &'static str {
        match self {
            ComponentKind::Event => "VEVENT",
            ComponentKind::Todo => "VTODO",
            ComponentKind::Journal => "VJOURNAL",
        }
    }

    pub fn from_ical_name(name: &str) -> Option<Self> {
        match name.to_ascii_uppercase().as_str() {
            "VEVENT" => Some(ComponentKind::Event),
            "VTODO" => Some(ComponentKind::Todo),
            "VJOURNAL" => Some(ComponentKind::Journal),
            _ => None,
        }
    }
}

/// The span of time an object occupies, in Unix seconds, for the store to
/// pre-select candidates of a time-range query: `[start, end)`, `end` being
/// `i64::MAX` for a recurrence without end. Exact matching happens after.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeSpan {
    pub start: i64,
    pub end: i64,
}

impl TimeSpan {
    /// Always overlaps: objects without dates (a VTODO with none) match every range.
    pub const ALWAYS: TimeSpan = TimeSpan { start: i64::MIN, end: i64::MAX };
    /// Never overlaps: a dated object whose recurrence rule produces no
    /// occurrence (February 30th every year).
    pub const NEVER: TimeSpan = TimeSpan { start: i64::MAX, end: i64::MIN };
}

/// A validated resource to store. The protocol parses and checks the
/// iCalendar text; the core decides whether it may be written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewCalendarObject {
    pub uid: String,
    pub component: ComponentKind,
    /// Kept exactly as the client wrote it (VALARMs included).
    pub data: String,
    pub span: TimeSpan,
}

/// A stored resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CalendarObject {
    /// The last segment of its URL (`<uid>.ics` for most clients).
    pub name: String,
    pub uid: String,
    pub component: ComponentKind,
    /// A strong entity tag, quotes included.
    pub etag: String,
    pub data: String,
    /// The calendar's `sync_seq` when it was last written.
    pub modseq: u64,
    /// Unix seconds.
    pub modified: i64,
    pub span: TimeSpan,
}

/// What a write expects to find (HTTP conditional requests, RFC 9110 §13).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Precondition {
    None,
    /// `If-Match: *`: the resource exists.
    Exists,
    /// `If-None-Match: *`: the resource doesn't exist (create only).
    Absent,
    /// `If-Match: "etag"`.
    EtagIs(String),
}

/// What a write did, or why it didn't.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PutOutcome {
    Created {
        etag: String,
    },
    Replaced {
        etag: String,
    },
    /// The precondition didn't hold; nothing was written.
    PreconditionFailed,
    /// Another resource of the calendar has this UID (RFC 4791 §5.3.2.1).
    UidConflict {
        existing: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeleteOutcome {
    Deleted,
    NotFound,
    PreconditionFailed,
}

/// One entry of a calendar's change log (RFC 6578 sync-collection).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectChange {
    pub name: String,
    pub modseq: u64,
    pub deleted: bool,
}

/// What a person did to an object (SPEC: the activity trail).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActivityAction {
    Created,
    Changed,
    Deleted,
}

impl ActivityAction {
    pub fn as_str(self) -> &'static str {
        match self {
            ActivityAction::Created => "created",
            ActivityAction::Changed => "changed",
            ActivityAction::Deleted => "deleted",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "created" => Some(ActivityAction::Created),
            "changed" => Some(ActivityAction::Changed),
            "deleted" => Some(ActivityAction::Deleted),
            _ => None,
        }
    }
}

/// One recorded change: who did what to which object, when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CalendarActivity {
    pub calendar: CalendarId,
    pub name: String,
    pub uid: String,
    pub actor: PrincipalId,
    pub action: ActivityAction,
    /// Unix seconds.
    pub at: i64,
}

/// A calendar's editable properties (PROPPATCH, MKCALENDAR). `None` leaves
/// one as it is; `Some(None)` removes it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CalendarProps {
    pub display_name: Option<String>,
    pub color: Option<Option<String>>,
    pub description: Option<Option<String>>,
}
