-- Automatic replies (SPEC §3): who got one from which mailbox in which
-- enabled period, so each sender gets one reply per period.
CREATE TABLE auto_reply_sent (
    mailbox_id  INTEGER NOT NULL REFERENCES recipients(id) ON DELETE CASCADE,
    sender      TEXT NOT NULL,
    period      TEXT NOT NULL,
    sent_at     INTEGER NOT NULL,
    PRIMARY KEY (mailbox_id, sender, period)
);
