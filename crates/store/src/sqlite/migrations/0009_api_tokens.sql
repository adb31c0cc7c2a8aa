-- API tokens for the HTTP admin API (`mailroom token create`): only a
-- SHA-256 of the secret is kept, so the table doesn't hand out access.
CREATE TABLE api_tokens (
    name         TEXT PRIMARY KEY,
    secret_hash  TEXT NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER
);
