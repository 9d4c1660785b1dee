ALTER TABLE action_tokens DROP COLUMN new_email;
ALTER TABLE users DROP COLUMN phone;
ALTER TABLE users DROP COLUMN job_title;
