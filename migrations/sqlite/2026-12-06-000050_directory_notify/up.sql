-- Every change to what the directory says about a person — the person's
-- row, their memberships, groups and licenses, the organizations and groups
-- themselves — is logged in directory_changes, which the server polls to
-- drop what it cached about that person (crates/tunnus-store/src/
-- directory_cache.rs). SQLite has no notifications between processes, and
-- `tunnus` on the command line writes the same file. `person` names the
-- person, or is NULL when a change may concern many people (an
-- organization's license, a renamed group). AUTOINCREMENT: a sequence
-- number is never used twice, even after the log is pruned.
--
-- A bulk writer (a legacy import's batch) puts a row in directory_bulk for
-- the length of its transaction and logs one NULL instead: a log row per
-- imported row would slow the import down.
CREATE TABLE directory_changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    person TEXT
);
CREATE TABLE directory_bulk (
    since TIMESTAMP NOT NULL
);

CREATE TRIGGER users_directory_insert AFTER INSERT ON users WHEN NOT EXISTS (SELECT 1 FROM directory_bulk) BEGIN
    INSERT INTO directory_changes (person) VALUES (NEW.id);
END;

CREATE TRIGGER users_directory_update AFTER UPDATE ON users WHEN NOT EXISTS (SELECT 1 FROM directory_bulk) BEGIN
    INSERT INTO directory_changes (person) VALUES (NEW.id);
END;

CREATE TRIGGER users_directory_delete AFTER DELETE ON users WHEN NOT EXISTS (SELECT 1 FROM directory_bulk) BEGIN
    INSERT INTO directory_changes (person) VALUES (OLD.id);
END;

CREATE TRIGGER memberships_directory_insert AFTER INSERT ON memberships WHEN NOT EXISTS (SELECT 1 FROM directory_bulk) BEGIN
    INSERT INTO directory_changes (person) VALUES (NEW.user_id);
END;

CREATE TRIGGER memberships_directory_update AFTER UPDATE ON memberships WHEN NOT EXISTS (SELECT 1 FROM directory_bulk) BEGIN
    INSERT INTO directory_changes (person) VALUES (OLD.user_id);
    INSERT INTO directory_changes (person) VALUES (NEW.user_id);
END;

CREATE TRIGGER memberships_directory_delete AFTER DELETE ON memberships WHEN NOT EXISTS (SELECT 1 FROM directory_bulk) BEGIN
    INSERT INTO directory_changes (person) VALUES (OLD.user_id);
END;

CREATE TRIGGER user_group_members_directory_insert AFTER INSERT ON user_group_members WHEN NOT EXISTS (SELECT 1 FROM directory_bulk) BEGIN
    INSERT INTO directory_changes (person) VALUES (NEW.user_id);
END;

CREATE TRIGGER user_group_members_directory_update AFTER UPDATE ON user_group_members WHEN NOT EXISTS (SELECT 1 FROM directory_bulk) BEGIN
    INSERT INTO directory_changes (person) VALUES (OLD.user_id);
    INSERT INTO directory_changes (person) VALUES (NEW.user_id);
END;

CREATE TRIGGER user_group_members_directory_delete AFTER DELETE ON user_group_members WHEN NOT EXISTS (SELECT 1 FROM directory_bulk) BEGIN
    INSERT INTO directory_changes (person) VALUES (OLD.user_id);
END;

CREATE TRIGGER entitlement_grants_directory_insert AFTER INSERT ON entitlement_grants WHEN NOT EXISTS (SELECT 1 FROM directory_bulk) BEGIN
    INSERT INTO directory_changes (person) VALUES (NEW.user_id);
END;

CREATE TRIGGER entitlement_grants_directory_update AFTER UPDATE ON entitlement_grants WHEN NOT EXISTS (SELECT 1 FROM directory_bulk) BEGIN
    INSERT INTO directory_changes (person) VALUES (OLD.user_id);
    INSERT INTO directory_changes (person) VALUES (NEW.user_id);
END;

CREATE TRIGGER entitlement_grants_directory_delete AFTER DELETE ON entitlement_grants WHEN NOT EXISTS (SELECT 1 FROM directory_bulk) BEGIN
    INSERT INTO directory_changes (person) VALUES (OLD.user_id);
END;

CREATE TRIGGER organizations_directory_insert AFTER INSERT ON organizations WHEN NOT EXISTS (SELECT 1 FROM directory_bulk) BEGIN
    INSERT INTO directory_changes (person) VALUES (NULL);
END;

CREATE TRIGGER organizations_directory_update AFTER UPDATE ON organizations WHEN NOT EXISTS (SELECT 1 FROM directory_bulk) BEGIN
    INSERT INTO directory_changes (person) VALUES (NULL);
END;

CREATE TRIGGER organizations_directory_delete AFTER DELETE ON organizations WHEN NOT EXISTS (SELECT 1 FROM directory_bulk) BEGIN
    INSERT INTO directory_changes (person) VALUES (NULL);
END;

CREATE TRIGGER user_groups_directory_insert AFTER INSERT ON user_groups WHEN NOT EXISTS (SELECT 1 FROM directory_bulk) BEGIN
    INSERT INTO directory_changes (person) VALUES (NULL);
END;

CREATE TRIGGER user_groups_directory_update AFTER UPDATE ON user_groups WHEN NOT EXISTS (SELECT 1 FROM directory_bulk) BEGIN
    INSERT INTO directory_changes (person) VALUES (NULL);
END;

CREATE TRIGGER user_groups_directory_delete AFTER DELETE ON user_groups WHEN NOT EXISTS (SELECT 1 FROM directory_bulk) BEGIN
    INSERT INTO directory_changes (person) VALUES (NULL);
END;
