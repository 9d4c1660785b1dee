-- The directory cache also keeps where a person stands with the terms and
-- privacy documents, so that an authorization with an existing session
-- reads nothing: a person's acceptance drops that person, a published
-- version drops everyone (see 2026-12-06-000050_directory_notify).
CREATE TRIGGER terms_acceptances_directory AFTER INSERT OR UPDATE OR DELETE ON terms_acceptances
    FOR EACH ROW EXECUTE FUNCTION tunnus_directory_member_row();
CREATE TRIGGER terms_documents_directory AFTER INSERT OR UPDATE OR DELETE ON terms_documents
    FOR EACH STATEMENT EXECUTE FUNCTION tunnus_directory_all();

CREATE TRIGGER terms_acceptances_directory_truncate AFTER TRUNCATE ON terms_acceptances
    FOR EACH STATEMENT EXECUTE FUNCTION tunnus_directory_all();
CREATE TRIGGER terms_documents_directory_truncate AFTER TRUNCATE ON terms_documents
    FOR EACH STATEMENT EXECUTE FUNCTION tunnus_directory_all();
