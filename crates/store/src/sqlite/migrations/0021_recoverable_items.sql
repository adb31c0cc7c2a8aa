-- Recoverable Items (SPEC §5): every mailbox gets the folder where expunged
-- messages wait out its retention period (Exchange's RetainDeletedItemsFor,
-- 14 days unless set), a note per message of where it was deleted from, when
-- and by whom, and Full Access grants get the NoPurge switch.

ALTER TABLE permissions ADD COLUMN no_purge INTEGER NOT NULL DEFAULT 0;
ALTER TABLE mailbox_settings ADD COLUMN retain_deleted_seconds INTEGER NOT NULL DEFAULT 1209600;
-- RecoverableItemsQuota, NULL for Unlimited: 30 GB unless set, as in Exchange Online.
ALTER TABLE mailbox_settings ADD COLUMN recoverable_items_quota INTEGER DEFAULT 32212254720;

-- A folder someone named "Recoverable Items" (and the folders under it)
-- makes room for the real one: "Recoverable Items (renamed 42)", 42 being
-- the mailbox's id, so the new name is taken by nobody else there.
UPDATE folders
SET name = 'Recoverable Items (renamed ' || mailbox_id || ')' || substr(name, 18),
    name_key = 'recoverable items (renamed ' || mailbox_id || ')' || substr(name_key, 18)
WHERE special_use IS NULL AND (name_key = 'recoverable items' OR name_key LIKE 'recoverable items/%');

-- UIDVALIDITY stays strictly increasing (RFC 9051 §2.3.1.1): each new
-- folder takes the next value of the counter.
INSERT INTO folders (mailbox_id, name, name_key, special_use, uid_validity, created_at)
SELECT m.mailbox_id, 'Recoverable Items', 'recoverable items', 'recoverable',
       MIN(c.base + ROW_NUMBER() OVER (ORDER BY m.mailbox_id), 4294967295),
       CAST(strftime('%s', 'now') AS INTEGER)
FROM (SELECT DISTINCT mailbox_id FROM folders) m,
     (SELECT MAX(value, CAST(strftime('%s', 'now') AS INTEGER)) AS base FROM counters WHERE name = 'uid_validity') c;
UPDATE counters SET value = MAX(value, (SELECT COALESCE(MAX(uid_validity), 0) FROM folders))
WHERE name = 'uid_validity';

-- The note of each message in Recoverable Items; it goes with the message
-- (a restore moves the message out, a purge deletes it).
CREATE TABLE recoverable_items (
    folder_id          INTEGER NOT NULL,
    uid                INTEGER NOT NULL,
    deleted_from       INTEGER,
    deleted_from_name  TEXT NOT NULL,
    deleted_at         INTEGER NOT NULL,
    deleted_by         INTEGER REFERENCES recipients(id) ON DELETE SET NULL,
    PRIMARY KEY (folder_id, uid),
    FOREIGN KEY (folder_id, uid) REFERENCES messages(folder_id, uid) ON DELETE CASCADE
);
CREATE INDEX recoverable_items_by_age ON recoverable_items(deleted_at);
