-- Grants to act for an account (a rep's Google mailbox, a HubSpot portal). The
-- token is sealed with XChaCha20-Poly1305 under the key named by key_id; `sealed`
-- is base64 of the nonce and the ciphertext. The key is never stored here.
CREATE TABLE account_grants (
    provider TEXT NOT NULL,
    account TEXT NOT NULL,
    key_id TEXT NOT NULL,
    sealed TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (provider, account)
);
