-- Sign-in through upstream identity providers: which upstream account
-- (provider id from the configuration, the upstream's `sub`) belongs to
-- which identity. The email is the upstream's at link time, for the record.
CREATE TABLE federated_identities (
    provider TEXT NOT NULL,
    subject TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email TEXT,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (provider, subject)
);
CREATE INDEX federated_identities_user ON federated_identities (user_id);

-- Per-service policy: whether a client accepts identities that can sign in
-- only through an upstream (no password of their own).
ALTER TABLE clients ADD COLUMN accepts_federated_only BOOLEAN NOT NULL DEFAULT TRUE;
