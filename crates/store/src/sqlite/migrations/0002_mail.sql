-- Mail: folders with their IMAP counters, messages, content-addressed bodies
-- and per-mailbox usage (SPEC §3, §4; DESIGN.md, Data).

CREATE TABLE folders (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    mailbox_id      INTEGER NOT NULL REFERENCES recipients(id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    name_key        TEXT NOT NULL,
    special_use     TEXT,
    uid_validity    INTEGER NOT NULL,
    uid_next        INTEGER NOT NULL DEFAULT 1,
    highest_modseq  INTEGER NOT NULL DEFAULT 1,
    message_count   INTEGER NOT NULL DEFAULT 0,
    total_size      INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    UNIQUE (mailbox_id, name_key)
);

-- One row per distinct body. Small bodies live in blob_data, in the same
-- transaction as the messages that use them (one fsync for a whole batch of
-- deliveries); large ones in files under blobs/. refcount counts messages.
CREATE TABLE blobs (
    id          BLOB PRIMARY KEY,
    size        INTEGER NOT NULL,
    refcount    INTEGER NOT NULL,
    on_disk     INTEGER NOT NULL,
    zero_since  INTEGER,
    summary     TEXT NOT NULL
);

CREATE TABLE blob_data (
    id    BLOB PRIMARY KEY REFERENCES blobs(id) ON DELETE CASCADE,
    data  BLOB NOT NULL
);

CREATE TABLE messages (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    folder_id      INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
    uid            INTEGER NOT NULL,
    modseq         INTEGER NOT NULL,
    flags          INTEGER NOT NULL DEFAULT 0,
    keywords       TEXT NOT NULL DEFAULT '',
    internal_date  INTEGER NOT NULL,
    size           INTEGER NOT NULL,
    blob_id        BLOB NOT NULL REFERENCES blobs(id),
    UNIQUE (folder_id, uid)
);
CREATE INDEX messages_by_modseq ON messages(folder_id, modseq);
CREATE INDEX messages_by_blob ON messages(blob_id);

CREATE TABLE mailbox_usage (
    mailbox_id          INTEGER PRIMARY KEY REFERENCES recipients(id) ON DELETE CASCADE,
    bytes               INTEGER NOT NULL DEFAULT 0,
    messages            INTEGER NOT NULL DEFAULT 0,
    quota_warning_sent  INTEGER NOT NULL DEFAULT 0
);

-- Mailboxes created before this migration get their folders now.
INSERT INTO mailbox_usage (mailbox_id) SELECT id FROM recipients WHERE kind IN ('user', 'shared');
INSERT INTO folders (mailbox_id, name, name_key, special_use, uid_validity, created_at)
SELECT r.id, f.name, lower(f.name), f.special_use, CAST(strftime('%s', 'now') AS INTEGER), CAST(strftime('%s', 'now') AS INTEGER)
FROM recipients r,
     (SELECT 'Inbox' AS name, 'inbox' AS special_use
      UNION ALL SELECT 'Drafts', 'drafts'
      UNION ALL SELECT 'Sent Items', 'sent'
      UNION ALL SELECT 'Deleted Items', 'trash'
      UNION ALL SELECT 'Junk Email', 'junk'
      UNION ALL SELECT 'Archive', 'archive') f
WHERE r.kind IN ('user', 'shared');
