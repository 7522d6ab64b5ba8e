//! A draft that breaks the rep's voice is held for review even in send mode, and
//! the admin's approve-and-send refuses it: nothing reaches the prospect.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{ADMIN_TOKEN, TestDb, json, spawn_stack};
use crate::on_both_backends;

on_both_backends!(a_draft_that_breaks_a_guardrail_is_held_and_never_sent,);

const MAYA: &str = "maya.chen@northwind-analytics.com";
const LAURA: &str = "laura.martinez@brightpath-health.com";

async fn a_draft_that_breaks_a_guardrail_is_held_and_never_sent(db: TestDb) {
    let stack = spawn_stack(&db).await;
    let admin = |method: Method, path: &str| stack.app.api(method, path, Some(ADMIN_TOKEN));
    // Every greeting ends in a comma, so every draft for Maya breaks her voice.
    let response = admin(Method::PUT, "/api/voice-profiles/maya-chen")
        .json(&json!({"profile": {"prohibited_punctuation": [","]}, "reason": "no commas"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let response = admin(Method::PUT, "/api/mode")
        .json(&json!({"draft_only": false, "reason": "send mode"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    let response = stack.app.post_signed(&stack.sample(LAURA)).await;
    let id = json(response).await["workflow_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        stack
            .wait_finished(std::slice::from_ref(&id), Duration::from_secs(30))
            .await,
        ["completed"]
    );
    let steps = stack.step_outputs(&id).await;
    let violations = steps["compose"]["violations"].as_array().unwrap();
    assert!(
        violations
            .iter()
            .any(|v| v.as_str().unwrap().contains("prohibited_punctuation")),
        "{violations:?}"
    );
    let held = steps["deliver"]["held"].as_str().unwrap_or_default();
    assert!(held.starts_with("held for review"), "{held}");
    assert!(steps["deliver"]["sent_message_id"].is_null());

    let approve = admin(Method::POST, &format!("/api/workflows/{id}/approve"))
        .json(&json!({"reason": "looks fine to me"}))
        .send()
        .await
        .unwrap();
    assert_eq!(approve.status(), StatusCode::CONFLICT);
    // The fixture's earlier reply to Laura is in Sent; ours must not be.
    let ours = steps["deliver"]["message_id"]
        .as_str()
        .unwrap()
        .trim_matches(['<', '>'])
        .to_string();
    let is_ours = |m: &sales_agent::sandbox::mime::Message| {
        m.message_id.as_deref().map(|i| i.trim_matches(['<', '>'])) == Some(ours.as_str())
    };
    assert!(
        !stack.sandbox.sent(MAYA).iter().any(is_ours),
        "nothing sent to the prospect"
    );
    assert!(
        stack.sandbox.drafts(MAYA).iter().any(|(_, m)| is_ours(m)),
        "the draft waits in Gmail for the rep"
    );
    stack.stop().await;
}
