DROP INDEX audit_log_unredacted;
DROP TRIGGER audit_log_no_change ON audit_log;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
DROP FUNCTION audit_log_redact_only();
DROP INDEX workflows_outputs_kept;
DROP INDEX workflows_messages_kept;
ALTER TABLE workflows DROP COLUMN outputs_purged_at, DROP COLUMN messages_purged_at;
DROP TABLE suppression_hashes;
