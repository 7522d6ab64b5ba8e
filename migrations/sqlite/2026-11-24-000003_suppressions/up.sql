-- Addresses that must never be mailed: one-click unsubscribes, objections,
-- bounces, manual entries. Rows are kept on erasure requests (API_FACTS §5.5).
CREATE TABLE suppressions (
    email TEXT PRIMARY KEY NOT NULL,
    reason TEXT NOT NULL,
    source TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    created_by TEXT NOT NULL
);
