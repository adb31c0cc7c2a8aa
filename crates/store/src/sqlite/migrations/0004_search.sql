-- SEARCH over headers (IMAP SUBJECT, FROM, HEADER ...): each body's
-- top-level header fields, the JSON array of [name, value] pairs its summary
-- holds, kept apart so a search reads this short column and not the whole
-- summary (MIME structure included) of every message in the folder.
ALTER TABLE blobs ADD COLUMN headers TEXT NOT NULL DEFAULT '[]';
UPDATE blobs SET headers = COALESCE(json_extract(summary, '$.headers'), '[]');
