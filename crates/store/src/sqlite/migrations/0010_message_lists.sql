-- Message lists (the web app): a folder's messages by arrival, newest or
-- oldest first, a page at a time; and its unread and flagged ones, which the
-- partial indexes keep small (counting a folder's unread reads only those).
CREATE INDEX messages_by_date ON messages(folder_id, internal_date, uid);
CREATE INDEX messages_unread ON messages(folder_id, internal_date, uid) WHERE flags & 1 = 0;
CREATE INDEX messages_flagged ON messages(folder_id, internal_date, uid) WHERE flags & 4 != 0;
