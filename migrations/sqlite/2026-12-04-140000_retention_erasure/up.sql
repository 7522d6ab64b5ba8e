-- Retention and erasure (README "Retention and erasure").
--
-- People erased on request (DELETE /api/contacts/{email}) stay suppressed by
-- the SHA-256 of their lowercased address only (API_FACTS §5.5: never delete a
-- suppression on erasure, keep a hash): intake and send check it beside the
-- clear list, so they are never mailed again, and nothing here names them.
CREATE TABLE suppression_hashes (
    email_hash TEXT PRIMARY KEY NOT NULL,
    reason TEXT NOT NULL,
    source TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    created_by TEXT NOT NULL
);

-- What the janitor already blanked on a finished workflow: the reply's text
-- and the conversation summary (messages), then every step's output. The
-- partial indexes hold only the rows still to do, so each run reads those and
-- not the whole history again.
ALTER TABLE workflows ADD COLUMN messages_purged_at TIMESTAMP;
ALTER TABLE workflows ADD COLUMN outputs_purged_at TIMESTAMP;
CREATE INDEX workflows_messages_kept ON workflows (created_at) WHERE messages_purged_at IS NULL;
CREATE INDEX workflows_outputs_kept ON workflows (created_at) WHERE outputs_purged_at IS NULL;

-- The audit log stays append-only except for one change: an entry's detail may
-- be replaced by the redaction marker (and its reason cleared) — by the janitor
-- when the detail is older than its retention, or by an erasure when it is
-- about the erased person. Who, what, when and which workflow never change, and
-- nothing is ever deleted.
DROP TRIGGER audit_log_no_update;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
WHEN NEW.id IS NOT OLD.id OR NEW.at IS NOT OLD.at OR NEW.actor IS NOT OLD.actor
  OR NEW.action IS NOT OLD.action OR NEW.workflow_id IS NOT OLD.workflow_id
  OR (NEW.reason IS NOT OLD.reason AND NEW.reason IS NOT NULL)
  OR (NEW.detail IS NOT OLD.detail AND NEW.detail <> '{"redacted":true}')
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE INDEX audit_log_unredacted ON audit_log (at) WHERE detail <> '{"redacted":true}';
