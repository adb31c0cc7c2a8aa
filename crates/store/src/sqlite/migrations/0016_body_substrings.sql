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

-- Every body stored so far is indexed again (the server's indexer does it
-- in the background; until then a search reads those bodies).
INSERT OR IGNORE INTO text_pending (text_key) SELECT text_key FROM blobs WHERE text_key IS NOT NULL;

CREATE TRIGGER blobs_substrings_gone AFTER DELETE ON blobs BEGIN
    DELETE FROM body_substrings WHERE rowid = old.text_key;
END;
