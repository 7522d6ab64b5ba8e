//! What a thread says about a watched draft, on Gmail's own JSON shapes.

use serde_json::json;

use super::{Found, settle};
use crate::connectors::gmail::Thread;
use crate::store::draft_watches::Watch;

const OURS: &str = "<wf-1.deliver@agent.example>";
const PROSPECT: &str = "ana@acme.example";

fn watch() -> Watch {
    let at = chrono::DateTime::from_timestamp_millis(1_000_000)
        .unwrap()
        .naive_utc();
    Watch {
        workflow_id: "wf-1".into(),
        mailbox: "maya@northwind.example".into(),
        draft_id: "r1".into(),
        message_id: OURS.into(),
        thread_id: Some("t1".into()),
        contact_email: PROSPECT.into(),
        drafted_at: at,
        state: "open".into(),
        stale_reason: None,
        stale_at: None,
        replied_at: None,
        reply_recorded_at: None,
        checked_at: at,
        lease_owner: None,
        lease_until: None,
        closed_at: None,
    }
}

/// A message as `threads.get?format=metadata` renders it.
fn message(from: &str, id: &str, labels: &[&str], at_ms: i64) -> serde_json::Value {
    json!({"id": format!("m{at_ms}"), "threadId": "t1", "labelIds": labels,
           "internalDate": at_ms.to_string(),
           "payload": {"mimeType": "text/plain", "headers": [
               {"name": "From", "value": from}, {"name": "Message-ID", "value": id}]}})
}

fn thread(messages: Vec<serde_json::Value>) -> Thread {
    serde_json::from_value(json!({"id": "t1", "messages": messages})).unwrap()
}

fn draft(at_ms: i64) -> serde_json::Value {
    message("Maya <maya@northwind.example>", OURS, &["DRAFT"], at_ms)
}

#[test]
fn a_prospect_message_after_the_draft_makes_it_stale() {
    let reply = message(
        "Ana P <Ana@Acme.example>",
        "<r@acme.example>",
        &["INBOX", "UNREAD"],
        2_000_500,
    );
    let found = settle(&watch(), &thread(vec![draft(2_000_000), reply]));
    let at = chrono::DateTime::from_timestamp_millis(2_000_500)
        .unwrap()
        .naive_utc();
    assert_eq!(found, Found::Replied(at));
}

#[test]
fn the_prospect_message_we_replied_to_does_not_count() {
    let earlier = message(PROSPECT, "<q@acme.example>", &["INBOX"], 1_500_000);
    assert_eq!(
        settle(&watch(), &thread(vec![earlier, draft(2_000_000)])),
        Found::Open
    );
}

#[test]
fn someone_else_or_the_rep_writing_leaves_the_draft_open() {
    let colleague = message(
        "Bo <bo@acme.example>",
        "<b@acme.example>",
        &["INBOX"],
        2_000_100,
    );
    let rep = message(
        "maya@northwind.example",
        "<x@northwind.example>",
        &["SENT"],
        2_000_200,
    );
    let lookalike = message(
        "ana@acme.example.evil.test",
        "<e@evil.test>",
        &["INBOX"],
        2_000_300,
    );
    let t = thread(vec![draft(2_000_000), colleague, rep, lookalike]);
    assert_eq!(settle(&watch(), &t), Found::Open);
}

#[test]
fn a_sent_draft_is_done_even_when_the_prospect_answered_it() {
    let sent = message(
        "maya@northwind.example",
        "wf-1.deliver@agent.example",
        &["SENT"],
        2_000_000,
    );
    let answer = message(PROSPECT, "<r@acme.example>", &["INBOX"], 2_000_500);
    assert_eq!(settle(&watch(), &thread(vec![sent, answer])), Found::Sent);
}

#[test]
fn a_deleted_draft_is_gone() {
    let other = message(PROSPECT, "<q@acme.example>", &["INBOX"], 2_000_500);
    assert_eq!(settle(&watch(), &thread(vec![other])), Found::Gone);
}
