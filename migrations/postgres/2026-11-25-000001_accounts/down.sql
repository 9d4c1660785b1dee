DROP TABLE audit_events;
DROP TABLE kv_entries;
DROP TABLE outbox;
DROP TABLE action_tokens;
DROP TABLE terms_acceptances;
DROP TABLE terms_documents;
DROP TABLE users;
