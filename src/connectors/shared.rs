//! Quotas shared by every process on one PostgreSQL database. A provider counts
//! its quota per app or per user, not per process: three processes each keeping
//! HubSpot's 100 requests per 10 s would together send 300. So on PostgreSQL each
//! limiter window also draws from a budget in the database (`store::quota_leases`):
//! a process takes a small **lease** of units, hands them to its calls locally
//! without further round trips, and closes the lease when it is spent (or after
//! its spend period), shrinking it to what was spent.
//!
//! ```text
//! N  the provider's quota per window W      L  lease size: ⌈fraction × N⌉, at least one call's units
//! P  spend period: W/10 (a lease hands out units for at most P after its grant)
//! G  guard: W/100 (clock skew between the database and the provider)
//! S  slack: how long an unanswered call keeps its lease alive between extensions
//! ```
//!
//! **Safety.** A lease counts from its grant (on the database clock, before any of
//! its calls is sent) until `W + G` after its last call was answered: the close
//! sets that expiry, an unclosed lease expires at `P + S + W + G` after its grant,
//! and its owner extends it by `S` while a call is still in flight. A provider
//! counts a call no later than it answers it, so every call in the provider's
//! window ending at `t` belongs to a lease active at `t`; the database grants a
//! lease only if the leases active at its grant fit under N, and the leases active
//! at any instant were all active at the latest one's grant. So **no rolling
//! window of W holds more than N units from the whole fleet** — the same bound as
//! one process, with G absorbing clock skew up to W/100.
//!
//! **Error bound (capacity left unused).** Each process holds at most one open
//! lease per key, so at most `k × L` units of a key are leased but not yet spent
//! (k processes); a live process returns them when the lease closes, within P of
//! its grant; a dead process's lease expires `P + S + W + G` after its grant (13 s
//! for HubSpot's 10 s window with the default S of 2 s). In steady use at the
//! limit a lease is spent at once, so each unit is held from its lease's grant —
//! at most the time to send and answer the lease's calls before the ideal moment.
//! The lease size trades database round trips (N/L per window and key) against
//! that stranded capacity; docs/PERFORMANCE.md has the measurement.
//!
//! In-flight caps (Gmail's concurrent requests per mailbox) are leases of one
//! unit that live only while their call does ([`SharedBudget::slot`]): expiring
//! slots of a semaphore held in the database.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use super::error::ConnectorError;
use super::limiter::Quota;
use crate::store::Store;
use crate::store::quota_leases::{self, Taken};

/// How leases are sized and kept.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SharedSettings {
    /// L as a share of the quota (at least one unit, at least one call's cost).
    pub lease_fraction: f64,
    /// S: how long an answer may take before the lease is extended again.
    pub slack: Duration,
}

impl Default for SharedSettings {
    fn default() -> Self {
        SharedSettings {
            lease_fraction: 0.05,
            slack: Duration::from_secs(2),
        }
    }
}

/// One process's view of the fleet's shared budgets.
pub struct SharedBudget {
    store: Store,
    owner: String,
    settings: SharedSettings,
    pools: Mutex<HashMap<String, Arc<Pool>>>,
}

/// The open lease of one key in this process, and the lock that lets one caller
/// at a time ask the database for the next one.
#[derive(Default)]
struct Pool {
    refill: tokio::sync::Mutex<()>,
    current: Mutex<Option<Arc<Lease>>>,
}

struct Lease {
    id: i64,
    granted: u32,
    /// The lease stops handing out units at this instant.
    spend_by: Instant,
    /// W + G: how long a spent unit stays counted after its answer (zero: a slot).
    span: Duration,
    state: Mutex<LeaseState>,
    budget: Arc<SharedBudget>,
}

#[derive(Default)]
struct LeaseState {
    handed: u32,
    in_flight: u32,
    retired: bool,
    closed: bool,
    last_answer: Option<Instant>,
}

/// Units of one call drawn from a shared lease; dropping it marks the call answered.
pub struct Ticket {
    lease: Arc<Lease>,
}

impl SharedBudget {
    pub fn new(store: Store, owner: impl Into<String>, settings: SharedSettings) -> Arc<Self> {
        Arc::new(SharedBudget {
            store,
            owner: owner.into(),
            settings,
            pools: Mutex::new(HashMap::new()),
        })
    }

    fn pool(&self, key: &str) -> Arc<Pool> {
        let mut pools = self.pools.lock().unwrap_or_else(|p| p.into_inner());
        pools.entry(key.to_string()).or_default().clone()
    }

    /// Waits until `units` of the fleet-wide quota `key` are this call's.
    pub async fn take(
        self: &Arc<Self>,
        key: &str,
        quota: Quota,
        units: u32,
    ) -> Result<Ticket, ConnectorError> {
        let pool = self.pool(key);
        if let Some(ticket) = pool.hand(units) {
            return Ok(ticket);
        }
        let _refill = pool.refill.lock().await;
        let lease_size = ((f64::from(quota.count) * self.settings.lease_fraction).ceil() as u32)
            .clamp(1, quota.count)
            .max(units);
        let spend = quota.per / 10;
        let span = quota.per + quota.per / 100;
        let hold = spend + self.settings.slack + span;
        loop {
            // Another caller may have refilled while this one waited for the lock.
            if let Some(ticket) = pool.hand(units) {
                return Ok(ticket);
            }
            pool.retire_current();
            let asked = Instant::now();
            let (store, owner, key_owned) =
                (self.store.clone(), self.owner.clone(), key.to_string());
            let (want, limit) = (i64::from(lease_size), i64::from(quota.count));
            let taken = store
                .run(move |c| {
                    quota_leases::take(c, &key_owned, &owner, want, i64::from(units), limit, hold)
                })
                .await
                .map_err(|e| ConnectorError::transient(format!("shared quota: {e}")))?;
            match taken {
                Taken::Granted(granted) => {
                    let lease = Arc::new(Lease {
                        id: granted.id,
                        granted: u32::try_from(granted.units).unwrap_or(units),
                        spend_by: asked + spend,
                        span,
                        // The asking call's units, even if the answer came after P.
                        state: Mutex::new(LeaseState {
                            handed: units,
                            in_flight: 1,
                            ..LeaseState::default()
                        }),
                        budget: self.clone(),
                    });
                    let ticket = Ticket {
                        lease: lease.clone(),
                    };
                    lease.clone().watch(asked + spend + self.settings.slack);
                    *pool.current.lock().unwrap_or_else(|p| p.into_inner()) = Some(lease);
                    return Ok(ticket);
                }
                Taken::Full { next_expiry } => {
                    let poll = (quota.per / 20).max(Duration::from_millis(2));
                    tokio::time::sleep(next_expiry.clamp(Duration::from_millis(2), poll)).await;
                }
            }
        }
    }

    /// Waits for one of `max` fleet-wide in-flight slots of `key`; the slot is
    /// freed when the ticket drops (or expires S after its holder last renewed it).
    pub async fn slot(self: &Arc<Self>, key: &str, max: usize) -> Result<Ticket, ConnectorError> {
        let hold = self.settings.slack * 2;
        loop {
            let asked = Instant::now();
            let (store, owner, key_owned) =
                (self.store.clone(), self.owner.clone(), key.to_string());
            let limit = i64::try_from(max).unwrap_or(i64::MAX);
            let taken = store
                .run(move |c| quota_leases::take(c, &key_owned, &owner, 1, 1, limit, hold))
                .await
                .map_err(|e| ConnectorError::transient(format!("shared in-flight slot: {e}")))?;
            match taken {
                Taken::Granted(granted) => {
                    let lease = Arc::new(Lease {
                        id: granted.id,
                        granted: 1,
                        spend_by: asked,
                        span: Duration::ZERO,
                        state: Mutex::new(LeaseState {
                            handed: 1,
                            in_flight: 1,
                            ..LeaseState::default()
                        }),
                        budget: self.clone(),
                    });
                    let ticket = Ticket {
                        lease: lease.clone(),
                    };
                    lease.clone().watch(asked + self.settings.slack);
                    return Ok(ticket);
                }
                Taken::Full { .. } => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
    }

    /// Closes every open lease of this process (on shutdown): what it did not
    /// spend goes back to the fleet at once.
    pub async fn release_all(&self) {
        let pools: Vec<Arc<Pool>> = {
            let pools = self.pools.lock().unwrap_or_else(|p| p.into_inner());
            pools.values().cloned().collect()
        };
        for pool in pools {
            let lease = pool
                .current
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take();
            if let Some(lease) = lease {
                lease.retire().await;
            }
        }
    }
}

impl Pool {
    fn hand(&self, units: u32) -> Option<Ticket> {
        let current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        current.as_ref()?.hand(units)
    }

    /// The open lease stops handing out units (it is spent or stale); it closes
    /// once its calls are answered.
    fn retire_current(&self) {
        let lease = self
            .current
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(lease) = lease {
            tokio::spawn(async move { lease.retire().await });
        }
    }
}

impl Lease {
    fn hand(self: &Arc<Self>, units: u32) -> Option<Ticket> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if state.retired || Instant::now() >= self.spend_by || state.handed + units > self.granted {
            return None;
        }
        state.handed += units;
        state.in_flight += 1;
        Some(Ticket {
            lease: self.clone(),
        })
    }

    /// No more units from this lease; closes it now if no call is in flight.
    async fn retire(self: &Arc<Self>) {
        let close_now = {
            let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
            state.retired = true;
            let close = state.in_flight == 0 && !state.closed;
            state.closed |= close;
            close
        };
        if close_now {
            self.close().await;
        }
    }

    /// Shrinks the row to the units spent, counted until W + G after the last
    /// answer. The time since the answer is read on the connection's thread just
    /// before the statement, so time queued for a connection is not counted.
    async fn close(self: &Arc<Self>) {
        let (spent, answered) = {
            let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
            let answered = state.last_answer.unwrap_or_else(Instant::now).into_std();
            (state.handed, answered)
        };
        let (id, span) = (self.id, self.span);
        let closed = self
            .budget
            .store
            .run(move |c| {
                let tail = if span.is_zero() {
                    Duration::ZERO
                } else {
                    span.saturating_sub(answered.elapsed())
                        .max(Duration::from_nanos(1))
                };
                quota_leases::close(c, id, i64::from(spent), tail)
            })
            .await;
        if let Err(error) = closed {
            // The row expires on its own; only its unused units come back later.
            tracing::warn!(%error, "could not close a shared quota lease");
        }
    }

    /// After the spend period, retires the lease and keeps it alive while a call
    /// of it is still unanswered, extending it by S before each deadline.
    fn watch(self: Arc<Self>, first_deadline: Instant) {
        let slack = self.budget.settings.slack;
        tokio::spawn(async move {
            if self.span > Duration::ZERO {
                tokio::time::sleep_until(self.spend_by).await;
                self.retire().await;
            }
            let mut deadline = first_deadline;
            loop {
                tokio::time::sleep_until(deadline - slack / 2).await;
                let in_flight = {
                    let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
                    !state.closed && state.in_flight > 0
                };
                if !in_flight {
                    return;
                }
                let asked = Instant::now();
                let id = self.id;
                let hold = slack + self.span;
                match self
                    .budget
                    .store
                    .run(move |c| quota_leases::extend(c, id, hold))
                    .await
                {
                    Ok(true) => deadline = asked + slack,
                    Ok(false) => {
                        tracing::warn!("a shared quota lease lapsed with a call in flight");
                        return;
                    }
                    Err(error) => {
                        tracing::warn!(%error, "could not extend a shared quota lease");
                        deadline = Instant::now() + slack / 2;
                    }
                }
            }
        });
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let close_now = {
            let mut state = self.lease.state.lock().unwrap_or_else(|p| p.into_inner());
            state.in_flight = state.in_flight.saturating_sub(1);
            state.last_answer = Some(Instant::now());
            let spent = state.handed >= self.lease.granted;
            if spent {
                state.retired = true;
            }
            let close = state.retired && state.in_flight == 0 && !state.closed;
            if close {
                state.closed = true;
            }
            close
        };
        if close_now && let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let lease = self.lease.clone();
            runtime.spawn(async move { lease.close().await });
        }
    }
}

impl std::fmt::Debug for Ticket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ticket")
            .field("lease", &self.lease.id)
            .finish()
    }
}
