-- Core tables: inbound events, workflows, step runs, settings, audit log.
-- Portable schema: ids and JSON as TEXT, UTC times as naive TIMESTAMP.

CREATE TABLE inbound_events (
    id TEXT PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL,
    signature_version TEXT NOT NULL,
    portal_id TEXT,
    form_id TEXT,
    conversion_id TEXT,
    raw_body TEXT NOT NULL,
    received_at TIMESTAMP NOT NULL
);

CREATE TABLE workflows (
    id TEXT PRIMARY KEY,
    event_id TEXT NOT NULL UNIQUE REFERENCES inbound_events (id),
    idempotency_key TEXT NOT NULL UNIQUE,
    email TEXT NOT NULL,
    submission TEXT NOT NULL,
    status TEXT NOT NULL,
    current_step TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_run_at TIMESTAMP NOT NULL,
    lease_owner TEXT,
    lease_expires_at TIMESTAMP,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP
);
CREATE INDEX workflows_runnable ON workflows (status, next_run_at);
CREATE INDEX workflows_email ON workflows (email);
CREATE INDEX workflows_created_at ON workflows (created_at);

CREATE TABLE step_runs (
    workflow_id TEXT NOT NULL REFERENCES workflows (id),
    step TEXT NOT NULL,
    outcome TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    output TEXT,
    error TEXT,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP NOT NULL,
    duration_ms BIGINT NOT NULL,
    PRIMARY KEY (workflow_id, step)
);

CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    updated_by TEXT NOT NULL
);
INSERT INTO settings (key, value, updated_at, updated_by)
VALUES ('draft_only', 'true', (now() AT TIME ZONE 'utc'), 'migration');

CREATE TABLE audit_log (
    id BIGSERIAL PRIMARY KEY,
    at TIMESTAMP NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    workflow_id TEXT,
    reason TEXT,
    detail TEXT NOT NULL
);
CREATE INDEX audit_log_workflow ON audit_log (workflow_id);

-- The audit log is append-only.
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
