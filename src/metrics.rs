//! One struct holding every Prometheus metric, namespace `sales_agent`. The doc
//! comment of each field is its HELP text.

use prometheus::{IntCounterVec, IntGauge, Opts, Registry, TextEncoder};

/// Outcomes of `POST /webhooks/hubspot`, the `result` label.
pub const WEBHOOK_RESULTS: &[&str] = &[
    "accepted",
    "duplicate",
    "bad_request",
    "unauthorized",
    "too_large",
    "unavailable",
];

#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    /// Webhook deliveries received, by result.
    pub webhooks_received: IntCounterVec,
    /// Database connections currently in use.
    pub db_connections_in_use: IntGauge,
    /// Database connections idle in the pool.
    pub db_connections_idle: IntGauge,
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
        for collector in [
            Box::new(webhooks_received.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(db_connections_in_use.clone()),
            Box::new(db_connections_idle.clone()),
        ] {
            registry
                .register(collector)
                .expect("each metric is registered once");
        }
        // Every label value exists from the start, so quiet series read 0, not "No data".
        for result in WEBHOOK_RESULTS {
            webhooks_received.with_label_values(&[result]);
        }
        Metrics {
            registry,
            webhooks_received,
            db_connections_in_use,
            db_connections_idle,
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
