//! One struct holding every Prometheus metric, namespace `sales_agent`. The doc
//! comment of each field is its HELP text. Every label value a panel or alert
//! reads is created at start, so a quiet series reads 0 instead of "No data".

use prometheus::core::Collector;
use prometheus::{
    CounterVec, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};

use crate::domain::Outcome;
use crate::domain::Step;

/// Outcomes of `POST /webhooks/hubspot`, the `result` label.
pub const WEBHOOK_RESULTS: &[&str] = &[
    "accepted",
    "duplicate",
    "bad_request",
    "unauthorized",
    "too_large",
    "unavailable",
    "internal",
];

/// The connector instances, the `connector` label.
pub const CONNECTORS: &[&str] = &["hubspot", "gmail", "calendar", "drive", "llm"];

/// How a workflow run can finish for good, the `status` label.
pub const FINAL_STATUSES: &[&str] = &["completed", "skipped", "dead_lettered"];

/// How a reply reached the prospect's side, the `delivery` label of speed to lead.
pub const DELIVERIES: &[&str] = &["draft", "sent"];

/// Why the model's draft was not used, the `reason` label of composer fallbacks.
pub const COMPOSER_FALLBACKS: &[&str] = &[
    "no_key",
    "call_failed",
    "invalid_output",
    "guardrails",
    "wrong_language",
];

/// Connector statuses created for every operation at start: success and the
/// failures the dashboards and alerts watch.
pub const WATCHED_CALL_STATUSES: &[&str] = &["ok", "rate_limited", "transient", "breaker_open"];

const STEP_OUTCOMES: [Outcome; 4] = [
    Outcome::Ok,
    Outcome::Skipped,
    Outcome::Degraded,
    Outcome::Failed,
];

#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    /// Webhook deliveries received, by result.
    pub webhooks_received: IntCounterVec,
    /// Workflows finished for good, by final status (completed, skipped, dead_lettered).
    pub workflows_finished: IntCounterVec,
    /// Workflow runs scheduled to run again after a transient step failure.
    pub workflow_retries: IntCounter,
    /// Workflow actors running in this process.
    pub workflows_in_flight: IntGauge,
    /// Workflows due to run now and not held by a live lease (the backlog), as last counted by the supervisor.
    pub workflows_runnable: IntGauge,
    /// Step runs, by step and outcome (ok, skipped, degraded, failed).
    pub steps: IntCounterVec,
    /// Duration of one step run, by step.
    pub step_duration: HistogramVec,
    /// Speed to lead: seconds from the submission's arrival to its reply as a draft or sent email, by delivery.
    pub speed_to_lead: HistogramVec,
    /// Gmail drafts delivered by the deliver step.
    pub drafts_created: IntCounter,
    /// Emails sent (send mode or an approved draft).
    pub emails_sent: IntCounter,
    /// Replies the template wrote because the model's draft was not used, by reason.
    pub composer_fallbacks: IntCounterVec,
    /// Database connections currently in use.
    pub db_connections_in_use: IntGauge,
    /// Database connections idle in the pool.
    pub db_connections_idle: IntGauge,
    /// Largest number of connections the database pool opens.
    pub db_connections_max: IntGauge,
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
    /// Whether the service can act for a connected account (1) or it needs reconnecting (0), by provider and account.
    pub account_connected: IntGaugeVec,
    /// Drafts left for a rep that went stale before they were sent, by reason (prospect_replied, meeting_booked).
    pub drafts_stale: IntCounterVec,
    /// Meetings booked from a booking link (the event is in the rep's calendar).
    pub meetings_booked: IntCounter,
    /// Speed to meeting: seconds from the submission's arrival to its meeting booked.
    pub speed_to_meeting: Histogram,
}

fn help(name: &str, text: &str) -> Opts {
    Opts::new(name, text)
}

fn histogram(name: &str, text: &str, buckets: &[f64]) -> HistogramOpts {
    HistogramOpts::new(name, text).buckets(buckets.to_vec())
}

/// Seconds: connector calls and steps take milliseconds to a minute.
const CALL_BUCKETS: &[f64] = &[
    0.005, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];
/// Seconds: speed to lead is seconds when all is well, hours when parked on quiet hours.
const LEAD_BUCKETS: &[f64] = &[
    0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0, 3600.0, 14400.0, 86400.0,
];

/// Seconds: a prospect books minutes to days after the reply.
const MEETING_BUCKETS: &[f64] = &[
    10.0, 30.0, 60.0, 300.0, 900.0, 3600.0, 14400.0, 43200.0, 86400.0, 259200.0, 604800.0,
];

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new_custom(Some("sales_agent".into()), None)
            .expect("static namespace is valid");
        let ok = "static metric definition";
        let metrics = Metrics {
            webhooks_received: IntCounterVec::new(
                help(
                    "webhooks_received_total",
                    "Webhook deliveries received, by result.",
                ),
                &["result"],
            )
            .expect(ok),
            workflows_finished: IntCounterVec::new(
                help(
                    "workflows_finished_total",
                    "Workflows finished for good, by final status (completed, skipped, dead_lettered).",
                ),
                &["status"],
            )
            .expect(ok),
            workflow_retries: IntCounter::new(
                "workflow_retries_total",
                "Workflow runs scheduled to run again after a transient step failure.",
            )
            .expect(ok),
            workflows_in_flight: IntGauge::new(
                "workflows_in_flight",
                "Workflow actors running in this process.",
            )
            .expect(ok),
            workflows_runnable: IntGauge::new(
                "workflows_runnable",
                "Workflows due to run now and not held by a live lease (the backlog), as last counted by the supervisor.",
            )
            .expect(ok),
            steps: IntCounterVec::new(
                help(
                    "steps_total",
                    "Step runs, by step and outcome (ok, skipped, degraded, failed).",
                ),
                &["step", "outcome"],
            )
            .expect(ok),
            step_duration: HistogramVec::new(
                histogram(
                    "step_duration_seconds",
                    "Duration of one step run, by step.",
                    CALL_BUCKETS,
                ),
                &["step"],
            )
            .expect(ok),
            speed_to_lead: HistogramVec::new(
                histogram(
                    "speed_to_lead_seconds",
                    "Speed to lead: seconds from the submission's arrival to its reply as a draft or sent email, by delivery.",
                    LEAD_BUCKETS,
                ),
                &["delivery"],
            )
            .expect(ok),
            drafts_created: IntCounter::new(
                "drafts_created_total",
                "Gmail drafts delivered by the deliver step.",
            )
            .expect(ok),
            emails_sent: IntCounter::new(
                "emails_sent_total",
                "Emails sent (send mode or an approved draft).",
            )
            .expect(ok),
            composer_fallbacks: IntCounterVec::new(
                help(
                    "composer_fallbacks_total",
                    "Replies the template wrote because the model's draft was not used, by reason (no_key, call_failed, invalid_output, guardrails, wrong_language).",
                ),
                &["reason"],
            )
            .expect(ok),
            db_connections_in_use: IntGauge::new(
                "db_connections_in_use",
                "Database connections currently in use.",
            )
            .expect(ok),
            db_connections_idle: IntGauge::new(
                "db_connections_idle",
                "Database connections idle in the pool.",
            )
            .expect(ok),
            db_connections_max: IntGauge::new(
                "db_connections_max",
                "Largest number of connections the database pool opens.",
            )
            .expect(ok),
            connector_calls: IntCounterVec::new(
                help(
                    "connector_calls_total",
                    "Connector call attempts, by connector, operation and status (ok or error kind).",
                ),
                &["connector", "operation", "status"],
            )
            .expect(ok),
            connector_call_duration: HistogramVec::new(
                histogram(
                    "connector_call_duration_seconds",
                    "Duration of one connector call attempt, by connector and operation.",
                    CALL_BUCKETS,
                ),
                &["connector", "operation"],
            )
            .expect(ok),
            connector_retries: IntCounterVec::new(
                help(
                    "connector_retries_total",
                    "Connector call attempts repeated after a retryable failure, by connector.",
                ),
                &["connector"],
            )
            .expect(ok),
            connector_rate_limit_wait: CounterVec::new(
                help(
                    "connector_rate_limit_wait_seconds_total",
                    "Seconds spent waiting on client-side rate limits, by connector.",
                ),
                &["connector"],
            )
            .expect(ok),
            connector_breaker_state: IntGaugeVec::new(
                help(
                    "connector_breaker_state",
                    "Circuit breaker state by connector: 0 closed, 1 half-open, 2 open.",
                ),
                &["connector"],
            )
            .expect(ok),
            account_connected: IntGaugeVec::new(
                help(
                    "account_connected",
                    "Whether the service can act for a connected account (1) or it needs reconnecting (0), by provider and account.",
                ),
                &["provider", "account"],
            )
            .expect(ok),
            drafts_stale: IntCounterVec::new(
                help(
                    "drafts_stale_total",
                    "Drafts left for a rep that went stale before they were sent, by reason (prospect_replied, meeting_booked).",
                ),
                &["reason"],
            )
            .expect(ok),
            meetings_booked: IntCounter::new(
                "meetings_booked_total",
                "Meetings booked from a booking link (the event is in the rep's calendar).",
            )
            .expect(ok),
            speed_to_meeting: Histogram::with_opts(histogram(
                "speed_to_meeting_seconds",
                "Speed to meeting: seconds from the submission's arrival to its meeting booked.",
                MEETING_BUCKETS,
            ))
            .expect(ok),
            registry,
        };
        for collector in metrics.collectors() {
            metrics
                .registry
                .register(collector)
                .expect("each metric is registered once");
        }
        metrics.initialise_labels();
        metrics
    }

    fn collectors(&self) -> Vec<Box<dyn Collector>> {
        vec![
            Box::new(self.webhooks_received.clone()),
            Box::new(self.workflows_finished.clone()),
            Box::new(self.workflow_retries.clone()),
            Box::new(self.workflows_in_flight.clone()),
            Box::new(self.workflows_runnable.clone()),
            Box::new(self.steps.clone()),
            Box::new(self.step_duration.clone()),
            Box::new(self.speed_to_lead.clone()),
            Box::new(self.drafts_created.clone()),
            Box::new(self.emails_sent.clone()),
            Box::new(self.composer_fallbacks.clone()),
            Box::new(self.db_connections_in_use.clone()),
            Box::new(self.db_connections_idle.clone()),
            Box::new(self.db_connections_max.clone()),
            Box::new(self.connector_calls.clone()),
            Box::new(self.connector_call_duration.clone()),
            Box::new(self.connector_retries.clone()),
            Box::new(self.connector_rate_limit_wait.clone()),
            Box::new(self.connector_breaker_state.clone()),
            Box::new(self.account_connected.clone()),
            Box::new(self.drafts_stale.clone()),
            Box::new(self.meetings_booked.clone()),
            Box::new(self.speed_to_meeting.clone()),
        ]
    }

    /// Every label value exists from the start, so quiet series read 0, not "No data".
    fn initialise_labels(&self) {
        for result in WEBHOOK_RESULTS {
            self.webhooks_received.with_label_values(&[result]);
        }
        for status in FINAL_STATUSES {
            self.workflows_finished.with_label_values(&[status]);
        }
        for reason in crate::domain::StaleReason::ALL {
            self.drafts_stale.with_label_values(&[reason.as_str()]);
        }
        for step in Step::ALL {
            self.step_duration.with_label_values(&[step.as_str()]);
            for outcome in STEP_OUTCOMES {
                self.steps
                    .with_label_values(&[step.as_str(), outcome.as_str()]);
            }
        }
        for delivery in DELIVERIES {
            self.speed_to_lead.with_label_values(&[delivery]);
        }
        for reason in COMPOSER_FALLBACKS {
            self.composer_fallbacks.with_label_values(&[reason]);
        }
        for connector in CONNECTORS {
            self.connector_retries.with_label_values(&[connector]);
            self.connector_rate_limit_wait
                .with_label_values(&[connector]);
            self.connector_breaker_state
                .with_label_values(&[connector])
                .set(0);
        }
    }

    /// One step run finished with `outcome` after `seconds`.
    pub fn observe_step(&self, step: Step, outcome: Outcome, seconds: f64) {
        self.steps
            .with_label_values(&[step.as_str(), outcome.as_str()])
            .inc();
        self.step_duration
            .with_label_values(&[step.as_str()])
            .observe(seconds);
    }

    /// The reply to a submission that arrived `seconds` ago is now a draft or sent.
    pub fn observe_reply(&self, sent: bool, seconds: f64) {
        let delivery = if sent { "sent" } else { "draft" };
        self.speed_to_lead
            .with_label_values(&[delivery])
            .observe(seconds.max(0.0));
        self.drafts_created.inc();
    }

    /// A meeting was booked for a submission that arrived `seconds` ago.
    pub fn observe_meeting(&self, seconds: f64) {
        self.meetings_booked.inc();
        self.speed_to_meeting.observe(seconds.max(0.0));
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
