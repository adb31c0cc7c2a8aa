-- Directory: accepted domains, recipients and their addresses, accounts,
-- mailbox settings, automatic replies, groups and permissions (SPEC §1-3).
-- Keys ending in _key hold the case-folded form used for uniqueness.
-- Recipient ids are never reused (AUTOINCREMENT): mail, grants and change
-- events refer to them, and PostgreSQL sequences behave the same way.

CREATE TABLE accepted_domains (
    name        TEXT PRIMARY KEY,
    is_default  INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL
);

CREATE TABLE recipients (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    kind          TEXT NOT NULL,
    name          TEXT NOT NULL,
    name_key      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    alias         TEXT NOT NULL,
    alias_key     TEXT NOT NULL UNIQUE,
    created_at    INTEGER NOT NULL
);

CREATE TABLE addresses (
    address_key   TEXT PRIMARY KEY,
    address       TEXT NOT NULL,
    recipient_id  INTEGER NOT NULL REFERENCES recipients(id) ON DELETE CASCADE,
    is_primary    INTEGER NOT NULL,
    position      INTEGER NOT NULL
);
CREATE INDEX addresses_by_recipient ON addresses(recipient_id);

CREATE TABLE accounts (
    recipient_id     INTEGER PRIMARY KEY REFERENCES recipients(id) ON DELETE CASCADE,
    password_hash    TEXT,
    sign_in_blocked  INTEGER NOT NULL
);

CREATE TABLE admin_roles (
    recipient_id  INTEGER NOT NULL REFERENCES recipients(id) ON DELETE CASCADE,
    role          TEXT NOT NULL,
    PRIMARY KEY (recipient_id, role)
);

-- Quotas: NULL means Unlimited.
CREATE TABLE mailbox_settings (
    recipient_id                     INTEGER PRIMARY KEY REFERENCES recipients(id) ON DELETE CASCADE,
    forwarding_recipient_id          INTEGER REFERENCES recipients(id) ON DELETE SET NULL,
    forwarding_smtp_address          TEXT,
    deliver_to_mailbox_and_forward   INTEGER NOT NULL,
    message_copy_for_sent_as         INTEGER NOT NULL,
    message_copy_for_send_on_behalf  INTEGER NOT NULL,
    issue_warning_quota              INTEGER,
    prohibit_send_quota              INTEGER,
    prohibit_send_receive_quota      INTEGER,
    automap_groups                   INTEGER NOT NULL
);

CREATE TABLE auto_replies (
    recipient_id       INTEGER PRIMARY KEY REFERENCES recipients(id) ON DELETE CASCADE,
    state              TEXT NOT NULL,
    start_time         INTEGER,
    end_time           INTEGER,
    internal_message   TEXT NOT NULL,
    external_message   TEXT NOT NULL,
    external_audience  TEXT NOT NULL
);

CREATE TABLE group_members (
    group_id   INTEGER NOT NULL REFERENCES recipients(id) ON DELETE CASCADE,
    member_id  INTEGER NOT NULL REFERENCES recipients(id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, member_id)
);
CREATE INDEX group_members_by_member ON group_members(member_id);

CREATE TABLE permissions (
    recipient_id  INTEGER NOT NULL REFERENCES recipients(id) ON DELETE CASCADE,
    trustee_id    INTEGER NOT NULL REFERENCES recipients(id) ON DELETE CASCADE,
    right_name    TEXT NOT NULL,
    automapping   INTEGER NOT NULL,
    granted_at    INTEGER NOT NULL,
    PRIMARY KEY (recipient_id, trustee_id, right_name)
);
CREATE INDEX permissions_by_trustee ON permissions(trustee_id);
