-- Every change to what the directory says about a person — the person's
-- row, their memberships, groups and licenses, the organizations and groups
-- themselves — is announced on the channel tunnus_directory, so that each
-- replica can drop what it cached about that person (crates/tunnus-store/
-- src/directory_cache.rs). The payload names the person ('u:<id>'), or is
-- '*' when a change may concern many people (an organization's license, a
-- renamed group). Notifications are sent when the transaction commits, and
-- identical ones within a transaction are sent once.
CREATE FUNCTION tunnus_directory_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    person TEXT;
BEGIN
    IF TG_NARGS = 0 OR TG_LEVEL = 'STATEMENT' THEN
        PERFORM pg_notify('tunnus_directory', '*');
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        person := to_jsonb(OLD) ->> TG_ARGV[0];
        PERFORM pg_notify('tunnus_directory', coalesce('u:' || person, '*'));
    END IF;
    IF TG_OP <> 'DELETE' THEN
        person := to_jsonb(NEW) ->> TG_ARGV[0];
        PERFORM pg_notify('tunnus_directory', coalesce('u:' || person, '*'));
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER users_directory AFTER INSERT OR UPDATE OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION tunnus_directory_changed('id');
CREATE TRIGGER memberships_directory AFTER INSERT OR UPDATE OR DELETE ON memberships
    FOR EACH ROW EXECUTE FUNCTION tunnus_directory_changed('user_id');
CREATE TRIGGER user_group_members_directory AFTER INSERT OR UPDATE OR DELETE ON user_group_members
    FOR EACH ROW EXECUTE FUNCTION tunnus_directory_changed('user_id');
-- A license of an organization or a group has no person: '*'.
CREATE TRIGGER entitlement_grants_directory AFTER INSERT OR UPDATE OR DELETE ON entitlement_grants
    FOR EACH ROW EXECUTE FUNCTION tunnus_directory_changed('user_id');
CREATE TRIGGER organizations_directory AFTER INSERT OR UPDATE OR DELETE ON organizations
    FOR EACH STATEMENT EXECUTE FUNCTION tunnus_directory_changed();
CREATE TRIGGER user_groups_directory AFTER INSERT OR UPDATE OR DELETE ON user_groups
    FOR EACH STATEMENT EXECUTE FUNCTION tunnus_directory_changed();

CREATE TRIGGER users_directory_truncate AFTER TRUNCATE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION tunnus_directory_changed();
CREATE TRIGGER memberships_directory_truncate AFTER TRUNCATE ON memberships
    FOR EACH STATEMENT EXECUTE FUNCTION tunnus_directory_changed();
CREATE TRIGGER user_group_members_directory_truncate AFTER TRUNCATE ON user_group_members
    FOR EACH STATEMENT EXECUTE FUNCTION tunnus_directory_changed();
CREATE TRIGGER entitlement_grants_directory_truncate AFTER TRUNCATE ON entitlement_grants
    FOR EACH STATEMENT EXECUTE FUNCTION tunnus_directory_changed();
CREATE TRIGGER organizations_directory_truncate AFTER TRUNCATE ON organizations
    FOR EACH STATEMENT EXECUTE FUNCTION tunnus_directory_changed();
CREATE TRIGGER user_groups_directory_truncate AFTER TRUNCATE ON user_groups
    FOR EACH STATEMENT EXECUTE FUNCTION tunnus_directory_changed();
