-- SCRAM-SHA-256 verifiers (RFC 5802, stored as RFC 5803 writes them),
-- derived from the password by the directory. A verifier belongs to one
-- password: whenever the argon2id hash changes (a new password, a
-- conversion to a shared mailbox, any path), the trigger drops it, so no
-- old password can sign in through SCRAM. Accounts from before this
-- migration get theirs at the next sign-in with the password.
ALTER TABLE accounts ADD COLUMN scram_sha256 TEXT;

CREATE TRIGGER accounts_password_drops_scram
AFTER UPDATE OF password_hash ON accounts
WHEN NEW.password_hash IS NOT OLD.password_hash
BEGIN
    UPDATE accounts SET scram_sha256 = NULL WHERE recipient_id = NEW.recipient_id;
END;
