//! The mode over the admin API: three modes by name, the old boolean still
//! understood both ways, bad changes refused without changing anything, and
//! every switch audited with both forms.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{ADMIN_TOKEN, TestApp, TestDb, VIEWER_TOKEN, json, spawn_app};
use crate::on_both_backends;

on_both_backends!(the_mode_switches_between_pilot_draft_only_and_send_in_both_forms,);

async fn mode(app: &TestApp) -> Value {
    json(
        app.api(Method::GET, "/api/mode", Some(VIEWER_TOKEN))
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn put(app: &TestApp, body: Value) -> reqwest::Response {
    app.api(Method::PUT, "/api/mode", Some(ADMIN_TOKEN))
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn the_mode_switches_between_pilot_draft_only_and_send_in_both_forms(db: TestDb) {
    let app = spawn_app(&db).await;
    assert_eq!(
        mode(&app).await,
        json!({"mode": "draft_only", "draft_only": true})
    );

    let switched = put(
        &app,
        json!({"mode": "pilot", "reason": "first week: watch only"}),
    )
    .await;
    assert_eq!(switched.status(), 200);
    assert_eq!(
        json(switched).await,
        json!({"mode": "pilot", "draft_only": true})
    );
    assert_eq!(
        mode(&app).await,
        json!({"mode": "pilot", "draft_only": true})
    );

    // Refused, and nothing changes: an unknown mode, two forms that disagree,
    // neither form, a viewer.
    for (body, token) in [
        (json!({"mode": "live", "reason": "x"}), ADMIN_TOKEN),
        (
            json!({"mode": "send", "draft_only": true, "reason": "x"}),
            ADMIN_TOKEN,
        ),
        (
            json!({"mode": "pilot", "draft_only": false, "reason": "x"}),
            ADMIN_TOKEN,
        ),
        (json!({"reason": "x"}), ADMIN_TOKEN),
        (json!({"mode": "send", "reason": "  "}), ADMIN_TOKEN),
        (json!({"mode": "send", "reason": "x"}), VIEWER_TOKEN),
    ] {
        let refused = app
            .api(Method::PUT, "/api/mode", Some(token))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            refused.status().is_client_error(),
            "{body}: {}",
            refused.status()
        );
        assert_eq!(mode(&app).await["mode"], "pilot", "{body}");
    }
    let agreeing = put(
        &app,
        json!({"mode": "pilot", "draft_only": true, "reason": "both forms, one meaning"}),
    )
    .await;
    assert_eq!(agreeing.status(), 200);

    // The old form: false is send mode, true is draft-only.
    let old = put(&app, json!({"draft_only": false, "reason": "launch"})).await;
    assert_eq!(
        json(old).await,
        json!({"mode": "send", "draft_only": false})
    );
    assert_eq!(mode(&app).await["mode"], "send");
    put(
        &app,
        json!({"draft_only": true, "reason": "back to review"}),
    )
    .await;
    assert_eq!(
        mode(&app).await,
        json!({"mode": "draft_only", "draft_only": true})
    );

    let audit = json(
        app.api(Method::GET, "/api/audit", Some(VIEWER_TOKEN))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let switches: Vec<(&str, &str, &str)> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "mode.set")
        .map(|e| {
            (
                e["detail"]["mode"]["from"].as_str().unwrap(),
                e["detail"]["mode"]["to"].as_str().unwrap(),
                e["reason"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        switches,
        [
            ("send", "draft_only", "back to review"),
            ("pilot", "send", "launch"),
            ("pilot", "pilot", "both forms, one meaning"),
            ("draft_only", "pilot", "first week: watch only"),
        ],
        "newest first"
    );
    let pilot_on = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["reason"] == "first week: watch only")
        .unwrap();
    assert_eq!(
        pilot_on["detail"]["draft_only"],
        json!({"from": true, "to": true})
    );
    app.stop().await;
}
