DROP INDEX workflows_surname_key;
DROP INDEX workflows_name_key;
DROP INDEX workflows_company_key;
ALTER TABLE workflows DROP COLUMN surname_key, DROP COLUMN name_key, DROP COLUMN company_key;
DROP FUNCTION submission_field(TEXT, TEXT);
ALTER TABLE workflows ALTER COLUMN email TYPE TEXT COLLATE "default";
DROP INDEX workflows_created_draft;
ALTER TABLE workflows DROP COLUMN draft_ms;
