//! Observability: the metrics exposition, the alert rules and their unit tests,
//! alert delivery through Alertmanager,
//! the Grafana dashboards checked against a real Prometheus and PostgreSQL, the
//! compose file, the audit trail, and logs free of secrets and personal data.

mod alerting;
mod audit;
mod checker;
mod files;
mod live;
mod logs;
mod prometheus;
