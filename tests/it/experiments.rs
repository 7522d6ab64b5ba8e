//! A/B experiments end to end on both backends: contacts are assigned by a hash
//! of their address, the variant shapes the draft, outcomes seeded in the sandbox
//! (a prospect's message in the reply's thread, an event with the prospect as
//! attendee) are found by the outcome check, and the admin API reports
//! per-variant counts with a significance figure.

use std::time::Duration;

use reqwest::Method;
use sales_agent::experiments::{Variant, assign, stats};
use serde_json::{Value, json};

use crate::helpers::{
    ADMIN_TOKEN, Stack, TestDb, VIEWER_TOKEN, json, spawn_stack, spawn_stack_with, submission,
};
use crate::on_both_backends;

on_both_backends!(
    an_experiment_assigns_by_contact_and_reports_outcomes_per_variant,
    the_supervisor_checks_outcomes_on_its_timer,
);

const CTA: &str = "Which of these times suits you best?";

/// The compose and deliver outputs of a finished workflow.
async fn outputs(stack: &Stack, workflow_id: &str) -> (Value, Value) {
    (
        stack.step_output(workflow_id, "compose").await,
        stack.step_output(workflow_id, "deliver").await,
    )
}

/// A message from the prospect landing in `thread_id` of `mailbox`, as Gmail
/// files an inbound reply (same thread, INBOX, after the draft was written).
fn deliver_reply(stack: &Stack, mailbox: &str, thread_id: &str, from: &str) {
    let raw = format!(
        "From: {from}\nTo: {mailbox}\nSubject: Re: your note\nMessage-ID: <reply.{thread_id}@prospect.test>\n\nSounds good, Tuesday works.\n"
    );
    stack.put_message(
        mailbox,
        Some(thread_id),
        &raw,
        &["INBOX", "UNREAD"],
        chrono::Duration::seconds(-1),
    );
}

/// The Gmail thread of the workflow's draft (a reply that started a new thread
/// has its thread id only there).
fn draft_thread(stack: &Stack, delivery: &Value) -> String {
    let mailbox = delivery["mailbox"].as_str().unwrap();
    let ours = delivery["message_id"]
        .as_str()
        .unwrap()
        .trim_matches(['<', '>']);
    stack
        .sandbox
        .drafts(mailbox)
        .into_iter()
        .find(|(_, m)| m.message_id.as_deref().map(|i| i.trim_matches(['<', '>'])) == Some(ours))
        .map(|(_, m)| m.thread_id)
        .expect("the workflow's draft")
}

/// The prospect books a meeting: an event on the rep's calendar with them as attendee.
fn book_meeting(stack: &Stack, calendar: &str, attendee: &str) {
    let mut world = stack.sandbox.sandbox().lock_world();
    let n = world.serial();
    let id = format!("booked{n:05}");
    let start = chrono::Utc::now() + chrono::Duration::days(3);
    let resource = json!({"kind": "calendar#event", "id": id, "status": "confirmed", "summary": "Intro call",
        "created": chrono::Utc::now().to_rfc3339(), "start": {"dateTime": start.to_rfc3339()},
        "end": {"dateTime": (start + chrono::Duration::minutes(30)).to_rfc3339()},
        "attendees": [{"email": calendar, "responseStatus": "accepted"}, {"email": attendee, "responseStatus": "accepted"}]});
    world
        .calendars
        .get_mut(calendar)
        .expect("rep calendar")
        .events
        .insert(
            id.clone(),
            sales_agent::sandbox::state::Event {
                id,
                resource,
                start,
                end: start + chrono::Duration::minutes(30),
            },
        );
}

async fn an_experiment_assigns_by_contact_and_reports_outcomes_per_variant(db: TestDb) {
    let stack = spawn_stack(&db).await;
    let api = |method, path: &str| stack.app.api(method, path, Some(ADMIN_TOKEN));
    let variants = json!([
        {"name": "plain", "subject": "Your Northwind demo"},
        {"name": "direct", "subject": "{first_name}, times for your demo", "call_to_action": CTA}
    ]);
    let created = api(Method::POST, "/api/experiments")
        .json(&json!({"name": "Direct question", "variants": variants, "reason": "test the CTA"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let experiment = json(created).await;
    let experiment_id = experiment["id"].as_str().unwrap().to_string();
    let arms: Vec<Variant> = serde_json::from_value(variants).unwrap();
    // A second experiment on the same element would confound the first.
    let clash = api(Method::POST, "/api/experiments")
        .json(&json!({"name": "Other", "reason": "x", "variants": [
            {"name": "a", "subject": "A"}, {"name": "b", "subject": "B"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(clash.status(), 409);
    let viewer = stack
        .app
        .api(Method::POST, "/api/experiments", Some(VIEWER_TOKEN))
        .json(&json!({"name": "x", "reason": "x", "variants": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(viewer.status(), 403);
    let one_arm = api(Method::POST, "/api/experiments")
        .json(&json!({"name": "x", "reason": "x", "variants": [{"name": "a", "opening": "Hi."}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(one_arm.status(), 400);

    let emails: Vec<String> = (0..16)
        .map(|i| format!("prospect{i}@harbor-{i}-logistics.com"))
        .collect();
    let mut ids = Vec::new();
    for (i, email) in emails.iter().enumerate() {
        let response = stack
            .app
            .post_signed(&submission(&format!("exp-{i}"), email))
            .await;
        assert_eq!(response.status(), 202);
        ids.push(
            json(response).await["workflow_id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let statuses = stack.wait_finished(&ids, Duration::from_secs(90)).await;
    assert!(statuses.iter().all(|s| s == "completed"), "{statuses:?}");

    // Each contact got the arm the hash gives, the draft shows it, the step
    // output names the recorded assignment.
    let mut expected: Vec<(u64, u64, u64)> = vec![(0, 0, 0); 2]; // assigned, replies, meetings
    for (i, (id, email)) in ids.iter().zip(&emails).enumerate() {
        let arm = assign(&experiment_id, email, &arms).unwrap();
        let index = usize::from(arm.name == "direct");
        let (compose, delivery) = outputs(&stack, id).await;
        let applied = &compose["experiments"][0];
        assert_eq!(applied["variant"], arm.name.as_str(), "{email}");
        assert!(
            applied["assignment_id"]
                .as_str()
                .is_some_and(|a| !a.is_empty())
        );
        let body = compose["body"].as_str().unwrap();
        assert_eq!(body.contains(CTA), arm.name == "direct", "{body}");
        let subject = compose["subject"].as_str().unwrap();
        if arm.name == "direct" {
            assert_eq!(subject, "Ana, times for your demo");
        } else {
            assert_eq!(subject, "Your Northwind demo");
        }
        expected[index].0 += 1;
        let mailbox = delivery["mailbox"].as_str().unwrap().to_string();
        let thread = draft_thread(&stack, &delivery);
        // Replies from most "direct" contacts and a few "plain" ones; a meeting
        // from every third contact.
        if (index == 1 && i % 4 != 0) || (index == 0 && i % 3 == 0) {
            deliver_reply(&stack, &mailbox, &thread, &format!("Ana P <{email}>"));
            expected[index].1 += 1;
        }
        if i % 3 == 1 {
            book_meeting(&stack, &mailbox, email);
            expected[index].2 += 1;
        }
    }
    assert!(
        expected.iter().all(|e| e.0 > 0),
        "both arms used: {expected:?}"
    );

    let check = api(Method::POST, "/api/experiments/check-outcomes")
        .send()
        .await
        .unwrap();
    assert_eq!(check.status(), 200);
    let report = json(check).await;
    assert_eq!(report["failed"], 0, "{report}");
    assert_eq!(report["new_replies"], expected[0].1 + expected[1].1);
    assert_eq!(report["new_meetings"], expected[0].2 + expected[1].2);
    // Outcomes are only added: a second run finds nothing new.
    let again = json(
        api(Method::POST, "/api/experiments/check-outcomes")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (
            again["new_replies"].as_u64(),
            again["new_meetings"].as_u64()
        ),
        (Some(0), Some(0))
    );

    let detail = stack
        .app
        .api(
            Method::GET,
            &format!("/api/experiments/{experiment_id}"),
            Some(VIEWER_TOKEN),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(detail.status(), 200);
    let detail = json(detail).await;
    let rows = detail["results"]["variants"].as_array().unwrap();
    for (row, (arm, want)) in rows.iter().zip(arms.iter().zip(&expected)) {
        assert_eq!(row["variant"], arm.name.as_str());
        assert_eq!(row["assigned"], want.0, "{row}");
        assert_eq!(row["replies"], want.1, "{row}");
        assert_eq!(row["meetings"], want.2, "{row}");
        let rate = row["reply_rate"].as_f64().unwrap();
        assert!((rate - want.1 as f64 / want.0 as f64).abs() < 1e-9);
    }
    let want = stats::compare(&[
        (expected[0].1, expected[0].0),
        (expected[1].1, expected[1].0),
    ])
    .expect("defined for these counts");
    let got = &detail["results"]["replies_significance"];
    assert_eq!(got["test"], "two_proportion_z");
    assert!(
        (got["p_value"].as_f64().unwrap() - want.p_value).abs() < 1e-9,
        "{got}"
    );
    assert!((0.0..=1.0).contains(&want.p_value));

    // Stopped: listed as such, and new contacts are no longer assigned.
    let stop = api(
        Method::POST,
        &format!("/api/experiments/{experiment_id}/stop"),
    )
    .json(&json!({"reason": "enough data"}))
    .send()
    .await
    .unwrap();
    assert_eq!(json(stop).await["stopped"], true);
    let listed = json(api(Method::GET, "/api/experiments").send().await.unwrap()).await;
    assert_eq!(listed["experiments"][0]["status"], "stopped");
    let late = stack
        .app
        .post_signed(&submission("exp-late", "late@harbor-late-logistics.com"))
        .await;
    let late_id = json(late).await["workflow_id"]
        .as_str()
        .unwrap()
        .to_string();
    stack
        .wait_finished(std::slice::from_ref(&late_id), Duration::from_secs(30))
        .await;
    let (compose, _) = outputs(&stack, &late_id).await;
    assert_eq!(compose["experiments"], json!([]));
    stack.stop().await;
}

async fn the_supervisor_checks_outcomes_on_its_timer(db: TestDb) {
    let stack = spawn_stack_with(
        &db,
        |mut config| {
            config.engine.experiment_check_every = Duration::from_millis(200);
            config
        },
        Default::default(),
    )
    .await;
    let created = stack
        .app
        .api(Method::POST, "/api/experiments", Some(ADMIN_TOKEN))
        .json(
            &json!({"name": "Timer", "reason": "timer test", "variants": [
            {"name": "a", "opening": "Thanks for getting in touch."},
            {"name": "b", "opening": "Good to hear from you."}]}),
        )
        .send()
        .await
        .unwrap();
    let experiment_id = json(created).await["id"].as_str().unwrap().to_string();
    const DANIEL: &str = "daniel.brooks@summitcare-clinics.com";
    let id = stack.answered(DANIEL).await;
    let delivery = stack.step_output(&id, "deliver").await;
    let mailbox = delivery["mailbox"].as_str().unwrap().to_string();
    let thread = draft_thread(&stack, &delivery);
    deliver_reply(&stack, &mailbox, &thread, DANIEL);

    // No admin call: the supervisor's timer finds the reply.
    let store = stack.app.app.state.store.clone();
    let started = std::time::Instant::now();
    loop {
        let (e, email) = (experiment_id.clone(), DANIEL.to_string());
        let assignment = store
            .run(move |c| sales_agent::store::experiments::find_assignment(c, &e, &email))
            .await
            .unwrap()
            .expect("assigned");
        if assignment.replied_at.is_some() {
            assert!(assignment.meeting_at.is_none());
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the timer never found the reply"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stack.stop().await;
}
