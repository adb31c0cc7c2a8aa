-- IMAP SEARCH BODY and TEXT match substrings (RFC 3501 §6.4.4), which the
-- word index (message_text) can't answer: a trigram index of each body's
-- searchable text, lower-cased as the comparison is, finds exactly the
-- bodies that contain a needle of three characters or more. Contentless,
-- keyed like message_text by the body's `text_key`.
CREATE VIRTUAL TABLE body_substrings USING fts5(
    body,
    content = '', contentless_delete = 1,
    tokenize = 'trigram case_sensitive 1'
);

-- The bodies this index still lacks, apart from the word index's list
-- (`text_pending`): filling it after an upgrade leaves the word index —
-- and the web app's search — as they are. The server's indexer fills both
-- from the union; until then a search reads those bodies.
CREATE TABLE substring_pending (
    text_key INTEGER PRIMARY KEY
);
INSERT INTO substring_pending (text_key) SELECT text_key FROM blobs WHERE text_key IS NOT NULL;

-- A new body gets its key from `blobs_text_pending` (an UPDATE of the new
-- row), and is listed for this index then.
CREATE TRIGGER blobs_substrings_pending AFTER UPDATE OF text_key ON blobs
WHEN new.text_key IS NOT NULL BEGIN
    INSERT OR IGNORE INTO substring_pending (text_key) VALUES (new.text_key);
END;

CREATE TRIGGER blobs_substrings_gone AFTER DELETE ON blobs BEGIN
    DELETE FROM body_substrings WHERE rowid = old.text_key;
    DELETE FROM substring_pending WHERE text_key = old.text_key;
END;
