-- Full-text search of messages (the web app's search box): one row per
-- body in an FTS5 index (a body shared by several messages is indexed
-- once). Contentless: the index keeps the terms, not a second copy of the
-- text. Prefix indexes of 2 and 3 characters keep short prefixes cheap.
--
-- A body's row in the index is its `text_key`: handed out once from
-- `text_keys` and never again (a rowid may be handed out again after a
-- delete, and VACUUM may renumber rowids), so one body's words can never
-- be found under another.
--
-- The text is extracted outside SQL (MIME decoding), by the server's
-- indexer, from the bodies listed in `text_pending`: every body stored
-- from now on is listed by a trigger, and every body already stored is
-- listed here, so an existing organisation is indexed in the background
-- after the upgrade. Until a body is indexed, a search reads it directly.
CREATE VIRTUAL TABLE message_text USING fts5(
    subject, people, body,
    content = '', contentless_delete = 1,
    prefix = '2 3',
    tokenize = 'unicode61 remove_diacritics 2'
);

ALTER TABLE blobs ADD COLUMN text_key INTEGER;
UPDATE blobs SET text_key = rowid;
CREATE UNIQUE INDEX blobs_by_text_key ON blobs(text_key);

CREATE TABLE text_keys (
    next INTEGER NOT NULL
);
INSERT INTO text_keys (next) SELECT coalesce(max(text_key), 0) + 1 FROM blobs;

CREATE TABLE text_pending (
    text_key INTEGER PRIMARY KEY
);
INSERT INTO text_pending (text_key) SELECT text_key FROM blobs;

CREATE TRIGGER blobs_text_pending AFTER INSERT ON blobs BEGIN
    UPDATE blobs SET text_key = (SELECT next FROM text_keys) WHERE rowid = new.rowid;
    INSERT INTO text_pending (text_key) SELECT next FROM text_keys;
    UPDATE text_keys SET next = next + 1;
END;

-- A body swept away takes its terms with it.
CREATE TRIGGER blobs_text_gone AFTER DELETE ON blobs BEGIN
    DELETE FROM message_text WHERE rowid = old.text_key;
    DELETE FROM text_pending WHERE text_key = old.text_key;
END;
