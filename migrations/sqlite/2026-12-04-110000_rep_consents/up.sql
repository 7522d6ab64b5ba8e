-- Consents to connect a rep's mailbox, started from the rep's page and waiting
-- for Google's callback: in the database, so the callback may reach any
-- process (or this one after a restart). Keyed by the SHA-256 of the `state`
-- sent to Google; single use (deleted as the callback reads it), ten minutes,
-- bound to the console session that started it (the SHA-256 of its CSRF token).
CREATE TABLE rep_consents (
    state_hash TEXT PRIMARY KEY NOT NULL,
    nonce TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    rep_id TEXT NOT NULL,
    session_hash TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX rep_consents_expires ON rep_consents (expires_at);
