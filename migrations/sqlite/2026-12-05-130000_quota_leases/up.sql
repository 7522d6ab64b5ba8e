-- Shared quota budgets: used on PostgreSQL only, where several processes share
-- one database (see the PostgreSQL migration); a SQLite database serves one
-- process, whose in-process limiter keeps the quotas. The table exists here
-- too so that both backends have one schema.
CREATE TABLE quota_leases (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    quota_key TEXT NOT NULL,
    owner TEXT NOT NULL,
    units BIGINT NOT NULL,
    granted_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX quota_leases_active ON quota_leases (quota_key, expires_at);
