-- Reps: who answers leads, from which mailbox and calendar, in which zone and voice.
CREATE TABLE reps (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE,
    calendar_id TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    working_hours TEXT NOT NULL,
    hubspot_owner_id TEXT,
    territories TEXT NOT NULL,
    voice TEXT NOT NULL,
    booking_link TEXT,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- The ledger of external side effects: one row per (workflow, kind), written
-- before the call and updated after, so a re-run finds the earlier attempt.
CREATE TABLE side_effects (
    workflow_id TEXT NOT NULL REFERENCES workflows (id),
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    mailbox TEXT,
    external_id TEXT,
    detail TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (workflow_id, kind)
);
CREATE INDEX side_effects_mailbox ON side_effects (mailbox, kind, state, updated_at);
