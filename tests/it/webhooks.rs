//! `POST /webhooks/hubspot` over real HTTP, on SQLite and on PostgreSQL.

use std::time::{Duration, SystemTime};

use futures_util::future::join_all;
use sales_agent::intake::signature::sign_v3;
use sales_agent::store::{audit, events, workflows};
use sales_agent::web::intake_queue::IntakeQueue;

use crate::helpers::{
    PUBLIC_URL, SECRET, TestDb, json, new_intake, row_counts, signed_headers, spawn_app,
    spawn_app_with, submission, test_config,
};
use crate::on_both_backends;

on_both_backends!(
    a_signed_submission_is_committed_with_its_workflow,
    bad_signatures_are_refused_and_store_nothing,
    duplicate_delivery_starts_one_workflow,
    concurrent_duplicates_start_one_workflow,
    bad_bodies_get_a_4xx_naming_the_problem_and_store_nothing,
    legacy_signatures_verify_only_when_enabled,
    a_group_commit_answers_each_delivery_and_a_repeat_within_it_is_a_duplicate,
    concurrent_deliveries_are_committed_in_fewer_transactions_than_deliveries,
    the_older_field_values_layout_is_accepted_with_a_stable_key,
);

/// The layout earlier versions posted (`fieldValues`, `formSubmissionId`): one
/// workflow per submission however often, in whatever field order, and in
/// whichever layout it comes again.
async fn the_older_field_values_layout_is_accepted_with_a_stable_key(db: TestDb) {
    let app = spawn_app(&db).await;
    let older = r#"{"portalId": 62515, "formId": "demo-request", "formSubmissionId": "sub-1",
        "timestamp": 1790000000000, "pageUrl": "https://acme.example/demo",
        "fieldValues": [{"name": "email", "value": "Ana@Acme.example"},
                        {"name": "firstname", "value": "Ana"}, {"name": "company", "value": "Acme"}]}"#;
    let first = app.post_signed(older).await;
    assert_eq!(first.status(), 202);
    let id = json(first).await["workflow_id"]
        .as_str()
        .unwrap()
        .to_string();
    let reordered = r#"{"fieldValues": [{"name": "company", "value": "Acme"},
                        {"name": "firstname", "value": "Ana"}, {"name": "email", "value": "Ana@Acme.example"}],
        "timestamp": "1790000000000", "formSubmissionId": "sub-1", "formId": "demo-request", "portalId": "62515"}"#;
    let forms_api = submission("sub-1", "ana@acme.example");
    for again in [older, reordered, forms_api.as_str()] {
        let response = app.post_signed(again).await;
        assert_eq!(response.status(), 200, "{again}");
        assert_eq!(json(response).await["workflow_id"], id.as_str());
    }
    // Without a submission id the stable fields make the key.
    let unnamed = |order: bool| {
        let fields = [
            r#"{"name": "email", "value": "bo@other.example"}"#,
            r#"{"name": "message", "value": "Pricing for 40 seats?"}"#,
        ];
        let (a, b) = if order { (0, 1) } else { (1, 0) };
        format!(
            r#"{{"formId": "contact", "timestamp": 1790000000001, "fieldValues": [{}, {}]}}"#,
            fields[a], fields[b]
        )
    };
    assert_eq!(app.post_signed(&unnamed(true)).await.status(), 202);
    assert_eq!(app.post_signed(&unnamed(false)).await.status(), 200);
    assert_eq!(row_counts(&db.store()).await, (2, 2));
    let row = db
        .store()
        .run(move |conn| workflows::find_by_id(conn, &id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.idempotency_key, "hubspot:62515:demo-request:sub-1");
    assert_eq!(row.email, "ana@acme.example");
    // A malformed older layout is refused naming the field.
    let bad = app
        .post_signed(r#"{"formId": "f", "fieldValues": [{"name": "email", "value": ["x@y.z"]}]}"#)
        .await;
    assert_eq!(bad.status(), 400);
    assert_eq!(json(bad).await["error"]["field"], "fieldValues[0].value");
    app.stop().await;
}

/// Deliveries queued together share one transaction; the third repeats the first
/// inside the same batch and gets its workflow, not a second one.
async fn a_group_commit_answers_each_delivery_and_a_repeat_within_it_is_a_duplicate(db: TestDb) {
    let store = db.migrated_store().await;
    let batch = [
        new_intake("group:a", "{}"),
        new_intake("group:b", "{}"),
        new_intake("group:a", "{}"),
    ];
    let accepted = store
        .run(move |conn| events::accept_all(conn, &batch))
        .await
        .unwrap();
    assert!(!accepted[0].duplicate && !accepted[1].duplicate);
    assert_ne!(accepted[0].workflow_id, accepted[1].workflow_id);
    assert!(accepted[2].duplicate);
    assert_eq!(accepted[2].workflow_id, accepted[0].workflow_id);
    assert_eq!(row_counts(&store).await, (2, 2));
    let first = accepted[0].workflow_id.clone();
    let trail = store
        .run(move |conn| audit::list_for_workflow(conn, &first))
        .await
        .unwrap();
    assert_eq!(trail.len(), 1, "one webhook.accepted entry, not two");
}

/// 64 deliveries at once through the queue: every one is answered as committed,
/// repeats are told they are duplicates, and the whole lot took a few commits,
/// not 64.
async fn concurrent_deliveries_are_committed_in_fewer_transactions_than_deliveries(db: TestDb) {
    let store = db.migrated_store().await;
    let queue = IntakeQueue::start(store.clone());
    let answers =
        join_all((0..64).map(|i| queue.accept(new_intake(&format!("many:{}", i % 48), "{}"))))
            .await;
    let mut new = 0;
    for answer in &answers {
        let accepted = answer.as_ref().expect("committed");
        new += usize::from(!accepted.duplicate);
    }
    assert_eq!(new, 48, "48 distinct submissions, 16 repeats");
    assert_eq!(row_counts(&store).await, (48, 48));
    let commits = queue.commits();
    assert!(
        (1..=8).contains(&commits),
        "{commits} commits for 64 deliveries"
    );
}

async fn a_signed_submission_is_committed_with_its_workflow(db: TestDb) {
    let app = spawn_app(&db).await;

    let response = app
        .post_signed(&submission("conv-1", "ana@acme.example"))
        .await;

    assert_eq!(response.status(), 202);
    let body = json(response).await;
    assert_eq!(body["duplicate"], false);
    let id = body["workflow_id"]
        .as_str()
        .expect("workflow id")
        .to_string();
    let store = db.store();
    assert_eq!(row_counts(&store).await, (1, 1));
    let (workflow, trail) = store
        .run(move |conn| {
            Ok((
                workflows::find_by_id(conn, &id)?,
                audit::list_for_workflow(conn, &id)?,
            ))
        })
        .await
        .unwrap();
    let workflow = workflow.expect("workflow row");
    assert_eq!(workflow.status, "pending");
    assert_eq!(
        workflow.idempotency_key,
        "hubspot:62515:demo-request:conv-1"
    );
    assert_eq!(workflow.email, "ana@acme.example");
    assert_eq!(trail.len(), 1);
    assert_eq!(trail[0].action, "webhook.accepted");
    app.stop().await;
}

async fn bad_signatures_are_refused_and_store_nothing(db: TestDb) {
    let app = spawn_app(&db).await;
    let body = submission("conv-1", "ana@acme.example");
    let now = SystemTime::now();
    let ts = sales_agent::intake::signature::unix_millis(now);
    let sig_for =
        |uri: &str, body: &str, ts: u64| sign_v3(SECRET, "POST", uri, body.as_bytes(), ts);
    let right_uri = format!("{PUBLIC_URL}/webhooks/hubspot");

    type Headers = Vec<(&'static str, String)>;
    let cases: Vec<(&str, String, Headers)> = vec![
        (
            "tampered body",
            body.replace("Acme", "Acne"),
            signed_headers(&body, now, SECRET),
        ),
        (
            "tampered URI",
            body.clone(),
            vec![
                (
                    "X-HubSpot-Signature-v3",
                    sig_for("http://127.0.0.1:8080/webhooks/hubspot", &body, ts),
                ),
                ("X-HubSpot-Request-Timestamp", ts.to_string()),
            ],
        ),
        (
            "stale timestamp",
            body.clone(),
            signed_headers(&body, now - Duration::from_secs(301), SECRET),
        ),
        (
            "far-future timestamp",
            body.clone(),
            signed_headers(&body, now + Duration::from_secs(600), SECRET),
        ),
        (
            "missing signature",
            body.clone(),
            vec![("X-HubSpot-Request-Timestamp", ts.to_string())],
        ),
        (
            "missing timestamp",
            body.clone(),
            vec![("X-HubSpot-Signature-v3", sig_for(&right_uri, &body, ts))],
        ),
        ("no headers", body.clone(), vec![]),
        (
            "wrong secret",
            body.clone(),
            signed_headers(&body, now, "another-secret"),
        ),
        (
            "v2 while disabled",
            body.clone(),
            vec![
                ("X-HubSpot-Signature", "ab".repeat(32)),
                ("X-HubSpot-Signature-Version", "v2".into()),
            ],
        ),
    ];
    for (case, body, headers) in cases {
        let response = app.post_with(&body, &headers).await;
        assert_eq!(response.status(), 401, "{case}");
        assert_eq!(
            json(response).await["error"]["code"],
            "invalid_signature",
            "{case}"
        );
    }
    assert_eq!(row_counts(&db.store()).await, (0, 0));
    app.stop().await;
}

async fn duplicate_delivery_starts_one_workflow(db: TestDb) {
    let app = spawn_app(&db).await;
    let body = submission("conv-dup", "ana@acme.example");

    let first = app.post_signed(&body).await;
    // A HubSpot retry: same submission, new delivery time and signature.
    let second = app.post_signed(&body).await;

    assert_eq!(first.status(), 202);
    assert_eq!(second.status(), 200);
    let (first, second) = (json(first).await, json(second).await);
    assert_eq!(first["workflow_id"], second["workflow_id"]);
    assert_eq!(second["duplicate"], true);
    assert_eq!(row_counts(&db.store()).await, (1, 1));
    app.stop().await;
}

async fn concurrent_duplicates_start_one_workflow(db: TestDb) {
    let app = spawn_app(&db).await;
    let body = submission("conv-race", "ana@acme.example");

    let responses = join_all((0..10).map(|_| app.post_signed(&body))).await;

    let mut ids = Vec::new();
    for response in responses {
        assert!(
            response.status().is_success(),
            "status {}",
            response.status()
        );
        ids.push(
            json(response).await["workflow_id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 1, "every response names the same workflow");
    assert_eq!(row_counts(&db.store()).await, (1, 1));
    app.stop().await;
}

async fn bad_bodies_get_a_4xx_naming_the_problem_and_store_nothing(db: TestDb) {
    let mut config = test_config(&db);
    config.webhook.max_body_bytes = 4096;
    let app = spawn_app_with(config).await;
    let cases: Vec<(&str, String, u16, &str)> = vec![
        ("malformed JSON", "{\"values\": [".into(), 400, "body"),
        (
            "missing email",
            r#"{"values":[{"name":"firstname","value":"Ana"}]}"#.into(),
            400,
            "email",
        ),
        (
            "email of the wrong type",
            r#"{"values":[{"name":"email","value":{"a":1}}]}"#.into(),
            400,
            "values[0].value",
        ),
        (
            "submittedAt of the wrong type",
            r#"{"submittedAt":[1],"values":[{"name":"email","value":"a@b.co"}]}"#.into(),
            400,
            "submittedAt",
        ),
        ("not an object", "[]".into(), 400, "body"),
        (
            "oversize",
            format!(
                r#"{{"values":[{{"name":"message","value":"{}"}}]}}"#,
                "x".repeat(5000)
            ),
            413,
            "",
        ),
    ];
    for (case, body, status, field) in cases {
        let response = app.post_signed(&body).await;
        assert_eq!(response.status().as_u16(), status, "{case}");
        let error = json(response).await;
        if !field.is_empty() {
            assert_eq!(error["error"]["field"], field, "{case}: {error}");
        }
        assert!(error["error"]["message"].is_string(), "{case}");
    }
    assert_eq!(row_counts(&db.store()).await, (0, 0));
    app.stop().await;
}

async fn legacy_signatures_verify_only_when_enabled(db: TestDb) {
    // HubSpot's published v1 example (API_FACTS §1.2): the signature verifies, and
    // the body — a Webhooks API event array, not a form submission — is then refused
    // as a 400, not a 401.
    let v1_body = r#"[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}]"#;
    let v1_headers = vec![
        (
            "X-HubSpot-Signature",
            "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de".to_string(),
        ),
        ("X-HubSpot-Signature-Version", "v1".to_string()),
    ];
    let mut config = test_config(&db);
    config.webhook.client_secrets = vec!["yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy".into()];
    let strict = spawn_app_with(config.clone()).await;
    assert_eq!(strict.post_with(v1_body, &v1_headers).await.status(), 401);
    strict.stop().await;

    config.webhook.allow_legacy_signatures = true;
    let lenient = spawn_app_with(config).await;
    let response = lenient.post_with(v1_body, &v1_headers).await;
    assert_eq!(response.status(), 400);
    assert_eq!(json(response).await["error"]["field"], "body");

    // A v2-signed form submission is accepted.
    let body = submission("conv-v2", "bo@example.org");
    let uri = format!("{PUBLIC_URL}/webhooks/hubspot");
    let v2 = sha256_hex(&format!(
        "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyyPOST{uri}{body}"
    ));
    let response = lenient
        .post_with(
            &body,
            &[
                ("X-HubSpot-Signature", v2),
                ("X-HubSpot-Signature-Version", "v2".into()),
            ],
        )
        .await;
    assert_eq!(response.status(), 202);
    assert_eq!(row_counts(&db.store()).await, (1, 1));
    lenient.stop().await;
}

fn sha256_hex(text: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

/// A delivery PostgreSQL cannot store (a NUL byte in text) fails the statement of
/// any batch it is in, as a whole; the queue then commits each delivery alone, so
/// the good ones sharing that batch are stored and only the bad one gets an error.
/// Four fillers first take the writer permits, so the next three queue and are
/// written as one batch.
#[actix_web::test]
async fn one_bad_delivery_does_not_fail_the_others_in_its_batch() {
    let db = TestDb::postgres();
    let store = db.migrated_store().await;
    let batch = [
        new_intake("alone:good", "{}"),
        new_intake("alone:bad", "{\"nul\": \"\0\"}"),
    ];
    let whole = store
        .run(move |conn| events::accept_all(conn, &batch))
        .await;
    assert!(whole.is_err(), "the bad delivery fails its batch");
    assert_eq!(
        row_counts(&store).await,
        (0, 0),
        "and nothing of it is stored"
    );

    let queue = IntakeQueue::start(store.clone());
    let fillers = join_all((0..4).map(|i| queue.accept(new_intake(&format!("filler:{i}"), "{}"))));
    let (fillers, good, bad, other) = futures_util::join!(
        fillers,
        queue.accept(new_intake("batch:good", "{}")),
        queue.accept(new_intake("batch:bad", "{\"nul\": \"\0\"}")),
        queue.accept(new_intake("batch:other", "{}")),
    );
    assert!(fillers.iter().all(Result::is_ok));
    assert!(!good.expect("good delivery committed").duplicate);
    assert!(!other.expect("other delivery committed").duplicate);
    let error = bad.expect_err("a NUL byte cannot be stored");
    assert!(!error.is_unavailable(), "{error}");
    assert_eq!(row_counts(&store).await, (6, 6));
}
