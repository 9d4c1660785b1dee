DROP INDEX legacy_accounts_unlinked_email;
CREATE INDEX legacy_accounts_email ON legacy_accounts (email);
DROP INDEX entitlement_grants_group;
DROP INDEX entitlement_grants_org;
CREATE INDEX entitlement_grants_org ON entitlement_grants (organization_id);
CREATE INDEX entitlement_grants_group ON entitlement_grants (group_id);
