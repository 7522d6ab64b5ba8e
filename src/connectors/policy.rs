//! How a connector call is run: breaker check, rate-limit wait, the attempt, and on
//! a retryable failure a full-jitter exponential backoff that never waits less than
//! the provider's `Retry-After`, up to `max_attempts`. Plain async code, no actix:
//! the connector actor only hands calls to [`CallPolicy::run`].

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use super::breaker::{Breaker, BreakerConfig};
use super::error::ConnectorError;
use super::limiter::{Limiter, RateCost};
use crate::metrics::Metrics;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, the first included.
    pub max_attempts: u32,
    pub base: Duration,
    pub max_backoff: Duration,
    /// A `Retry-After` longer than this is not slept through here: the error goes
    /// back so the workflow can park the step (Gmail's sending limit asks for hours).
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    /// Google's recommendation: 1 s doubling, capped at 32 s; five attempts.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            base: Duration::from_secs(1),
            max_backoff: Duration::from_secs(32),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// The ceiling of the jitter window after `attempt` failures (1-based).
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let factor = 1u32
            .checked_shl(attempt.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.max_backoff)
    }

    /// Full jitter (uniform in `[0, ceiling]`), raised to `Retry-After` when the
    /// provider named one: never earlier than asked.
    pub fn delay(&self, attempt: u32, error: &ConnectorError) -> Duration {
        let ceiling = self.ceiling(attempt);
        let jitter = ceiling.mul_f64(fastrand::f64());
        jitter.max(error.retry_after().unwrap_or_default())
    }
}

/// Limiter, breaker and retry policy of one connector, plus its metrics.
pub struct CallPolicy {
    pub connector: &'static str,
    pub retry: RetryPolicy,
    pub limiter: Limiter,
    pub breaker: Breaker,
    pub metrics: Option<Metrics>,
}

impl CallPolicy {
    pub fn new(
        connector: &'static str,
        retry: RetryPolicy,
        limiter: Limiter,
        breaker: BreakerConfig,
        metrics: Option<Metrics>,
    ) -> Self {
        CallPolicy {
            connector,
            retry,
            limiter,
            breaker: Breaker::new(breaker),
            metrics,
        }
    }

    /// Runs an idempotent `attempt` until it succeeds, fails for good, or attempts
    /// run out. Exhausted retries come back as [`ConnectorError::GaveUp`].
    pub async fn run<T, F, Fut>(
        &self,
        operation: &'static str,
        cost: &RateCost,
        attempt: F,
    ) -> Result<T, ConnectorError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, ConnectorError>>,
    {
        self.run_with(operation, cost, true, attempt).await
    }

    /// Like [`CallPolicy::run`]; a non-idempotent attempt is repeated only after a
    /// failure that certainly had no effect (429, unreachable). A timeout or 5xx
    /// comes back as [`ConnectorError::OutcomeUnknown`] for the caller to reconcile.
    pub async fn run_with<T, F, Fut>(
        &self,
        operation: &'static str,
        cost: &RateCost,
        idempotent: bool,
        mut attempt: F,
    ) -> Result<T, ConnectorError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, ConnectorError>>,
    {
        let mut made = 0;
        loop {
            made += 1;
            let result = self.once(operation, cost, &mut attempt).await;
            let error = match result {
                Ok(value) => return Ok(value),
                Err(e) => e,
            };
            if !error.is_retryable() || matches!(error, ConnectorError::BreakerOpen { .. }) {
                return Err(error);
            }
            if !idempotent && !error.had_no_effect() {
                return Err(ConnectorError::OutcomeUnknown {
                    last: Box::new(error),
                });
            }
            if error.retry_after() > Some(self.retry.max_retry_after) {
                return Err(error);
            }
            if made >= self.retry.max_attempts {
                return Err(ConnectorError::GaveUp {
                    attempts: made,
                    last: Box::new(error),
                });
            }
            if let ConnectorError::RateLimited {
                retry_after: Some(wait),
                ..
            } = &error
            {
                // The provider throttles the account, not this call: hold its other callers too.
                self.limiter.hold(&cost.key, *wait);
            }
            let delay = self.retry.delay(made, &error);
            tracing::debug!(
                connector.name = self.connector,
                operation,
                attempt = made,
                delay_ms = delay.as_millis() as u64,
                error.kind = error.label(),
                "retrying connector call"
            );
            if let Some(m) = &self.metrics {
                m.connector_retries
                    .with_label_values(&[self.connector])
                    .inc();
            }
            tokio::time::sleep(delay).await;
        }
    }

    async fn once<T, F, Fut>(
        &self,
        operation: &'static str,
        cost: &RateCost,
        attempt: &mut F,
    ) -> Result<T, ConnectorError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, ConnectorError>>,
    {
        let Some(permit) = self.breaker.try_acquire() else {
            self.observe(operation, "breaker_open", None);
            return Err(ConnectorError::BreakerOpen {
                connector: self.connector.to_string(),
            });
        };
        self.publish_breaker();
        let queued = Instant::now();
        let _slot = match self.limiter.slot(&cost.key).await {
            Ok(slot) => slot,
            Err(e) => {
                permit.release();
                return Err(e);
            }
        };
        let grant = match self.limiter.acquire(cost).await {
            Ok(grant) => grant,
            Err(e) => {
                // The call was never made; it says nothing about the service.
                permit.release();
                return Err(e);
            }
        };
        let waited = queued.elapsed();
        if let Some(m) = &self.metrics {
            m.connector_rate_limit_wait
                .with_label_values(&[self.connector])
                .inc_by(waited.as_secs_f64());
        }
        let started = Instant::now();
        let result = attempt().await;
        self.limiter.settle(&grant);
        permit.record(&result);
        self.publish_breaker();
        let status = match &result {
            Ok(_) => "ok",
            Err(e) => e.label(),
        };
        self.observe(operation, status, Some(started.elapsed()));
        result
    }

    fn observe(&self, operation: &'static str, status: &str, took: Option<Duration>) {
        if let Some(m) = &self.metrics {
            m.connector_calls
                .with_label_values(&[self.connector, operation, status])
                .inc();
            if let Some(took) = took {
                m.connector_call_duration
                    .with_label_values(&[self.connector, operation])
                    .observe(took.as_secs_f64());
            }
        }
    }

    fn publish_breaker(&self) {
        if let Some(m) = &self.metrics {
            m.connector_breaker_state
                .with_label_values(&[self.connector])
                .set(self.breaker.state().gauge());
        }
    }
}

#[cfg(test)]
#[path = "policy_tests.rs"]
mod tests;
