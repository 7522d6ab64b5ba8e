-- The console at a million workflows (docs/PERFORMANCE.md §5).
--
-- Speed to lead: the time from the workflow's creation to its deliver step's
-- commit, written with that commit (store::step_runs::record), so the overview
-- aggregates one narrow index instead of joining every lead to its step run.
ALTER TABLE workflows ADD COLUMN draft_ms BIGINT;
UPDATE workflows w
   SET draft_ms = GREATEST(0, floor(EXTRACT(EPOCH FROM (s.finished_at - w.created_at)) * 1000))::BIGINT
  FROM step_runs s
 WHERE s.workflow_id = w.id AND s.step = 'deliver';
CREATE INDEX workflows_created_draft ON workflows (created_at, draft_ms) WHERE draft_ms IS NOT NULL;

-- Contact search by prefix: of the address, the company, the name ("first last")
-- and the last name. Keys are derived from the stored submission by the database
-- itself (so every row, old and new, has them), lowered for A–Z only and cut to
-- 100 characters, the same on SQLite. Byte order ("C") makes a prefix a range
-- that a B-tree serves, whatever the database's default collation; addresses
-- take it too, which orders /contacts the same on both backends.
ALTER TABLE workflows ALTER COLUMN email TYPE TEXT COLLATE "C";
-- A field of the stored submission, or NULL when PostgreSQL cannot read the
-- document as json text (it refuses \u0000 in a string, which a prospect can
-- type): a search key must never stop a submission from being stored.
CREATE FUNCTION submission_field(doc TEXT, field TEXT) RETURNS TEXT
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    RETURN doc::json -> 'fields' ->> field;
EXCEPTION WHEN others THEN
    RETURN NULL;
END
$$;
ALTER TABLE workflows
    ADD COLUMN company_key TEXT COLLATE "C" GENERATED ALWAYS AS
        (lower(left(trim(submission_field(submission, 'company')), 100) COLLATE "C")) STORED,
    ADD COLUMN name_key TEXT COLLATE "C" GENERATED ALWAYS AS
        (lower(left(coalesce(
            nullif(trim(coalesce(submission_field(submission, 'first_name'), '') || ' '
                        || coalesce(submission_field(submission, 'last_name'), '')), ''),
            trim(submission_field(submission, 'full_name'))), 100) COLLATE "C")) STORED,
    ADD COLUMN surname_key TEXT COLLATE "C" GENERATED ALWAYS AS
        (lower(left(trim(submission_field(submission, 'last_name')), 100) COLLATE "C")) STORED;
CREATE INDEX workflows_company_key ON workflows (company_key, created_at);
CREATE INDEX workflows_name_key ON workflows (name_key);
CREATE INDEX workflows_surname_key ON workflows (surname_key);
