//! Send mode and approve-and-send over real HTTP, on both backends: one email per
//! workflow however often it is approved, never to a suppressed address, always
//! with one-click unsubscribe headers.

use std::time::Duration;

use futures_util::future::join_all;
use reqwest::Method;
use serde_json::json;

use crate::helpers::{ADMIN_TOKEN, Stack, TestDb, json, spawn_stack, spawn_stack_with};
use crate::on_both_backends;

on_both_backends!(
    send_mode_sends_the_reply_once_with_unsubscribe_headers,
    approval_sends_once_even_when_clicked_twice,
    suppression_blocks_an_approved_send,
    a_skip_recorded_before_a_crash_still_ends_the_workflow,
    the_daily_send_limit_defers_further_sends_from_a_mailbox,
    without_an_https_public_url_the_draft_is_made_and_nothing_is_sent,
);

const DANIEL: &str = "daniel.brooks@summitcare-clinics.com";
const LAURA: &str = "laura.martinez@brightpath-health.com";
const MAILBOXES: [&str; 3] = [
    "maya.chen@northwind-analytics.com",
    "jonas.weber@northwind-analytics.com",
    "priya.raman@northwind-analytics.com",
];

/// Every message in any rep's Sent folder carrying the workflow's Message-ID.
fn sent_for(stack: &Stack, workflow_id: &str) -> Vec<sales_agent::sandbox::mime::Message> {
    let ours = format!("sa.{workflow_id}.deliver@agent.example.test");
    MAILBOXES
        .iter()
        .flat_map(|m| stack.sandbox.sent(m))
        .filter(|m| {
            m.message_id
                .as_deref()
                .map(|id| id.trim_matches(['<', '>']))
                == Some(ours.as_str())
        })
        .collect()
}

/// Switches draft-only off, as an admin would.
async fn send_mode(stack: &Stack) {
    let switched = stack
        .app
        .api(Method::PUT, "/api/mode", Some(ADMIN_TOKEN))
        .json(&json!({"draft_only": false, "reason": "pilot"}))
        .send()
        .await
        .unwrap();
    assert_eq!(switched.status(), 200);
}

async fn approve(stack: &Stack, id: &str) -> reqwest::Response {
    stack
        .app
        .api(
            Method::POST,
            &format!("/api/workflows/{id}/approve"),
            Some(ADMIN_TOKEN),
        )
        .json(&json!({"reason": "reviewed the draft"}))
        .send()
        .await
        .unwrap()
}

async fn send_mode_sends_the_reply_once_with_unsubscribe_headers(db: TestDb) {
    let stack = spawn_stack(&db).await;
    send_mode(&stack).await;

    let id = stack.answered(DANIEL).await;

    let sent = sent_for(&stack, &id);
    assert_eq!(sent.len(), 1, "exactly one email");
    let header = |name: &str| {
        sent[0]
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    assert!(
        header("List-Unsubscribe")
            .is_some_and(|v| v.contains("https://agent.example.test/unsubscribe/"))
    );
    assert_eq!(
        header("List-Unsubscribe-Post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );
    assert!(
        MAILBOXES.iter().all(|m| stack
            .sandbox
            .drafts(m)
            .iter()
            .all(|(_, d)| !d.to.iter().any(|t| t.contains(DANIEL)))),
        "the sent draft is gone"
    );
    // Approving an already-sent reply sends nothing more.
    let again = approve(&stack, &id).await;
    assert_eq!(again.status(), 200);
    assert_eq!(json(again).await["already_sent"], true);
    assert_eq!(sent_for(&stack, &id).len(), 1);
    stack.stop().await;
}

async fn approval_sends_once_even_when_clicked_twice(db: TestDb) {
    let stack = spawn_stack(&db).await;
    let id = stack.answered(DANIEL).await;
    assert!(
        sent_for(&stack, &id).is_empty(),
        "draft-only until approved"
    );

    let clicks = join_all([approve(&stack, &id), approve(&stack, &id)]).await;
    let late = approve(&stack, &id).await;

    let statuses: Vec<u16> = clicks.iter().map(|r| r.status().as_u16()).collect();
    assert!(statuses.contains(&200), "{statuses:?}");
    assert!(
        statuses.iter().all(|s| [200, 503].contains(s)),
        "a concurrent click may be told to retry: {statuses:?}"
    );
    assert_eq!(late.status(), 200);
    assert_eq!(
        sent_for(&stack, &id).len(),
        1,
        "one email however often it is approved"
    );
    let audit = json(
        stack
            .app
            .api(
                Method::GET,
                &format!("/api/audit?workflow_id={id}"),
                Some(ADMIN_TOKEN),
            )
            .send()
            .await
            .unwrap(),
    )
    .await;
    let sends = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "email.sent")
        .count();
    assert_eq!(sends, 1);
    stack.stop().await;
}

async fn suppression_blocks_an_approved_send(db: TestDb) {
    let stack = spawn_stack(&db).await;
    let id = stack.answered(LAURA).await;
    // The prospect unsubscribes (one-click) between the draft and the approval.
    let secret = stack
        .app
        .app
        .state
        .store
        .run(sales_agent::store::settings::unsubscribe_secret)
        .await
        .unwrap();
    let token = sales_agent::unsubscribe::token_for(&secret, LAURA);
    let unsubscribed = stack
        .app
        .client
        .post(format!("{}/unsubscribe/{token}", stack.app.address))
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(unsubscribed.status(), 200);

    let refused = approve(&stack, &id).await;

    assert_eq!(refused.status(), 409);
    assert!(
        json(refused).await["error"]["message"]
            .as_str()
            .unwrap()
            .contains("suppression")
    );
    assert!(
        sent_for(&stack, &id).is_empty(),
        "nothing goes to a suppressed address"
    );
    stack.stop().await;
}

async fn the_daily_send_limit_defers_further_sends_from_a_mailbox(db: TestDb) {
    let stack = spawn_stack_with(
        &db,
        |mut config| {
            config.engine.daily_send_limit = 1;
            config
        },
        Default::default(),
    )
    .await;
    send_mode(&stack).await;
    // Both are routed to the rep who owns the contact or covers the US: Maya.
    let first = stack.answered(LAURA).await;
    let response = stack.app.post_signed(&stack.sample(DANIEL)).await;
    let second = json(response).await["workflow_id"]
        .as_str()
        .unwrap()
        .to_string();
    let store = stack.app.app.state.store.clone();
    let started = std::time::Instant::now();
    let row = loop {
        let id = second.clone();
        let row = store
            .run(move |c| sales_agent::store::workflows::find_by_id(c, &id))
            .await
            .unwrap()
            .unwrap();
        if row
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("daily send limit"))
        {
            break row;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "never deferred: {row:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };

    assert_eq!(sent_for(&stack, &first).len(), 1);
    assert_eq!(row.status, "pending", "deferred, not failed");
    assert!(
        row.next_run_at > sales_agent::store::now() + chrono::TimeDelta::minutes(30),
        "until the limit frees up"
    );
    assert!(
        sent_for(&stack, &second).is_empty(),
        "nothing beyond the limit"
    );
    stack.stop().await;
}

/// A process killed (or losing its database) after committing a step that ends
/// the workflow but before committing the end leaves the workflow runnable with
/// that step recorded. The resumed run must end there, not go on to answer a
/// suppressed prospect.
async fn a_skip_recorded_before_a_crash_still_ends_the_workflow(db: TestDb) {
    use diesel::prelude::*;
    use sales_agent::store::schema::workflows;

    let stack = spawn_stack(&db).await;
    let store = stack.app.app.state.store.clone();
    store
        .run(|c| sales_agent::store::suppressions::insert(c, LAURA, "asked", "test", "test"))
        .await
        .unwrap();
    let response = stack.app.post_signed(&stack.sample(LAURA)).await;
    let id = json(response).await["workflow_id"]
        .as_str()
        .unwrap()
        .to_string();
    let ids = [id.clone()];
    assert_eq!(
        stack.wait_finished(&ids, Duration::from_secs(30)).await,
        ["skipped"]
    );

    // The fixture's earlier thread with her is all there is.
    let before = mail_to(&stack, LAURA);

    // Undo only the workflow's end, as the crash would have left it.
    let reopen = id.clone();
    store
        .run(move |c| {
            diesel::update(workflows::table.find(&reopen))
                .set((
                    workflows::status.eq("pending"),
                    workflows::finished_at.eq(None::<chrono::NaiveDateTime>),
                    workflows::lease_owner.eq(None::<String>),
                    workflows::lease_expires_at.eq(None::<chrono::NaiveDateTime>),
                ))
                .execute(c)?;
            Ok(())
        })
        .await
        .unwrap();
    // The supervisor's poll (200 ms in tests) claims it again.

    assert_eq!(
        stack.wait_finished(&ids, Duration::from_secs(30)).await,
        ["skipped"]
    );
    let outputs = stack.step_outputs(&id).await;
    assert!(
        !outputs.contains_key("route") && !outputs.contains_key("deliver"),
        "the resumed run went past the recorded skip: {outputs:?}"
    );
    assert_eq!(
        mail_to(&stack, LAURA),
        before,
        "a suppressed prospect was answered"
    );
    stack.stop().await;
}

/// Messages (sent or drafts) addressed to `email` in any rep's mailbox.
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

/// A first run with the default `http://` public URL: the reply is still left as a
/// draft, but without a one-click unsubscribe link nothing is sent — neither in
/// send mode nor on approval.
async fn without_an_https_public_url_the_draft_is_made_and_nothing_is_sent(db: TestDb) {
    const PLAIN: &str = "http://agent.example.test";
    let stack = spawn_stack_with(
        &db,
        |mut config| {
            config.public_url = PLAIN.parse().unwrap();
            config
        },
        Default::default(),
    )
    .await;
    send_mode(&stack).await;

    let body = stack.sample(DANIEL);
    let headers = crate::helpers::signed_headers_for(PLAIN, &body, std::time::SystemTime::now());
    let response = stack.app.post_with(&body, &headers).await;
    assert_eq!(response.status(), 202);
    let id = json(response).await["workflow_id"]
        .as_str()
        .unwrap()
        .to_string();
    let statuses = stack
        .wait_finished(std::slice::from_ref(&id), Duration::from_secs(30))
        .await;
    assert_eq!(statuses, ["completed"]);

    let deliver = &stack.step_outputs(&id).await["deliver"];
    assert_eq!(
        deliver["held"],
        sales_agent::steps::send::HELD_WITHOUT_UNSUBSCRIBE
    );
    let mailbox = deliver["mailbox"].as_str().unwrap();
    assert_eq!(stack.sandbox.drafts(mailbox).len(), 1, "the draft is made");
    assert!(
        sent_for(&stack, &id).is_empty(),
        "nothing sent in send mode"
    );

    let refused = approve(&stack, &id).await;
    assert_eq!(refused.status(), 409);
    let error = json(refused).await;
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("SALES_AGENT_PUBLIC_URL"),
        "{error}"
    );
    assert!(sent_for(&stack, &id).is_empty(), "nothing sent on approval");
    stack.stop().await;
}
