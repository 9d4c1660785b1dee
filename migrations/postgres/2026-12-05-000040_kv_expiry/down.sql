DROP INDEX kv_entries_expires_at;
