-- Every change to what the directory says about a person — the person's
-- row, their memberships, groups and licenses, the organizations and groups
-- themselves — is announced on the channel tunnus_directory, so that each
-- replica can drop what it cached about that person (crates/tunnus-store/
-- src/directory_cache.rs). The payload names the person ('u:<id>'), or is
-- '*' when a change may concern many people (an organization's license, a
-- renamed group). Notifications are sent when the transaction commits, and
-- identical ones within a transaction are sent once.
--
-- Three functions, not one generic: a row's person is read as a field
-- (to_jsonb of the row, the generic way, cost more). A bulk writer (the
-- legacy import) announces '*' once per transaction and sets
-- tunnus.directory_bulk for it, which silences the row triggers:
-- one notification per row made an import of people a quarter slower.
CREATE FUNCTION tunnus_directory_user_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('tunnus.directory_bulk', true) = 'on' THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('tunnus_directory', 'u:' || OLD.id);
    ELSE
        PERFORM pg_notify('tunnus_directory', 'u:' || NEW.id);
    END IF;
    RETURN NULL;
END
$$;

-- Rows that name their person in user_id; a license of an organization or
-- a group names none, and may concern many: '*'.
CREATE FUNCTION tunnus_directory_member_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('tunnus.directory_bulk', true) = 'on' THEN
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        PERFORM pg_notify('tunnus_directory', coalesce('u:' || OLD.user_id, '*'));
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.user_id IS DISTINCT FROM OLD.user_id) THEN
        PERFORM pg_notify('tunnus_directory', coalesce('u:' || NEW.user_id, '*'));
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION tunnus_directory_all() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('tunnus_directory', '*');
    RETURN NULL;
END
$$;

CREATE TRIGGER users_directory AFTER INSERT OR UPDATE OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION tunnus_directory_user_row();
CREATE TRIGGER memberships_directory AFTER INSERT OR UPDATE OR DELETE ON memberships
    FOR EACH ROW EXECUTE FUNCTION tunnus_directory_member_row();
CREATE TRIGGER user_group_members_directory AFTER INSERT OR UPDATE OR DELETE ON user_group_members
    FOR EACH ROW EXECUTE FUNCTION tunnus_directory_member_row();
CREATE TRIGGER entitlement_grants_directory AFTER INSERT OR UPDATE OR DELETE ON entitlement_grants
    FOR EACH ROW EXECUTE FUNCTION tunnus_directory_member_row();
CREATE TRIGGER organizations_directory AFTER INSERT OR UPDATE OR DELETE ON organizations
    FOR EACH STATEMENT EXECUTE FUNCTION tunnus_directory_all();
CREATE TRIGGER user_groups_directory AFTER INSERT OR UPDATE OR DELETE ON user_groups
    FOR EACH STATEMENT EXECUTE FUNCTION tunnus_directory_all();

CREATE TRIGGER users_directory_truncate AFTER TRUNCATE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION tunnus_directory_all();
CREATE TRIGGER memberships_directory_truncate AFTER TRUNCATE ON memberships
    FOR EACH STATEMENT EXECUTE FUNCTION tunnus_directory_all();
CREATE TRIGGER user_group_members_directory_truncate AFTER TRUNCATE ON user_group_members
    FOR EACH STATEMENT EXECUTE FUNCTION tunnus_directory_all();
CREATE TRIGGER entitlement_grants_directory_truncate AFTER TRUNCATE ON entitlement_grants
    FOR EACH STATEMENT EXECUTE FUNCTION tunnus_directory_all();
CREATE TRIGGER organizations_directory_truncate AFTER TRUNCATE ON organizations
    FOR EACH STATEMENT EXECUTE FUNCTION tunnus_directory_all();
CREATE TRIGGER user_groups_directory_truncate AFTER TRUNCATE ON user_groups
    FOR EACH STATEMENT EXECUTE FUNCTION tunnus_directory_all();
