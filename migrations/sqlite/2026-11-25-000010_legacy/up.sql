-- Accounts imported from the legacy account system, one row per legacy id.
-- `outcome`: created (a new identity), merged (into an identity with the same
-- email), linked (skipped as unverified, connected when that person verified
-- a Tunnus identity) or skipped (`reason` says why). The membership and
-- licenses are kept so a skipped-unverified account can be linked later.
CREATE TABLE legacy_accounts (
    legacy_id TEXT PRIMARY KEY NOT NULL,
    email TEXT NOT NULL,
    user_id TEXT REFERENCES users (id) ON DELETE SET NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('created', 'merged', 'linked', 'skipped')),
    reason TEXT,
    organization TEXT,
    membership_kind TEXT CHECK (membership_kind IN ('internal', 'external')),
    role TEXT CHECK (role IN ('member', 'admin')),
    licenses TEXT NOT NULL DEFAULT '',
    email_at TIMESTAMP,
    imported_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK (email = lower(email))
);
CREATE INDEX legacy_accounts_email ON legacy_accounts (email);
CREATE INDEX legacy_accounts_user ON legacy_accounts (user_id);
