-- The outbound queue (SPEC §3): one row per remote recipient of a message.
-- Each row holds a reference on the body (blobs.refcount) until it is sent,
-- bounced or deleted, so the sweep never removes a queued message.
CREATE TABLE outbound (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    blob_id         BLOB NOT NULL REFERENCES blobs(id),
    envelope_from   TEXT,              -- NULL: the null sender <>
    recipient       TEXT NOT NULL,
    created         INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt    INTEGER NOT NULL,
    last_error      TEXT,
    delay_notified  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX outbound_due ON outbound(next_attempt);
