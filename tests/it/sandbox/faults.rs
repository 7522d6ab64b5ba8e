//! Fault injection: seeded 5xx sequences, latency, auth failures, runtime 429
//! bursts, named limits, timeouts after the effect.

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::{Client, StatusCode};
use sales_agent::sandbox::{self, FaultSpec, SandboxHandle, SandboxOptions};
use serde_json::json;

use super::{MAYA, PAT, body, demo, gmail, google_token, raw, start};

fn error_faults(rate: f64) -> BTreeMap<String, FaultSpec> {
    BTreeMap::from([(
        "hubspot.owners.list".to_string(),
        FaultSpec {
            error_rate: rate,
            error_status: Some(502),
            ..FaultSpec::default()
        },
    )])
}

async fn owner_statuses(sb: &SandboxHandle, n: usize) -> Vec<u16> {
    let client = Client::new();
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(
            client
                .get(format!("{}/crm/v3/owners", sb.base_url()))
                .bearer_auth(PAT)
                .send()
                .await
                .expect("send")
                .status()
                .as_u16(),
        );
    }
    out
}

#[actix_web::test]
async fn a_5xx_fault_at_rate_one_always_fails_and_the_same_seed_replays_the_same_sequence() {
    let sb = start(SandboxOptions {
        seed: Some(11),
        faults: error_faults(1.0),
        ..SandboxOptions::default()
    });
    assert_eq!(owner_statuses(&sb, 5).await, vec![502; 5]);
    assert_eq!(sb.stats()["hubspot.owners.list"].injected_5xx, 5);

    sb.set_faults(Some(11), error_faults(0.5));
    let first = owner_statuses(&sb, 24).await;
    sb.set_faults(Some(11), error_faults(0.5));
    let again = owner_statuses(&sb, 24).await;
    assert_eq!(first, again);
    assert!(first.contains(&502) && first.contains(&200), "{first:?}");
    sb.stop().await;

    let other = start(SandboxOptions {
        seed: Some(11),
        faults: error_faults(0.5),
        ..SandboxOptions::default()
    });
    assert_eq!(
        owner_statuses(&other, 24).await,
        first,
        "a fresh sandbox with the same seed agrees"
    );
    other.stop().await;
}

#[actix_web::test]
async fn faults_set_at_runtime_inject_429_bursts_with_googles_retry_after_in_seconds() {
    let sb = demo();
    let client = Client::new();
    let token = google_token(&client, &sb).await;
    let control = json!({"faults": {"gmail.*": {"rateLimitBurst": 2, "retryAfter": 7}}});
    let response = client
        .post(format!("{}/_sandbox/faults", sb.base_url()))
        .json(&control)
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::OK);
    for _ in 0..2 {
        let response = client
            .get(gmail(&sb, "/threads"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("send");
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()["retry-after"], "7");
        assert_eq!(
            body(response).await.1["error"]["errors"][0]["reason"],
            "rateLimitExceeded"
        );
    }
    assert_eq!(
        client
            .get(gmail(&sb, "/threads"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("send")
            .status(),
        StatusCode::OK
    );
    let (_, stats) = body(
        client
            .get(format!("{}/_sandbox/stats", sb.base_url()))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(stats["endpoints"]["gmail.threads.list"]["injected429s"], 2);
    assert_eq!(stats["endpoints"]["gmail.threads.list"]["requests"], 3);
    sb.stop().await;
}

#[actix_web::test]
async fn a_timeout_after_the_effect_commits_the_send_but_the_client_sees_no_answer() {
    let faults = BTreeMap::from([(
        "gmail.messages.send".to_string(),
        FaultSpec {
            timeout_rate: 1.0,
            timeout_ms: Some(2_000),
            phase: sandbox::Phase::After,
            ..FaultSpec::default()
        },
    )]);
    let sb = start(SandboxOptions {
        faults,
        ..SandboxOptions::default()
    });
    let client = Client::new();
    let token = google_token(&client, &sb).await;
    let message = "From: maya.chen@northwind-analytics.com\nTo: kenji.watanabe@pacificroute.co.jp\nSubject: Demo\nMessage-ID: <t-1@x>\n\nHi\n";
    let result = client
        .post(gmail(&sb, "/messages/send"))
        .bearer_auth(&token)
        .timeout(Duration::from_millis(300))
        .json(&json!({"raw": raw(message)}))
        .send()
        .await;
    assert!(result.is_err_and(|e| e.is_timeout()));
    assert_eq!(
        sb.messages(MAYA, "SENT")
            .iter()
            .filter(|m| m.message_id.as_deref() == Some("<t-1@x>"))
            .count(),
        1
    );
    sb.stop().await;
}

#[actix_web::test]
async fn an_injected_429_can_name_the_daily_limit_for_hubspot_and_google() {
    let faults = BTreeMap::from([
        (
            "hubspot.notes.create".to_string(),
            FaultSpec {
                rate_limit_burst: 1,
                rate_limit_reason: Some("DAILY".into()),
                ..FaultSpec::default()
            },
        ),
        (
            "gmail.messages.send".to_string(),
            FaultSpec {
                rate_limit_burst: 1,
                rate_limit_reason: Some("dailyLimitExceeded".into()),
                retry_after: Some(3600),
                ..FaultSpec::default()
            },
        ),
    ]);
    let sb = start(SandboxOptions {
        faults,
        ..SandboxOptions::default()
    });
    let client = Client::new();
    let note = json!({"properties": {"hs_timestamp": "1764000000000"}});
    let (status, json) = body(
        client
            .post(format!("{}/crm/v3/objects/notes", sb.base_url()))
            .bearer_auth(PAT)
            .json(&note)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(json["policyName"], "DAILY");
    assert!(
        sb.crm_objects("notes").is_empty(),
        "a refused call changes nothing"
    );

    let token = google_token(&client, &sb).await;
    let message = "From: maya.chen@northwind-analytics.com\nTo: a@b.example\nSubject: s\n\nx\n";
    let response = client
        .post(gmail(&sb, "/messages/send"))
        .bearer_auth(&token)
        .json(&json!({"raw": raw(message)}))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(response.headers()["retry-after"], "3600");
    let (_, json) = body(response).await;
    assert_eq!(json["error"]["errors"][0]["reason"], "dailyLimitExceeded");
    assert_eq!(json["error"]["errors"][0]["domain"], "usageLimits");
    assert!(
        sb.messages(MAYA, "SENT")
            .iter()
            .all(|m| m.to != vec!["a@b.example"])
    );
    sb.stop().await;
}

#[actix_web::test]
async fn latency_delays_each_request_and_auth_failures_answer_401_in_the_providers_shape() {
    let faults = BTreeMap::from([
        (
            "hubspot.owners.list".to_string(),
            FaultSpec {
                latency_ms: 150,
                latency_range_ms: Some((0, 50)),
                ..FaultSpec::default()
            },
        ),
        (
            "gmail.*".to_string(),
            FaultSpec {
                auth_failure_rate: 1.0,
                ..FaultSpec::default()
            },
        ),
    ]);
    let sb = start(SandboxOptions {
        faults,
        ..SandboxOptions::default()
    });
    let client = Client::new();
    let began = std::time::Instant::now();
    let status = client
        .get(format!("{}/crm/v3/owners", sb.base_url()))
        .bearer_auth(PAT)
        .send()
        .await
        .expect("send")
        .status();
    let took = began.elapsed();
    assert_eq!(status, StatusCode::OK);
    assert!(took >= Duration::from_millis(150), "{took:?}");

    let token = google_token(&client, &sb).await;
    let (status, json) = body(
        client
            .get(gmail(&sb, "/threads"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(json["error"]["errors"][0]["reason"], "authError");
    assert_eq!(sb.stats()["gmail.threads.list"].injected_auth_failures, 1);
    sb.stop().await;
}

#[actix_web::test]
async fn a_dropped_connection_after_the_effect_leaves_the_note_created_and_the_client_without_an_answer()
 {
    let faults = BTreeMap::from([(
        "hubspot.notes.create".to_string(),
        FaultSpec {
            drop_rate: 1.0,
            phase: sandbox::Phase::After,
            ..FaultSpec::default()
        },
    )]);
    let sb = start(SandboxOptions {
        faults,
        ..SandboxOptions::default()
    });
    let client = Client::new();
    let note =
        json!({"properties": {"hs_timestamp": "1764000000000", "hs_note_body": "[sa:op=7]"}});
    let result = client
        .post(format!("{}/crm/v3/objects/notes", sb.base_url()))
        .bearer_auth(PAT)
        .json(&note)
        .send()
        .await;
    let answered = match result {
        Ok(response) => response.json::<serde_json::Value>().await.is_ok(),
        Err(_) => false,
    };
    assert!(!answered, "the client must not get a usable answer");
    assert_eq!(sb.crm_objects("notes").len(), 1, "the effect happened");
    let stats = &sb.stats()["hubspot.notes.create"];
    assert_eq!((stats.injected_drops, stats.requests), (1, 1));
    assert!(stats.statuses.is_empty(), "a drop has no status");
    sb.stop().await;
}

#[actix_web::test]
async fn reset_restores_the_fixture_and_clears_stats_but_keeps_the_fault_table() {
    let sb = start(SandboxOptions {
        seed: Some(5),
        faults: error_faults(0.5),
        ..SandboxOptions::default()
    });
    let client = Client::new();
    let first = owner_statuses(&sb, 12).await;
    let note = json!({"properties": {"hs_timestamp": "1764000000000"}});
    let (status, _) = body(
        client
            .post(format!("{}/crm/v3/objects/notes", sb.base_url()))
            .bearer_auth(PAT)
            .json(&note)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let response = client
        .post(format!("{}/_sandbox/reset", sb.base_url()))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(sb.crm_objects("notes").is_empty());
    assert!(sb.stats().is_empty());
    assert_eq!(
        owner_statuses(&sb, 12).await,
        first,
        "fault sequences restart from the seed"
    );
    sb.stop().await;
}
