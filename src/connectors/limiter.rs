//! Client-side rate limits: governor's GCRA, keyed by account (a rep's mailbox for
//! Google's per-user quotas, one shared key for HubSpot's per-app limit), with an
//! optional second bucket for calls that have a stricter limit of their own
//! (HubSpot search). Calls may cost several units (Gmail counts quota units).
//!
//! Optionally, calls per key in flight at once are capped too (Gmail answers "too
//! many concurrent requests for user" otherwise).
//!
//! A provider's own "slow down" (a 429 with `Retry-After`) becomes a hold on the
//! account's key: every caller of that account waits it out, not just the one that
//! was told.
//!
//! governor runs on a clock backed by `tokio::time::Instant`, so waits are tokio
//! sleeps and tests on paused time see the limiter as production does.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::ops::Add;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::clock::{Clock, Reference};
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use super::error::ConnectorError;

/// A point on tokio's clock, as governor wants it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct TokioInstant(Instant);

impl Add<Nanos> for TokioInstant {
    type Output = Self;
    fn add(self, other: Nanos) -> Self {
        TokioInstant(self.0 + Duration::from(other))
    }
}

impl Reference for TokioInstant {
    fn duration_since(&self, earlier: Self) -> Nanos {
        self.0.saturating_duration_since(earlier.0).into()
    }
    fn saturating_sub(&self, duration: Nanos) -> Self {
        TokioInstant(
            self.0
                .checked_sub(Duration::from(duration))
                .unwrap_or(self.0),
        )
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct TokioClock;

impl Clock for TokioClock {
    type Instant = TokioInstant;
    fn now(&self) -> TokioInstant {
        TokioInstant(Instant::now())
    }
}

type Keyed =
    RateLimiter<String, DefaultKeyedStateStore<String>, TokioClock, NoOpMiddleware<TokioInstant>>;

/// What one call spends: units from the main bucket under `key`, and one unit
/// from `also` if named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateCost {
    pub key: String,
    pub units: u32,
    pub also: Option<&'static str>,
}

impl RateCost {
    /// One unit, shared key.
    pub fn one() -> Self {
        Self::units("", 1)
    }

    pub fn units(key: impl Into<String>, units: u32) -> Self {
        RateCost {
            key: key.into(),
            units,
            also: None,
        }
    }

    pub fn also(mut self, bucket: &'static str) -> Self {
        self.also = Some(bucket);
        self
    }
}

pub struct Limiter {
    main: Keyed,
    extra: HashMap<&'static str, Keyed>,
    /// Per key: no call before this instant.
    holds: Mutex<HashMap<String, Instant>>,
    /// Per key: at most this many calls in flight (None: no cap).
    max_in_flight: Option<usize>,
    slots: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl Limiter {
    pub fn new(quota: Quota) -> Self {
        Limiter {
            main: RateLimiter::dashmap_with_clock(quota, TokioClock),
            extra: HashMap::new(),
            holds: Mutex::new(HashMap::new()),
            max_in_flight: None,
            slots: Mutex::new(HashMap::new()),
        }
    }

    /// Caps the calls per key in flight at once.
    pub fn with_max_in_flight(mut self, per_key: usize) -> Self {
        self.max_in_flight = Some(per_key.max(1));
        self
    }

    /// Waits for an in-flight slot for `key`; hold the returned permit for the call.
    pub async fn slot(&self, key: &str) -> Option<OwnedSemaphorePermit> {
        let max = self.max_in_flight?;
        let semaphore = {
            let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
            slots
                .entry(key.to_string())
                .or_insert_with(|| Arc::new(Semaphore::new(max)))
                .clone()
        };
        // The semaphore is never closed, so acquiring cannot fail.
        semaphore.acquire_owned().await.ok()
    }

    /// Adds a named bucket for calls with a stricter limit of their own.
    pub fn with_bucket(mut self, name: &'static str, quota: Quota) -> Self {
        self.extra
            .insert(name, RateLimiter::dashmap_with_clock(quota, TokioClock));
        self
    }

    /// Holds every call under `key` for `wait` (extends, never shortens, a hold).
    pub fn hold(&self, key: &str, wait: Duration) {
        let until = Instant::now() + wait;
        let mut holds = self.holds.lock().unwrap_or_else(|p| p.into_inner());
        let entry = holds.entry(key.to_string()).or_insert(until);
        *entry = (*entry).max(until);
    }

    fn held_until(&self, key: &str) -> Option<Instant> {
        let mut holds = self.holds.lock().unwrap_or_else(|p| p.into_inner());
        match holds.get(key) {
            Some(until) if *until > Instant::now() => Some(*until),
            Some(_) => {
                holds.remove(key);
                None
            }
            None => None,
        }
    }

    /// Waits until the call may go; returns how long it waited.
    pub async fn acquire(&self, cost: &RateCost) -> Result<Duration, ConnectorError> {
        let started = Instant::now();
        while let Some(until) = self.held_until(&cost.key) {
            tokio::time::sleep_until(until).await;
        }
        let units = NonZeroU32::new(cost.units).unwrap_or(NonZeroU32::MIN);
        wait(&self.main, &cost.key, units).await?;
        if let Some(name) = cost.also {
            let bucket = self
                .extra
                .get(name)
                .ok_or_else(|| ConnectorError::Permanent {
                    status: 0,
                    message: format!("no rate-limit bucket named {name}"),
                })?;
            wait(bucket, &cost.key, NonZeroU32::MIN).await?;
        }
        Ok(started.elapsed())
    }
}

async fn wait(limiter: &Keyed, key: &String, units: NonZeroU32) -> Result<(), ConnectorError> {
    loop {
        match limiter.check_key_n(key, units) {
            Ok(Ok(())) => return Ok(()),
            Ok(Err(not_until)) => {
                tokio::time::sleep(not_until.wait_time_from(TokioClock.now())).await;
            }
            Err(_) => {
                // More units than the bucket holds: it could never pass.
                return Err(ConnectorError::Permanent {
                    status: 0,
                    message: format!("a call of {units} units exceeds the rate-limit burst"),
                });
            }
        }
    }
}

/// At most `count` requests in any rolling window of length `per`, as providers
/// count them. A GCRA limiter lets through its burst plus one request per period
/// in any window, so the burst is kept small (a twentieth of the quota, enough for
/// the costliest single call) and the period is set so that burst plus
/// replenishment stays below `count`: about 94% of the quota in steady use.
pub fn quota(count: u32, per: Duration) -> Quota {
    let count = count.max(1);
    let burst = (count / 20).max(1);
    // One request of margin for arrival jitter at the provider's window edge.
    let paced = count.saturating_sub(burst + 1).max(1);
    let period = per
        .checked_div(paced)
        .unwrap_or(per)
        .max(Duration::from_nanos(1));
    Quota::with_period(period)
        .expect("a non-zero period")
        .allow_burst(NonZeroU32::new(burst).expect("at least one"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_burst_passes_then_calls_are_paced() {
        let limiter = Limiter::new(quota(100, Duration::from_secs(10)));
        for _ in 0..5 {
            assert_eq!(
                limiter.acquire(&RateCost::one()).await.unwrap(),
                Duration::ZERO
            );
        }
        let waited = limiter.acquire(&RateCost::one()).await.unwrap();
        let period = Duration::from_secs(10) / 94;
        assert!(
            waited >= period && waited <= period + Duration::from_millis(1),
            "then one per 10 s / 94: {waited:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn accounts_have_separate_budgets() {
        let limiter = Limiter::new(quota(600, Duration::from_secs(60)));
        let a = RateCost::units("a@x.com", 30);
        assert_eq!(limiter.acquire(&a).await.unwrap(), Duration::ZERO);
        let b = RateCost::units("b@x.com", 1);
        assert_eq!(limiter.acquire(&b).await.unwrap(), Duration::ZERO);
        assert!(
            limiter
                .acquire(&RateCost::units("a@x.com", 1))
                .await
                .unwrap()
                > Duration::ZERO
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_extra_bucket_paces_only_the_calls_that_name_it() {
        let limiter = Limiter::new(quota(100, Duration::from_secs(10)))
            .with_bucket("search", quota(4, Duration::from_secs(1)));
        let search = RateCost::one().also("search");
        for _ in 0..4 {
            limiter.acquire(&search).await.unwrap();
        }
        assert_eq!(
            limiter.acquire(&RateCost::one()).await.unwrap(),
            Duration::ZERO
        );
        let waited = limiter.acquire(&search).await.unwrap();
        let period = Duration::from_secs(1) / 2;
        assert!(
            waited >= period && waited <= period + Duration::from_millis(1),
            "searches paced at 1 s / 2: {waited:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_hold_makes_every_caller_of_that_key_wait() {
        let limiter = Limiter::new(quota(100, Duration::from_secs(1)));
        limiter.hold("a@x.com", Duration::from_secs(5));
        limiter.hold("a@x.com", Duration::from_secs(1));
        let a = RateCost::units("a@x.com", 1);
        assert_eq!(limiter.acquire(&a).await.unwrap(), Duration::from_secs(5));
        assert_eq!(limiter.acquire(&a).await.unwrap(), Duration::ZERO);
        let b = RateCost::units("b@x.com", 1);
        assert_eq!(limiter.acquire(&b).await.unwrap(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn calls_per_key_in_flight_are_capped() {
        let limiter =
            Arc::new(Limiter::new(quota(100, Duration::from_secs(1))).with_max_in_flight(2));
        let started = Instant::now();
        let call = |key: &'static str| {
            let limiter = limiter.clone();
            async move {
                let _slot = limiter.slot(key).await;
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        };
        tokio::join!(call("a"), call("a"), call("a"), call("b"));
        // Three calls for "a" with two slots take two rounds; "b" runs alongside.
        assert_eq!(started.elapsed(), Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_larger_than_the_burst_is_refused() {
        let limiter = Limiter::new(quota(10, Duration::from_secs(1)));
        let err = limiter.acquire(&RateCost::units("", 11)).await.unwrap_err();
        assert!(!err.is_retryable());
    }
}
