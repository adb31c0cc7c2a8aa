-- Keys the server signs with (the SRS key of forwarded mail), kept in the
-- store rather than in one node's data directory: every node (and every
-- process) on the same store signs and checks with the same key. The first
-- to ask for a key decides its value; it never changes afterwards.
CREATE TABLE server_secrets (
    name       TEXT PRIMARY KEY,
    value      BLOB NOT NULL,
    created_at INTEGER NOT NULL
);
