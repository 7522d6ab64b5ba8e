-- Indexes for the console's pages at a million workflows (bench admin, docs/PERFORMANCE.md §5):
-- the overview's counts since a day (index-only on created_at, status; id for its joins),
-- dead letters grouped by reason (index-only), and lists filtered by status, newest
-- first, keyset-paged on (created_at, id).
CREATE INDEX workflows_created_status ON workflows (created_at, status, id);
CREATE INDEX workflows_status_error ON workflows (status, last_error);
CREATE INDEX workflows_status_created ON workflows (status, created_at, id);
