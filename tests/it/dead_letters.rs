//! Dead letters grouped by normalised reason, on both backends: the admin API's
//! groups (count, first and last seen, a sample), the batch retry of exactly one
//! group (each lead audited), and the overview's retry button in a real Chromium.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use reqwest::Method;
use sales_agent::store::Store;
use sales_agent::store::schema::workflows;
use serde_json::{Value, json};

use crate::console::browser::Browser;
use crate::console::{audit_of, status_of};
use crate::helpers::{ADMIN_TOKEN, TestApp, TestDb, VIEWER_TOKEN, json, seed_workflows, spawn_app};
use crate::on_both_backends;

on_both_backends!(
    dead_letters_are_grouped_by_normalised_reason_and_a_group_is_retried_alone,
    the_overview_retries_one_group_from_its_button,
);

const HUBSPOT_503: &str = "HubSpot 503 after # attempts for wf #";

/// Dead letters as the engine leaves them, `hours_ago` each: three of one
/// failure for different leads, one 401, one without a reason.
async fn seed(store: &Store) -> (Vec<String>, Vec<String>, NaiveDateTime) {
    let ids = seed_workflows(store, 6).await;
    let now = sales_agent::store::now();
    let plan: Vec<(String, Option<&'static str>, i64, &'static str)> = vec![
        (
            ids[0].clone(),
            Some("HubSpot 503 after 5 attempts for wf 123"),
            30,
            "dead_lettered",
        ),
        (
            ids[1].clone(),
            Some("HubSpot 503 after 5 attempts for wf 456"),
            20,
            "dead_lettered",
        ),
        (
            ids[2].clone(),
            Some("HubSpot  503 after 7 attempts for wf 789"),
            10,
            "dead_lettered",
        ),
        (
            ids[3].clone(),
            Some("hubspot: 401 unauthorized"),
            5,
            "dead_lettered",
        ),
        (ids[4].clone(), None, 1, "dead_lettered"),
        // The same words on a lead that is not a dead letter: never in a group.
        (
            ids[5].clone(),
            Some("HubSpot 503 after 5 attempts for wf 999"),
            2,
            "completed",
        ),
    ];
    store
        .run(move |c| {
            for (id, reason, hours, status) in &plan {
                diesel::update(workflows::table.find(id))
                    .set((
                        workflows::status.eq(*status),
                        workflows::last_error.eq(*reason),
                        workflows::updated_at.eq(now - TimeDelta::hours(*hours)),
                    ))
                    .execute(c)?;
            }
            Ok(())
        })
        .await
        .unwrap();
    let group = ids[..3].to_vec();
    let others = ids[3..].to_vec();
    (group, others, now)
}

async fn groups(app: &TestApp, token: &str) -> Vec<Value> {
    json(
        app.api(Method::GET, "/api/dead-letters", Some(token))
            .send()
            .await
            .unwrap(),
    )
    .await["groups"]
        .as_array()
        .unwrap()
        .clone()
}

async fn retry(app: &TestApp, token: &str, body: Value) -> reqwest::Response {
    app.api(Method::POST, "/api/dead-letters/retry", Some(token))
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn dead_letters_are_grouped_by_normalised_reason_and_a_group_is_retried_alone(db: TestDb) {
    let app = spawn_app(&db).await;
    let store = app.app.state.store.clone();
    let (group, others, now) = seed(&store).await;

    let found = groups(&app, VIEWER_TOKEN).await;
    let names: Vec<(&str, i64)> = found
        .iter()
        .map(|g| {
            (
                g["reason_group"].as_str().unwrap(),
                g["count"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            (HUBSPOT_503, 3),
            ("(no reason recorded)", 1),
            ("hubspot: 401 unauthorized", 1)
        ],
        "largest first, then the most recent"
    );
    let at = |hours: i64| (now - TimeDelta::hours(hours)).and_utc();
    let first: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(found[0]["first_seen"].clone()).unwrap();
    let last: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(found[0]["last_seen"].clone()).unwrap();
    assert_eq!(
        (first.timestamp(), last.timestamp()),
        (at(30).timestamp(), at(10).timestamp())
    );
    assert!(group.contains(&found[0]["sample_workflow_id"].as_str().unwrap().to_string()));

    // Refused, changing nothing: a viewer, no reason, a group with no dead letters.
    let reason = json!({"reason_group": HUBSPOT_503, "reason": "HubSpot is back"});
    assert_eq!(
        retry(&app, VIEWER_TOKEN, reason.clone()).await.status(),
        403
    );
    let blank = json!({"reason_group": HUBSPOT_503, "reason": " "});
    assert_eq!(retry(&app, ADMIN_TOKEN, blank).await.status(), 400);
    let unknown = json!({"reason_group": "HubSpot 503", "reason": "x"});
    assert_eq!(retry(&app, ADMIN_TOKEN, unknown).await.status(), 404);
    for id in &group {
        assert_eq!(status_of(&store, id).await, "dead_lettered");
    }

    let done = retry(&app, ADMIN_TOKEN, reason.clone()).await;
    assert_eq!(done.status(), 200);
    let done = json(done).await;
    let mut retried: Vec<String> = serde_json::from_value(done["retried"].clone()).unwrap();
    retried.sort();
    let mut expected = group.clone();
    expected.sort();
    assert_eq!(retried, expected, "exactly the group");
    assert_eq!(done["remaining"], 0);
    for id in &group {
        assert_eq!(status_of(&store, id).await, "pending");
        let audited: Vec<_> = audit_of(&store, id)
            .await
            .into_iter()
            .filter(|a| a.action == "workflow.retry")
            .collect();
        assert_eq!(audited.len(), 1, "one audit entry per lead");
        assert_eq!(audited[0].reason.as_deref(), Some("HubSpot is back"));
        assert_eq!(audited[0].actor, "admin");
    }
    assert_eq!(status_of(&store, &others[0]).await, "dead_lettered");
    assert_eq!(status_of(&store, &others[1]).await, "dead_lettered");
    assert_eq!(status_of(&store, &others[2]).await, "completed");
    let left: Vec<Value> = groups(&app, ADMIN_TOKEN).await;
    assert!(
        left.iter().all(|g| g["reason_group"] != HUBSPOT_503),
        "{left:?}"
    );
    // Nothing is left in that group to retry.
    assert_eq!(retry(&app, ADMIN_TOKEN, reason).await.status(), 404);
    app.stop().await;
}

async fn the_overview_retries_one_group_from_its_button(db: TestDb) {
    let app = spawn_app(&db).await;
    let store = app.app.state.store.clone();
    let (group, others, _) = seed(&store).await;
    let browser = Browser::start(&app.address, &db).await;
    browser.sign_in(ADMIN_TOKEN, "maria").await;
    let table = browser.text("#dead-letters").await;
    assert!(
        table.contains(HUBSPOT_503) && table.contains("hubspot: 401 unauthorized"),
        "{table}"
    );
    assert_eq!(
        browser.count("#dead-letters form").await,
        3,
        "a retry per group"
    );
    browser.check_page("overview-dead-letters").await;

    // A POST without the session's CSRF token is refused.
    let (cookie, _) = browser.credentials().await;
    let forged = reqwest::Client::new()
        .post(format!("{}/dead-letters/retry", app.address))
        .header("cookie", cookie)
        .form(&[
            ("reason_group", HUBSPOT_503),
            ("reason", "x"),
            ("confirm", "yes"),
        ])
        .send()
        .await
        .unwrap();
    assert!(forged.status().is_client_error(), "{}", forged.status());
    assert_eq!(status_of(&store, &group[0]).await, "dead_lettered");

    // The first row is the 503 group (the largest).
    browser.fill("#dead-1-reason", "HubSpot is back").await;
    browser.click("#dead-1-confirm").await;
    browser.submit("#dead-1-button").await;
    assert_eq!(browser.path().await, "/");
    for id in &group {
        assert_eq!(status_of(&store, id).await, "pending");
        assert!(
            audit_of(&store, id)
                .await
                .iter()
                .any(|a| a.action == "workflow.retry"
                    && a.actor == "admin:maria"
                    && a.reason.as_deref() == Some("HubSpot is back"))
        );
    }
    assert_eq!(status_of(&store, &others[0]).await, "dead_lettered");
    assert!(!browser.text("#dead-letters").await.contains(HUBSPOT_503));
    browser.quit().await;
    app.stop().await;
}
