-- Optional profile details a person edits on their profile page.
ALTER TABLE users ADD COLUMN job_title TEXT;
ALTER TABLE users ADD COLUMN phone TEXT;
-- A confirm-email-change link carries the address it confirms.
ALTER TABLE action_tokens ADD COLUMN new_email TEXT;
