-- The embedded short-lived store drops expired entries every 30 seconds;
-- this index finds them without reading the whole table.
CREATE INDEX kv_entries_expires_at ON kv_entries (expires_at);
