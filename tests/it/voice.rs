//! Voice profiles: trained from each rep's sent mail in the sandbox, managed
//! through the admin API (audited, validated, portable), and used by the composer.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{ADMIN_TOKEN, Stack, TestDb, VIEWER_TOKEN, json, spawn_stack};
use crate::on_both_backends;

on_both_backends!(
    training_finds_each_reps_greeting_sign_off_and_contraction_habit,
    profiles_are_validated_audited_and_portable,
);

async fn call(
    stack: &Stack,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = stack.app.api(method, path, Some(ADMIN_TOKEN));
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn training_finds_each_reps_greeting_sign_off_and_contraction_habit(db: TestDb) {
    let stack = spawn_stack(&db).await;
    // (rep, greeting, sign-off, contracts) as their sent mail in the fixture shows.
    let expected = [
        ("maya-chen", "Hi {name},", "Best,", true),
        ("jonas-weber", "Hello {name},", "Kind regards,", false),
        ("priya-raman", "Dear {name},", "Warm regards,", true),
    ];
    for (rep, greeting, sign_off, contracts) in expected {
        let (status, trained) = call(
            &stack,
            Method::POST,
            &format!("/api/voice-profiles/{rep}/train"),
            Some(json!({"reason": "learn the rep's voice"})),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{trained}");
        let profile = &trained["profile"];
        assert_eq!(profile["greeting"], greeting, "{rep}: {trained}");
        assert_eq!(profile["sign_off"], sign_off, "{rep}: {trained}");
        assert_eq!(profile["contractions"], contracts, "{rep}: {trained}");
        assert!(
            trained["stats"]["messages"].as_u64().unwrap() >= 3,
            "{trained}"
        );
        let (_, stored) = call(
            &stack,
            Method::GET,
            &format!("/api/voice-profiles/{rep}"),
            None,
        )
        .await;
        assert_eq!(stored["source"], "trained");
        assert_eq!(stored["profile"], *profile);
    }
    let (_, stats) = call(
        &stack,
        Method::POST,
        "/api/voice-profiles/maya-chen/train",
        Some(json!({"reason": "look again", "dry_run": true})),
    )
    .await;
    assert_eq!(stats["stored"], false);
    let (_, refined) = call(
        &stack,
        Method::POST,
        "/api/voice-profiles/jonas-weber/train",
        Some(json!({"reason": "labels from the model", "dry_run": true, "refine": true})),
    )
    .await;
    assert_eq!(refined["refinement"]["applied"], true, "{refined}");
    assert!(
        ["friendly", "neutral", "direct"].contains(&refined["profile"]["tone"].as_str().unwrap())
    );
    assert_eq!(
        refined["profile"]["greeting"], "Hello {name},",
        "counted habits stand"
    );
    assert!(
        stats["profile"]["phrases"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p.as_str().unwrap().contains("walk your")),
        "Maya's recurring phrase: {stats}"
    );

    // The composer writes in the trained voice: Anna (Germany) goes to Jonas.
    let response = stack
        .app
        .post_signed(&stack.sample("anna.schmid@rheinwerk-maschinenbau.de"))
        .await;
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
    let drafts = stack.sandbox.drafts("jonas.weber@northwind-analytics.com");
    let (_, draft) = drafts
        .iter()
        .find(|(_, m)| m.to.iter().any(|t| t.contains("anna.schmid")))
        .expect("a draft for Anna in Jonas's mailbox");
    assert!(draft.body.starts_with("Hello Anna,"), "{}", draft.body);
    assert!(
        draft.body.lines().any(|l| l == "Kind regards,"),
        "{}",
        draft.body
    );
    assert!(
        !["I'm", "I'd", "we'll", "We'll", "it's", "don't"]
            .iter()
            .any(|c| draft.body.contains(c)),
        "no contractions: {}",
        draft.body
    );
    stack.stop().await;
}

async fn profiles_are_validated_audited_and_portable(db: TestDb) {
    let stack = spawn_stack(&db).await;
    let (status, listed) = call(&stack, Method::GET, "/api/voice-profiles", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        listed["profiles"].as_array().unwrap().len(),
        3,
        "seeded from the reps"
    );
    assert!(
        listed["profiles"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["source"] == "seed")
    );

    // Viewers read but do not change.
    let denied = stack
        .app
        .api(
            Method::PUT,
            "/api/voice-profiles/maya-chen",
            Some(VIEWER_TOKEN),
        )
        .json(&json!({"profile": {}, "reason": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), StatusCode::FORBIDDEN);

    let (status, error) = call(
        &stack,
        Method::PUT,
        "/api/voice-profiles/maya-chen",
        Some(json!({"profile": {"greeting": "Hi\r\nBcc: x@y.z"}, "reason": "bad"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    let (status, _) = call(
        &stack,
        Method::PUT,
        "/api/voice-profiles/nobody",
        Some(json!({"profile": {}, "reason": "no such rep"})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, _) = call(
        &stack,
        Method::PUT,
        "/api/voice-profiles/maya-chen",
        Some(json!({"profile": {"greeting": "Hey {name},", "sign_off": "Cheers,", "prohibited_punctuation": ["!"]}, "reason": "Maya asked"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, audit) = call(&stack, Method::GET, "/api/audit", None).await;
    assert!(
        audit["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "voice_profile.set"
                && e["reason"] == "Maya asked"
                && e["detail"]["rep_id"] == "maya-chen"),
        "{audit}"
    );

    // Export, change, import: all or nothing.
    let (_, mut exported) = call(&stack, Method::GET, "/api/voice-profiles/export", None).await;
    assert_eq!(exported["format"], 1);
    let profiles = exported["profiles"].as_array_mut().unwrap();
    assert_eq!(profiles.len(), 3);
    for p in profiles.iter_mut() {
        p["profile"]["slots_offered"] = json!(2);
    }
    let mut with_unknown = exported.clone();
    with_unknown["profiles"]
        .as_array_mut()
        .unwrap()
        .push(json!({"rep_id": "nobody", "profile": {}}));
    with_unknown["reason"] = json!("restore");
    let (status, _) = call(
        &stack,
        Method::POST,
        "/api/voice-profiles/import",
        Some(with_unknown),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, maya) = call(&stack, Method::GET, "/api/voice-profiles/maya-chen", None).await;
    assert_eq!(maya["profile"]["slots_offered"], 3, "nothing imported");

    exported["reason"] = json!("restore");
    let (status, imported) = call(
        &stack,
        Method::POST,
        "/api/voice-profiles/import",
        Some(exported),
    )
    .await;
    assert_eq!(
        (status, imported["imported"].clone()),
        (StatusCode::OK, json!(3))
    );
    let (_, maya) = call(&stack, Method::GET, "/api/voice-profiles/maya-chen", None).await;
    assert_eq!(maya["profile"]["slots_offered"], 2);
    assert_eq!(
        maya["profile"]["greeting"], "Hey {name},",
        "the edit travelled"
    );
    assert_eq!(maya["source"], "import");

    let (status, _) = call(
        &stack,
        Method::DELETE,
        "/api/voice-profiles/maya-chen?reason=reset",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = call(&stack, Method::GET, "/api/voice-profiles/maya-chen", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    stack.stop().await;
}
