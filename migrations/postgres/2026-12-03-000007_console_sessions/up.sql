-- Console sign-ins: one row per session, kept server-side so a session can be
-- revoked. The cookie holds a random token; only its SHA-256 is stored here.
CREATE TABLE console_sessions (
    token_hash TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    actor TEXT NOT NULL,
    csrf_token TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX console_sessions_expires ON console_sessions (expires_at);
