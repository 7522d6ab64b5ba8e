-- Voice profiles: how each rep writes, edited through the admin API, imported,
-- or trained from their sent mail. `profile` is the JSON of compose::voice.
CREATE TABLE voice_profiles (
    rep_id TEXT PRIMARY KEY NOT NULL REFERENCES reps (id),
    profile TEXT NOT NULL,
    source TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    updated_by TEXT NOT NULL
);
