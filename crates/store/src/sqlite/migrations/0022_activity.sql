-- The activity trail (SPEC §5): who did what to a mailbox's messages and
-- when, written in the transaction of the action. `actor_id` is kept as a
-- number, not a reference: the trail outlives the account that acted.
-- `blob_id` names the message's body, the same across moves and copies.
CREATE TABLE mailbox_activity (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    mailbox_id  INTEGER NOT NULL REFERENCES recipients(id) ON DELETE CASCADE,
    at          INTEGER NOT NULL,
    actor_id    INTEGER,
    action      TEXT NOT NULL,
    blob_id     BLOB,
    subject     TEXT NOT NULL DEFAULT '',
    detail      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX mailbox_activity_by_mailbox ON mailbox_activity(mailbox_id, id);
CREATE INDEX mailbox_activity_by_message ON mailbox_activity(mailbox_id, blob_id);
CREATE INDEX mailbox_activity_by_age ON mailbox_activity(at);

-- Exchange's AuditEnabled (on) and AuditLogAgeLimit (90 days).
ALTER TABLE mailbox_settings ADD COLUMN audit_enabled INTEGER NOT NULL DEFAULT 1;
ALTER TABLE mailbox_settings ADD COLUMN audit_log_age_seconds INTEGER NOT NULL DEFAULT 7776000;

-- Per-member read state (SPEC §5, ours: Set-Mailbox -SharedSeenState
-- PerMember): each member's own \Seen of a message, where it differs from
-- the message's shared flag; it goes with the message.
ALTER TABLE mailbox_settings ADD COLUMN per_member_seen INTEGER NOT NULL DEFAULT 0;
CREATE TABLE member_seen (
    folder_id     INTEGER NOT NULL,
    uid           INTEGER NOT NULL,
    principal_id  INTEGER NOT NULL,
    seen          INTEGER NOT NULL,
    PRIMARY KEY (folder_id, uid, principal_id),
    FOREIGN KEY (folder_id, uid) REFERENCES messages(folder_id, uid) ON DELETE CASCADE
);
CREATE INDEX member_seen_by_member ON member_seen(folder_id, principal_id);

-- A message's MODSEQ moving with its flags as they were is a member's own
-- read state changing: sessions hear of it as a flag change, and look.
CREATE TRIGGER change_own_seen AFTER UPDATE OF modseq ON messages
WHEN OLD.flags IS NEW.flags AND OLD.keywords IS NEW.keywords AND OLD.modseq IS NOT NEW.modseq BEGIN
    INSERT INTO change_log (kind, subject, object, uid, modseq)
    SELECT 'flags_changed', f.mailbox_id, NEW.folder_id, NEW.uid, NEW.modseq FROM folders f WHERE f.id = NEW.folder_id;
END;
