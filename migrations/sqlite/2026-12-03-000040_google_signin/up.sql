-- Sign in with Google. A trip to Google and back: the state, nonce and PKCE
-- verifier sent, kept server-side for ten minutes and bound to the browser by a
-- cookie whose SHA-256 is the key; a row is deleted when its callback arrives.
CREATE TABLE console_signin_attempts (
    cookie_hash TEXT PRIMARY KEY NOT NULL,
    state TEXT NOT NULL,
    nonce TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX console_signin_attempts_expires ON console_signin_attempts (expires_at);

-- People named in the console (by an admin) with their role; admins named in
-- SALES_AGENT_CONSOLE_ADMINS need no row.
CREATE TABLE console_users (
    email TEXT PRIMARY KEY NOT NULL,
    role TEXT NOT NULL,
    added_by TEXT NOT NULL,
    added_at TIMESTAMP NOT NULL
);

-- Where a session was opened from, shown beside it so a person can tell theirs
-- from a stranger's before revoking.
ALTER TABLE console_sessions ADD COLUMN client_ip TEXT;
ALTER TABLE console_sessions ADD COLUMN user_agent TEXT;
