//! The LLM composer over the sandbox model: when the model answers well its
//! opening is used inside the template's frame; when it errs, times out or
//! answers broken JSON, every workflow still gets a guarded template draft and
//! the compose step records why.

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::Method;
use sales_agent::config::ComposerMode;
use sales_agent::sandbox::faults::FaultSpec;
use serde_json::Value;

use crate::helpers::{ADMIN_TOKEN, Stack, TestDb, json, spawn_stack_with};
use crate::on_both_backends;

on_both_backends!(
    the_model_writes_the_opening_when_it_answers_well,
    a_model_draft_that_breaks_the_reps_voice_falls_back_to_the_template,
);

/// The fixture's prospects who get a reply (the spam sample is skipped).
const PROSPECTS: &[&str] = &[
    "laura.martinez@brightpath-health.com",
    "daniel.brooks@summitcare-clinics.com",
    "anna.schmid@rheinwerk-maschinenbau.de",
    "kenji.watanabe@pacificroute.co.jp",
    "meera.iyer@lumen-saas.io",
];

async fn llm_stack(db: &TestDb, fault: Option<FaultSpec>) -> Stack {
    let faults: BTreeMap<String, FaultSpec> = fault
        .map(|f| BTreeMap::from([("llm.chat.completions".to_string(), f)]))
        .unwrap_or_default();
    spawn_stack_with(
        db,
        |mut config| {
            config.engine.composer = ComposerMode::Llm;
            config.connectors.llm_timeout = Duration::from_secs(1);
            config.connectors.max_attempts = 2;
            config
        },
        faults,
    )
    .await
}

/// Submits every prospect's sample and returns each workflow's compose and
/// deliver outputs once all are finished.
async fn compose_outputs(stack: &Stack) -> Vec<(Value, Value)> {
    let mut ids = Vec::new();
    for email in PROSPECTS {
        let response = stack.app.post_signed(&stack.sample(email)).await;
        assert_eq!(response.status(), 202);
        ids.push(
            json(response).await["workflow_id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let statuses = stack.wait_finished(&ids, Duration::from_secs(90)).await;
    assert!(statuses.iter().all(|s| s == "completed"), "{statuses:?}");
    let mut out = Vec::new();
    for id in &ids {
        let mut steps = stack.step_outputs(id).await;
        let mut step = |name: &str| {
            steps
                .remove(name)
                .unwrap_or_else(|| panic!("no {name} step"))
        };
        out.push((step("compose"), step("deliver")));
    }
    out
}

async fn the_model_writes_the_opening_when_it_answers_well(db: TestDb) {
    let stack = llm_stack(&db, None).await;
    for (compose, deliver) in compose_outputs(&stack).await {
        assert_eq!(compose["composer"], "llm", "{compose}");
        assert_eq!(compose["violations"], serde_json::json!([]), "{compose}");
        let body = compose["body"].as_str().unwrap();
        assert!(
            [
                "Thanks for reaching out",
                "Great to hear from you",
                "Thank you for your note",
                "Appreciate you getting in touch"
            ]
            .iter()
            .any(|opener| body.contains(opener)),
            "the model's opening is in the draft: {body}"
        );
        assert!(
            body.starts_with("Hi "),
            "the greeting stays the code's: {body}"
        );
        assert!(compose.get("fallback").is_none(), "{compose}");
        assert!(deliver["draft_id"].is_string(), "{deliver}");
    }
    stack.stop().await;
}

/// `sales_agent_composer_fallbacks_total{reason=…}` as `/metrics` serves it.
pub(crate) async fn fallbacks_counted(stack: &Stack, kind: &str) -> f64 {
    let text = stack
        .app
        .client
        .get(format!("{}/metrics", stack.app.address))
        .send()
        .await
        .expect("metrics answer")
        .text()
        .await
        .expect("metrics body");
    let series = format!("sales_agent_composer_fallbacks_total{{reason=\"{kind}\"}} ");
    text.lines()
        .find_map(|line| line.strip_prefix(&series))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {series} in /metrics"))
}

/// One fault, every workflow: a clean template draft, the reason recorded and
/// counted under its kind.
async fn falls_back_on(fault: FaultSpec, reason: &str, kind: &str) {
    let db = TestDb::sqlite();
    let stack = llm_stack(&db, Some(fault)).await;
    assert_eq!(fallbacks_counted(&stack, kind).await, 0.0);
    let outputs = compose_outputs(&stack).await;
    assert_eq!(
        fallbacks_counted(&stack, kind).await,
        outputs.len() as f64,
        "one {kind} fallback per workflow"
    );
    for (compose, deliver) in outputs {
        assert_eq!(compose["composer"], "template", "{compose}");
        assert!(
            compose["fallback"]
                .as_str()
                .is_some_and(|f| f.starts_with(reason)),
            "expected {reason}: {compose}"
        );
        assert_eq!(compose["violations"], serde_json::json!([]), "{compose}");
        assert!(deliver["draft_id"].is_string(), "{deliver}");
    }
    stack.stop().await;
}

#[actix_web::test]
async fn a_model_that_errs_falls_back_to_the_template() {
    falls_back_on(
        FaultSpec {
            error_rate: 1.0,
            error_status: Some(500),
            ..FaultSpec::default()
        },
        "llm call failed",
        "call_failed",
    )
    .await;
}

#[actix_web::test]
async fn a_model_that_times_out_falls_back_to_the_template() {
    falls_back_on(
        FaultSpec {
            timeout_rate: 1.0,
            timeout_ms: Some(2_500),
            ..FaultSpec::default()
        },
        "llm call failed",
        "call_failed",
    )
    .await;
}

#[actix_web::test]
async fn a_model_that_answers_broken_json_falls_back_to_the_template() {
    falls_back_on(
        FaultSpec {
            malformed_rate: 1.0,
            ..FaultSpec::default()
        },
        "llm output invalid",
        "invalid_output",
    )
    .await;
}

async fn a_model_draft_that_breaks_the_reps_voice_falls_back_to_the_template(db: TestDb) {
    let stack = llm_stack(&db, None).await;
    // Words each of the sandbox model's offers uses, and the template never does.
    for rep in ["maya-chen", "jonas-weber", "priya-raman"] {
        let response = stack
            .app
            .api(
                Method::PUT,
                &format!("/api/voice-profiles/{rep}"),
                Some(ADMIN_TOKEN),
            )
            .json(&serde_json::json!({
                "profile": {"prohibited_words": ["resources", "quickest", "similar"]},
                "reason": "house style"
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    let outputs = compose_outputs(&stack).await;
    assert_eq!(
        fallbacks_counted(&stack, "guardrails").await,
        outputs.len() as f64
    );
    for (compose, deliver) in outputs {
        assert_eq!(compose["composer"], "template", "{compose}");
        let reason = compose["fallback"].as_str().unwrap_or_default();
        assert!(
            reason.starts_with("llm draft broke guardrails") && reason.contains("prohibited_word"),
            "{compose}"
        );
        assert_eq!(compose["violations"], serde_json::json!([]), "{compose}");
        assert!(deliver["draft_id"].is_string(), "{deliver}");
    }
    stack.stop().await;
}
