-- Index entries only where there is something to find by them. A license
-- held by one person has no organization and no group, and the legacy row of
-- an imported identity is found through its user, never by email: before,
-- each identity a legacy import created cost three index entries that no
-- query could use.
DROP INDEX entitlement_grants_org;
DROP INDEX entitlement_grants_group;
CREATE INDEX entitlement_grants_org ON entitlement_grants (organization_id) WHERE organization_id IS NOT NULL;
CREATE INDEX entitlement_grants_group ON entitlement_grants (group_id) WHERE group_id IS NOT NULL;

-- Looked up by email only to link an account skipped as unverified, which
-- has no user yet.
DROP INDEX legacy_accounts_email;
CREATE INDEX legacy_accounts_unlinked_email ON legacy_accounts (email) WHERE user_id IS NULL;
