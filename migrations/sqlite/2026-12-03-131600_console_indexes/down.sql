DROP INDEX workflows_status_created;
DROP INDEX workflows_status_error;
DROP INDEX workflows_created_status;
