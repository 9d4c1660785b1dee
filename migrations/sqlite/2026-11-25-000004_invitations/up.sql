-- Invitations to an organization or one of its groups; the link token is stored only as its hash.
CREATE TABLE invitations (
    id TEXT PRIMARY KEY NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    group_id TEXT REFERENCES user_groups (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('internal', 'external', 'group')),
    email TEXT NOT NULL CHECK (email = lower(email)),
    invited_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'declined', 'revoked', 'expired')),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    decided_at TIMESTAMP
);
CREATE INDEX invitations_email ON invitations (email, status);
CREATE INDEX invitations_org ON invitations (organization_id, status);
