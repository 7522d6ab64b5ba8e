//! Each step's failure policy, driven through real faults in the sandbox, on both
//! backends: an enriching step degrades and the workflow goes on; an essential one
//! dead-letters with a readable reason; a transient failure retries on a schedule
//! and succeeds once the provider recovers; bad input is skipped with a reason.

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::Method;
use sales_agent::sandbox::faults::FaultSpec;

use crate::helpers::{ADMIN_TOKEN, Stack, TestDb, json, spawn_stack_with};
use crate::on_both_backends;

on_both_backends!(
    a_calendar_failure_degrades_the_slots_step_and_the_reply_still_goes_out,
    a_hubspot_rejection_dead_letters_the_workflow_with_its_reason,
    a_gmail_outage_is_retried_until_it_recovers_with_one_draft,
    an_invalid_address_is_skipped_with_a_reason,
);

const DANIEL: &str = "daniel.brooks@summitcare-clinics.com";

fn failing(endpoint: &str, status: u16) -> BTreeMap<String, FaultSpec> {
    BTreeMap::from([(
        endpoint.to_string(),
        FaultSpec {
            error_rate: 1.0,
            error_status: Some(status),
            ..FaultSpec::default()
        },
    )])
}

/// A stack whose connectors try once, so each fault reaches the step at once.
async fn stack(db: &TestDb, faults: BTreeMap<String, FaultSpec>) -> Stack {
    spawn_stack_with(
        db,
        |mut config| {
            config.connectors.max_attempts = 1;
            config.engine.max_attempts = 20;
            config
        },
        faults,
    )
    .await
}

async fn run(stack: &Stack, body: &str) -> (String, serde_json::Value) {
    let response = stack.app.post_signed(body).await;
    assert_eq!(response.status(), 202);
    let id = json(response).await["workflow_id"]
        .as_str()
        .unwrap()
        .to_string();
    stack
        .wait_finished(std::slice::from_ref(&id), Duration::from_secs(30))
        .await;
    let detail = json(
        stack
            .app
            .api(
                Method::GET,
                &format!("/api/workflows/{id}"),
                Some(ADMIN_TOKEN),
            )
            .send()
            .await
            .unwrap(),
    )
    .await;
    (id, detail)
}

fn step<'a>(detail: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    detail["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == name)
        .unwrap_or(&serde_json::Value::Null)
}

async fn a_calendar_failure_degrades_the_slots_step_and_the_reply_still_goes_out(db: TestDb) {
    let stack = stack(&db, failing("calendar.freebusy", 500)).await;
    let (_, detail) = run(&stack, &stack.sample(DANIEL)).await;
    assert_eq!(detail["workflow"]["status"], "completed");
    assert_eq!(step(&detail, "propose_slots")["outcome"], "degraded");
    let error = step(&detail, "propose_slots")["error"]
        .as_str()
        .unwrap_or_default();
    assert!(
        error.contains("Backend Error"),
        "the calendar failure is recorded: {error}"
    );
    assert_eq!(
        step(&detail, "deliver")["outcome"],
        "ok",
        "a reply without slots"
    );
    stack.stop().await;
}

async fn a_hubspot_rejection_dead_letters_the_workflow_with_its_reason(db: TestDb) {
    let stack = stack(&db, failing("hubspot.contacts.upsert", 400)).await;
    let (_, detail) = run(&stack, &stack.sample(DANIEL)).await;
    assert_eq!(detail["workflow"]["status"], "dead_lettered");
    let reason = detail["workflow"]["last_error"].as_str().unwrap();
    assert!(
        reason.starts_with("resolve_contact: ") && reason.contains("400"),
        "{reason}"
    );
    assert_eq!(step(&detail, "resolve_contact")["outcome"], "failed");
    assert!(
        step(&detail, "compose").is_null(),
        "nothing after the failed step ran"
    );
    stack.stop().await;
}

async fn a_gmail_outage_is_retried_until_it_recovers_with_one_draft(db: TestDb) {
    let stack = stack(&db, failing("gmail.drafts.create", 503)).await;
    let response = stack.app.post_signed(&stack.sample(DANIEL)).await;
    let id = json(response).await["workflow_id"]
        .as_str()
        .unwrap()
        .to_string();
    // Wait until the outage has made the workflow retry at least once.
    let store = stack.app.app.state.store.clone();
    let started = std::time::Instant::now();
    loop {
        let lookup = id.clone();
        let row = store
            .run(move |c| sales_agent::store::workflows::find_by_id(c, &lookup))
            .await
            .unwrap()
            .unwrap();
        if row.attempts >= 1 {
            assert!(row.last_error.unwrap_or_default().starts_with("deliver: "));
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the workflow never retried"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stack.sandbox.set_faults(None, BTreeMap::new());

    assert_eq!(
        stack
            .wait_finished(std::slice::from_ref(&id), Duration::from_secs(30))
            .await,
        ["completed"]
    );
    let drafts: usize = ["maya.chen@northwind-analytics.com"]
        .iter()
        .map(|m| {
            stack
                .sandbox
                .drafts(m)
                .iter()
                .filter(|(_, d)| d.to.iter().any(|t| t.contains(DANIEL)))
                .count()
        })
        .sum();
    assert_eq!(drafts, 1, "one draft after the outage");
    stack.stop().await;
}

async fn an_invalid_address_is_skipped_with_a_reason(db: TestDb) {
    let stack = stack(&db, BTreeMap::new()).await;
    let body = serde_json::json!({"conversionId": "bad-address", "values": [{"name": "email", "value": "not-an-address"}]}).to_string();
    let (_, detail) = run(&stack, &body).await;
    assert_eq!(detail["workflow"]["status"], "skipped");
    assert_eq!(
        detail["workflow"]["last_error"],
        "email address is not valid"
    );
    assert_eq!(step(&detail, "validate")["outcome"], "skipped");
    stack.stop().await;
}
