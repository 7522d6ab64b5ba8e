//! The audit trail holds every side effect and admin action with what, who, when,
//! why and which workflow, and reads back through `GET /api/audit`.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{ADMIN_TOKEN, Stack, TestDb, json, spawn_stack};

const LAURA: &str = "laura.martinez@brightpath-health.com";

async fn admin(stack: &Stack, method: Method, path: &str, body: Value) -> reqwest::Response {
    stack
        .app
        .api(method, path, Some(ADMIN_TOKEN))
        .header("X-Actor", "maria")
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn every_side_effect_and_admin_action_is_audited(db: TestDb) {
    let stack = spawn_stack(&db).await;
    let started = chrono::Utc::now() - chrono::Duration::seconds(5);
    let response = stack.app.post_signed(&stack.sample(LAURA)).await;
    let id = json(response).await["workflow_id"]
        .as_str()
        .unwrap()
        .to_string();
    let statuses = stack
        .wait_finished(std::slice::from_ref(&id), Duration::from_secs(60))
        .await;
    assert_eq!(statuses, vec!["completed"]);

    let approved = admin(
        &stack,
        Method::POST,
        &format!("/api/workflows/{id}/approve"),
        json!({"reason": "reviewed the draft"}),
    )
    .await;
    assert_eq!(approved.status(), 200);
    let mode = admin(
        &stack,
        Method::PUT,
        "/api/mode",
        json!({"draft_only": false, "reason": "pilot approved"}),
    )
    .await;
    assert_eq!(mode.status(), 200);
    let added = admin(
        &stack,
        Method::POST,
        "/api/suppressions",
        json!({"email": "no@acme.example", "reason": "asked by phone"}),
    )
    .await;
    assert!(added.status().is_success());
    let removed = admin(
        &stack,
        Method::DELETE,
        "/api/suppressions/no@acme.example?reason=mistake",
        json!({}),
    )
    .await;
    assert!(removed.status().is_success());

    let trail = json(
        stack
            .app
            .api(Method::GET, "/api/audit?limit=100", Some(ADMIN_TOKEN))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let entries = trail["entries"].as_array().unwrap();
    let find = |action: &str| -> &Value {
        entries
            .iter()
            .find(|e| e["action"] == action)
            .unwrap_or_else(|| panic!("no {action} in {trail}"))
    };
    for (action, actor, on_workflow) in [
        ("webhook.accepted", None, true),
        ("hubspot.contact_upserted", Some("engine"), true),
        ("hubspot.company_associated", Some("engine"), true),
        ("gmail.draft_created", Some("engine"), true),
        ("hubspot.note_created", Some("engine"), true),
        ("hubspot.task_created", Some("engine"), true),
        ("email.sent", Some("admin:maria"), true),
        ("workflow.approved", Some("admin:maria"), true),
        ("mode.set", Some("admin:maria"), false),
        ("suppression.added", Some("admin:maria"), false),
        ("suppression.removed", Some("admin:maria"), false),
    ] {
        let entry = find(action);
        if let Some(actor) = actor {
            assert_eq!(entry["actor"], actor, "{entry}");
        }
        assert!(
            entry["actor"].as_str().is_some_and(|a| !a.is_empty()),
            "{entry}"
        );
        if on_workflow {
            assert_eq!(entry["workflow_id"], id.as_str(), "{entry}");
        }
        let at: chrono::DateTime<chrono::Utc> = entry["at"].as_str().unwrap().parse().unwrap();
        assert!(at >= started && at <= chrono::Utc::now(), "{entry}");
        if action != "webhook.accepted" {
            assert!(
                entry["reason"].as_str().is_some_and(|r| !r.is_empty()),
                "why: {entry}"
            );
        }
    }
    assert_eq!(find("workflow.approved")["reason"], "reviewed the draft");
    assert_eq!(find("suppression.removed")["reason"], "mistake");
    // Each side effect once, although several steps and checks ran.
    for action in [
        "gmail.draft_created",
        "hubspot.note_created",
        "hubspot.task_created",
        "email.sent",
    ] {
        let n = entries.iter().filter(|e| e["action"] == action).count();
        assert_eq!(n, 1, "{action} ×{n}");
    }
    stack.stop().await;
}

crate::on_both_backends!(every_side_effect_and_admin_action_is_audited);
