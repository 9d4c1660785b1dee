CREATE TABLE refresh_tokens_joined (
    token_hash TEXT PRIMARY KEY,
    family_id TEXT NOT NULL,
    client_id TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    scopes TEXT NOT NULL,
    sid TEXT,
    offline BOOLEAN NOT NULL,
    auth_time TIMESTAMP NOT NULL,
    amr TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    family_expires_at TIMESTAMP NOT NULL,
    rotated_at TIMESTAMP,
    revoked_at TIMESTAMP
);
INSERT INTO refresh_tokens_joined
SELECT t.token_hash, t.family_id, f.client_id, f.user_id, f.scopes, f.sid, f.offline, f.auth_time, f.amr,
       t.created_at, t.expires_at, f.expires_at, t.rotated_at, f.revoked_at
FROM refresh_tokens t JOIN refresh_families f ON f.family_id = t.family_id;
DROP TABLE refresh_tokens;
DROP TABLE refresh_families;
ALTER TABLE refresh_tokens_joined RENAME TO refresh_tokens;
ALTER TABLE refresh_tokens RENAME CONSTRAINT refresh_tokens_joined_pkey TO refresh_tokens_pkey;
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);
CREATE INDEX refresh_tokens_sid ON refresh_tokens (sid);
