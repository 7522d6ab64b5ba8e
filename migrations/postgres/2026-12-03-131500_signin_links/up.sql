-- One-time sign-in links (`sales-agent demo --serve` prints one): a random token
-- that opens one console session, once, before it expires. Only its SHA-256 is
-- stored, as for sessions; `used_at` is set by the sign-in that spends it.
CREATE TABLE console_signin_links (
    token_hash TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    actor TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
