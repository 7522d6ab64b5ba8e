DROP TABLE audit_log;
DROP FUNCTION audit_log_append_only();
DROP TABLE settings;
DROP TABLE step_runs;
DROP TABLE workflows;
DROP TABLE inbound_events;
