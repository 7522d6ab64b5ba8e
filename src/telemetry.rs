//! Log output: readable text locally, JSON in production (`SALES_AGENT_LOG_FORMAT`).
//! Filtering follows `RUST_LOG` (default `info`). Never log secrets, addresses or bodies
//! (`tests/it/observability/logs.rs` searches a verbose demo run for them).
//!
//! Context comes from spans with dotted fields: `workflow` (`workflow.id`) around a
//! workflow's run, `step` (`step.name`, `step.attempt`) around each step, and
//! `connector.call` (`connector.name`, `operation`) around each API call, which
//! carries its caller's span across the connector actor's mailbox.

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the global subscriber, logging at `default_level` unless `RUST_LOG`
/// says otherwise; a second call is a no-op.
pub fn init(format: LogFormat, default_level: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _already_set = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}
