-- Browser sessions of the web app and the admin center (as the embedded
-- store's migration 20): every node knows every session. `id_hash` is the
-- SHA-256 of the cookie's token; `fingerprint` a hash of the account's
-- password hash and roles at sign-in.
CREATE TABLE web_sessions (
    id_hash       TEXT PRIMARY KEY,
    principal_id  BIGINT NOT NULL REFERENCES recipients(id) ON DELETE CASCADE,
    fingerprint   TEXT NOT NULL,
    is_admin      BOOLEAN NOT NULL,
    created_at    BIGINT NOT NULL,
    last_seen     BIGINT NOT NULL
);
CREATE INDEX web_sessions_by_principal ON web_sessions(principal_id, last_seen);
