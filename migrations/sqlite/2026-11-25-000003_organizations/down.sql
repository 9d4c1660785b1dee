ALTER TABLE clients DROP COLUMN required_entitlement;
DROP TABLE platform_admins;
DROP TABLE entitlement_grants;
DROP TABLE entitlements;
DROP TABLE user_group_members;
DROP TABLE user_groups;
DROP TABLE memberships;
DROP TABLE organizations;
