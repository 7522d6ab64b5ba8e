//! Erasure and export, on both backends: after a demo lead, the export shows
//! the person's submission, steps and draft; `DELETE /api/contacts/{email}`
//! then leaves their address and name nowhere in the database (the raw SQLite
//! files byte for byte, every PostgreSQL row), only a hash on the suppression
//! list, so a new submission from them is skipped and no mail is made; the
//! audit log holds the erasure under the hash. A workflow still in flight is
//! cancelled by it; the audit log accepts redaction and nothing else.

use std::time::Duration;

use diesel::prelude::*;
use reqwest::Method;
use sales_agent::store::{erasure, suppressions};
use serde_json::Value;

use crate::helpers::{ADMIN_TOKEN, Stack, TestDb, VIEWER_TOKEN, json, spawn_app, spawn_stack};
use crate::on_both_backends;
use crate::secrets_at_rest::database_text;

on_both_backends!(
    an_erased_person_is_held_nowhere_but_as_a_suppressed_hash,
    erasing_cancels_workflows_in_flight_and_the_audit_log_only_allows_redaction,
);

const LAURA: &str = "laura.martinez@brightpath-health.com";
const MAILBOXES: [&str; 3] = [
    "maya.chen@northwind-analytics.com",
    "jonas.weber@northwind-analytics.com",
    "priya.raman@northwind-analytics.com",
];

fn contact_path(email: &str) -> String {
    format!("/api/contacts/{email}")
}

async fn export(stack_app: &crate::helpers::TestApp, email: &str) -> Value {
    let response = stack_app
        .api(
            Method::GET,
            &format!("{}/export", contact_path(email)),
            Some(ADMIN_TOKEN),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    json(response).await
}

async fn erase(app: &crate::helpers::TestApp, email: &str, reason: &str) -> Value {
    let response = app
        .api(Method::DELETE, &contact_path(email), Some(ADMIN_TOKEN))
        .query(&[("reason", reason)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    json(response).await
}

/// Mail in the sandbox (drafts and sent) addressed to `email`.
fn mail_to(stack: &Stack, email: &str) -> usize {
    let to = |m: &sales_agent::sandbox::mime::Message| {
        m.to.iter().any(|t| t.to_ascii_lowercase().contains(email))
    };
    MAILBOXES
        .iter()
        .map(|m| {
            stack.sandbox.sent(m).iter().filter(|x| to(x)).count()
                + stack
                    .sandbox
                    .drafts(m)
                    .iter()
                    .filter(|(_, x)| to(x))
                    .count()
        })
        .sum()
}

async fn an_erased_person_is_held_nowhere_but_as_a_suppressed_hash(db: TestDb) {
    let stack = spawn_stack(&db).await;
    let id = stack.answered(LAURA).await;
    // Also on the suppression list in the clear, added by hand.
    let added = stack
        .app
        .api(Method::POST, "/api/suppressions", Some(ADMIN_TOKEN))
        .json(&serde_json::json!({ "email": LAURA, "reason": "asked by phone" }))
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), 201);

    // The export: her submission, every step, the draft, the raw event.
    let viewer = stack
        .app
        .api(
            Method::GET,
            &format!("{}/export", contact_path(LAURA)),
            Some(VIEWER_TOKEN),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(viewer.status(), 403, "a viewer cannot export a person");
    let exported = export(&stack.app, LAURA).await;
    let workflows = exported["workflows"].as_array().unwrap();
    assert_eq!(workflows.len(), 1, "{exported}");
    let held = &workflows[0];
    assert_eq!(held["id"], id.as_str());
    let fields = &held["submission"]["fields"];
    let (first, last) = (
        fields["first_name"].as_str().unwrap().to_string(),
        fields["last_name"].as_str().unwrap().to_string(),
    );
    let name = format!("{first} {last}");
    assert!(
        held["event"]["raw_body"].to_string().contains(LAURA),
        "the raw event: {}",
        held["event"]
    );
    let steps: Vec<&str> = held["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step"].as_str().unwrap())
        .collect();
    assert!(
        steps.contains(&"compose") && steps.contains(&"deliver"),
        "{steps:?}"
    );
    let compose = held["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == "compose")
        .unwrap();
    assert!(!compose["output"]["body"].as_str().unwrap().is_empty());
    assert!(
        held["side_effects"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"].as_str().unwrap().contains("draft")),
        "the draft's ledger row: {}",
        held["side_effects"]
    );
    assert!(!held["audit"].as_array().unwrap().is_empty());
    assert_eq!(exported["suppression"]["listed"]["email"], LAURA);
    // The reader sees her before the erasure (so its silence after means something).
    let before = database_text(&db).to_lowercase();
    assert!(before.contains(LAURA) && before.contains(&name.to_lowercase()));

    let erased = erase(
        &stack.app,
        LAURA,
        &format!("{name} ({LAURA}) asked to be forgotten"),
    )
    .await;
    assert_eq!(erased["workflows"], 1, "{erased}");
    assert_eq!(erased["cancelled"], 0);
    assert_eq!(erased["changed"], true);
    assert_eq!(erased["was_suppressed"], true);
    assert_eq!(erased["email_sha256"], suppressions::email_hash(LAURA));

    // Nowhere: not in any table, index, free page or log of the database.
    let after = database_text(&db).to_lowercase();
    for needle in [LAURA.to_string(), name.to_lowercase(), last.to_lowercase()] {
        assert!(!after.contains(&needle), "{needle} is still stored");
    }

    // The audit log holds the erasure, under the hash, the reason scrubbed.
    let audit = json(
        stack
            .app
            .api(Method::GET, "/api/audit", Some(ADMIN_TOKEN))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let entry = audit["entries"]
        .as_array()
        .unwrap_or_else(|| panic!("{audit}"))
        .iter()
        .find(|e| e["action"] == "contact.erased")
        .unwrap_or_else(|| panic!("no erasure in {audit}"))
        .clone();
    assert_eq!(entry["actor"], "admin");
    assert_eq!(entry["reason"], "[erased] ([erased]) asked to be forgotten");
    let detail = &entry["detail"];
    assert_eq!(detail["email_sha256"], suppressions::email_hash(LAURA));
    assert_eq!(detail["workflows"], 1);

    // What is left: the hash on the suppression list, nothing else.
    let exported = export(&stack.app, LAURA).await;
    assert_eq!(exported["workflows"], serde_json::json!([]));
    assert_eq!(exported["suppression"]["suppressed"], true);
    assert_eq!(exported["suppression"]["listed"], Value::Null);
    assert_eq!(
        exported["suppression"]["erased_hash"],
        suppressions::email_hash(LAURA)
    );

    // Again: nothing more to do, and nothing written.
    let again = erase(&stack.app, LAURA, "asked again").await;
    assert_eq!(again["changed"], false, "{again}");
    assert_eq!(again["workflows"], 0);

    // A new submission from her is skipped at dedupe: no draft, no mail.
    let mail_before = mail_to(&stack, LAURA);
    let response = stack.app.post_signed(&stack.sample(LAURA)).await;
    assert_eq!(response.status(), 202);
    let new_id = json(response).await["workflow_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(new_id, id, "the old workflow is gone, a new one starts");
    assert_eq!(
        stack
            .wait_finished(std::slice::from_ref(&new_id), Duration::from_secs(30))
            .await,
        ["skipped"]
    );
    let outputs = stack.step_outputs(&new_id).await;
    assert!(!outputs.contains_key("deliver"), "{outputs:?}");
    assert_eq!(mail_to(&stack, LAURA), mail_before, "no new mail to her");
    stack.stop().await;
}

async fn erasing_cancels_workflows_in_flight_and_the_audit_log_only_allows_redaction(db: TestDb) {
    let app = spawn_app(&db).await;
    let email = "ana.ruiz@acme.example";
    let body = crate::helpers::submission("conv-inflight", email);
    let response = app.post_signed(&body).await;
    assert_eq!(response.status(), 202);
    // No workflows run here: it stays pending, in flight.
    let erased = erase(&app, "  Ana.Ruiz@ACME.example ", "request by mail").await;
    assert_eq!(erased["workflows"], 1, "{erased}");
    assert_eq!(erased["cancelled"], 1);
    let store = app.app.state.store.clone();
    let (workflows, events) = store
        .run(|c| {
            Ok((
                sales_agent::store::workflows::count(c)?,
                sales_agent::store::events::count(c)?,
            ))
        })
        .await
        .unwrap();
    assert_eq!((workflows, events), (0, 0));
    assert!(
        store
            .run(move |c| suppressions::is_suppressed(c, "ANA.RUIZ@acme.example"))
            .await
            .unwrap()
    );

    // The erased address is not listed in the clear; lifting its suppression
    // (the person asked to hear from us again) removes the hash.
    let listed = json(
        app.api(Method::GET, "/api/suppressions", Some(ADMIN_TOKEN))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(!listed.to_string().contains(email), "{listed}");
    let lifted = app
        .api(
            Method::DELETE,
            &format!("/api/suppressions/{email}"),
            Some(ADMIN_TOKEN),
        )
        .query(&[("reason", "asked to hear from us")])
        .send()
        .await
        .unwrap();
    assert_eq!(lifted.status(), 204);
    assert!(
        !store
            .run(move |c| suppressions::is_suppressed(c, email))
            .await
            .unwrap()
    );

    // A viewer cannot erase; a reason is required.
    let refused = app
        .api(Method::DELETE, &contact_path(email), Some(VIEWER_TOKEN))
        .query(&[("reason", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let no_reason = app
        .api(Method::DELETE, &contact_path(email), Some(ADMIN_TOKEN))
        .query(&[("reason", " ")])
        .send()
        .await
        .unwrap();
    assert_eq!(no_reason.status(), 400);

    // The audit log: redaction goes through; any other change or a delete does not.
    use sales_agent::store::schema::audit_log;
    let outcome = store
        .run(|c| {
            let id: i64 = audit_log::table
                .select(audit_log::id)
                .order(audit_log::id.asc())
                .first(c)?;
            let rename = diesel::update(audit_log::table.find(id))
                .set(audit_log::actor.eq("someone else"))
                .execute(c)
                .is_ok();
            let rewrite = diesel::update(audit_log::table.find(id))
                .set(audit_log::detail.eq(r#"{"forged":true}"#))
                .execute(c)
                .is_ok();
            let delete = diesel::delete(audit_log::table.find(id)).execute(c).is_ok();
            let redact = diesel::update(audit_log::table.find(id))
                .set((
                    audit_log::detail.eq(erasure::REDACTED),
                    audit_log::reason.eq(None::<String>),
                ))
                .execute(c)
                .is_ok();
            Ok((rename, rewrite, delete, redact))
        })
        .await
        .unwrap();
    assert_eq!(outcome, (false, false, false, true));
    app.stop().await;
}
