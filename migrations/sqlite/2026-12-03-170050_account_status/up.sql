-- Whether the service can act for a connected account (a rep's Google mailbox):
-- connected, or not since `since` and why (invalid_grant, scope_removed,
-- disconnected). Kept apart from account_grants because a grant given in the
-- configuration (no key, nothing sealed) dies just the same.
CREATE TABLE account_status (
    provider TEXT NOT NULL,
    account TEXT NOT NULL,
    connected BOOLEAN NOT NULL,
    reason TEXT,
    since TIMESTAMP NOT NULL,
    PRIMARY KEY (provider, account)
);

-- A workflow that waits (status `waiting`) for an account to be reconnected;
-- reconnecting the account makes it pending again.
CREATE TABLE workflow_waits (
    workflow_id TEXT PRIMARY KEY NOT NULL,
    provider TEXT NOT NULL,
    account TEXT NOT NULL,
    since TIMESTAMP NOT NULL
);
CREATE INDEX workflow_waits_account ON workflow_waits (provider, account);
