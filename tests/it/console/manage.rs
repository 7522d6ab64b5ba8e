//! The console's management actions over plain HTTP with a real session row:
//! the batch retry of dead letters retries only those matching the list's
//! filters (rep and intent included), audited once per lead with the one
//! reason; a viewer's forged POST to any new action is refused and changes
//! nothing; the suppression search and the lead filters narrow their lists.

use diesel::prelude::*;
use reqwest::StatusCode;
use sales_agent::store::{Store, audit, schema::step_runs};

use super::{audit_of, status_of};
use crate::helpers::{ADMIN_TOKEN, TestDb, console_session, spawn_app};
use crate::on_both_backends;

on_both_backends!(
    batch_retry_retries_only_the_dead_letters_matching_the_filter,
    a_viewer_is_refused_every_management_action,
    suppression_search_and_lead_filters_narrow_the_lists
);

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Commits what `qualify` and `route` found for a lead, as the steps would.
async fn found(store: &Store, id: &str, intent: &str, rep: &str) {
    let (id, intent, rep) = (id.to_string(), intent.to_string(), rep.to_string());
    store
        .run(move |c| {
            let at = sales_agent::store::now();
            for (step, output) in [
                (
                    "qualify",
                    serde_json::json!({"intent": intent, "score": 50, "reasons": []}),
                ),
                (
                    "route",
                    serde_json::json!({"rep_id": rep, "reason": "owner"}),
                ),
            ] {
                diesel::insert_into(step_runs::table)
                    .values((
                        step_runs::workflow_id.eq(&id),
                        step_runs::step.eq(step),
                        step_runs::outcome.eq("ok"),
                        step_runs::attempts.eq(1),
                        step_runs::output.eq(Some(output.to_string())),
                        step_runs::started_at.eq(at),
                        step_runs::finished_at.eq(at),
                        step_runs::duration_ms.eq(1i64),
                    ))
                    .execute(c)?;
            }
            Ok(())
        })
        .await
        .unwrap();
}

async fn post(
    address: &str,
    path: &str,
    cookie: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    client()
        .post(format!("{address}{path}"))
        .header("cookie", cookie)
        .form(fields)
        .send()
        .await
        .unwrap()
}

async fn page(address: &str, path: &str, cookie: &str) -> (StatusCode, String) {
    let response = client()
        .get(format!("{address}{path}"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

/// Three dead letters, committed as intake does: (demo, maya), (pricing,
/// maya), (demo, jonas).
async fn three_dead_letters(store: &Store) -> [String; 3] {
    use sales_agent::store::schema::workflows;
    let mut ids = Vec::new();
    for (i, (intent, rep)) in [
        ("demo", "maya-chen"),
        ("pricing", "maya-chen"),
        ("demo", "jonas-weber"),
    ]
    .into_iter()
    .enumerate()
    {
        let id = store
            .run(move |c| {
                let intake = crate::helpers::new_intake(&format!("manage:{i}"), "{}");
                let id = sales_agent::store::events::accept(c, &intake)?.workflow_id;
                diesel::update(workflows::table.find(&id))
                    .set((
                        workflows::status.eq("dead_lettered"),
                        workflows::last_error.eq(Some("hubspot: 401 unauthorized")),
                    ))
                    .execute(c)?;
                Ok(id)
            })
            .await
            .unwrap();
        found(store, &id, intent, rep).await;
        ids.push(id);
    }
    ids.try_into().unwrap()
}

async fn batch_retry_retries_only_the_dead_letters_matching_the_filter(db: TestDb) {
    let app = spawn_app(&db).await;
    let store = app.app.state.store.clone();
    let [demo_maya, pricing_maya, demo_jonas] = three_dead_letters(&store).await;
    let (cookie, csrf) = console_session(&store, "admin", "admin:maria").await;

    let done = post(
        &app.address,
        "/leads/retry-dead",
        &cookie,
        &[
            ("csrf", &csrf),
            ("status", "dead_lettered"),
            ("intent", "demo"),
            ("rep", "maya-chen"),
            ("reason", "hubspot token renewed"),
            ("confirm", "yes"),
        ],
    )
    .await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    let back = done.headers()["location"].to_str().unwrap();
    assert!(
        back.contains("intent=demo") && back.contains("rep=maya-chen"),
        "back to the same filters: {back}"
    );
    assert_eq!(status_of(&store, &demo_maya).await, "pending");
    assert_eq!(status_of(&store, &pricing_maya).await, "dead_lettered");
    assert_eq!(status_of(&store, &demo_jonas).await, "dead_lettered");
    let retried: Vec<_> = audit_of(&store, &demo_maya)
        .await
        .into_iter()
        .filter(|a| a.action == "workflow.retry")
        .collect();
    assert_eq!(retried.len(), 1, "one audit entry for the one lead");
    assert_eq!(retried[0].actor, "admin:maria");
    assert_eq!(retried[0].reason.as_deref(), Some("hubspot token renewed"));
    for untouched in [&pricing_maya, &demo_jonas] {
        let trail = audit_of(&store, untouched).await;
        assert!(
            !trail.iter().any(|a| a.action == "workflow.retry"),
            "{trail:?}"
        );
    }

    // An intent nobody finds is refused, not read as "any".
    let refused = post(
        &app.address,
        "/leads/retry-dead",
        &cookie,
        &[
            ("csrf", &csrf),
            ("intent", "everything"),
            ("reason", "x"),
            ("confirm", "yes"),
        ],
    )
    .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert_eq!(status_of(&store, &pricing_maya).await, "dead_lettered");
    app.stop().await;
}

async fn a_viewer_is_refused_every_management_action(db: TestDb) {
    let app = spawn_app(&db).await;
    let store = app.app.state.store.clone();
    let created = app
        .api(reqwest::Method::POST, "/api/experiments", Some(ADMIN_TOKEN))
        .json(&serde_json::json!({"name": "Subject test", "reason": "try",
            "variants": [{"name": "plain"}, {"name": "short", "subject": "Demo?"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let experiment = crate::helpers::json(created).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (cookie, csrf) = console_session(&store, "viewer", "viewer:vic").await;
    let before = store
        .run(|c| audit::list_recent(c, None, None, 500))
        .await
        .unwrap()
        .len();
    let stop = format!("/experiments/{experiment}/stop");
    let forms: [(&str, Vec<(&str, &str)>); 6] = [
        ("/assets/sync", vec![]),
        (
            "/assets/1OnePagerPlatformOverview000001/tags",
            vec![("intent", "pricing"), ("reason", "x")],
        ),
        (
            "/experiments",
            vec![
                ("name", "Forged"),
                ("variant", "a"),
                ("subject", "A"),
                ("variant", "b"),
                ("subject", "B"),
                ("reason", "x"),
            ],
        ),
        (stop.as_str(), vec![("reason", "x"), ("confirm", "yes")]),
        ("/reps/maya-chen/train", vec![]),
        (
            "/reps/maya-chen/train/apply",
            vec![("profile", "{}"), ("reason", "x"), ("confirm", "yes")],
        ),
    ];
    for (path, mut fields) in forms {
        fields.push(("csrf", &csrf));
        let refused = post(&app.address, path, &cookie, &fields).await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{path}");
    }
    // The import form is multipart (a file or pasted text), written out here.
    let boundary = "console-test-boundary";
    let body: String = [
        ("csrf", csrf.as_str()),
        ("reason", "x"),
        ("profile", r#"{"format":1,"profiles":[]}"#),
    ]
    .iter()
    .map(|(name, value)| {
        format!(
            "--{boundary}\r\ncontent-disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        )
    })
    .chain([format!("--{boundary}--\r\n")])
    .collect();
    let refused = client()
        .post(format!("{}/reps/maya-chen/voice/import", app.address))
        .header("cookie", &cookie)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN, "import");
    let after = store
        .run(|c| audit::list_recent(c, None, None, 500))
        .await
        .unwrap();
    assert_eq!(after.len(), before, "nothing changed: {after:?}");
    let (_, shown) = page(&app.address, &format!("/experiments/{experiment}"), &cookie).await;
    assert!(shown.contains("Running") && !shown.contains("stop-form"));

    // An admin's form without the session's token is refused as well.
    let (admin, _) = console_session(&store, "admin", "admin:maria").await;
    let refused = post(
        &app.address,
        &stop,
        &admin,
        &[
            ("csrf", "not-the-token"),
            ("reason", "x"),
            ("confirm", "yes"),
        ],
    )
    .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    app.stop().await;
}

async fn suppression_search_and_lead_filters_narrow_the_lists(db: TestDb) {
    let app = spawn_app(&db).await;
    let store = app.app.state.store.clone();
    let [demo_maya, pricing_maya, demo_jonas] = three_dead_letters(&store).await;
    store
        .run(|c| {
            for email in [
                "alice@acme.example",
                "bob@acme.example",
                "carol@other.example",
            ] {
                sales_agent::store::suppressions::insert(c, email, "asked", "admin", "admin")?;
            }
            Ok(())
        })
        .await
        .unwrap();
    let (cookie, _) = console_session(&store, "viewer", "viewer:vic").await;

    let (status, body) = page(&app.address, "/settings?q=ACME", &cookie).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("alice@acme.example") && body.contains("bob@acme.example"));
    assert!(!body.contains("carol@other.example"), "only matches");
    let (_, none) = page(&app.address, "/settings?q=zed", &cookie).await;
    assert!(none.contains("No suppressed address contains"));

    let (status, demo) = page(&app.address, "/leads?intent=demo", &cookie).await;
    assert_eq!(status, StatusCode::OK);
    let shows = |body: &str, id: &str| body.contains(&format!("/leads/{id}\""));
    assert!(shows(&demo, &demo_maya) && shows(&demo, &demo_jonas));
    assert!(
        !shows(&demo, &pricing_maya),
        "the pricing lead is filtered out"
    );
    let (_, maya) = page(&app.address, "/leads?rep=maya-chen&intent=pricing", &cookie).await;
    assert!(shows(&maya, &pricing_maya) && !shows(&maya, &demo_maya) && !shows(&maya, &demo_jonas));
    assert!(
        maya.contains("Dead-lettered") && !maya.contains(">dead_lettered<"),
        "statuses read as words"
    );
    let (status, _) = page(&app.address, "/leads?intent=nonsense", &cookie).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    app.stop().await;
}
