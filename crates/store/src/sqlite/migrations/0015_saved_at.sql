-- When a message was saved into its folder (IMAP SAVEDATE, RFC 8514): set
-- by every insert (delivery, APPEND, COPY, MOVE — a copy is saved anew).
-- Messages from before this migration have none and are read as saved at
-- their arrival (`COALESCE(saved_at, internal_date)`), which is when most
-- were; no rewrite of every row.
ALTER TABLE messages ADD COLUMN saved_at INTEGER;
