//! Log output: readable text locally, JSON in production (`SALES_AGENT_LOG_FORMAT`).
//! Filtering follows `RUST_LOG` (default `info`). Never log secrets, addresses or bodies.

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
