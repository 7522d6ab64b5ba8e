-- The console at a million workflows (docs/PERFORMANCE.md §5).
--
-- Speed to lead: the time from the workflow's creation to its deliver step's
-- commit, written with that commit (store::step_runs::record), so the overview
-- aggregates one narrow index instead of joining every lead to its step run.
ALTER TABLE workflows ADD COLUMN draft_ms BIGINT;
UPDATE workflows
   SET draft_ms = (
       SELECT max(0, CAST((julianday(s.finished_at) - julianday(workflows.created_at)) * 86400000.0 AS INTEGER))
         FROM step_runs s
        WHERE s.workflow_id = workflows.id AND s.step = 'deliver')
 WHERE EXISTS (SELECT 1 FROM step_runs s WHERE s.workflow_id = workflows.id AND s.step = 'deliver');
CREATE INDEX workflows_created_draft ON workflows (created_at, draft_ms) WHERE draft_ms IS NOT NULL;

-- Contact search by prefix: of the address, the company, the name ("first last")
-- and the last name. Keys are derived from the stored submission by the database
-- itself (so every row, old and new, has them), lowered for A–Z only (SQLite's
-- lower) and cut to 100 characters, the same as on PostgreSQL. Text compares
-- byte by byte here, so a prefix is a range the B-tree serves.
ALTER TABLE workflows ADD COLUMN company_key TEXT GENERATED ALWAYS AS
    (lower(substr(trim(json_extract(submission, '$.fields.company')), 1, 100))) VIRTUAL;
ALTER TABLE workflows ADD COLUMN name_key TEXT GENERATED ALWAYS AS
    (lower(substr(coalesce(
        nullif(trim(coalesce(json_extract(submission, '$.fields.first_name'), '') || ' '
                    || coalesce(json_extract(submission, '$.fields.last_name'), '')), ''),
        trim(json_extract(submission, '$.fields.full_name'))), 1, 100))) VIRTUAL;
ALTER TABLE workflows ADD COLUMN surname_key TEXT GENERATED ALWAYS AS
    (lower(substr(trim(json_extract(submission, '$.fields.last_name')), 1, 100))) VIRTUAL;
CREATE INDEX workflows_company_key ON workflows (company_key, created_at);
CREATE INDEX workflows_name_key ON workflows (name_key);
CREATE INDEX workflows_surname_key ON workflows (surname_key);
