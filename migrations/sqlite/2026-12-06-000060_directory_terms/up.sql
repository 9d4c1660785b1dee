-- The directory cache also keeps where a person stands with the terms and
-- privacy documents, so that an authorization with an existing session
-- reads nothing: a person's acceptance drops that person, a published
-- version drops everyone (see 2026-12-06-000050_directory_notify).

CREATE TRIGGER terms_acceptances_directory_insert AFTER INSERT ON terms_acceptances WHEN NOT EXISTS (SELECT 1 FROM directory_bulk) BEGIN
    INSERT INTO directory_changes (person) VALUES (NEW.user_id);
END;

CREATE TRIGGER terms_acceptances_directory_update AFTER UPDATE ON terms_acceptances WHEN NOT EXISTS (SELECT 1 FROM directory_bulk) BEGIN
    INSERT INTO directory_changes (person) VALUES (OLD.user_id);
    INSERT INTO directory_changes (person) VALUES (NEW.user_id);
END;

CREATE TRIGGER terms_acceptances_directory_delete AFTER DELETE ON terms_acceptances WHEN NOT EXISTS (SELECT 1 FROM directory_bulk) BEGIN
    INSERT INTO directory_changes (person) VALUES (OLD.user_id);
END;

CREATE TRIGGER terms_documents_directory_insert AFTER INSERT ON terms_documents WHEN NOT EXISTS (SELECT 1 FROM directory_bulk) BEGIN
    INSERT INTO directory_changes (person) VALUES (NULL);
END;

CREATE TRIGGER terms_documents_directory_update AFTER UPDATE ON terms_documents WHEN NOT EXISTS (SELECT 1 FROM directory_bulk) BEGIN
    INSERT INTO directory_changes (person) VALUES (NULL);
END;

CREATE TRIGGER terms_documents_directory_delete AFTER DELETE ON terms_documents WHEN NOT EXISTS (SELECT 1 FROM directory_bulk) BEGIN
    INSERT INTO directory_changes (person) VALUES (NULL);
END;
