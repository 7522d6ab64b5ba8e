//! A grant that dies, and heals, on both backends over real HTTP: the sandbox
//! revokes a rep's refresh token; that rep's next lead waits in a visible
//! `waiting` state (its reason names the rep), the account shows as needing
//! reconnection in `/readyz`, `/api/accounts` and the console, and its gauge
//! reads 0; an operator stores a new grant (minted in the sandbox) through
//! `PUT /api/accounts/google/{email}`, and the lead completes by itself within a
//! minute with exactly one draft. A grant that lacks a scope the steps need
//! is caught the same way (403 insufficient scope → `scope_removed`).

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use sales_agent::config::Config;
use sales_agent::sandbox::state::Grant;
use secrecy::SecretString;
use serde_json::json;

use crate::helpers::{
    ADMIN_TOKEN, Stack, TestDb, VIEWER_TOKEN, account_gauge, json, spawn_stack_with,
};
use crate::on_both_backends;

on_both_backends!(
    a_revoked_grant_makes_the_reps_lead_wait_visibly_and_reconnecting_resumes_it,
    a_grant_missing_a_needed_scope_needs_reconnecting
);

const KEY: &str = "5b1f0c4e9a7d2b8e3f6a1c0d9e8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b";
const MAYA: &str = "maya.chen@northwind-analytics.com";
/// Laura's contact is owned by Maya in the fixture's HubSpot: her leads go to Maya.
const LAURA: &str = "laura.martinez@brightpath-health.com";

fn with_key(mut config: Config) -> Config {
    config.secret_keys.key = Some(SecretString::from(KEY));
    config
}

/// Replaces Maya's grant in the sandbox: the fixture's token revoked, a new one
/// granted with `scope` (what a fresh consent would give); returns the new token.
fn regrant(stack: &Stack, scope: &str) -> String {
    let mut world = stack.sandbox.sandbox().lock_world();
    let token = format!("1//0sandbox-reconnected-{}", uuid::Uuid::new_v4().simple());
    world.google.grants.insert(
        token.clone(),
        Grant {
            email: MAYA.into(),
            scope: scope.into(),
            revoked: false,
        },
    );
    token
}

fn fixture_token(stack: &Stack) -> String {
    stack
        .fixture
        .google
        .refresh_tokens
        .iter()
        .find(|t| t.email == MAYA && !t.revoked)
        .expect("the fixture grants Maya's mailbox")
        .token
        .clone()
}

async fn post_lead(stack: &Stack) -> String {
    let response = stack.app.post_signed(&stack.sample(LAURA)).await;
    assert_eq!(response.status(), 202);
    json(response).await["workflow_id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn workflow(stack: &Stack, id: &str) -> serde_json::Value {
    let path = format!("/api/workflows/{id}");
    json(
        stack
            .app
            .api(Method::GET, &path, Some(VIEWER_TOKEN))
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn wait_status(stack: &Stack, id: &str, wanted: &str, within: Duration) -> serde_json::Value {
    let began = Instant::now();
    loop {
        let detail = workflow(stack, id).await;
        let status = detail["workflow"]["status"]
            .as_str()
            .or(detail["status"].as_str())
            .unwrap_or("")
            .to_string();
        if status == wanted {
            return detail;
        }
        assert!(
            began.elapsed() < within,
            "{id} is {status}, not {wanted}, after {within:?}: {detail}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn readyz_reconnect(stack: &Stack) -> serde_json::Value {
    let response = stack
        .app
        .client
        .get(format!("{}/readyz", stack.app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "a dead grant leaves the service ready"
    );
    json(response).await["accounts"]["reconnect_needed"].clone()
}

fn drafts_to(stack: &Stack, prospect: &str) -> usize {
    let world = stack.sandbox.sandbox().lock_world();
    let mailbox = &world.mailboxes[MAYA];
    mailbox
        .drafts
        .values()
        .filter(|m| mailbox.messages[*m].to.iter().any(|t| t.contains(prospect)))
        .count()
}

async fn a_revoked_grant_makes_the_reps_lead_wait_visibly_and_reconnecting_resumes_it(db: TestDb) {
    let stack = spawn_stack_with(&db, with_key, Default::default()).await;
    assert_eq!(
        account_gauge(&stack.app, MAYA).await,
        Some(1),
        "a configured grant reads connected"
    );
    assert!(stack.sandbox.revoke_refresh_token(&fixture_token(&stack)));

    let id = post_lead(&stack).await;
    let detail = wait_status(&stack, &id, "waiting", Duration::from_secs(30)).await;
    let reason = detail["workflow"].to_string();
    assert!(
        reason.contains("waiting for Maya Chen's Google account to be reconnected"),
        "{reason}"
    );
    assert!(
        !reason.contains(MAYA),
        "stored reasons name the rep, never the address: {reason}"
    );
    let listed = json(
        stack
            .app
            .api(
                Method::GET,
                "/api/workflows?status=waiting",
                Some(VIEWER_TOKEN),
            )
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(
        listed.to_string().contains(&id),
        "the waiting filter lists it: {listed}"
    );
    assert_eq!(account_gauge(&stack.app, MAYA).await, Some(0));
    let reconnect = readyz_reconnect(&stack).await;
    assert_eq!(reconnect[0]["account"], MAYA, "{reconnect}");
    assert_eq!(reconnect[0]["reason"], "invalid_grant");
    // Nothing is retried meanwhile: the lead stays waiting, it is not deferred.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(workflow(&stack, &id).await["workflow"]["status"], "waiting");
    assert_eq!(drafts_to(&stack, LAURA), 0);

    // Reconnection is an admin's, and needs the grant itself.
    let path = format!("/api/accounts/google/{MAYA}");
    let refused = stack
        .app
        .api(Method::PUT, &path, Some(VIEWER_TOKEN))
        .json(&json!({"refresh_token": "x", "reason": "r"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let empty = stack
        .app
        .api(Method::PUT, &path, Some(ADMIN_TOKEN))
        .json(&json!({"refresh_token": "", "reason": "r"}))
        .send()
        .await
        .unwrap();
    assert_eq!(empty.status(), StatusCode::BAD_REQUEST);

    let token = regrant(&stack, "");
    let reconnected_at = Instant::now();
    let answer = stack
        .app
        .api(Method::PUT, &path, Some(ADMIN_TOKEN))
        .json(&json!({"refresh_token": token, "reason": "Maya consented again"}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(json(answer).await["woken"], 1);
    wait_status(&stack, &id, "completed", Duration::from_secs(60)).await;
    let took = reconnected_at.elapsed();
    eprintln!("reconnect to completed: {took:?}");
    assert!(took < Duration::from_secs(60));
    assert_eq!(drafts_to(&stack, LAURA), 1, "exactly one draft");
    assert_eq!(account_gauge(&stack.app, MAYA).await, Some(1));
    assert_eq!(readyz_reconnect(&stack).await, json!([]));
    let store = stack.app.app.state.store.clone();
    let sealed = store.run(sales_agent::store::grants::list).await.unwrap();
    assert!(
        sealed.iter().all(|g| !g.sealed.contains(&token)),
        "the new grant is stored sealed"
    );
    stack.stop().await;
}

async fn a_grant_missing_a_needed_scope_needs_reconnecting(db: TestDb) {
    let stack = spawn_stack_with(&db, with_key, Default::default()).await;
    assert!(stack.sandbox.revoke_refresh_token(&fixture_token(&stack)));
    // A consent that dropped Gmail: the token refreshes, but drafting is refused.
    let narrow = regrant(&stack, "https://www.googleapis.com/auth/calendar.freebusy");
    let path = format!("/api/accounts/google/{MAYA}");
    let stored = stack
        .app
        .api(Method::PUT, &path, Some(ADMIN_TOKEN))
        .json(&json!({"refresh_token": narrow, "reason": "first consent"}))
        .send()
        .await
        .unwrap();
    assert_eq!(stored.status(), StatusCode::OK);
    let id = post_lead(&stack).await;
    wait_status(&stack, &id, "waiting", Duration::from_secs(30)).await;
    let accounts = json(
        stack
            .app
            .api(Method::GET, "/api/accounts", Some(VIEWER_TOKEN))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let maya = accounts["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["account"] == MAYA)
        .cloned()
        .unwrap();
    assert_eq!(
        (maya["connected"].clone(), maya["reason"].clone()),
        (json!(false), json!("scope_removed")),
        "{accounts}"
    );
    assert_eq!(account_gauge(&stack.app, MAYA).await, Some(0));
    assert_eq!(drafts_to(&stack, LAURA), 0);
    stack.stop().await;
}
