DROP INDEX audit_log_unredacted;
DROP TRIGGER audit_log_no_update;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
DROP INDEX workflows_outputs_kept;
DROP INDEX workflows_messages_kept;
ALTER TABLE workflows DROP COLUMN outputs_purged_at;
ALTER TABLE workflows DROP COLUMN messages_purged_at;
DROP TABLE suppression_hashes;
