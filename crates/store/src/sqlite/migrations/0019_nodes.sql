-- Nodes and queue leases. Every running server records itself in `nodes`
-- and beats there every few seconds (`mailroom status` lists them). An
-- outbound entry a node is sending carries that node's name: no other node
-- takes it while that node beats, and any node takes it over once the
-- node stops beating (it died) — so each message is sent by one node.
CREATE TABLE nodes (
    name          TEXT PRIMARY KEY,
    started_at    INTEGER NOT NULL,
    heartbeat_at  INTEGER NOT NULL,
    version       TEXT NOT NULL,
    details       TEXT NOT NULL DEFAULT ''
);

ALTER TABLE outbound ADD COLUMN lease_node TEXT;
ALTER TABLE outbound ADD COLUMN leased_at INTEGER;
