-- Shared quota budgets (docs/PERFORMANCE.md "Quota shared by processes"):
-- each row is one process's lease of `units` from the provider quota named by
-- `quota_key`, counted from `granted_at` until `expires_at`. A process may take
-- a lease only while the active rows of the key (expires_at > now) sum to at
-- most the quota; it shrinks its row to what it spent when the lease closes,
-- and a dead process's rows simply expire. In-flight slots (Gmail's concurrent
-- requests per mailbox) are one-unit rows of the same kind, deleted on release.
-- Times are the database's clock (UTC), the one clock every process shares.
CREATE TABLE quota_leases (
    id BIGSERIAL PRIMARY KEY,
    quota_key TEXT NOT NULL,
    owner TEXT NOT NULL,
    units BIGINT NOT NULL,
    granted_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX quota_leases_active ON quota_leases (quota_key, expires_at);
