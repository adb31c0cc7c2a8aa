-- Subscriptions in the change log: a session that asked to hear of them
-- (IMAP NOTIFY's SubscriptionChange, RFC 5465 §5.5) hears of another
-- session's SUBSCRIBE or UNSUBSCRIBE, whichever process ran it.
--   subscriptions_changed: principal
CREATE TRIGGER change_subscribed AFTER INSERT ON subscriptions BEGIN
    INSERT INTO change_log (kind, subject) VALUES ('subscriptions_changed', NEW.principal_id);
END;
CREATE TRIGGER change_unsubscribed AFTER DELETE ON subscriptions BEGIN
    INSERT INTO change_log (kind, subject) VALUES ('subscriptions_changed', OLD.principal_id);
END;
