-- Speed to lead of finished days (UTC), kept once computed: a day's figures no
-- longer change an hour after it ended, so the overview computes only the
-- newest day or two from `workflows.draft_ms` (store::speed).
CREATE TABLE speed_days (
    day TEXT PRIMARY KEY,
    leads BIGINT NOT NULL,
    p50_ms BIGINT NOT NULL,
    p95_ms BIGINT NOT NULL,
    computed_at TIMESTAMP NOT NULL
);
