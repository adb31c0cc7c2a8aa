-- Failed sign-ins counted across the nodes (core's throttle::shared): one
-- row per client source ("ip:…") or account ("id:…", or "login:" and an HMAC
-- of a login that names nobody) that failed recently. Times are the
-- database's clock in milliseconds. Rows quiet for the throttle's window are
-- pruned by the nodes' hourly sweep. No change is logged for them, so they
-- take row locks, not the store's write lock.
--
-- UNLOGGED: guesses are an attacker's to make, so their writes must be cheap
-- (no WAL, nothing sent to standbys). A crash or a failover empties the
-- table; each node's own throttle still holds what it saw.
CREATE UNLOGGED TABLE sign_in_pressure (
    key           TEXT PRIMARY KEY,
    failures      INTEGER NOT NULL,
    last_failure  BIGINT NOT NULL,
    last_start    BIGINT
);
CREATE INDEX sign_in_pressure_by_age ON sign_in_pressure(last_failure);
