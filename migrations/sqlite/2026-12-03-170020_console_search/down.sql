DROP INDEX workflows_surname_key;
DROP INDEX workflows_name_key;
DROP INDEX workflows_company_key;
ALTER TABLE workflows DROP COLUMN surname_key;
ALTER TABLE workflows DROP COLUMN name_key;
ALTER TABLE workflows DROP COLUMN company_key;
DROP INDEX workflows_created_draft;
ALTER TABLE workflows DROP COLUMN draft_ms;
