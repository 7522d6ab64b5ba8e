DROP TABLE workflow_waits;
DROP TABLE account_status;
