-- Drive folders whose files may be linked (the asset allowlist), editable by admins.
CREATE TABLE asset_folders (
    folder_id TEXT PRIMARY KEY NOT NULL,
    tags TEXT NOT NULL,
    added_at TIMESTAMP NOT NULL,
    added_by TEXT NOT NULL
);

-- The asset catalogue: one row per file synced from an allowlisted folder.
CREATE TABLE assets (
    file_id TEXT PRIMARY KEY NOT NULL,
    folder_id TEXT NOT NULL,
    name TEXT NOT NULL,
    mime_type TEXT NOT NULL,
    web_view_link TEXT NOT NULL,
    description TEXT NOT NULL,
    tags TEXT NOT NULL,
    tags_edited BOOLEAN NOT NULL DEFAULT FALSE,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    modified_time TEXT,
    synced_at TIMESTAMP NOT NULL
);
CREATE INDEX assets_folder ON assets (folder_id, active);

-- A/B experiments on the reply (subject, opening, call to action).
CREATE TABLE experiments (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    variants TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    created_by TEXT NOT NULL,
    stopped_at TIMESTAMP
);

-- One contact's variant in one experiment, and what came of it.
CREATE TABLE experiment_assignments (
    id TEXT PRIMARY KEY NOT NULL,
    experiment_id TEXT NOT NULL REFERENCES experiments (id),
    contact_email TEXT NOT NULL,
    variant TEXT NOT NULL,
    workflow_id TEXT NOT NULL,
    assigned_at TIMESTAMP NOT NULL,
    replied_at TIMESTAMP,
    meeting_at TIMESTAMP,
    checked_at TIMESTAMP,
    UNIQUE (experiment_id, contact_email)
);
CREATE INDEX experiment_assignments_open ON experiment_assignments (experiment_id, checked_at);

-- Short-lived holds on offered slots, so two prospects are not offered the same time.
CREATE TABLE slot_holds (
    rep_id TEXT NOT NULL,
    slot_start TIMESTAMP NOT NULL,
    slot_end TIMESTAMP NOT NULL,
    workflow_id TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    PRIMARY KEY (rep_id, slot_start)
);
CREATE INDEX slot_holds_workflow ON slot_holds (workflow_id);
