-- Identities and the account life cycle. Times are UTC; ids are UUIDv7 text.
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    email_verified_at TIMESTAMP,
    password_hash TEXT,
    given_name TEXT NOT NULL,
    family_name TEXT NOT NULL,
    country TEXT NOT NULL,
    preferred_language TEXT,
    status TEXT NOT NULL CHECK (status IN ('unverified', 'active', 'disabled')),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK (email = lower(email))
);

CREATE TABLE terms_documents (
    kind TEXT NOT NULL CHECK (kind IN ('terms', 'privacy')),
    version INTEGER NOT NULL,
    url TEXT NOT NULL,
    published_at TIMESTAMP NOT NULL,
    PRIMARY KEY (kind, version)
);

CREATE TABLE terms_acceptances (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    version INTEGER NOT NULL,
    accepted_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, kind, version),
    FOREIGN KEY (kind, version) REFERENCES terms_documents (kind, version)
);

CREATE TABLE action_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    purpose TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX action_tokens_user ON action_tokens (user_id, purpose);

-- Emails (and later other deliveries) wait here until a worker has sent them.
CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    recipient TEXT NOT NULL,
    payload TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    lease_owner TEXT,
    lease_until TIMESTAMP,
    sent_at TIMESTAMP,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX outbox_due ON outbox (sent_at, next_attempt_at);

-- The embedded short-lived store writes its entries through to this table so
-- sessions survive a restart without Redis.
CREATE TABLE kv_entries (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL
);

CREATE TABLE audit_events (
    id TEXT PRIMARY KEY,
    at TIMESTAMP NOT NULL,
    kind TEXT NOT NULL,
    actor_user_id TEXT,
    subject_user_id TEXT,
    ip TEXT,
    request_id TEXT,
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_at ON audit_events (at);
CREATE INDEX audit_events_subject ON audit_events (subject_user_id, at);

INSERT INTO terms_documents (kind, version, url, published_at) VALUES
    ('terms', 1, '/legal/terms', '2026-11-25 00:00:00'),
    ('privacy', 1, '/legal/privacy', '2026-11-25 00:00:00');
