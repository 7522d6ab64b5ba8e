//! The circuit breaker of one connector: after `failure_threshold` consecutive
//! service failures it opens and rejects calls without making them; after
//! `cool_down` it half-opens and lets exactly one probe through; the probe's
//! success closes it, its failure opens it again.
//!
//! Only [`ConnectorError::is_service_failure`] counts as a failure: a 404 or a 401
//! proves the service is up. Time is `tokio::time::Instant`, so tests run on paused time.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use super::error::ConnectorError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    Closed,
    HalfOpen,
    Open,
}

impl BreakerState {
    /// The `connector_breaker_state` gauge value.
    pub fn gauge(self) -> i64 {
        match self {
            Self::Closed => 0,
            Self::HalfOpen => 1,
            Self::Open => 2,
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct BreakerConfig {
    pub failure_threshold: u32,
    pub cool_down: Duration,
}

#[derive(Debug)]
enum Inner {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen { probing: bool },
}

#[derive(Debug, Clone)]
pub struct Breaker {
    config: BreakerConfig,
    inner: Arc<Mutex<Inner>>,
}

/// Leave to make one call. Dropping a half-open probe without [`Permit::record`]
/// (the call was cancelled) reopens the breaker, so a lost probe cannot wedge it.
#[must_use]
pub struct Permit {
    breaker: Breaker,
    recorded: bool,
}

impl Breaker {
    pub fn new(config: BreakerConfig) -> Self {
        Breaker {
            config,
            inner: Arc::new(Mutex::new(Inner::Closed { failures: 0 })),
        }
    }

    pub fn state(&self) -> BreakerState {
        match *self.lock() {
            Inner::Closed { .. } => BreakerState::Closed,
            Inner::Open { until } if Instant::now() >= until => BreakerState::HalfOpen,
            Inner::Open { .. } => BreakerState::Open,
            Inner::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    /// Asks to make a call: `None` means rejected (open, or a probe is already out).
    pub fn try_acquire(&self) -> Option<Permit> {
        let mut inner = self.lock();
        match *inner {
            Inner::Closed { .. } => {}
            Inner::Open { until } if Instant::now() >= until => {
                *inner = Inner::HalfOpen { probing: true };
            }
            Inner::Open { .. } | Inner::HalfOpen { probing: true } => return None,
            Inner::HalfOpen { probing: false } => *inner = Inner::HalfOpen { probing: true },
        }
        drop(inner);
        Some(Permit {
            breaker: self.clone(),
            recorded: false,
        })
    }

    fn on_outcome(&self, failed: bool) {
        let mut inner = self.lock();
        let next = match (&*inner, failed) {
            (_, false) => Inner::Closed { failures: 0 },
            (Inner::Closed { failures }, true) if failures + 1 < self.config.failure_threshold => {
                Inner::Closed {
                    failures: failures + 1,
                }
            }
            (_, true) => Inner::Open {
                until: Instant::now() + self.config.cool_down,
            },
        };
        *inner = next;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding this lock cannot leave the enum half-written.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Permit {
    /// Gives the permit back unused (the call was never made): state unchanged,
    /// a half-open probe slot freed.
    pub fn release(mut self) {
        self.recorded = true;
        let mut inner = self.breaker.lock();
        if let Inner::HalfOpen { .. } = *inner {
            *inner = Inner::HalfOpen { probing: false };
        }
    }

    /// Reports how the call went. Failures that do not speak about the service's
    /// health (404, 401, rate limits) still release a half-open probe slot.
    pub fn record<T>(mut self, result: &Result<T, ConnectorError>) {
        match result {
            Ok(_) => self.settle(false),
            Err(e) if e.is_service_failure() => self.settle(true),
            // Neither healthy nor broken: keep the count, free the probe slot.
            Err(ConnectorError::RateLimited { .. }) => self.release(),
            Err(_) => self.settle(false),
        }
    }

    fn settle(&mut self, failed: bool) {
        self.recorded = true;
        self.breaker.on_outcome(failed);
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if self.recorded {
            return;
        }
        // A cancelled call proves nothing, except that a probe never reported:
        // reopen rather than stay half-open with no probe out.
        let mut inner = self.breaker.lock();
        if let Inner::HalfOpen { .. } = *inner {
            *inner = Inner::Open {
                until: Instant::now() + self.breaker.config.cool_down,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breaker() -> Breaker {
        Breaker::new(BreakerConfig {
            failure_threshold: 3,
            cool_down: Duration::from_secs(30),
        })
    }

    fn fail() -> Result<(), ConnectorError> {
        Err(ConnectorError::transient("503"))
    }

    #[tokio::test(start_paused = true)]
    async fn the_breaker_opens_rejects_half_opens_and_closes() {
        let b = breaker();
        for _ in 0..3 {
            b.try_acquire().expect("closed").record(&fail());
        }
        assert_eq!(b.state(), BreakerState::Open);
        assert!(b.try_acquire().is_none(), "open rejects fast");

        tokio::time::advance(Duration::from_secs(30)).await;
        assert_eq!(b.state(), BreakerState::HalfOpen);
        let probe = b.try_acquire().expect("one probe goes through");
        assert!(b.try_acquire().is_none(), "only one probe at a time");
        probe.record(&Ok::<(), ConnectorError>(()));
        assert_eq!(b.state(), BreakerState::Closed);
        assert!(b.try_acquire().is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_probe_opens_the_breaker_again() {
        let b = breaker();
        for _ in 0..3 {
            b.try_acquire().unwrap().record(&fail());
        }
        tokio::time::advance(Duration::from_secs(31)).await;
        b.try_acquire().unwrap().record(&fail());
        assert_eq!(b.state(), BreakerState::Open);
        tokio::time::advance(Duration::from_secs(29)).await;
        assert!(b.try_acquire().is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn client_errors_do_not_count_and_reset_the_run() {
        let b = breaker();
        b.try_acquire().unwrap().record(&fail());
        b.try_acquire().unwrap().record(&fail());
        b.try_acquire()
            .unwrap()
            .record(&Err::<(), _>(ConnectorError::NotFound("x".into())));
        b.try_acquire().unwrap().record(&fail());
        b.try_acquire().unwrap().record(&fail());
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[tokio::test(start_paused = true)]
    async fn a_released_probe_leaves_the_breaker_half_open_for_the_next_call() {
        let b = breaker();
        for _ in 0..3 {
            b.try_acquire().unwrap().record(&fail());
        }
        tokio::time::advance(Duration::from_secs(30)).await;
        b.try_acquire().unwrap().release();
        assert_eq!(b.state(), BreakerState::HalfOpen);
        assert!(b.try_acquire().is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn cancelled_calls_do_not_open_a_closed_breaker() {
        let b = breaker();
        for _ in 0..5 {
            drop(b.try_acquire().unwrap());
        }
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[tokio::test(start_paused = true)]
    async fn a_dropped_probe_counts_as_a_failure() {
        let b = breaker();
        for _ in 0..3 {
            b.try_acquire().unwrap().record(&fail());
        }
        tokio::time::advance(Duration::from_secs(30)).await;
        drop(b.try_acquire().unwrap());
        assert_eq!(b.state(), BreakerState::Open);
    }
}
