//! Gmail writes: messages.send and drafts create/send/delete, with Gmail's
//! threading rule and send deleting the draft.

use serde::Deserialize;

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use crate::sandbox::Sandbox;
use crate::sandbox::gate;
use crate::sandbox::mime::{self, Message, Parsed};
use crate::sandbox::respond::{google_bad_request, google_not_found, json_body};
use crate::sandbox::state::World;

use super::{
    DRAFTS_CREATE, DRAFTS_DELETE, DRAFTS_SEND, DRAFTS_UPDATE, G, MESSAGES_SEND, NOT_FOUND, draft,
    mailbox_email, store_parsed,
};

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct MessageInput {
    raw: Option<String>,
    thread_id: Option<String>,
}

#[derive(Deserialize, Default)]
struct DraftInput {
    id: Option<String>,
    message: Option<MessageInput>,
}

fn parse_input(m: &MessageInput, require_recipient: bool) -> Result<Parsed, HttpResponse> {
    let raw = m.raw.as_deref().filter(|r| !r.is_empty()).ok_or_else(|| {
        google_bad_request(
            "'raw' RFC822 payload message string or uploading message via /upload/* URL required",
        )
    })?;
    let bytes = mime::decode_raw(raw).map_err(|e| google_bad_request(&e.to_string()))?;
    mime::parse(bytes, require_recipient).map_err(|e| google_bad_request(&e.to_string()))
}

/// Gmail's threading rule: the requested thread must exist, and the message joins
/// it only when its subject matches and it references a message in it;
/// otherwise it starts a thread of its own.
fn resolve_thread(
    world: &mut World,
    email: &str,
    requested: Option<&str>,
    p: &Parsed,
) -> Result<String, HttpResponse> {
    let Some(requested) = requested.filter(|t| !t.is_empty()) else {
        return Ok(world.gmail_id());
    };
    let Some(mb) = world.mailboxes.get(email) else {
        return Err(google_not_found(NOT_FOUND));
    };
    let thread: Vec<&Message> = mb
        .messages
        .values()
        .filter(|m| m.thread_id == requested)
        .collect();
    if thread.is_empty() {
        return Err(google_not_found(NOT_FOUND));
    }
    let subject = mime::base_subject(&p.subject);
    let subject_matches = thread
        .iter()
        .any(|m| mime::base_subject(&m.subject) == subject);
    let refs: Vec<&String> = p.in_reply_to.iter().chain(&p.references).collect();
    let referenced = thread
        .iter()
        .any(|m| m.message_id.as_ref().is_some_and(|id| refs.contains(&id)));
    if subject_matches && referenced {
        Ok(requested.to_string())
    } else {
        Ok(world.gmail_id())
    }
}

/// Stores a new message in `email`'s mailbox; Gmail adds a Message-ID and a
/// Date when the client sent none.
fn insert(
    sb: &Sandbox,
    world: &mut World,
    email: &str,
    mut p: Parsed,
    thread_id: String,
    labels: &[&str],
) -> Message {
    let id = world.gmail_id();
    if p.message_id.is_none() {
        let generated = format!("<CA+sandbox{}@mail.gmail.com>", world.serial());
        p.headers.push(("Message-ID".into(), generated.clone()));
        p.message_id = Some(generated);
    }
    let has = |p: &Parsed, name: &str| p.headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name));
    if !has(&p, "Date") {
        p.headers
            .push(("Date".into(), sb.clock.now_utc().to_rfc2822()));
    }
    // Sent mail goes out from the account itself: a From that is not the
    // mailbox (nor a send-as alias, which the sandbox does not model) is replaced.
    if labels.contains(&"SENT") && p.from != email {
        p.headers.retain(|(n, _)| !n.eq_ignore_ascii_case("From"));
        p.headers.insert(0, ("From".into(), email.to_string()));
        p.from = email.to_string();
    }
    let message = store_parsed(
        p,
        id.clone(),
        thread_id,
        labels.iter().map(|s| s.to_string()).collect(),
        sb.clock.now_utc().timestamp_millis(),
    );
    if let Some(mb) = world.mailboxes.get_mut(email) {
        mb.messages.insert(id, message.clone());
    }
    message
}

fn brief(m: &Message) -> Value {
    json!({"id": m.id, "threadId": m.thread_id, "labelIds": m.label_ids})
}

pub(super) async fn messages_send(
    sb: web::Data<Sandbox>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let (sb, req) = (sb.get_ref(), &req);
    gate::serve(sb, req, MESSAGES_SEND, |p| async move {
        let email = match mailbox_email(&path, &p) {
            Ok(e) => e,
            Err(e) => return e,
        };
        let input: MessageInput = match json_body(G, req, &body) {
            Ok(v) => v,
            Err(e) => return e,
        };
        let parsed = match parse_input(&input, true) {
            Ok(v) => v,
            Err(e) => return e,
        };
        let mut world = sb.lock_world();
        let thread = match resolve_thread(&mut world, &email, input.thread_id.as_deref(), &parsed) {
            Ok(t) => t,
            Err(e) => return e,
        };
        let m = insert(sb, &mut world, &email, parsed, thread, &["SENT"]);
        HttpResponse::Ok().json(brief(&m))
    })
    .await
}

pub(super) async fn drafts_create(
    sb: web::Data<Sandbox>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let (sb, req) = (sb.get_ref(), &req);
    gate::serve(sb, req, DRAFTS_CREATE, |p| async move {
        let email = match mailbox_email(&path, &p) {
            Ok(e) => e,
            Err(e) => return e,
        };
        let input: DraftInput = match json_body(G, req, &body) {
            Ok(v) => v,
            Err(e) => return e,
        };
        let Some(message) = input.message else {
            return google_bad_request("Missing draft message");
        };
        let parsed = match parse_input(&message, false) {
            Ok(v) => v,
            Err(e) => return e,
        };
        let mut world = sb.lock_world();
        let thread = match resolve_thread(&mut world, &email, message.thread_id.as_deref(), &parsed)
        {
            Ok(t) => t,
            Err(e) => return e,
        };
        let m = insert(sb, &mut world, &email, parsed, thread, &["DRAFT"]);
        let draft_id = format!("r{}", 5_000_000_000_000_000_000_u64 + world.serial());
        if let Some(mb) = world.mailboxes.get_mut(&email) {
            mb.drafts.insert(draft_id.clone(), m.id.clone());
        }
        HttpResponse::Ok().json(json!({"id": draft_id, "message": brief(&m)}))
    })
    .await
}

/// Replaces a draft's message: the draft id stays, the message gets a new id
/// (a draft's message cannot be edited, only replaced).
pub(super) async fn drafts_update(
    sb: web::Data<Sandbox>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> HttpResponse {
    let (user, id) = path.into_inner();
    let (sb, req) = (sb.get_ref(), &req);
    gate::serve(sb, req, DRAFTS_UPDATE, |p| async move {
        let email = match mailbox_email(&user, &p) {
            Ok(e) => e,
            Err(e) => return e,
        };
        let input: DraftInput = match json_body(G, req, &body) {
            Ok(v) => v,
            Err(e) => return e,
        };
        if input.id.as_ref().is_some_and(|given| *given != id) {
            return google_bad_request("Draft id in the body does not match the path.");
        }
        let Some(message) = input.message else {
            return google_bad_request("Missing draft message");
        };
        let parsed = match parse_input(&message, false) {
            Ok(v) => v,
            Err(e) => return e,
        };
        let mut world = sb.lock_world();
        let Some(old) = world
            .mailboxes
            .get(&email)
            .and_then(|mb| mb.drafts.get(&id))
            .cloned()
        else {
            return google_not_found(NOT_FOUND);
        };
        if let Some(mb) = world.mailboxes.get_mut(&email) {
            mb.messages.remove(&old);
        }
        let thread = match resolve_thread(&mut world, &email, message.thread_id.as_deref(), &parsed)
        {
            Ok(t) => t,
            Err(e) => return e,
        };
        let m = insert(sb, &mut world, &email, parsed, thread, &["DRAFT"]);
        if let Some(mb) = world.mailboxes.get_mut(&email) {
            mb.drafts.insert(id.clone(), m.id.clone());
        }
        HttpResponse::Ok().json(json!({"id": id, "message": brief(&m)}))
    })
    .await
}

/// Sends a draft: the draft is deleted and a new message with a new id and the
/// SENT label takes its place in the thread. A second send finds no draft: 404.
pub(super) async fn drafts_send(
    sb: web::Data<Sandbox>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let (sb, req) = (sb.get_ref(), &req);
    gate::serve(sb, req, DRAFTS_SEND, |p| async move {
        let email = match mailbox_email(&path, &p) {
            Ok(e) => e,
            Err(e) => return e,
        };
        let input: DraftInput = match json_body(G, req, &body) {
            Ok(v) => v,
            Err(e) => return e,
        };
        let Some(id) = input.id.filter(|i| !i.is_empty()) else {
            return google_bad_request("Invalid draft: missing id");
        };
        let mut world = sb.lock_world();
        match send_draft(sb, &mut world, &email, &id) {
            Ok(sent) => HttpResponse::Ok().json(brief(&sent)),
            Err(response) => response,
        }
    })
    .await
}

/// Sends draft `id` of `email`'s mailbox: the draft and its message go, and a
/// SENT message with the same headers (its Message-ID too) joins the thread.
pub(super) fn send_draft(
    sb: &Sandbox,
    world: &mut World,
    email: &str,
    id: &str,
) -> Result<Message, HttpResponse> {
    let Some(message) = world
        .mailboxes
        .get(email)
        .and_then(|mb| draft(mb, id))
        .cloned()
    else {
        return Err(google_not_found(NOT_FOUND));
    };
    let parsed =
        mime::parse(message.raw.clone(), true).map_err(|e| google_bad_request(&e.to_string()))?;
    if let Some(mb) = world.mailboxes.get_mut(email) {
        mb.drafts.remove(id);
        mb.messages.remove(&message.id);
    }
    Ok(insert(
        sb,
        world,
        email,
        Parsed {
            message_id: message.message_id.clone(),
            headers: message.headers.clone(),
            ..parsed
        },
        message.thread_id.clone(),
        &["SENT"],
    ))
}

pub(super) async fn drafts_delete(
    sb: web::Data<Sandbox>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (user, id) = path.into_inner();
    let (sb, req) = (sb.get_ref(), &req);
    gate::serve(sb, req, DRAFTS_DELETE, |p| async move {
        let email = match mailbox_email(&user, &p) {
            Ok(e) => e,
            Err(e) => return e,
        };
        let mut world = sb.lock_world();
        let Some(mb) = world.mailboxes.get_mut(&email) else {
            return google_not_found(NOT_FOUND);
        };
        match mb.drafts.remove(&id) {
            Some(message_id) => {
                mb.messages.remove(&message_id);
                HttpResponse::NoContent().finish()
            }
            None => google_not_found(NOT_FOUND),
        }
    })
    .await
}
