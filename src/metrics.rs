//! One struct holding every Prometheus metric, namespace `sales_agent`. The doc
//! comment of each field is its HELP text.

use prometheus::{
    CounterVec, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

/// Outcomes of `POST /webhooks/hubspot`, the `result` label.
pub const WEBHOOK_RESULTS: &[&str] = &[
    "accepted",
    "duplicate",
    "bad_request",
    "unauthorized",
    "too_large",
    "unavailable",
];

/// The connector instances, the `connector` label.
pub const CONNECTORS: &[&str] = &["hubspot", "gmail", "calendar", "drive", "llm"];

#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    /// Webhook deliveries received, by result.
    pub webhooks_received: IntCounterVec,
    /// Database connections currently in use.
    pub db_connections_in_use: IntGauge,
    /// Database connections idle in the pool.
    pub db_connections_idle: IntGauge,
    /// Connector call attempts, by connector, operation and status (ok or error kind).
    pub connector_calls: IntCounterVec,
    /// Duration of one connector call attempt, by connector and operation.
    pub connector_call_duration: HistogramVec,
    /// Connector call attempts repeated after a retryable failure, by connector.
    pub connector_retries: IntCounterVec,
    /// Seconds spent waiting on client-side rate limits, by connector.
    pub connector_rate_limit_wait: CounterVec,
    /// Circuit breaker state by connector: 0 closed, 1 half-open, 2 open.
    pub connector_breaker_state: IntGaugeVec,
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new_custom(Some("sales_agent".into()), None)
            .expect("static namespace is valid");
        let webhooks_received = IntCounterVec::new(
            Opts::new(
                "webhooks_received_total",
                "Webhook deliveries received, by result.",
            ),
            &["result"],
        )
        .expect("static metric definition");
        let db_connections_in_use = IntGauge::new(
            "db_connections_in_use",
            "Database connections currently in use.",
        )
        .expect("static metric definition");
        let db_connections_idle = IntGauge::new(
            "db_connections_idle",
            "Database connections idle in the pool.",
        )
        .expect("static metric definition");
        let connector_calls = IntCounterVec::new(
            Opts::new(
                "connector_calls_total",
                "Connector call attempts, by connector, operation and status (ok or error kind).",
            ),
            &["connector", "operation", "status"],
        )
        .expect("static metric definition");
        let connector_call_duration = HistogramVec::new(
            HistogramOpts::new(
                "connector_call_duration_seconds",
                "Duration of one connector call attempt, by connector and operation.",
            )
            .buckets(vec![
                0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
            ]),
            &["connector", "operation"],
        )
        .expect("static metric definition");
        let connector_retries = IntCounterVec::new(
            Opts::new(
                "connector_retries_total",
                "Connector call attempts repeated after a retryable failure, by connector.",
            ),
            &["connector"],
        )
        .expect("static metric definition");
        let connector_rate_limit_wait = CounterVec::new(
            Opts::new(
                "connector_rate_limit_wait_seconds_total",
                "Seconds spent waiting on client-side rate limits, by connector.",
            ),
            &["connector"],
        )
        .expect("static metric definition");
        let connector_breaker_state = IntGaugeVec::new(
            Opts::new(
                "connector_breaker_state",
                "Circuit breaker state by connector: 0 closed, 1 half-open, 2 open.",
            ),
            &["connector"],
        )
        .expect("static metric definition");
        for collector in [
            Box::new(webhooks_received.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(db_connections_in_use.clone()),
            Box::new(db_connections_idle.clone()),
            Box::new(connector_calls.clone()),
            Box::new(connector_call_duration.clone()),
            Box::new(connector_retries.clone()),
            Box::new(connector_rate_limit_wait.clone()),
            Box::new(connector_breaker_state.clone()),
        ] {
            registry
                .register(collector)
                .expect("each metric is registered once");
        }
        // Every label value exists from the start, so quiet series read 0, not "No data".
        for result in WEBHOOK_RESULTS {
            webhooks_received.with_label_values(&[result]);
        }
        for connector in CONNECTORS {
            connector_retries.with_label_values(&[connector]);
            connector_rate_limit_wait.with_label_values(&[connector]);
            connector_breaker_state
                .with_label_values(&[connector])
                .set(0);
        }
        Metrics {
            registry,
            webhooks_received,
            db_connections_in_use,
            db_connections_idle,
            connector_calls,
            connector_call_duration,
            connector_retries,
            connector_rate_limit_wait,
            connector_breaker_state,
        }
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        TextEncoder::new()
            .encode_to_string(&self.registry.gather())
            .unwrap_or_else(|e| format!("# encoding failed: {e}\n"))
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
