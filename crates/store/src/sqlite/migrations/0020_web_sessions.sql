-- Browser sessions of the web app and the admin center, in the store so
-- that every node knows them (a session started through one node works on
-- all, and ends on all). `id_hash` is the SHA-256 of the cookie's token:
-- the table hands out no session. `fingerprint` is a hash of the account's
-- password hash and roles at sign-in; a change ends the session.
CREATE TABLE web_sessions (
    id_hash       TEXT PRIMARY KEY,
    principal_id  INTEGER NOT NULL REFERENCES recipients(id) ON DELETE CASCADE,
    fingerprint   TEXT NOT NULL,
    is_admin      INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    last_seen     INTEGER NOT NULL
);
CREATE INDEX web_sessions_by_principal ON web_sessions(principal_id, last_seen);
