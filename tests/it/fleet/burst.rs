//! Three limiters, each with its own connection pool as three processes have,
//! share HubSpot's quota through one PostgreSQL database: a burst of 3 × 500 calls
//! draws no 429 from the sandbox's enforced window, and uses most of it. The
//! window is scaled from 10 s to 1 s on both sides (100 requests per second), as
//! in `quota.rs`; without the shared budget the same burst runs three times too
//! fast and is refused.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::Actor;
use futures_util::future::join_all;
use sales_agent::actors::connector::{Call, ConnectorActor, call};
use sales_agent::connectors::breaker::BreakerConfig;
use sales_agent::connectors::hubspot::{self, HubSpot, HubSpotClient, OWNERS_LIST};
use sales_agent::connectors::limiter::{Limiter, quota};
use sales_agent::connectors::policy::{CallPolicy, RetryPolicy};
use sales_agent::connectors::shared::{SharedBudget, SharedSettings};
use sales_agent::sandbox::fixture::Fixture;
use sales_agent::sandbox::{QuotaConfig, SandboxHandle, SandboxOptions, spawn};
use secrecy::SecretString;

use crate::helpers::TestDb;

const PROCESSES: usize = 3;
const CALLS: usize = 500;

#[actix_web::test]
async fn three_processes_bursting_500_hubspot_calls_each_draw_no_429() {
    let db = TestDb::postgres();
    db.migrated_store().await;
    let (sandbox, token) = sandbox();
    let mailboxes: Vec<_> = (0..PROCESSES)
        .map(|n| {
            let budget = SharedBudget::new(
                db.store(),
                format!("process-{n}"),
                SharedSettings::default(),
            );
            connector(&sandbox, &token, Some(budget))
        })
        .collect();

    let started = Instant::now();
    let calls = mailboxes.iter().flat_map(|mailbox| {
        (0..CALLS).map(move |_| {
            call(
                mailbox,
                Call::to(
                    &OWNERS_LIST,
                    hubspot::cost(&OWNERS_LIST),
                    |h: Arc<dyn HubSpot>| async move { h.list_owners().await },
                ),
            )
        })
    });
    let results = join_all(calls).await;
    let elapsed = started.elapsed();

    let failures: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(
        failures.is_empty(),
        "{} calls failed, e.g. {:?}",
        failures.len(),
        failures.first()
    );
    let (requests, refused) = hubspot_requests(&sandbox);
    assert_eq!(
        refused,
        0,
        "the fleet kept one quota: {:?}",
        sandbox.stats()
    );
    assert!(requests >= (PROCESSES * CALLS) as u64);
    // 1,500 calls at 100 per rolling second: the first 100 at once, then at most
    // 100 per second; the fleet should use most of that.
    let bound = (PROCESSES * CALLS - 100) as f64 / 100.0;
    let use_ratio = bound / elapsed.as_secs_f64();
    eprintln!("{PROCESSES} × {CALLS} calls in {elapsed:?}: {use_ratio:.3} of the quota");
    assert!(
        use_ratio <= 1.0,
        "faster than the quota allows: {elapsed:?}"
    );
    assert!(
        use_ratio >= 0.8,
        "the shared budget wasted the quota: {elapsed:?}"
    );
    sandbox.stop().await;
}

/// The same burst with each process keeping its quota to itself (the SQLite
/// limiter, or sharing turned off) is refused: the test above is not vacuous.
#[actix_web::test]
async fn without_the_shared_budget_the_same_burst_is_refused() {
    let (sandbox, token) = sandbox();
    let mailboxes: Vec<_> = (0..PROCESSES)
        .map(|_| connector(&sandbox, &token, None))
        .collect();
    let calls = mailboxes.iter().flat_map(|mailbox| {
        (0..100).map(move |_| {
            call(
                mailbox,
                Call::to(
                    &OWNERS_LIST,
                    hubspot::cost(&OWNERS_LIST),
                    |h: Arc<dyn HubSpot>| async move { h.list_owners().await },
                ),
            )
        })
    });
    join_all(calls).await;
    let (_, refused) = hubspot_requests(&sandbox);
    assert!(
        refused > 0,
        "three separate limiters should overrun one quota"
    );
    sandbox.stop().await;
}

fn sandbox() -> (SandboxHandle, String) {
    let fixture = Fixture::demo();
    let sandbox = spawn(SandboxOptions {
        fixture: Some(fixture.clone()),
        quotas: Some(QuotaConfig {
            hubspot_per_window: 100,
            hubspot_window_ms: 1_000,
            ..QuotaConfig::default()
        }),
        ..SandboxOptions::default()
    })
    .unwrap();
    (sandbox, fixture.hubspot.tokens[0].clone())
}

/// One "process": its own client, limiter (told the provider's quota) and actor.
fn connector(
    sandbox: &SandboxHandle,
    token: &str,
    budget: Option<Arc<SharedBudget>>,
) -> actix::Recipient<sales_agent::connectors::gateway::Job<dyn HubSpot>> {
    let client: Arc<dyn HubSpot> = Arc::new(HubSpotClient::new(
        reqwest::Client::new(),
        sandbox.base_url(),
        SecretString::from(token.to_string()),
    ));
    let mut limiter = Limiter::new(quota(100, Duration::from_secs(1)));
    if let Some(budget) = budget {
        limiter = limiter.shared(budget, "hubspot");
    }
    let policy = CallPolicy::new(
        "hubspot",
        RetryPolicy {
            // A connection error on a loaded machine is retried; a 429 counts anyway.
            max_attempts: 3,
            base: Duration::from_millis(100),
            max_backoff: Duration::from_secs(1),
            max_retry_after: Duration::from_secs(1),
        },
        limiter,
        BreakerConfig {
            failure_threshold: 100_000,
            cool_down: Duration::from_secs(1),
        },
        None,
    );
    ConnectorActor::new(client, policy).start().recipient()
}

/// (requests, 429s) the sandbox's HubSpot saw.
pub(super) fn hubspot_requests(sandbox: &SandboxHandle) -> (u64, u64) {
    sandbox
        .stats()
        .iter()
        .filter(|(name, _)| name.starts_with("hubspot"))
        .fold((0, 0), |(requests, refused), (_, s)| {
            (requests + s.requests, refused + s.sent_429s)
        })
}
