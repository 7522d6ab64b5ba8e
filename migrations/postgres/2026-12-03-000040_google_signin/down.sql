ALTER TABLE console_sessions DROP COLUMN user_agent;
ALTER TABLE console_sessions DROP COLUMN client_ip;
DROP TABLE console_users;
DROP TABLE console_signin_attempts;
