//! Control levers for what happens in a mailbox outside the API, for tests and
//! the demo: a prospect's reply arriving in a thread, and the rep pressing Send
//! on a draft in Gmail. What they leave is read back through the ordinary
//! endpoints in Gmail's shapes (`threads.get`: From/To/Subject/Date/Message-ID/
//! In-Reply-To/References headers, `internalDate`, `labelIds`).
//!
//! `POST /_sandbox/gmail/reply` `{"mailbox","threadId","from","name"?,"body"?}`
//! files the message in the thread (INBOX, UNREAD), answering the thread's
//! latest message that is not a draft, with the sandbox clock's time.
//! `POST /_sandbox/gmail/send-draft` `{"mailbox","draftId"}` sends a draft as
//! `drafts.send` does (the draft goes, a SENT message with its Message-ID stays).

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::write::send_draft;
use crate::connectors::mime::{self as outgoing, Mailbox as Address, OutgoingEmail, Parent};
use crate::sandbox::Sandbox;
use crate::sandbox::mime;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ReplyBody {
    mailbox: String,
    thread_id: String,
    from: String,
    name: Option<String>,
    body: Option<String>,
}

fn bad(message: impl std::fmt::Display) -> HttpResponse {
    HttpResponse::BadRequest().json(json!({"error": message.to_string()}))
}

fn not_found(what: &str) -> HttpResponse {
    HttpResponse::NotFound().json(json!({"error": format!("no such {what}")}))
}

pub(crate) async fn reply(sb: web::Data<Sandbox>, body: web::Bytes) -> HttpResponse {
    let b = match serde_json::from_slice::<ReplyBody>(&body) {
        Ok(b) => b,
        Err(e) => return bad(e),
    };
    let mut world = sb.lock_world();
    let n = world.serial();
    let Some(mb) = world.mailboxes.get(&b.mailbox) else {
        return not_found("mailbox");
    };
    let mut thread: Vec<&mime::Message> = mb
        .messages
        .values()
        .filter(|m| m.thread_id == b.thread_id)
        .collect();
    if thread.is_empty() {
        return not_found("thread");
    }
    thread.sort_by_key(|m| m.internal_date_ms);
    let subject = thread.last().map(|m| m.subject.clone()).unwrap_or_default();
    // The prospect answers what they received, never the rep's unsent draft.
    let parent = thread
        .iter()
        .rev()
        .find(|m| !m.label_ids.iter().any(|l| l == "DRAFT"))
        .and_then(|m| {
            Some(Parent {
                message_id: m.message_id.clone()?,
                references: m.references.clone(),
                subject: m.subject.clone(),
            })
        });
    let email = OutgoingEmail {
        from: Address {
            name: b.name.clone(),
            email: b.from.clone(),
        },
        to: vec![Address {
            name: None,
            email: b.mailbox.clone(),
        }],
        subject: outgoing::reply_subject(&subject),
        date: sb.clock.now_utc(),
        message_id: format!("reply{n}@prospect.sandbox"),
        reply_to_parent: parent,
        unsubscribe: None,
        text: b
            .body
            .clone()
            .unwrap_or_else(|| "Thanks, could we talk this week?".into()),
        html: None,
    };
    let raw = match outgoing::build(&email) {
        Ok(raw) => raw,
        Err(e) => return bad(e),
    };
    let parsed = match mime::parse(raw, true) {
        Ok(p) => p,
        Err(e) => return bad(e),
    };
    let id = world.gmail_id();
    let message = super::store_parsed(
        parsed,
        id.clone(),
        b.thread_id.clone(),
        vec!["INBOX".into(), "UNREAD".into()],
        sb.clock.now_utc().timestamp_millis(),
    );
    let labels = message.label_ids.clone();
    if let Some(mb) = world.mailboxes.get_mut(&b.mailbox) {
        mb.messages.insert(id.clone(), message);
    }
    HttpResponse::Ok().json(json!({"id": id, "threadId": b.thread_id, "labelIds": labels}))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct SendDraftBody {
    mailbox: String,
    draft_id: String,
}

pub(crate) async fn rep_sends_draft(sb: web::Data<Sandbox>, body: web::Bytes) -> HttpResponse {
    let b = match serde_json::from_slice::<SendDraftBody>(&body) {
        Ok(b) => b,
        Err(e) => return bad(e),
    };
    let mut world = sb.lock_world();
    match send_draft(&sb, &mut world, &b.mailbox, &b.draft_id) {
        Ok(sent) => HttpResponse::Ok()
            .json(json!({"id": sent.id, "threadId": sent.thread_id, "labelIds": sent.label_ids})),
        Err(response) => response,
    }
}
