//! The connector's limiter against the sandbox's enforcement of HubSpot's rolling
//! window: a burst of 500 calls through one connector actor receives no 429. The
//! window is scaled from 10 s to 1 s on both sides (100 requests per second)
//! so the burst takes seconds, not minutes; the mechanism is the same.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::Actor;
use futures_util::future::join_all;
use sales_agent::actors::connector::{Call, ConnectorActor, call};
use sales_agent::connectors::breaker::BreakerConfig;
use sales_agent::connectors::hubspot::{self, HubSpot, HubSpotClient, OWNERS_LIST};
use sales_agent::connectors::limiter::{Limiter, quota};
use sales_agent::connectors::policy::{CallPolicy, RetryPolicy};
use sales_agent::sandbox::fixture::Fixture;
use sales_agent::sandbox::{QuotaConfig, SandboxOptions, spawn};
use secrecy::SecretString;

#[actix_web::test]
async fn a_burst_of_500_calls_never_breaks_the_hubspot_quota() {
    let fixture = Fixture::demo();
    let quotas = QuotaConfig {
        hubspot_per_window: 100,
        hubspot_window_ms: 1_000,
        ..QuotaConfig::default()
    };
    let sandbox = spawn(SandboxOptions {
        fixture: Some(fixture.clone()),
        quotas: Some(quotas),
        ..SandboxOptions::default()
    })
    .unwrap();
    let client: Arc<dyn HubSpot> = Arc::new(HubSpotClient::new(
        reqwest::Client::new(),
        sandbox.base_url(),
        SecretString::from(fixture.hubspot.tokens[0].clone()),
    ));
    let policy = CallPolicy::new(
        "hubspot",
        RetryPolicy {
            max_attempts: 1,
            base: Duration::from_millis(100),
            max_backoff: Duration::from_secs(1),
            max_retry_after: Duration::from_secs(1),
        },
        Limiter::new(quota(100, Duration::from_secs(1))),
        BreakerConfig {
            failure_threshold: 1000,
            cool_down: Duration::from_secs(1),
        },
        None,
    );
    let actor = ConnectorActor::new(client, policy).start().recipient();

    let started = Instant::now();
    let calls = (0..500).map(|_| {
        call(
            &actor,
            Call::to(
                &OWNERS_LIST,
                hubspot::cost(&OWNERS_LIST),
                |h: Arc<dyn HubSpot>| async move { h.list_owners().await },
            ),
        )
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
    let stats = sandbox.stats();
    let sent_429s: u64 = stats.values().map(|s| s.sent_429s).sum();
    let requests: u64 = stats
        .iter()
        .filter(|(name, _)| name.starts_with("hubspot"))
        .map(|(_, s)| s.requests)
        .sum();
    assert_eq!(sent_429s, 0, "the limiter kept the quota: {stats:?}");
    assert_eq!(requests, 500);
    assert!(
        elapsed >= Duration::from_secs(3),
        "500 calls at 100/s cannot finish in {elapsed:?}"
    );
    sandbox.stop().await;
}
