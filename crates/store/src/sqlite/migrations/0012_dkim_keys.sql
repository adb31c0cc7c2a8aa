-- DKIM signing keys of the accepted domains, in the shared store so every
-- node signs alike. A domain's signing keys (one per algorithm) sign its
-- outgoing mail; rotated-out ones stay (published) until removed.
CREATE TABLE dkim_keys (
    domain       TEXT NOT NULL REFERENCES accepted_domains(name) ON DELETE CASCADE,
    selector     TEXT NOT NULL,
    algorithm    TEXT NOT NULL CHECK (algorithm IN ('ed25519', 'rsa')),
    private_key  BLOB NOT NULL,
    public_key   TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    signing      INTEGER NOT NULL,
    PRIMARY KEY (domain, selector)
);
