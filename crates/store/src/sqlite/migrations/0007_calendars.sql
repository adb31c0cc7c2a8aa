-- Calendars (SPEC §4, CalDAV): every mailbox has a default calendar; each
-- calendar holds iCalendar resources, a change log for sync-collection
-- (RFC 6578) and the activity of who changed what.

CREATE TABLE calendars (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    mailbox_id    INTEGER NOT NULL REFERENCES recipients(id) ON DELETE CASCADE,
    slug          TEXT NOT NULL,
    display_name  TEXT NOT NULL,
    color         TEXT,
    description   TEXT,
    -- Moves with every write or delete of an object: the sync token.
    sync_seq      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    UNIQUE (mailbox_id, slug)
);

-- One row per resource. A deleted resource keeps its row with data NULL (a
-- tombstone), so a client syncing from an older token learns it is gone.
CREATE TABLE calendar_objects (
    calendar_id  INTEGER NOT NULL REFERENCES calendars(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    uid          TEXT NOT NULL,
    component    TEXT NOT NULL,
    etag         TEXT NOT NULL,
    data         TEXT,
    modseq       INTEGER NOT NULL,
    modified     INTEGER NOT NULL,
    -- [span_start, span_end): the time the object occupies, for time-range
    -- queries (span_end is i64::MAX for an endless recurrence).
    span_start   INTEGER NOT NULL,
    span_end     INTEGER NOT NULL,
    PRIMARY KEY (calendar_id, name)
);
CREATE UNIQUE INDEX calendar_objects_uid ON calendar_objects (calendar_id, uid) WHERE data IS NOT NULL;
CREATE INDEX calendar_objects_modseq ON calendar_objects (calendar_id, modseq);
CREATE INDEX calendar_objects_span ON calendar_objects (calendar_id, span_start) WHERE data IS NOT NULL;

-- Who created, changed or deleted which object. No foreign key to the
-- person: the trail outlives a removed account.
CREATE TABLE calendar_activity (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    calendar_id  INTEGER NOT NULL REFERENCES calendars(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    uid          TEXT NOT NULL,
    actor_id     INTEGER NOT NULL,
    action       TEXT NOT NULL,
    at           INTEGER NOT NULL
);
CREATE INDEX calendar_activity_calendar ON calendar_activity (calendar_id, id);

-- Mailboxes made before calendars existed get their default calendar now.
INSERT INTO calendars (mailbox_id, slug, display_name, created_at)
    SELECT id, 'calendar', 'Calendar', CAST(strftime('%s', 'now') AS INTEGER)
    FROM recipients WHERE kind IN ('user', 'shared');
