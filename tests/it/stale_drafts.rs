//! Drafts that notice a reply, end to end on both backends: the service over
//! HTTP with the sandbox (also over HTTP for its control levers), the watcher
//! on a short interval. A prospect's reply makes the draft stale within the
//! interval; a stale draft is never sent (approval refused, the automatic send
//! refused); the reply is recorded once in HubSpot and once as the experiment
//! outcome; someone else writing, the rep writing, or the rep sending the draft
//! leaves it fresh; and the console shows the badge.

use std::time::{Duration, Instant};

use reqwest::Method;
use sales_agent::domain::StaleReason;
use sales_agent::steps::send::{SendOutcome, SendRequest, send_once};
use sales_agent::store::draft_watches;
use serde_json::{Value, json};

use crate::helpers::{ADMIN_TOKEN, Stack, TestDb, console_session, json, spawn_stack_with};
use crate::on_both_backends;

on_both_backends!(
    a_prospect_reply_makes_the_draft_stale_and_it_is_never_sent,
    others_writing_or_the_rep_sending_leave_the_draft_fresh,
    a_booked_meeting_marks_the_draft_stale_once,
    send_mode_never_sends_a_draft_that_went_stale_while_its_send_waited,
);

const DANIEL: &str = "daniel.brooks@summitcare-clinics.com";
const LAURA: &str = "laura.martinez@brightpath-health.com";
const MEERA: &str = "meera.iyer@lumen-saas.io";
const CHECK: Duration = Duration::from_millis(200);

async fn stack(db: &TestDb) -> Stack {
    spawn_stack_with(
        db,
        |mut config| {
            config.engine.stale_check_every = CHECK;
            config
        },
        Default::default(),
    )
    .await
}

/// The workflow's draft: (mailbox, draft id, thread id, Message-ID).
fn draft_of(stack: &Stack, delivery: &Value) -> (String, String, String, String) {
    let mailbox = delivery["mailbox"].as_str().unwrap().to_string();
    let draft_id = delivery["draft_id"].as_str().unwrap().to_string();
    let (_, message) = stack
        .sandbox
        .drafts(&mailbox)
        .into_iter()
        .find(|(id, _)| *id == draft_id)
        .expect("the workflow's draft is in the sandbox");
    let message_id = message.message_id.clone().expect("a Message-ID");
    (mailbox, draft_id, message.thread_id, message_id)
}

/// A control lever of the sandbox, over HTTP.
async fn control(stack: &Stack, path: &str, body: Value) -> Value {
    let response = reqwest::Client::new()
        .post(format!("{}/_sandbox/{path}", stack.sandbox.base_url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.unwrap()
}

async fn detail(stack: &Stack, id: &str) -> Value {
    json(
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
    .await
}

/// Waits until the API says the workflow's draft is stale.
async fn until_stale(stack: &Stack, id: &str, within: Duration) -> Value {
    let started = Instant::now();
    loop {
        let d = detail(stack, id).await;
        if d["stale"] == true {
            return d;
        }
        assert!(
            started.elapsed() < within,
            "not stale after {within:?}: {d}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn find_watch(stack: &Stack, id: &str) -> Option<draft_watches::Watch> {
    let id = id.to_string();
    stack
        .app
        .app
        .state
        .store
        .run(move |c| draft_watches::find(c, &id))
        .await
        .unwrap()
}

async fn watch(stack: &Stack, id: &str) -> draft_watches::Watch {
    find_watch(stack, id).await.expect("the draft is watched")
}

/// Waits until the watcher has read the draft's thread after `after`.
async fn checked_after(stack: &Stack, id: &str, after: chrono::NaiveDateTime) {
    let started = Instant::now();
    while find_watch(stack, id)
        .await
        .is_none_or(|w| w.checked_at <= after)
    {
        assert!(started.elapsed() < Duration::from_secs(10), "never checked");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn metrics(stack: &Stack) -> String {
    stack
        .app
        .client
        .get(format!("{}/metrics", stack.app.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Notes on HubSpot holding `marker`.
fn notes_with(stack: &Stack, marker: &str) -> usize {
    stack
        .sandbox
        .crm_objects("notes")
        .iter()
        .filter(|n| {
            n.properties
                .get("hs_note_body")
                .is_some_and(|b| b.contains(marker))
        })
        .count()
}

async fn a_prospect_reply_makes_the_draft_stale_and_it_is_never_sent(db: TestDb) {
    let stack = stack(&db).await;
    let created = stack
        .app
        .api(Method::POST, "/api/experiments", Some(ADMIN_TOKEN))
        .json(
            &json!({"name": "Openers", "reason": "stale test", "variants": [
            {"name": "a", "opening": "Thanks for getting in touch."},
            {"name": "b", "opening": "Good to hear from you."}]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let experiment_id = json(created).await["id"].as_str().unwrap().to_string();
    let id = stack.answered(DANIEL).await;
    let delivery = stack.step_output(&id, "deliver").await;
    let (mailbox, draft_id, thread, message_id) = draft_of(&stack, &delivery);

    // Watched and read, but nothing has happened yet.
    checked_after(&stack, &id, sales_agent::store::now()).await;
    assert_eq!(detail(&stack, &id).await["stale"], false);

    let reply = control(
        &stack,
        "gmail/reply",
        json!({"mailbox": mailbox, "threadId": thread, "from": DANIEL, "name": "Daniel Brooks"}),
    )
    .await;
    assert_eq!(reply["threadId"], thread.as_str());
    assert_eq!(reply["labelIds"], json!(["INBOX", "UNREAD"]));
    let replied_at = Instant::now();
    let d = until_stale(&stack, &id, CHECK * 25).await;
    eprintln!("stale {:?} after the reply", replied_at.elapsed());
    assert_eq!(d["stale_reason"], "prospect_replied");
    assert!(d["stale_at"].is_string());

    // Send mode now: neither an approval nor the engine sends it.
    let mode = stack
        .app
        .api(Method::PUT, "/api/mode", Some(ADMIN_TOKEN))
        .json(&json!({"mode": "send", "reason": "go live"}))
        .send()
        .await
        .unwrap();
    assert_eq!(mode.status(), 200);
    let approve = stack
        .app
        .api(
            Method::POST,
            &format!("/api/workflows/{id}/approve"),
            Some(ADMIN_TOKEN),
        )
        .json(&json!({"reason": "looks good"}))
        .send()
        .await
        .unwrap();
    assert_eq!(approve.status(), 409);
    let refusal = json(approve).await;
    assert_eq!(refusal["error"]["code"], "stale_draft", "{refusal}");
    assert!(
        refusal["error"]["message"]
            .as_str()
            .unwrap()
            .contains("the prospect replied"),
        "{refusal}"
    );
    let request = SendRequest {
        workflow_id: &id,
        mailbox: &mailbox,
        draft_id: &draft_id,
        message_id: &message_id,
        recipient: DANIEL,
        prospect_zone: chrono_tz::Tz::UTC,
        actor: "engine",
    };
    let automatic = send_once(&stack.app.app.state.engine, &request)
        .await
        .unwrap();
    assert_eq!(automatic, SendOutcome::Stale(StaleReason::ProspectReplied));
    let ours =
        |m: &sales_agent::sandbox::mime::Message| m.message_id.as_deref() == Some(&message_id);
    assert!(!stack.sandbox.sent(&mailbox).iter().any(ours), "never sent");
    assert!(stack.sandbox.drafts(&mailbox).iter().any(|(_, m)| ours(m)));

    // Recorded once, however many checks run after.
    let marker = format!("[sa:op={id}:reply]");
    let started = Instant::now();
    while watch(&stack, &id).await.reply_recorded_at.is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "reply never recorded"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(CHECK * 5).await;
    assert_eq!(notes_with(&stack, &marker), 1);
    let (e, email) = (experiment_id.clone(), DANIEL.to_string());
    let assignment = stack
        .app
        .app
        .state
        .store
        .run(move |c| sales_agent::store::experiments::find_assignment(c, &e, &email))
        .await
        .unwrap()
        .expect("assigned");
    let recorded = watch(&stack, &id).await;
    assert_eq!(
        assignment.replied_at, recorded.replied_at,
        "the reply's time, once"
    );
    assert!(assignment.meeting_at.is_none());
    let text = metrics(&stack).await;
    assert!(
        text.contains(r#"sales_agent_drafts_stale_total{reason="prospect_replied"} 1"#),
        "{text}"
    );

    // The console: the lead page and the drafts list carry the badge and no approval.
    let (cookie, _) = console_session(&stack.app.app.state.store, "admin", "admin:ops").await;
    for path in [format!("/leads/{id}"), "/drafts".to_string()] {
        let page = stack
            .app
            .client
            .get(format!("{}{path}", stack.app.address))
            .header("Cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200, "{path}");
        let html = page.text().await.unwrap();
        assert!(
            html.contains("Stale — the prospect replied"),
            "{path}: {html}"
        );
        assert!(
            !html.contains(&format!("action=\"/leads/{id}/approve\"")),
            "{path} offers no approval"
        );
    }
    stack.stop().await;
}

async fn others_writing_or_the_rep_sending_leave_the_draft_fresh(db: TestDb) {
    let stack = stack(&db).await;
    let quiet = stack.answered(LAURA).await;
    let (mailbox, _, thread, _) = draft_of(&stack, &stack.step_output(&quiet, "deliver").await);
    control(
        &stack,
        "gmail/reply",
        json!({"mailbox": mailbox, "threadId": thread, "from": "colleague@brightpath-health.com"}),
    )
    .await;
    let rep_note = format!(
        "From: {mailbox}\nTo: {LAURA}\nSubject: Re: a note\nMessage-ID: <rep.{thread}@northwind.example>\n\nI'll send times shortly.\n"
    );
    stack.put_message(
        &mailbox,
        Some(&thread),
        &rep_note,
        &["SENT"],
        chrono::Duration::zero(),
    );

    let sent = stack.answered(MEERA).await;
    let (rep_box, draft_id, sent_thread, _) =
        draft_of(&stack, &stack.step_output(&sent, "deliver").await);
    control(
        &stack,
        "gmail/send-draft",
        json!({"mailbox": rep_box, "draftId": draft_id}),
    )
    .await;
    // The prospect answers the mail the rep sent: a conversation, not a stale draft.
    control(
        &stack,
        "gmail/reply",
        json!({"mailbox": rep_box, "threadId": sent_thread, "from": MEERA}),
    )
    .await;

    let now = sales_agent::store::now();
    checked_after(&stack, &quiet, now).await;
    checked_after(&stack, &sent, now).await;
    // A few more rounds: still nothing.
    tokio::time::sleep(CHECK * 3).await;
    assert_eq!(watch(&stack, &quiet).await.state, "open");
    assert_eq!(watch(&stack, &sent).await.state, "sent");
    for id in [&quiet, &sent] {
        let d = detail(&stack, id).await;
        assert_eq!(d["stale"], false, "{id}");
        assert!(d["stale_reason"].is_null());
    }
    let text = metrics(&stack).await;
    assert!(text.contains(r#"sales_agent_drafts_stale_total{reason="prospect_replied"} 0"#));
    assert_eq!(notes_with(&stack, ":reply]"), 0);
    stack.stop().await;
}

async fn a_booked_meeting_marks_the_draft_stale_once(db: TestDb) {
    let stack = stack(&db).await;
    let id = stack.answered(DANIEL).await;
    let services = &stack.app.app.state.engine;
    let mark = || sales_agent::steps::stale::mark_stale(services, &id, StaleReason::MeetingBooked);
    assert!(mark().await.unwrap(), "the first call changes it");
    assert!(!mark().await.unwrap(), "the second changes nothing");
    let d = detail(&stack, &id).await;
    assert_eq!(d["stale"], true);
    assert_eq!(d["stale_reason"], "meeting_booked");
    // A later reply changes nothing either: no reply is recorded for it.
    let (mailbox, _, thread, _) = draft_of(&stack, &stack.step_output(&id, "deliver").await);
    control(
        &stack,
        "gmail/reply",
        json!({"mailbox": mailbox, "threadId": thread, "from": DANIEL}),
    )
    .await;
    tokio::time::sleep(CHECK * 5).await;
    assert_eq!(detail(&stack, &id).await["stale_reason"], "meeting_booked");
    let text = metrics(&stack).await;
    assert!(text.contains(r#"sales_agent_drafts_stale_total{reason="meeting_booked"} 1"#));
    assert!(text.contains(r#"sales_agent_drafts_stale_total{reason="prospect_replied"} 0"#));
    assert!(
        !sales_agent::steps::stale::mark_stale(
            services,
            "no-such-workflow",
            StaleReason::MeetingBooked
        )
        .await
        .unwrap()
    );
    stack.stop().await;
}

/// Send mode, with Gmail refusing `drafts.send` (429) so the deliver step waits
/// to retry with its draft made: the prospect replies meanwhile, and the
/// engine's own next attempt refuses the stale draft and holds it.
async fn send_mode_never_sends_a_draft_that_went_stale_while_its_send_waited(db: TestDb) {
    use sales_agent::sandbox::faults::FaultSpec;
    let refuse_sends = std::collections::BTreeMap::from([(
        "gmail.drafts.send".to_string(),
        FaultSpec {
            rate_limit_rate: 1.0,
            retry_after: Some(1),
            ..FaultSpec::default()
        },
    )]);
    let stack = spawn_stack_with(
        &db,
        |mut config| {
            config.engine.stale_check_every = CHECK;
            config.engine.max_attempts = 100;
            config.engine.retry_max = Duration::from_secs(1);
            // A refused send's outcome is "unknown" for twice this.
            config.connectors.timeout = Duration::from_secs(1);
            config
        },
        refuse_sends,
    )
    .await;
    let mode = stack
        .app
        .api(Method::PUT, "/api/mode", Some(ADMIN_TOKEN))
        .json(&json!({"mode": "send", "reason": "go live"}))
        .send()
        .await
        .unwrap();
    assert_eq!(mode.status(), 200);
    let accepted = stack.app.post_signed(&stack.sample(DANIEL)).await;
    assert_eq!(accepted.status(), 202);
    let id = json(accepted).await["workflow_id"]
        .as_str()
        .unwrap()
        .to_string();
    // The draft exists; its send keeps being refused.
    let started = Instant::now();
    let (mailbox, thread) = loop {
        let found = stack.sandbox.inspect(|w| {
            w.mailboxes.iter().find_map(|(email, mb)| {
                mb.drafts.values().find_map(|m| {
                    let m = mb.messages.get(m)?;
                    m.to.iter()
                        .any(|t| t.contains(DANIEL))
                        .then(|| (email.clone(), m.thread_id.clone()))
                })
            })
        });
        if let Some(found) = found {
            break found;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "no draft made");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    control(
        &stack,
        "gmail/reply",
        json!({"mailbox": mailbox, "threadId": thread, "from": DANIEL}),
    )
    .await;
    until_stale(&stack, &id, Duration::from_secs(30)).await;
    // Gmail still refuses sends: the next attempt finds nothing in Sent, and
    // its claim refuses the stale draft, which the workflow then holds.
    let statuses = stack
        .wait_finished(std::slice::from_ref(&id), Duration::from_secs(60))
        .await;
    assert_eq!(statuses, ["completed"]);
    let delivery = stack.step_output(&id, "deliver").await;
    assert!(delivery["sent_message_id"].is_null(), "{delivery}");
    assert!(
        delivery["held"].as_str().unwrap().contains("stale"),
        "{delivery}"
    );
    assert!(
        !stack
            .sandbox
            .sent(&mailbox)
            .iter()
            .any(|m| m.to.iter().any(|t| t.contains(DANIEL))),
        "never sent"
    );
    stack.stop().await;
}
