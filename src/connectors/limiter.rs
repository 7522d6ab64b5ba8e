//! Client-side rate limits as the providers count them: at most N units in any
//! rolling window of length W, per account (a rep's mailbox for Google's per-user
//! quotas, one shared key for HubSpot's per-app limit), with an optional second
//! window for calls that have a stricter limit of their own (HubSpot search).
//! Calls may cost several units (Gmail counts quota units).
//!
//! Each key keeps a log of what it spent and when. A call goes as soon as it fits
//! under N. When its answer arrives the call is settled: its units are stamped
//! with that moment, since the provider counted the call no later than it
//! answered, and they come back one window plus a guard (1% of the window) after
//! that. So however late a call reaches the provider on a busy machine, the
//! provider's window never holds more than N — stamping at the send alone let a
//! delayed call meet the next window's calls. A second log
//! allows a tenth of N per tenth of W, so a busy account's calls leave in small
//! groups rather than all N at once at the start of each window — a large group
//! reaches the provider spread out, and its tail could meet the next window's
//! head. That uses 99% of a 10 s quota in steady state and still lets a quiet
//! account's few calls in a row go at once — a GCRA (token bucket) has to keep its
//! burst small to stay under a rolling window, which costs both quota use and the
//! latency of a single workflow's calls in a row.
//!
//! Optionally, calls per key in flight at once are capped too (Gmail answers "too
//! many concurrent requests for user" otherwise).
//!
//! A provider's own "slow down" (a 429 with `Retry-After`) becomes a hold on the
//! account's key: every caller of that account waits it out, not just the one that
//! was told.
//!
//! On PostgreSQL every window (and the in-flight cap) also draws from a budget
//! shared by all processes on the database (`shared.rs`, with its bound): the
//! local windows still pace this process, the shared one keeps the fleet under
//! the provider's quota. SQLite (one process) keeps only the local windows.
//!
//! Time is `tokio::time::Instant`, so waits are tokio sleeps and tests on paused
//! time see the limiter as production does.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use super::error::ConnectorError;
use super::shared::{SharedBudget, Ticket};

/// At most `count` units in any rolling window of length `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub count: u32,
    pub per: Duration,
}

/// A provider's published quota; see the module notes for how it is kept.
pub fn quota(count: u32, per: Duration) -> Quota {
    Quota {
        count: count.max(1),
        per: per.max(Duration::from_millis(1)),
    }
}

/// What one call spends: units from the main window under `key`, and one unit
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

/// What one key spent and when (sent, or answered once settled).
#[derive(Debug, Default)]
struct Log {
    spent: Vec<Entry>,
    used: u64,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    at: Instant,
    units: u32,
    id: u64,
}

/// Rolling windows of one quota, one log per key.
#[derive(Debug)]
struct Windows {
    quota: Quota,
    /// How long a spent unit stays counted: the window plus the guard.
    span: Duration,
    logs: Mutex<HashMap<String, Log>>,
    next_id: AtomicU64,
}

impl Windows {
    /// A provider's window: spent units come back after the window and the guard.
    fn new(quota: Quota) -> Self {
        Self::with_guard(quota, quota.per / 100)
    }

    fn with_guard(quota: Quota, guard: Duration) -> Self {
        Windows {
            quota,
            span: quota.per + guard,
            logs: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(0),
        }
    }

    /// Stamps entry `id` of `key` with `at` (a call's answer came).
    fn settle(&self, key: &str, id: u64, at: Instant) {
        let mut logs = self.logs.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(entry) = logs
            .get_mut(key)
            .and_then(|log| log.spent.iter_mut().find(|e| e.id == id))
        {
            entry.at = entry.at.max(at);
        }
    }

    fn validate(&self, units: u32) -> Result<(), ConnectorError> {
        if units > self.quota.count {
            // More units than the window holds: it could never pass.
            return Err(ConnectorError::Permanent {
                status: 0,
                message: format!("a call of {units} units exceeds the rate limit"),
            });
        }
        Ok(())
    }
}

impl Log {
    /// Forgets what has come back by `now`; Ok if `units` fit, else when they will.
    fn check(&mut self, windows: &Windows, units: u32, now: Instant) -> Result<(), Instant> {
        let span = windows.span;
        self.spent.retain(|e| e.at + span > now);
        self.used = self.spent.iter().map(|e| u64::from(e.units)).sum();
        let limit = u64::from(windows.quota.count);
        if self.used + u64::from(units) <= limit {
            return Ok(());
        }
        let mut by_time: Vec<Entry> = self.spent.clone();
        by_time.sort_by_key(|e| e.at);
        let mut free = limit - self.used;
        for e in by_time {
            free += u64::from(e.units);
            if free >= u64::from(units) {
                return Err(e.at + span);
            }
        }
        Err(now + span)
    }

    fn spend(&mut self, units: u32, now: Instant, id: u64) {
        self.spent.push(Entry { at: now, units, id });
        self.used += u64::from(units);
    }
}

/// Spends from every window at the same instant, or none: a unit taken from one
/// window while the call waits on another would be counted too early.
fn try_spend_all(
    windows: &[(&Windows, u32)],
    key: &str,
    now: Instant,
) -> Result<Vec<u64>, Instant> {
    let mut guards: Vec<_> = windows
        .iter()
        .map(|(w, _)| w.logs.lock().unwrap_or_else(|p| p.into_inner()))
        .collect();
    let mut later: Option<Instant> = None;
    for (guard, (window, units)) in guards.iter_mut().zip(windows) {
        let log = guard.entry(key.to_string()).or_default();
        if let Err(at) = log.check(window, *units, now) {
            later = Some(later.map_or(at, |l| l.max(at)));
        }
    }
    if let Some(at) = later {
        return Err(at);
    }
    let mut ids = Vec::with_capacity(windows.len());
    for (guard, (window, units)) in guards.iter_mut().zip(windows) {
        let id = window.next_id.fetch_add(1, Ordering::Relaxed);
        guard
            .entry(key.to_string())
            .or_default()
            .spend(*units, now, id);
        ids.push(id);
    }
    Ok(ids)
}

/// A call let through: how long it waited, and what to settle when it is answered.
#[derive(Debug)]
pub struct Grant {
    pub waited: Duration,
    key: String,
    main: u64,
    extra: Option<(&'static str, u64)>,
    /// The call's units of the fleet's shared budgets, given back when settled.
    shared: Mutex<Vec<Ticket>>,
}

/// A call's in-flight slot: the local one and, on PostgreSQL, the fleet's.
#[derive(Debug, Default)]
pub struct Slot {
    _local: Option<OwnedSemaphorePermit>,
    _shared: Option<Ticket>,
}

pub struct Limiter {
    main: Windows,
    /// A tenth of the quota per tenth of the window: spreads a busy key's calls.
    smooth: Windows,
    extra: HashMap<&'static str, Windows>,
    /// Per key: no call before this instant.
    holds: Mutex<HashMap<String, Instant>>,
    /// Per key: at most this many calls in flight (None: no cap).
    max_in_flight: Option<usize>,
    slots: Mutex<HashMap<String, Arc<Semaphore>>>,
    /// The fleet's budgets and this limiter's name in them (PostgreSQL only).
    shared: Option<(Arc<SharedBudget>, &'static str)>,
}

impl Limiter {
    pub fn new(quota: Quota) -> Self {
        let smooth = Quota {
            count: (quota.count / 10).max(1),
            per: quota.per / 10,
        };
        Limiter {
            main: Windows::new(quota),
            // Not a provider's rule, only a spread: no guard needed.
            smooth: Windows::with_guard(smooth, Duration::ZERO),
            extra: HashMap::new(),
            holds: Mutex::new(HashMap::new()),
            max_in_flight: None,
            slots: Mutex::new(HashMap::new()),
            shared: None,
        }
    }

    /// Also draws every window and in-flight slot from the fleet's `budget`,
    /// under keys named `name:window:account`.
    pub fn shared(mut self, budget: Arc<SharedBudget>, name: &'static str) -> Self {
        self.shared = Some((budget, name));
        self
    }

    /// Caps the calls per key in flight at once.
    pub fn with_max_in_flight(mut self, per_key: usize) -> Self {
        self.max_in_flight = Some(per_key.max(1));
        self
    }

    /// Waits for an in-flight slot for `key`, this process's and then the
    /// fleet's; hold the returned slot for the call.
    pub async fn slot(&self, key: &str) -> Result<Slot, ConnectorError> {
        let Some(max) = self.max_in_flight else {
            return Ok(Slot::default());
        };
        let semaphore = {
            let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
            slots
                .entry(key.to_string())
                .or_insert_with(|| Arc::new(Semaphore::new(max)))
                .clone()
        };
        // The semaphore is never closed, so acquiring cannot fail.
        let local = semaphore.acquire_owned().await.ok();
        let shared = match &self.shared {
            Some((budget, name)) => {
                Some(budget.slot(&format!("{name}:in_flight:{key}"), max).await?)
            }
            None => None,
        };
        Ok(Slot {
            _local: local,
            _shared: shared,
        })
    }

    /// Adds a named window for calls with a stricter limit of their own.
    pub fn with_bucket(mut self, name: &'static str, quota: Quota) -> Self {
        self.extra.insert(name, Windows::new(quota));
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

    /// The call's answer came: its units count from now (see the module notes).
    pub fn settle(&self, grant: &Grant) {
        let now = Instant::now();
        grant
            .shared
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        self.main.settle(&grant.key, grant.main, now);
        if let Some((name, id)) = grant.extra
            && let Some(window) = self.extra.get(name)
        {
            window.settle(&grant.key, id, now);
        }
    }

    /// Waits until the call may go; settle the grant when the call is answered.
    pub async fn acquire(&self, cost: &RateCost) -> Result<Grant, ConnectorError> {
        let started = Instant::now();
        while let Some(until) = self.held_until(&cost.key) {
            tokio::time::sleep_until(until).await;
        }
        let units = cost.units.max(1);
        self.main.validate(units)?;
        // The stricter window is locked first, always in the same order.
        let mut windows = Vec::with_capacity(2);
        if let Some(name) = cost.also {
            let extra = self
                .extra
                .get(name)
                .ok_or_else(|| ConnectorError::Permanent {
                    status: 0,
                    message: format!("no rate-limit bucket named {name}"),
                })?;
            windows.push((extra, 1));
        }
        windows.push((&self.main, units));
        let shared = self.take_shared(cost, units).await?;
        // A call costlier than the smoothing window holds is only spread by the main one.
        if units <= self.smooth.quota.count {
            windows.push((&self.smooth, units));
        }
        let ids = loop {
            match try_spend_all(&windows, &cost.key, Instant::now()) {
                Ok(ids) => break ids,
                Err(at) => tokio::time::sleep_until(at).await,
            }
        };
        // ids follow `windows`: [extra,] main[, smooth].
        let (extra, main) = match cost.also {
            Some(name) => (Some((name, ids[0])), ids[1]),
            None => (None, ids[0]),
        };
        Ok(Grant {
            waited: started.elapsed(),
            key: cost.key.clone(),
            main,
            extra,
            shared: Mutex::new(shared),
        })
    }

    /// The call's units from the fleet's budgets (none on SQLite): the stricter
    /// window first, as locally.
    async fn take_shared(
        &self,
        cost: &RateCost,
        units: u32,
    ) -> Result<Vec<Ticket>, ConnectorError> {
        let Some((budget, name)) = &self.shared else {
            return Ok(Vec::new());
        };
        let mut tickets = Vec::with_capacity(2);
        if let Some(bucket) = cost.also
            && let Some(window) = self.extra.get(bucket)
        {
            let key = format!("{name}:{bucket}:{}", cost.key);
            tickets.push(budget.take(&key, window.quota, 1).await?);
        }
        let key = format!("{name}:main:{}", cost.key);
        tickets.push(budget.take(&key, self.main.quota, units).await?);
        Ok(tickets)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_tenth_of_the_quota_may_burst_then_calls_leave_in_small_groups() {
        let limiter = Limiter::new(quota(100, Duration::from_secs(10)));
        for _ in 0..10 {
            assert_eq!(
                limiter.acquire(&RateCost::one()).await.unwrap().waited,
                Duration::ZERO
            );
        }
        let waited = limiter.acquire(&RateCost::one()).await.unwrap().waited;
        assert_eq!(waited, Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn a_spent_unit_comes_back_a_window_plus_guard_later() {
        let limiter = Limiter::new(quota(100, Duration::from_secs(10)));
        let start = Instant::now();
        for _ in 0..100 {
            limiter.acquire(&RateCost::one()).await.unwrap();
        }
        // Ten groups of ten, 1 s apart; the 101st waits for the first unit back.
        assert_eq!(start.elapsed(), Duration::from_secs(9));
        limiter.acquire(&RateCost::one()).await.unwrap();
        assert_eq!(start.elapsed(), Duration::from_millis(10_100));
    }

    /// Many callers on paused time: no rolling window (as the provider counts,
    /// even with each call arriving up to the guard late) holds more than the
    /// quota, and steady use is at least 98% of it.
    #[tokio::test(start_paused = true)]
    async fn any_rolling_window_holds_at_most_the_quota_and_almost_all_of_it_is_used() {
        let per = Duration::from_secs(10);
        let limiter = Arc::new(Limiter::new(quota(100, per)));
        let start = Instant::now();
        let times = Arc::new(Mutex::new(Vec::new()));
        let callers = (0..32).map(|i| {
            let (limiter, times) = (limiter.clone(), times.clone());
            tokio::spawn(async move {
                for n in 0..40u64 {
                    limiter.acquire(&RateCost::one()).await.unwrap();
                    // Arrival jitter below the guard (1% of the window).
                    let late = Duration::from_millis((i * 7 + n * 13) % 100);
                    times.lock().unwrap().push(Instant::now() + late - start);
                }
            })
        });
        futures_util::future::join_all(callers).await;
        let mut times = times.lock().unwrap().clone();
        times.sort();
        for (i, t) in times.iter().enumerate() {
            let in_window = times[i..].iter().take_while(|u| **u < *t + per).count();
            assert!(
                in_window <= 100,
                "{in_window} calls in the window from {t:?}"
            );
        }
        // After the first group of ten, steady use: at least 98% of 10 calls/s.
        let elapsed = start.elapsed().as_secs_f64();
        let rate = (times.len() - 10) as f64 / elapsed;
        assert!(rate >= 0.98 * 10.0, "{rate:.2} calls/s of 10 allowed");
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_answered_late_counts_from_its_answer() {
        let limiter = Limiter::new(quota(1, Duration::from_secs(10)));
        let start = Instant::now();
        let grant = limiter.acquire(&RateCost::one()).await.unwrap();
        // The provider may have counted it as late as its answer, 5 s on.
        tokio::time::sleep(Duration::from_secs(5)).await;
        limiter.settle(&grant);
        limiter.acquire(&RateCost::one()).await.unwrap();
        assert_eq!(start.elapsed(), Duration::from_millis(15_100));
    }

    #[tokio::test(start_paused = true)]
    async fn accounts_have_separate_budgets() {
        let limiter = Limiter::new(quota(600, Duration::from_secs(60)));
        let a = RateCost::units("a@x.com", 60);
        assert_eq!(limiter.acquire(&a).await.unwrap().waited, Duration::ZERO);
        let b = RateCost::units("b@x.com", 1);
        assert_eq!(limiter.acquire(&b).await.unwrap().waited, Duration::ZERO);
        assert!(
            limiter
                .acquire(&RateCost::units("a@x.com", 1))
                .await
                .unwrap()
                .waited
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
            limiter.acquire(&RateCost::one()).await.unwrap().waited,
            Duration::ZERO
        );
        let waited = limiter.acquire(&search).await.unwrap().waited;
        assert_eq!(
            waited,
            Duration::from_millis(1_010),
            "searches: 4 per 1.01 s"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_waiting_on_its_stricter_window_spends_nothing_meanwhile() {
        let limiter = Arc::new(
            Limiter::new(quota(50, Duration::from_secs(10)))
                .with_bucket("search", quota(1, Duration::from_secs(1))),
        );
        let search = RateCost::one().also("search");
        limiter.acquire(&search).await.unwrap();
        let waiting = tokio::spawn({
            let limiter = limiter.clone();
            async move { limiter.acquire(&RateCost::one().also("search")).await }
        });
        tokio::task::yield_now().await;
        // The waiting search holds no unit of the main windows: four plain calls
        // still pass at once, filling the five-per-second smoothing window.
        for _ in 0..4 {
            assert_eq!(
                limiter.acquire(&RateCost::one()).await.unwrap().waited,
                Duration::ZERO
            );
        }
        // The search goes when its own window frees up (1 s + the 1% guard).
        let waited = waiting.await.unwrap().unwrap().waited;
        assert_eq!(waited, Duration::from_millis(1_010));
    }

    #[tokio::test(start_paused = true)]
    async fn a_hold_makes_every_caller_of_that_key_wait() {
        let limiter = Limiter::new(quota(100, Duration::from_secs(1)));
        limiter.hold("a@x.com", Duration::from_secs(5));
        limiter.hold("a@x.com", Duration::from_secs(1));
        let a = RateCost::units("a@x.com", 1);
        assert_eq!(
            limiter.acquire(&a).await.unwrap().waited,
            Duration::from_secs(5)
        );
        assert_eq!(limiter.acquire(&a).await.unwrap().waited, Duration::ZERO);
        let b = RateCost::units("b@x.com", 1);
        assert_eq!(limiter.acquire(&b).await.unwrap().waited, Duration::ZERO);
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
    async fn a_call_larger_than_the_window_is_refused() {
        let limiter = Limiter::new(quota(10, Duration::from_secs(1)));
        let err = limiter.acquire(&RateCost::units("", 11)).await.unwrap_err();
        assert!(!err.is_retryable());
    }
}
