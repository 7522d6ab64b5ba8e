//! The shared budget's bound (`connectors::shared`), on PostgreSQL with a
//! connection pool per "process": active leases never sum past the quota; at most
//! one lease per process and key is held unspent, and it comes back when the
//! lease closes; a dead process's lease comes back when it expires; in-flight
//! slots are one semaphore for the fleet.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use sales_agent::connectors::limiter::quota;
use sales_agent::connectors::shared::{SharedBudget, SharedSettings};
use sales_agent::store::Store;
use sales_agent::store::quota_leases::{self, Granted, Taken};

use crate::helpers::TestDb;

const LIMIT: i64 = 20;

/// Four takers race for 1.5 s, taking, spending part of and closing leases; no
/// instant sees the active leases (as finally counted) sum past the limit, and
/// the limit is reached.
#[actix_web::test]
async fn active_leases_never_sum_past_the_quota() {
    let db = TestDb::postgres();
    db.migrated_store().await;
    let takers = (0..4).map(|n| {
        let store = db.store();
        tokio::spawn(async move { race(store, n).await })
    });
    let rows: Vec<Granted> = futures_util::future::join_all(takers)
        .await
        .into_iter()
        .flat_map(|r| r.unwrap())
        .collect();
    assert!(rows.len() > 50, "only {} leases taken", rows.len());
    let mut peak = 0;
    for row in &rows {
        let at = row.granted_at;
        let active: i64 = rows
            .iter()
            .filter(|r| r.granted_at <= at && r.expires_at > at)
            .map(|r| r.units)
            .sum();
        assert!(active <= LIMIT, "{active} units active at {at}");
        peak = peak.max(active);
    }
    assert_eq!(peak, LIMIT, "the takers filled the quota at some point");
}

async fn race(store: Store, n: u64) -> Vec<Granted> {
    let mut rng = fastrand::Rng::with_seed(n);
    let started = Instant::now();
    let mut rows = Vec::new();
    while started.elapsed() < Duration::from_millis(1_500) {
        let (want, hold) = (rng.i64(1..6), Duration::from_millis(rng.u64(50..300)));
        let owner = format!("taker-{n}");
        let taken = store
            .run(move |c| quota_leases::take(c, "race", &owner, want, 1, LIMIT, hold))
            .await
            .unwrap();
        let Taken::Granted(granted) = taken else {
            tokio::time::sleep(Duration::from_millis(5)).await;
            continue;
        };
        tokio::time::sleep(Duration::from_millis(rng.u64(0..30))).await;
        let (id, spent) = (granted.id, rng.i64(1..=granted.units));
        let tail = Duration::from_millis(rng.u64(1..200));
        let closed = store
            .run(move |c| quota_leases::close(c, id, spent, tail))
            .await
            .unwrap();
        // A lease that expired before its close is gone; it counted as granted.
        rows.push(closed.unwrap_or(granted));
    }
    rows
}

/// Three processes each make one call: each holds one lease of L = 5% of the
/// quota, so 3 × L units are taken; when the leases close (within the spend
/// period, a tenth of the window) only the 3 spent units stay counted, until a
/// window and its guard after their answers.
#[actix_web::test]
async fn unspent_units_are_at_most_one_lease_per_process_and_come_back_when_it_closes() {
    let db = TestDb::postgres();
    let store = db.migrated_store().await;
    let q = quota(100, Duration::from_secs(1));
    let budgets: Vec<_> = (0..3)
        .map(|n| SharedBudget::new(db.store(), format!("p{n}"), SharedSettings::default()))
        .collect();
    let mut tickets = Vec::new();
    for budget in &budgets {
        tickets.push(budget.take("hubspot:main:", q, 1).await.unwrap());
    }
    assert_eq!(active(&store, "hubspot:main:").await, 15, "3 leases of 5");
    drop(tickets);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        active(&store, "hubspot:main:").await,
        3,
        "only what was spent"
    );
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    assert_eq!(
        active(&store, "hubspot:main:").await,
        0,
        "a window after the answers"
    );
}

/// A process dies holding a lease with a call in flight (its runtime is gone:
/// no close, no extension). Its units come back when the lease expires: the
/// spend period, the slack, the window and the guard after its grant.
#[actix_web::test]
async fn a_dead_process_lease_comes_back_at_its_expiry() {
    let db = TestDb::postgres();
    let store = db.migrated_store().await;
    let q = quota(100, Duration::from_secs(1));
    let settings = SharedSettings {
        lease_fraction: 1.0,
        slack: Duration::from_millis(500),
    };
    let dying = db.store();
    let granted_at = Instant::now();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let budget = SharedBudget::new(dying, "dies", settings);
            std::mem::forget(budget.take("k", q, 1).await.unwrap());
        });
        // Dropping the runtime ends its tasks: nothing closes or extends the lease.
    })
    .join()
    .unwrap();
    assert_eq!(active(&store, "k").await, 100);
    let survivor = SharedBudget::new(db.store(), "lives", settings);
    let _all = survivor.take("k", q, 100).await.unwrap();
    let back = granted_at.elapsed();
    // P 0.1 s + S 0.5 s + W 1 s + G 0.01 s = 1.61 s.
    assert!(
        back >= Duration::from_millis(1_550),
        "came back too early: {back:?}"
    );
    assert!(
        back < Duration::from_millis(2_500),
        "came back late: {back:?}"
    );
}

/// Nine calls over three processes share two in-flight slots of one mailbox.
#[actix_web::test]
async fn in_flight_slots_are_one_semaphore_for_the_fleet() {
    let db = TestDb::postgres();
    db.migrated_store().await;
    let budgets: Vec<_> = (0..3)
        .map(|n| SharedBudget::new(db.store(), format!("p{n}"), SharedSettings::default()))
        .collect();
    let (now, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let calls = (0..9).map(|i| {
        let (budget, now, peak) = (budgets[i % 3].clone(), now.clone(), peak.clone());
        async move {
            let slot = budget.slot("gmail:in_flight:rep@x.com", 2).await.unwrap();
            let running = now.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(running, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(60)).await;
            now.fetch_sub(1, Ordering::SeqCst);
            drop(slot);
        }
    });
    futures_util::future::join_all(calls).await;
    assert_eq!(peak.load(Ordering::SeqCst), 2);
}

async fn active(store: &Store, key: &'static str) -> i64 {
    store
        .run(move |c| quota_leases::active_units(c, key))
        .await
        .unwrap()
}
