//! The same burst as `burst.rs`, made by real processes: three `sales-agent serve`
//! children on one PostgreSQL database answer a stream of submissions against the
//! sandbox's enforced HubSpot window (scaled from 100 per 10 s to 100 per 1 s,
//! searches alike, on both sides). Together they make well over 3 × 500 HubSpot
//! calls, each process a good share of them, and the sandbox refuses none: the
//! processes keep one budget through `quota_leases`, not three.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use sales_agent::sandbox::{QuotaConfig, SandboxHandle};

use super::burst::hubspot_requests;
use crate::crash::{
    Service, deliver_all, free_port, service_env, start_sandbox_with_quotas, wait_all_finished,
};
use crate::helpers::TestDb;

const PROCESSES: usize = 3;
/// HubSpot calls the fleet must make in all: 500 per process.
const CALLS: u64 = 1_500;
/// About six HubSpot calls per workflow: 300 submissions make well over 1,500.
const SUBMISSIONS: usize = 300;

/// Three services sharing (or, with a lease share of 0, not sharing) HubSpot's
/// quota of `per_second` requests (searches two fifths of that), the sandbox
/// enforcing it, and their folder.
fn fleet(
    db: &TestDb,
    lease_percent: &str,
    per_second: u32,
) -> (Vec<Service>, SandboxHandle, std::path::PathBuf) {
    let searches = per_second * 2 / 5;
    let quotas = QuotaConfig {
        enabled: true,
        hubspot_per_window: per_second,
        hubspot_window_ms: 1_000,
        hubspot_search_per_second: searches,
        hubspot_daily: u64::MAX / 4,
        gmail_units_per_window: u32::MAX / 4,
        gmail_sends_per_day: u32::MAX / 4,
        calendar_per_minute: u32::MAX / 4,
        ..QuotaConfig::default()
    };
    let (sandbox, fixture, dir) = start_sandbox_with_quotas(BTreeMap::new(), quotas);
    let mut env = service_env(&db.url(), &sandbox, &fixture, &dir.join("reps.json"));
    // The client is told the sandbox's quota, as a deployment is told HubSpot's.
    let (per_window, searches) = (per_second.to_string(), searches.to_string());
    for (name, value) in [
        ("SALES_AGENT_HUBSPOT_REQUESTS_PER_10S", per_window.as_str()),
        ("SALES_AGENT_HUBSPOT_WINDOW_MS", "1000"),
        ("SALES_AGENT_HUBSPOT_SEARCHES_PER_SEC", searches.as_str()),
        ("SALES_AGENT_CALENDAR_REQUESTS_PER_MIN", "100000000"),
        ("SALES_AGENT_DRIVE_REQUESTS_PER_MIN", "100000000"),
        ("SALES_AGENT_LLM_REQUESTS_PER_MIN", "100000000"),
        ("SALES_AGENT_QUOTA_LEASE_PERCENT", lease_percent),
    ] {
        env.insert(name.into(), value.into());
    }
    let services = (0..PROCESSES)
        .map(|_| Service::start(env.clone(), free_port()))
        .collect();
    (services, sandbox, dir)
}

#[actix_web::test]
async fn three_serve_processes_share_one_hubspot_window_and_draw_no_429() {
    let db = TestDb::postgres();
    let (services, sandbox, dir) = fleet(&db, "5", 100);
    let urls = services.iter().map(Service::url).collect();

    let ids: BTreeSet<String> = deliver_all(urls, SUBMISSIONS).await.into_iter().collect();
    assert_eq!(ids.len(), SUBMISSIONS, "one workflow per submission");
    let store = db.store();
    let finished = wait_all_finished(&store, SUBMISSIONS, Duration::from_secs(300)).await;
    let unfinished: Vec<_> = finished
        .iter()
        .filter(|(_, status, _)| status != "completed")
        .collect();
    assert!(
        unfinished.is_empty() && finished.len() == SUBMISSIONS,
        "every workflow completes under the quota: {} of {} not completed, e.g. {:?}",
        unfinished.len(),
        finished.len(),
        unfinished.first()
    );

    let (requests, refused) = hubspot_requests(&sandbox);
    assert_eq!(
        refused,
        0,
        "three processes kept one HubSpot budget ({requests} requests): {:?}",
        sandbox.stats()
    );
    assert!(
        requests >= CALLS,
        "the burst made {requests} HubSpot calls, fewer than {CALLS}"
    );
    // Each process drew from the one budget: none sat idle while others spent
    // it. A process counts its attempts; one that failed on the way (a
    // connection dropped under load, retried) never reached the sandbox, and
    // every answered one did.
    let client = reqwest::Client::new();
    let (mut answered, mut attempted) = (Vec::new(), 0);
    for service in &services {
        let calls = hubspot_calls_made(&client, service.port()).await;
        attempted += calls.values().sum::<u64>();
        answered.push(
            calls
                .iter()
                .filter(|(labels, _)| labels.contains("status=\"ok\""))
                .map(|(_, n)| n)
                .sum::<u64>(),
        );
    }
    eprintln!("{requests} HubSpot requests, answered per process {answered:?}, 0 refused");
    let ok: u64 = answered.iter().sum();
    assert!(
        ok <= requests && requests <= attempted,
        "the processes' counts ({ok} answered, {attempted} attempted) bracket the sandbox's {requests}"
    );
    for (n, calls) in answered.iter().enumerate() {
        assert!(
            *calls >= requests / (PROCESSES as u64 * 3),
            "process {n} made only {calls} of {requests} HubSpot calls"
        );
    }
    drop(services);
    sandbox.stop().await;
    std::fs::remove_dir_all(dir).unwrap();
}

/// HubSpot call attempts a service made, from its `/metrics`, by their labels
/// (operation and status).
async fn hubspot_calls_made(client: &reqwest::Client, port: u16) -> BTreeMap<String, u64> {
    let text = client
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut calls = BTreeMap::new();
    for line in text.lines() {
        let Some(labels) = line.strip_prefix("sales_agent_connector_calls_total{") else {
            continue;
        };
        let (labels, value) = labels.rsplit_once("} ").unwrap();
        if labels.contains("connector=\"hubspot\"") {
            *calls.entry(labels.to_string()).or_default() += value.parse::<f64>().unwrap() as u64;
        }
    }
    calls
}

/// The same processes with the shared budget turned off (a lease share of 0)
/// each keep HubSpot's whole quota to themselves and together draw 429s: the
/// test above is not vacuous. The window is smaller here (20 per second), so
/// that three processes outrun it even on a machine too busy to reach 100.
#[actix_web::test]
async fn without_the_shared_budget_three_serve_processes_draw_429s() {
    let db = TestDb::postgres();
    let (services, sandbox, dir) = fleet(&db, "0", 20);
    let urls = services.iter().map(Service::url).collect();
    deliver_all(urls, 60).await;
    let store = db.store();
    wait_all_finished(&store, 60, Duration::from_secs(120)).await;
    let (requests, refused) = hubspot_requests(&sandbox);
    assert!(
        refused > 0,
        "three processes with a quota each overran the one window ({requests} requests)"
    );
    drop(services);
    sandbox.stop().await;
    std::fs::remove_dir_all(dir).unwrap();
}
