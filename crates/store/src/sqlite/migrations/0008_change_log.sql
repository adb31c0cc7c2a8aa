-- The change log (DESIGN.md, Changes): every change a session, cache or
-- another process must hear of is a row here, written by the triggers below
-- in the transaction that makes the change — so it is durable exactly when
-- the change is, whichever process (server or admin CLI) wrote it.
--
-- `subject` and `object` are ids whose meaning depends on `kind`:
--   message_added / flags_changed / expunged: mailbox, folder (+ uid, modseq)
--   folders_changed: mailbox
--   recipient_created / recipient_updated / recipient_removed: recipient
--   permissions_changed: recipient, trustee
--   membership_changed: group, member
--   calendar_changed: mailbox, calendar
--   domains_changed, outbound_queued: nothing
CREATE TABLE change_log (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    kind     TEXT NOT NULL,
    subject  INTEGER,
    object   INTEGER,
    uid      INTEGER,
    modseq   INTEGER,
    at       INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER))
);
CREATE INDEX change_log_at ON change_log (at);

-- Mail.
CREATE TRIGGER change_message_added AFTER INSERT ON messages BEGIN
    INSERT INTO change_log (kind, subject, object, uid, modseq)
    SELECT 'message_added', f.mailbox_id, NEW.folder_id, NEW.uid, NEW.modseq FROM folders f WHERE f.id = NEW.folder_id;
END;
CREATE TRIGGER change_flags AFTER UPDATE OF flags, keywords ON messages
WHEN OLD.flags IS NOT NEW.flags OR OLD.keywords IS NOT NEW.keywords BEGIN
    INSERT INTO change_log (kind, subject, object, uid, modseq)
    SELECT 'flags_changed', f.mailbox_id, NEW.folder_id, NEW.uid, NEW.modseq FROM folders f WHERE f.id = NEW.folder_id;
END;
-- An expunge leaves a tombstone for QRESYNC; deleting a folder removes its
-- messages without one (the folder change says enough).
CREATE TRIGGER change_expunged AFTER INSERT ON expunged BEGIN
    INSERT INTO change_log (kind, subject, object, uid, modseq)
    SELECT 'expunged', f.mailbox_id, NEW.folder_id, NEW.uid, NEW.modseq FROM folders f WHERE f.id = NEW.folder_id;
END;
CREATE TRIGGER change_expunged_again AFTER UPDATE OF modseq ON expunged BEGIN
    INSERT INTO change_log (kind, subject, object, uid, modseq)
    SELECT 'expunged', f.mailbox_id, NEW.folder_id, NEW.uid, NEW.modseq FROM folders f WHERE f.id = NEW.folder_id;
END;
CREATE TRIGGER change_folder_created AFTER INSERT ON folders BEGIN
    INSERT INTO change_log (kind, subject) VALUES ('folders_changed', NEW.mailbox_id);
END;
CREATE TRIGGER change_folder_renamed AFTER UPDATE OF name ON folders BEGIN
    INSERT INTO change_log (kind, subject) VALUES ('folders_changed', NEW.mailbox_id);
END;
CREATE TRIGGER change_folder_deleted AFTER DELETE ON folders BEGIN
    INSERT INTO change_log (kind, subject) VALUES ('folders_changed', OLD.mailbox_id);
END;

-- The directory.
CREATE TRIGGER change_domain_added AFTER INSERT ON accepted_domains BEGIN
    INSERT INTO change_log (kind) VALUES ('domains_changed');
END;
CREATE TRIGGER change_domain_updated AFTER UPDATE ON accepted_domains BEGIN
    INSERT INTO change_log (kind) VALUES ('domains_changed');
END;
CREATE TRIGGER change_domain_removed AFTER DELETE ON accepted_domains BEGIN
    INSERT INTO change_log (kind) VALUES ('domains_changed');
END;
CREATE TRIGGER change_recipient_created AFTER INSERT ON recipients BEGIN
    INSERT INTO change_log (kind, subject) VALUES ('recipient_created', NEW.id);
END;
CREATE TRIGGER change_recipient_updated AFTER UPDATE ON recipients BEGIN
    INSERT INTO change_log (kind, subject) VALUES ('recipient_updated', NEW.id);
END;
CREATE TRIGGER change_recipient_removed AFTER DELETE ON recipients BEGIN
    INSERT INTO change_log (kind, subject) VALUES ('recipient_removed', OLD.id);
END;
-- Addresses (Send As, routing), the account (blocked, password), roles,
-- mailbox settings and automatic replies are all the recipient's.
CREATE TRIGGER change_address_added AFTER INSERT ON addresses BEGIN
    INSERT INTO change_log (kind, subject) VALUES ('recipient_updated', NEW.recipient_id);
END;
CREATE TRIGGER change_address_removed AFTER DELETE ON addresses BEGIN
    INSERT INTO change_log (kind, subject) VALUES ('recipient_updated', OLD.recipient_id);
END;
CREATE TRIGGER change_account AFTER UPDATE ON accounts BEGIN
    INSERT INTO change_log (kind, subject) VALUES ('recipient_updated', NEW.recipient_id);
END;
CREATE TRIGGER change_role_added AFTER INSERT ON admin_roles BEGIN
    INSERT INTO change_log (kind, subject) VALUES ('recipient_updated', NEW.recipient_id);
END;
CREATE TRIGGER change_role_removed AFTER DELETE ON admin_roles BEGIN
    INSERT INTO change_log (kind, subject) VALUES ('recipient_updated', OLD.recipient_id);
END;
CREATE TRIGGER change_settings AFTER UPDATE ON mailbox_settings BEGIN
    INSERT INTO change_log (kind, subject) VALUES ('recipient_updated', NEW.recipient_id);
END;
CREATE TRIGGER change_auto_reply_set AFTER INSERT ON auto_replies BEGIN
    INSERT INTO change_log (kind, subject) VALUES ('recipient_updated', NEW.recipient_id);
END;
CREATE TRIGGER change_auto_reply AFTER UPDATE ON auto_replies BEGIN
    INSERT INTO change_log (kind, subject) VALUES ('recipient_updated', NEW.recipient_id);
END;
CREATE TRIGGER change_member_added AFTER INSERT ON group_members BEGIN
    INSERT INTO change_log (kind, subject, object) VALUES ('membership_changed', NEW.group_id, NEW.member_id);
END;
CREATE TRIGGER change_member_removed AFTER DELETE ON group_members BEGIN
    INSERT INTO change_log (kind, subject, object) VALUES ('membership_changed', OLD.group_id, OLD.member_id);
END;
CREATE TRIGGER change_grant_added AFTER INSERT ON permissions BEGIN
    INSERT INTO change_log (kind, subject, object) VALUES ('permissions_changed', NEW.recipient_id, NEW.trustee_id);
END;
CREATE TRIGGER change_grant_updated AFTER UPDATE ON permissions BEGIN
    INSERT INTO change_log (kind, subject, object) VALUES ('permissions_changed', NEW.recipient_id, NEW.trustee_id);
END;
CREATE TRIGGER change_grant_removed AFTER DELETE ON permissions BEGIN
    INSERT INTO change_log (kind, subject, object) VALUES ('permissions_changed', OLD.recipient_id, OLD.trustee_id);
END;

-- Calendars: every object write moves the calendar's sync sequence.
CREATE TRIGGER change_calendar_created AFTER INSERT ON calendars BEGIN
    INSERT INTO change_log (kind, subject, object) VALUES ('calendar_changed', NEW.mailbox_id, NEW.id);
END;
CREATE TRIGGER change_calendar_updated AFTER UPDATE ON calendars BEGIN
    INSERT INTO change_log (kind, subject, object) VALUES ('calendar_changed', NEW.mailbox_id, NEW.id);
END;
CREATE TRIGGER change_calendar_removed AFTER DELETE ON calendars BEGIN
    INSERT INTO change_log (kind, subject, object) VALUES ('calendar_changed', OLD.mailbox_id, OLD.id);
END;

-- The outbound queue: new entries, and entries made due now (an admin's retry).
CREATE TRIGGER change_queued AFTER INSERT ON outbound BEGIN
    INSERT INTO change_log (kind) VALUES ('outbound_queued');
END;
CREATE TRIGGER change_queue_due AFTER UPDATE OF next_attempt ON outbound
WHEN NEW.next_attempt <= CAST(strftime('%s', 'now') AS INTEGER) BEGIN
    INSERT INTO change_log (kind) VALUES ('outbound_queued');
END;
