DROP TABLE audit_log;
DROP TABLE settings;
DROP TABLE step_runs;
DROP TABLE workflows;
DROP TABLE inbound_events;
