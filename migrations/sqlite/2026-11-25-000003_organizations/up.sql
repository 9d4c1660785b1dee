-- Organizations, memberships, groups, licenses (entitlements) and platform administrators.
CREATE TABLE organizations (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE memberships (
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('internal', 'external')),
    role TEXT NOT NULL CHECK (role IN ('member', 'admin')),
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (organization_id, user_id)
);
-- A person is an internal member of at most one organization: the database
-- enforces it, so two invitations accepted at once cannot both succeed.
CREATE UNIQUE INDEX memberships_one_internal ON memberships (user_id) WHERE kind = 'internal';
CREATE INDEX memberships_user ON memberships (user_id);

CREATE TABLE user_groups (
    id TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (organization_id, name)
);

CREATE TABLE user_group_members (
    group_id TEXT NOT NULL REFERENCES user_groups (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX user_group_members_user ON user_group_members (user_id);

-- The catalogue of entitlements; `content` ones come with a maintenance contract.
CREATE TABLE entitlements (
    name TEXT PRIMARY KEY NOT NULL,
    description TEXT NOT NULL,
    content BOOLEAN NOT NULL
);
INSERT INTO entitlements (name, description, content) VALUES
    ('maintenance', 'Maintenance contract: all online content', FALSE),
    ('campus', 'Campus e-learning', TRUE),
    ('warehouse:premium', 'Warehouse premium downloads', TRUE),
    ('model-sharing', 'Model Sharing collaboration', TRUE);

-- A license: an entitlement held by exactly one of an organization, a group or a person.
CREATE TABLE entitlement_grants (
    id TEXT PRIMARY KEY NOT NULL,
    entitlement TEXT NOT NULL REFERENCES entitlements (name),
    organization_id TEXT REFERENCES organizations (id) ON DELETE CASCADE,
    group_id TEXT REFERENCES user_groups (id) ON DELETE CASCADE,
    user_id TEXT REFERENCES users (id) ON DELETE CASCADE,
    include_external BOOLEAN NOT NULL,
    valid_from TIMESTAMP,
    valid_until TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    CHECK ((organization_id IS NOT NULL) + (group_id IS NOT NULL) + (user_id IS NOT NULL) = 1)
);
CREATE INDEX entitlement_grants_org ON entitlement_grants (organization_id);
CREATE INDEX entitlement_grants_group ON entitlement_grants (group_id);
CREATE INDEX entitlement_grants_user ON entitlement_grants (user_id);

CREATE TABLE platform_admins (
    user_id TEXT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    granted_at TIMESTAMP NOT NULL
);

ALTER TABLE clients ADD COLUMN required_entitlement TEXT;
