//! The whole pipeline over real HTTP, on both backends: a signed submission in,
//! a threaded Gmail draft, a HubSpot contact, note and task out (in the sandbox).

use std::time::Duration;

use reqwest::Method;
use sales_agent::store::events::{NewIntake, accept};

use crate::helpers::{ADMIN_TOKEN, TestDb, json, spawn_stack};
use crate::on_both_backends;

on_both_backends!(
    a_signed_submission_becomes_one_threaded_draft_contact_note_and_task,
    workflows_accepted_before_a_restart_are_finished_after_it,
);

const MAYA: &str = "maya.chen@northwind-analytics.com";
const LAURA: &str = "laura.martinez@brightpath-health.com";

async fn a_signed_submission_becomes_one_threaded_draft_contact_note_and_task(db: TestDb) {
    let stack = spawn_stack(&db).await;

    let response = stack.app.post_signed(&stack.sample(LAURA)).await;
    assert_eq!(response.status(), 202);
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

    // The workflow detail shows all 13 steps.
    let detail = json(
        stack
            .app
            .api(
                Method::GET,
                &format!("/api/workflows/{id}"),
                Some(ADMIN_TOKEN),
            )
            .send()
            .await
            .unwrap(),
    )
    .await;
    let steps = detail["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 13, "{detail}");
    assert_eq!(
        detail["steps"][7]["output"]["rep_id"], "maya-chen",
        "the contact's owner answers"
    );

    // Exactly one draft, threaded into the existing conversation.
    let drafts: Vec<_> = stack
        .sandbox
        .drafts(MAYA)
        .into_iter()
        .filter(|(_, m)| m.to.iter().any(|t| t.contains(LAURA)))
        .collect();
    assert_eq!(drafts.len(), 1);
    let (_, draft) = &drafts[0];
    let earlier = stack
        .sandbox
        .messages(MAYA, "INBOX")
        .into_iter()
        .find(|m| m.from.contains(LAURA))
        .expect("the fixture's thread");
    assert_eq!(draft.thread_id, earlier.thread_id, "in the existing thread");
    assert!(
        draft.in_reply_to.is_some() && draft.subject.starts_with("Re:"),
        "{draft:?}"
    );
    assert_eq!(
        draft
            .message_id
            .as_deref()
            .map(|m| m.trim_matches(['<', '>'])),
        Some(format!("sa.{id}.deliver@agent.example.test").as_str())
    );
    assert!(draft.body.starts_with("Hi Laura,"), "{}", draft.body);
    assert!(
        draft
            .headers
            .iter()
            .any(|(n, v)| n.eq_ignore_ascii_case("List-Unsubscribe")
                && v.contains("https://agent.example.test/unsubscribe/"))
    );
    let ours = |m: &sales_agent::sandbox::mime::Message| m.message_id == draft.message_id;
    assert!(
        !stack.sandbox.sent(MAYA).iter().any(ours),
        "draft-only: nothing sent"
    );

    // One contact, one note and one task with a due date and owner.
    let contacts: Vec<_> = stack
        .sandbox
        .crm_objects("contacts")
        .into_iter()
        .filter(|c| c.properties.get("email").map(String::as_str) == Some(LAURA))
        .collect();
    assert_eq!(contacts.len(), 1);
    let contact = contacts[0].id;
    let notes = stack.sandbox.associated("contacts", contact, "notes");
    let tasks = stack.sandbox.associated("contacts", contact, "tasks");
    assert_eq!((notes.len(), tasks.len()), (1, 1));
    let task = stack
        .sandbox
        .crm_objects("tasks")
        .into_iter()
        .find(|t| t.id == tasks[0])
        .unwrap();
    assert!(task.properties.contains_key("hs_timestamp"), "due date");
    assert_eq!(
        task.properties.get("hubspot_owner_id").map(String::as_str),
        Some("71001")
    );
    stack.stop().await;
}

async fn workflows_accepted_before_a_restart_are_finished_after_it(db: TestDb) {
    // Submissions committed by an earlier process that died before running them.
    let store = db.migrated_store().await;
    let emails = [
        "daniel.brooks@summitcare-clinics.com",
        "anna.schmid@rheinwerk-maschinenbau.de",
    ];
    let mut ids = Vec::new();
    for (n, email) in emails.iter().enumerate() {
        let body = serde_json::json!({"conversionId": format!("before-crash-{n}"), "values": [{"name": "email", "value": email}, {"name": "message", "value": "Please send pricing"}]});
        let submission = sales_agent::intake::parse(body.to_string().as_bytes()).unwrap();
        let intake = NewIntake {
            idempotency_key: sales_agent::intake::idempotency_key(&submission),
            source: "forms_api".into(),
            signature_version: "v3".into(),
            portal_id: None,
            form_id: None,
            conversion_id: submission.conversion_id.clone(),
            raw_body: body.to_string(),
            email: email.to_string(),
            submission: serde_json::to_string(&submission).unwrap(),
        };
        ids.push(
            store
                .run(move |c| accept(c, &intake))
                .await
                .unwrap()
                .workflow_id,
        );
    }

    let stack = spawn_stack(&db).await;
    assert_eq!(
        stack.wait_finished(&ids, Duration::from_secs(30)).await,
        ["completed", "completed"]
    );
    stack.stop().await;
}
