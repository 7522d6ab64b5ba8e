//! A lead in pilot mode runs all 13 steps with real reads, the sandbox sees no
//! write at all (no contact, association, share, draft, message, note or task),
//! and the workflow shows each write it would have made, with its body.

use base64::Engine as _;
use sales_agent::steps::pilot::{HELD_IN_PILOT, NOT_CREATED, UNCREATED_CONTACT};

use super::{DANIEL, LAURA, detail, requests, switch, writes_seen};
use crate::helpers::{TestDb, spawn_stack_with};
use crate::on_both_backends;

on_both_backends!(a_pilot_lead_finishes_writes_nothing_outside_and_shows_each_write,);

const MAYA: &str = "maya.chen@northwind-analytics.com";

async fn a_pilot_lead_finishes_writes_nothing_outside_and_shows_each_write(db: TestDb) {
    let stack = spawn_stack_with(
        &db,
        |mut config| {
            // Drive shares are writes too.
            config.engine.asset_share = true;
            config
        },
        Default::default(),
    )
    .await;
    let (notes, tasks, contacts) = (
        stack.sandbox.crm_objects("notes").len(),
        stack.sandbox.crm_objects("tasks").len(),
        stack.sandbox.crm_objects("contacts").len(),
    );
    let (drafts_before, sent_before) = (
        stack.sandbox.drafts(MAYA).len(),
        stack.sandbox.sent(MAYA).len(),
    );
    switch(&stack.app, "pilot").await;

    let laura = stack.answered(LAURA).await;
    let daniel = stack.answered(DANIEL).await;

    // Nothing was written: by the sandbox's request counts and by its state.
    assert_eq!(writes_seen(&stack), Vec::<(String, u64)>::new());
    assert_eq!(stack.sandbox.crm_objects("notes").len(), notes);
    assert_eq!(stack.sandbox.crm_objects("tasks").len(), tasks);
    assert_eq!(stack.sandbox.crm_objects("contacts").len(), contacts);
    assert_eq!(stack.sandbox.drafts(MAYA).len(), drafts_before);
    assert_eq!(stack.sandbox.sent(MAYA).len(), sent_before);
    // The research was real.
    for read in [
        "hubspot.contacts.get",
        "gmail.threads.list",
        "calendar.freebusy",
    ] {
        assert!(requests(&stack, read) > 0, "{read} was read");
    }

    let shown = detail(&stack.app, &laura).await;
    assert_eq!(shown["workflow"]["status"], "completed");
    assert_eq!(shown["pilot"], true);
    let writes = shown["pilot_writes"].as_array().unwrap();
    let endpoints: Vec<&str> = writes
        .iter()
        .map(|w| w["endpoint"].as_str().unwrap())
        .collect();
    let shares = endpoints
        .iter()
        .filter(|e| **e == "drive.permissions.create")
        .count();
    assert!(shares >= 1, "{endpoints:?}");
    let mut expected = vec!["hubspot.contacts.upsert", "hubspot.associations.default"];
    expected.extend(std::iter::repeat_n("drive.permissions.create", shares));
    expected.extend([
        "gmail.users.drafts.create",
        "hubspot.notes.create",
        "hubspot.tasks.create",
    ]);
    assert_eq!(endpoints, expected, "in the steps' order");
    let write = |endpoint: &str| {
        writes
            .iter()
            .find(|w| w["endpoint"] == endpoint)
            .unwrap()
            .clone()
    };

    let upsert = write("hubspot.contacts.upsert");
    assert_eq!(upsert["method"], "POST");
    assert_eq!(upsert["path"], "/crm/v3/objects/contacts/batch/upsert");
    assert_eq!(upsert["body"]["inputs"][0]["id"], LAURA);
    assert_eq!(upsert["body"]["inputs"][0]["idProperty"], "email");
    assert_eq!(
        upsert["body"]["inputs"][0]["properties"]["jobtitle"],
        "Director of Patient Operations"
    );
    // Laura is contact 5101 of company 6101 in HubSpot: the association names both.
    let association = write("hubspot.associations.default");
    assert_eq!(association["method"], "PUT");
    assert_eq!(
        association["path"],
        "/crm/v4/objects/contacts/5101/associations/default/companies/6101"
    );
    let share = write("drive.permissions.create");
    assert_eq!(share["body"]["emailAddress"], LAURA);
    assert_eq!(share["body"]["role"], "reader");
    assert!(
        share["path"]
            .as_str()
            .unwrap()
            .ends_with("/permissions?sendNotificationEmail=false&supportsAllDrives=true")
    );

    let steps = stack.step_outputs(&laura).await;
    let compose = &steps["compose"];
    let draft = write("gmail.users.drafts.create");
    assert_eq!(draft["path"], "/gmail/v1/users/me/drafts");
    let message = draft["message"].as_str().unwrap();
    assert!(message.contains(LAURA), "addressed to Laura: {message}");
    assert!(
        message.contains(&format!("sa.{laura}.deliver@")),
        "{message}"
    );
    let raw = base64::engine::general_purpose::URL_SAFE
        .decode(draft["body"]["message"]["raw"].as_str().unwrap())
        .unwrap();
    assert_eq!(
        String::from_utf8(raw).unwrap(),
        message,
        "the body carries the message"
    );
    assert!(
        draft["body"]["message"]["threadId"].is_string(),
        "a reply into Laura's thread with Maya"
    );
    let subject = compose["subject"].as_str().unwrap();
    assert!(message.contains("Subject:"), "{message}");
    assert!(!subject.is_empty());

    let note = write("hubspot.notes.create");
    let note_body = note["body"]["properties"]["hs_note_body"].as_str().unwrap();
    assert!(
        note_body.contains(&format!("[sa:op={laura}:note]")),
        "{note_body}"
    );
    assert!(
        note_body.contains("not delivered (pilot mode"),
        "{note_body}"
    );
    assert_eq!(note["body"]["associations"][0]["to"]["id"], "5101");
    let task = write("hubspot.tasks.create");
    assert_eq!(task["body"]["properties"]["hs_task_status"], "NOT_STARTED");
    assert_eq!(
        task["body"]["associations"][0]["types"][0]["associationTypeId"],
        204
    );

    let delivery = &steps["deliver"];
    assert!(delivery["draft_id"].is_null() && delivery["sent_message_id"].is_null());
    assert_eq!(delivery["held"], HELD_IN_PILOT);
    assert_eq!(steps["record"]["note_id"], NOT_CREATED);

    // Daniel is new to HubSpot: the upsert that would create him was not made,
    // so his note names the contact HubSpot would have created.
    let daniel_shown = detail(&stack.app, &daniel).await;
    assert_eq!(
        stack.step_output(&daniel, "resolve_contact").await["id"],
        UNCREATED_CONTACT
    );
    let daniel_note = daniel_shown["pilot_writes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["endpoint"] == "hubspot.notes.create")
        .unwrap()
        .clone();
    assert_eq!(
        daniel_note["body"]["associations"][0]["to"]["id"],
        UNCREATED_CONTACT
    );

    // Nothing to approve in pilot mode, for any lead.
    let approve = stack
        .app
        .api(
            reqwest::Method::POST,
            &format!("/api/workflows/{laura}/approve"),
            Some(crate::helpers::ADMIN_TOKEN),
        )
        .json(&serde_json::json!({"reason": "looks good"}))
        .send()
        .await
        .unwrap();
    assert_eq!(approve.status(), 409);

    // The same sandbox sees writes as soon as the mode is draft-only again: the
    // counts above could have caught them.
    switch(&stack.app, "draft_only").await;
    let real = stack
        .completed(
            &stack
                .sample(LAURA)
                .replace("conversionId\":\"", "conversionId\":\"again-"),
        )
        .await;
    let seen = writes_seen(&stack);
    assert!(
        seen.iter().any(|(name, _)| name == "gmail.drafts.create")
            && seen.iter().any(|(name, _)| name == "hubspot.notes.create"),
        "{seen:?}"
    );
    assert_eq!(detail(&stack.app, &real).await["pilot"], false);
    stack.stop().await;
}
