-- IMAP's \Recent (RFC 3501 §2.3.2): a message is recent in exactly one
-- session, the first to see it with the folder open read-write. Each
-- folder keeps the highest UID some session has claimed that way; the
-- messages above it are recent for the next session to claim them.
-- Nothing already stored counts as recent after the upgrade.
ALTER TABLE folders ADD COLUMN recent_uid INTEGER NOT NULL DEFAULT 0;
UPDATE folders SET recent_uid = uid_next - 1;
