-- Full-text search of messages (the web app's search box): one row per
-- body in an FTS5 index, keyed by the body's rowid in `blobs` (a body
-- shared by several messages is indexed once). Contentless: the index keeps
-- the terms, not a second copy of the text.
--
-- The text is extracted outside SQL (MIME decoding), by the server's
-- indexer, from the bodies listed in `text_pending`: every body stored
-- from now on is listed by a trigger, and every body already stored is
-- listed here, so an existing organisation is indexed in the background
-- after the upgrade. Until a body is indexed, a search reads it directly.
CREATE VIRTUAL TABLE message_text USING fts5(
    subject, people, body,
    content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TABLE text_pending (
    blob_rowid INTEGER PRIMARY KEY
);

INSERT INTO text_pending (blob_rowid) SELECT rowid FROM blobs;

CREATE TRIGGER blobs_text_pending AFTER INSERT ON blobs BEGIN
    INSERT OR IGNORE INTO text_pending (blob_rowid) VALUES (new.rowid);
END;

-- A body swept away takes its terms with it. (A rowid SQLite hands out
-- again after this belongs to a new body, listed again by the trigger.)
CREATE TRIGGER blobs_text_gone AFTER DELETE ON blobs BEGIN
    DELETE FROM message_text WHERE rowid = old.rowid;
    DELETE FROM text_pending WHERE blob_rowid = old.rowid;
END;
