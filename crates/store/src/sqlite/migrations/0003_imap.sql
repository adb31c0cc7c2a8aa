-- What IMAP needs beyond delivery: the UIDs expunged from each folder and the
-- MODSEQ of their removal, for QRESYNC's VANISHED (RFC 7162 §3.2.10).

CREATE TABLE expunged (
    folder_id  INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
    uid        INTEGER NOT NULL,
    modseq     INTEGER NOT NULL,
    PRIMARY KEY (folder_id, uid)
);
CREATE INDEX expunged_by_modseq ON expunged(folder_id, modseq);

-- The last UIDVALIDITY given out. Taking MAX() over the folders would hand a
-- deleted folder's value to the next one created (RFC 9051 §2.3.1.1 forbids
-- reusing it for a name).
CREATE TABLE counters (
    name   TEXT PRIMARY KEY,
    value  INTEGER NOT NULL
);
INSERT INTO counters (name, value) SELECT 'uid_validity', COALESCE(MAX(uid_validity), 0) FROM folders;

-- IMAP subscriptions (RFC 9051 §6.3.7), by name as the user's client sees it
-- (a shared folder as Shared/<address>/<folder>).
CREATE TABLE subscriptions (
    principal_id  INTEGER NOT NULL REFERENCES recipients(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    PRIMARY KEY (principal_id, name)
);
