-- Pilot mode: what a workflow would have written outside (HubSpot, Gmail, Drive),
-- recorded instead of being sent. One row per request a step would have made,
-- numbered within the step; a re-run step replaces its rows.
CREATE TABLE pilot_writes (
    workflow_id TEXT NOT NULL REFERENCES workflows (id),
    step TEXT NOT NULL,
    seq INTEGER NOT NULL,
    endpoint TEXT NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    body TEXT,
    message TEXT,
    planned_at TIMESTAMP NOT NULL,
    PRIMARY KEY (workflow_id, step, seq)
);
