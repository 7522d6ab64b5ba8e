//! The admin API over real HTTP, on both backends: roles, workflow list and
//! detail, retry and cancel, mode, suppressions, audit.

use std::time::Duration;

use reqwest::Method;
use sales_agent::store::leases;
use sales_agent::store::workflows::WorkflowStatus;
use serde_json::json;

use crate::helpers::{ADMIN_TOKEN, TestApp, TestDb, VIEWER_TOKEN, json, spawn_app, submission};
use crate::on_both_backends;

on_both_backends!(
    viewer_tokens_cannot_retry_cancel_or_change_the_mode,
    workflows_are_listed_filtered_and_paginated,
    cancel_and_retry_follow_the_workflow_state_and_are_audited,
    the_mode_is_draft_only_until_an_admin_switches_it,
    suppressions_are_managed_and_audited,
);

async fn submit(app: &TestApp, conversion: &str, email: &str) -> String {
    let response = app.post_signed(&submission(conversion, email)).await;
    assert_eq!(response.status(), 202);
    json(response).await["workflow_id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn viewer_tokens_cannot_retry_cancel_or_change_the_mode(db: TestDb) {
    let app = spawn_app(&db).await;
    let id = submit(&app, "c-1", "ana@acme.example").await;
    let reason = json!({"reason": "testing roles"});

    let changes = [
        (
            Method::POST,
            format!("/api/workflows/{id}/retry"),
            Some(reason.clone()),
        ),
        (
            Method::POST,
            format!("/api/workflows/{id}/cancel"),
            Some(reason.clone()),
        ),
        (
            Method::PUT,
            "/api/mode".to_string(),
            Some(json!({"draft_only": false, "reason": "x"})),
        ),
        (
            Method::POST,
            "/api/suppressions".to_string(),
            Some(json!({"email": "a@b.co", "reason": "x"})),
        ),
        (
            Method::DELETE,
            "/api/suppressions/a@b.co?reason=x".to_string(),
            None,
        ),
    ];
    for (method, path, body) in changes {
        for (token, status) in [(Some(VIEWER_TOKEN), 403), (None, 401), (Some("wrong"), 401)] {
            let mut request = app.api(method.clone(), &path, token);
            if let Some(body) = &body {
                request = request.json(body);
            }
            let response = request.send().await.unwrap();
            assert_eq!(
                response.status().as_u16(),
                status,
                "{method} {path} with {token:?}"
            );
        }
    }
    for path in [
        "/api/workflows",
        &format!("/api/workflows/{id}"),
        "/api/mode",
        "/api/suppressions",
        "/api/audit",
    ] {
        let response = app
            .api(Method::GET, path, Some(VIEWER_TOKEN))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "viewer reads {path}");
        let response = app.api(Method::GET, path, None).send().await.unwrap();
        assert_eq!(response.status(), 401, "anonymous reads {path}");
    }
    // Nothing changed.
    let detail = json(
        app.api(
            Method::GET,
            &format!("/api/workflows/{id}"),
            Some(ADMIN_TOKEN),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(detail["workflow"]["status"], "pending");
    let mode = json(
        app.api(Method::GET, "/api/mode", Some(ADMIN_TOKEN))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(mode["draft_only"], true);
    let audit = json(
        app.api(Method::GET, "/api/audit", Some(ADMIN_TOKEN))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        audit["entries"].as_array().unwrap().len(),
        1,
        "only the intake entry: {audit}"
    );
    app.stop().await;
}

async fn workflows_are_listed_filtered_and_paginated(db: TestDb) {
    let app = spawn_app(&db).await;
    let mut ids = Vec::new();
    for n in 0..5 {
        let email = if n % 2 == 0 {
            "Ana@Acme.example"
        } else {
            "bo@other.example"
        };
        ids.push(submit(&app, &format!("c-{n}"), email).await);
    }

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/workflows?limit=2&cursor={c}"),
            None => "/api/workflows?limit=2".to_string(),
        };
        let page = json(
            app.api(Method::GET, &path, Some(VIEWER_TOKEN))
                .send()
                .await
                .unwrap(),
        )
        .await;
        for w in page["workflows"].as_array().unwrap() {
            seen.push(w["id"].as_str().unwrap().to_string());
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    let mut expected = ids.clone();
    expected.reverse();
    assert_eq!(
        seen, expected,
        "newest first, every workflow once across pages"
    );

    let by_email = json(
        app.api(
            Method::GET,
            "/api/workflows?email=ANA@acme.example",
            Some(VIEWER_TOKEN),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(by_email["workflows"].as_array().unwrap().len(), 3);
    let done = json(
        app.api(
            Method::GET,
            "/api/workflows?status=completed",
            Some(VIEWER_TOKEN),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert!(done["workflows"].as_array().unwrap().is_empty());
    let future = json(
        app.api(
            Method::GET,
            "/api/workflows?from=2999-01-01",
            Some(VIEWER_TOKEN),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert!(future["workflows"].as_array().unwrap().is_empty());

    for (query, field) in [
        ("status=finished", "status"),
        ("cursor=nonsense", "cursor"),
        ("from=yesterday", "from"),
        ("limit=0", "limit"),
    ] {
        let response = app
            .api(
                Method::GET,
                &format!("/api/workflows?{query}"),
                Some(VIEWER_TOKEN),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{query}");
        assert_eq!(json(response).await["error"]["field"], field, "{query}");
    }
    let missing = app
        .api(Method::GET, "/api/workflows/no-such-id", Some(VIEWER_TOKEN))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    app.stop().await;
}

async fn cancel_and_retry_follow_the_workflow_state_and_are_audited(db: TestDb) {
    let app = spawn_app(&db).await;
    let cancelled = submit(&app, "c-cancel", "ana@acme.example").await;
    let failed = submit(&app, "c-failed", "bo@other.example").await;
    // Dead-letter the second one the way the engine does: claim, then release.
    let store = db.store();
    let failed_id = failed.clone();
    store
        .run(move |c| {
            leases::claim_runnable(c, "engine", Duration::from_secs(60), 10)?;
            leases::release(
                c,
                "engine",
                &failed_id,
                WorkflowStatus::DeadLettered,
                None,
                Some("hubspot: 400"),
            )
        })
        .await
        .unwrap();
    let post = |path: String, reason: &str| {
        app.api(Method::POST, &path, Some(ADMIN_TOKEN))
            .header("X-Actor", "maria")
            .json(&json!({"reason": reason}))
            .send()
    };

    assert_eq!(
        post(
            format!("/api/workflows/{cancelled}/cancel"),
            "duplicate lead"
        )
        .await
        .unwrap()
        .status(),
        200
    );
    assert_eq!(
        post(format!("/api/workflows/{cancelled}/cancel"), "again")
            .await
            .unwrap()
            .status(),
        409
    );
    assert_eq!(
        post(format!("/api/workflows/{cancelled}/retry"), "not dead")
            .await
            .unwrap()
            .status(),
        409
    );
    assert_eq!(
        post(format!("/api/workflows/{failed}/retry"), "HubSpot fixed")
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        post(format!("/api/workflows/{failed}/retry"), "twice")
            .await
            .unwrap()
            .status(),
        409
    );
    assert_eq!(
        post("/api/workflows/nope/retry".into(), "x")
            .await
            .unwrap()
            .status(),
        404
    );
    let no_reason = app
        .api(
            Method::POST,
            &format!("/api/workflows/{failed}/cancel"),
            Some(ADMIN_TOKEN),
        )
        .json(&json!({"reason": " "}))
        .send()
        .await
        .unwrap();
    assert_eq!(no_reason.status(), 400);

    let detail = json(
        app.api(
            Method::GET,
            &format!("/api/workflows/{cancelled}"),
            Some(ADMIN_TOKEN),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(detail["workflow"]["status"], "cancelled");
    let trail = detail["audit"].as_array().unwrap();
    assert_eq!(trail.last().unwrap()["action"], "workflow.cancel");
    assert_eq!(trail.last().unwrap()["actor"], "admin:maria");
    assert_eq!(trail.last().unwrap()["reason"], "duplicate lead");
    let detail = json(
        app.api(
            Method::GET,
            &format!("/api/workflows/{failed}"),
            Some(ADMIN_TOKEN),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(detail["workflow"]["status"], "pending");
    assert_eq!(
        detail["audit"].as_array().unwrap().last().unwrap()["action"],
        "workflow.retry"
    );
    app.stop().await;
}

async fn the_mode_is_draft_only_until_an_admin_switches_it(db: TestDb) {
    let app = spawn_app(&db).await;
    let mode = json(
        app.api(Method::GET, "/api/mode", Some(VIEWER_TOKEN))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(mode["draft_only"], true);

    let missing_reason = app
        .api(Method::PUT, "/api/mode", Some(ADMIN_TOKEN))
        .json(&json!({"draft_only": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(missing_reason.status(), 400);
    let switched = app
        .api(Method::PUT, "/api/mode", Some(ADMIN_TOKEN))
        .json(&json!({"draft_only": false, "reason": "pilot approved"}))
        .send()
        .await
        .unwrap();
    assert_eq!(switched.status(), 200);

    let mode = json(
        app.api(Method::GET, "/api/mode", Some(VIEWER_TOKEN))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(mode["draft_only"], false);
    let audit = json(
        app.api(Method::GET, "/api/audit", Some(VIEWER_TOKEN))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let entry = &audit["entries"][0];
    assert_eq!(
        (entry["action"].as_str(), entry["reason"].as_str()),
        (Some("mode.set"), Some("pilot approved"))
    );
    assert_eq!(entry["detail"]["draft_only"]["from"], true);
    app.stop().await;
}

async fn suppressions_are_managed_and_audited(db: TestDb) {
    let app = spawn_app(&db).await;
    let add = |email: &str| {
        app.api(Method::POST, "/api/suppressions", Some(ADMIN_TOKEN))
            .json(&json!({"email": email, "reason": "asked by phone"}))
            .send()
    };
    assert_eq!(add("Ana@Acme.example").await.unwrap().status(), 201);
    assert_eq!(
        add("ana@acme.example").await.unwrap().status(),
        200,
        "already there"
    );
    assert_eq!(add("not an address").await.unwrap().status(), 400);

    let list = json(
        app.api(Method::GET, "/api/suppressions", Some(VIEWER_TOKEN))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let rows = list["suppressions"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["email"], "ana@acme.example");

    let delete = app
        .api(
            Method::DELETE,
            "/api/suppressions/ana@acme.example?reason=entered+by+mistake",
            Some(ADMIN_TOKEN),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(delete.status(), 204);
    let again = app
        .api(
            Method::DELETE,
            "/api/suppressions/ana@acme.example?reason=again",
            Some(ADMIN_TOKEN),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 404);
    let audit = json(
        app.api(Method::GET, "/api/audit", Some(VIEWER_TOKEN))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["suppression.removed", "suppression.added"]);
    assert!(
        !audit.to_string().contains("ana@acme.example"),
        "the audit log does not repeat the address"
    );
    app.stop().await;
}
