//! Gmail v1 (real base `https://gmail.googleapis.com`): threads list/get,
//! messages list/get/send, drafts create/get/list/send/delete and the profile,
//! with per-user quota units, Gmail's threading rule (threadId plus matching
//! subject plus In-Reply-To/References) and send deleting the draft.

use std::collections::{BTreeMap, HashMap};

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Sandbox;
use super::gate::{self, Cost, Endpoint, Principal, endpoint};
use super::gmail_query::Query;
use super::mime::{self, Message, Parsed};
use super::respond::{self, Provider, google_bad_request, google_not_found, json_body};
use super::state::{Mailbox, World};

const G: Provider = Provider::Google;
const THREADS_LIST: Endpoint = endpoint("gmail.threads.list", G, Cost::Gmail(10));
const THREADS_GET: Endpoint = endpoint("gmail.threads.get", G, Cost::Gmail(10));
const MESSAGES_LIST: Endpoint = endpoint("gmail.messages.list", G, Cost::Gmail(5));
const MESSAGES_GET: Endpoint = endpoint("gmail.messages.get", G, Cost::Gmail(20));
const MESSAGES_SEND: Endpoint = endpoint("gmail.messages.send", G, Cost::Gmail(100));
const DRAFTS_CREATE: Endpoint = endpoint("gmail.drafts.create", G, Cost::Gmail(10));
const DRAFTS_GET: Endpoint = endpoint("gmail.drafts.get", G, Cost::Gmail(20));
const DRAFTS_LIST: Endpoint = endpoint("gmail.drafts.list", G, Cost::Gmail(5));
const DRAFTS_SEND: Endpoint = endpoint("gmail.drafts.send", G, Cost::Gmail(100));
const DRAFTS_DELETE: Endpoint = endpoint("gmail.drafts.delete", G, Cost::Gmail(10));
const PROFILE: Endpoint = endpoint("gmail.profile", G, Cost::Gmail(1));
const NOT_FOUND: &str = "Requested entity was not found.";

pub fn routes(cfg: &mut web::ServiceConfig) {
    let base = "/gmail/v1/users/{user}";
    cfg.route(&format!("{base}/threads"), web::get().to(threads_list))
        .route(
            &format!("{base}/threads/{{id}}"),
            web::get().to(threads_get),
        )
        .route(&format!("{base}/messages"), web::get().to(messages_list))
        .route(
            &format!("{base}/messages/send"),
            web::post().to(messages_send),
        )
        .route(
            &format!("{base}/messages/{{id}}"),
            web::get().to(messages_get),
        )
        .route(&format!("{base}/drafts"), web::post().to(drafts_create))
        .route(&format!("{base}/drafts"), web::get().to(drafts_list))
        .route(&format!("{base}/drafts/send"), web::post().to(drafts_send))
        .route(&format!("{base}/drafts/{{id}}"), web::get().to(drafts_get))
        .route(
            &format!("{base}/drafts/{{id}}"),
            web::delete().to(drafts_delete),
        )
        .route(&format!("{base}/profile"), web::get().to(profile));
}

/// Builds the stored form of a parsed message.
pub fn store_parsed(
    p: Parsed,
    id: String,
    thread_id: String,
    label_ids: Vec<String>,
    internal_date_ms: i64,
) -> Message {
    Message {
        id,
        thread_id,
        label_ids,
        raw: p.raw,
        headers: p.headers,
        from: p.from,
        to: p.to,
        subject: p.subject,
        message_id: p.message_id,
        in_reply_to: p.in_reply_to,
        references: p.references,
        body: p.body,
        internal_date_ms,
    }
}

/// `userId` must be `me` or the caller's own address; anything else is
/// delegation, which these credentials do not have.
fn mailbox_email(user: &str, principal: &Principal) -> Result<String, HttpResponse> {
    let own = principal.email();
    if user == "me" || user.eq_ignore_ascii_case(own) {
        Ok(own.to_string())
    } else {
        Err(respond::google(
            StatusCode::FORBIDDEN,
            "PERMISSION_DENIED",
            "global",
            "forbidden",
            &format!("Delegation denied for {own}"),
        ))
    }
}

fn query_map(req: &HttpRequest) -> HashMap<String, String> {
    serde_urlencoded::from_str(req.query_string()).unwrap_or_default()
}

fn query_all(req: &HttpRequest, key: &str) -> Vec<String> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(req.query_string())
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v)
        .collect()
}

/// Renders a message in `format` (`full` by default, `metadata`, `minimal`, `raw`).
fn render(m: &Message, format: &str, metadata_headers: &[String]) -> Value {
    let mut v = json!({
        "id": m.id, "threadId": m.thread_id, "labelIds": m.label_ids,
        "snippet": mime::snippet(&m.body), "historyId": history_id(m),
        "internalDate": m.internal_date_ms.to_string(), "sizeEstimate": m.raw.len(),
    });
    let headers = |filter: &[String]| -> Vec<Value> {
        m.headers
            .iter()
            .filter(|(n, _)| filter.is_empty() || filter.iter().any(|f| f.eq_ignore_ascii_case(n)))
            .map(|(n, val)| json!({"name": n, "value": val}))
            .collect()
    };
    match format {
        "minimal" => {}
        "metadata" => {
            v["payload"] = json!({"partId": "", "mimeType": "text/plain", "filename": "", "headers": headers(metadata_headers)})
        }
        "raw" => v["raw"] = json!(mime::encode_raw(&m.raw)),
        _ => {
            v["payload"] = json!({"partId": "", "mimeType": "text/plain", "filename": "", "headers": headers(&[]),
                "body": {"size": m.body.len(), "data": mime::encode_raw(m.body.as_bytes())}})
        }
    }
    v
}

fn history_id(m: &Message) -> String {
    u64::from_str_radix(&m.id, 16)
        .map(|n| (n & 0xff_ffff).to_string())
        .unwrap_or_default()
}

fn check_format(req: &HttpRequest) -> Result<String, HttpResponse> {
    let format = query_map(req)
        .get("format")
        .cloned()
        .unwrap_or_else(|| "full".into());
    match format.as_str() {
        "full" | "metadata" | "minimal" | "raw" => Ok(format),
        other => Err(google_bad_request(&format!(
            "Invalid value at 'format' ({other})"
        ))),
    }
}

/// `maxResults` (default 100, at most 500) and `pageToken` (an offset here).
fn paging(req: &HttpRequest) -> Result<(usize, usize), HttpResponse> {
    let q = query_map(req);
    let max = match q.get("maxResults") {
        None => 100,
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=500).contains(n))
            .ok_or_else(|| google_bad_request("Invalid maxResults"))?,
    };
    let offset = match q.get("pageToken") {
        None => 0,
        Some(t) => t
            .parse()
            .map_err(|_| google_bad_request("Invalid pageToken"))?,
    };
    Ok((max, offset))
}

fn visible(m: &Message, query: &Query, include_spam_trash: bool) -> bool {
    let hidden = m.label_ids.iter().any(|l| l == "SPAM" || l == "TRASH");
    (include_spam_trash || query.names_location() || !hidden) && query.matches(m)
}

async fn threads_list(
    sb: web::Data<Sandbox>,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    let (sb, req) = (sb.get_ref(), &req);
    gate::serve(sb, req, THREADS_LIST, |p| async move {
        let email = match mailbox_email(&path, &p) { Ok(e) => e, Err(e) => return e };
        let (max, offset) = match paging(req) { Ok(x) => x, Err(e) => return e };
        let q = query_map(req);
        let query = Query::parse(q.get("q").map_or("", String::as_str), sb.clock.now_utc());
        let spam = q.get("includeSpamTrash").is_some_and(|v| v == "true");
        let labels = query_all(req, "labelIds");
        let world = sb.lock_world();
        let Some(mb) = world.mailboxes.get(&email) else { return google_not_found(NOT_FOUND) };
        let mut threads: BTreeMap<&str, &Message> = BTreeMap::new();
        for m in mb.messages.values() {
            if visible(m, &query, spam) && labels.iter().all(|l| m.label_ids.contains(l)) {
                let newest = threads.entry(&m.thread_id).or_insert(m);
                if m.internal_date_ms > newest.internal_date_ms {
                    *newest = m;
                }
            }
        }
        let mut found: Vec<&Message> = threads.into_values().collect();
        found.sort_by_key(|m| std::cmp::Reverse(m.internal_date_ms));
        let page: Vec<Value> = found.iter().skip(offset).take(max).map(|m| json!({"id": m.thread_id, "snippet": mime::snippet(&m.body), "historyId": history_id(m)})).collect();
        page_body("threads", page, found.len(), offset + max)
    })
    .await
}

/// Gmail leaves the list key out when it is empty.
fn page_body(key: &str, page: Vec<Value>, total: usize, next: usize) -> HttpResponse {
    let mut body = json!({"resultSizeEstimate": total});
    if !page.is_empty() {
        body[key] = Value::Array(page);
    }
    if next < total {
        body["nextPageToken"] = json!(next.to_string());
    }
    HttpResponse::Ok().json(body)
}

async fn threads_get(
    sb: web::Data<Sandbox>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (user, id) = path.into_inner();
    let (sb, req) = (sb.get_ref(), &req);
    gate::serve(sb, req, THREADS_GET, |p| async move {
        let email = match mailbox_email(&user, &p) {
            Ok(e) => e,
            Err(e) => return e,
        };
        let format = match check_format(req) {
            Ok(f) => f,
            Err(e) => return e,
        };
        let metadata_headers = query_all(req, "metadataHeaders");
        let world = sb.lock_world();
        let Some(mb) = world.mailboxes.get(&email) else {
            return google_not_found(NOT_FOUND);
        };
        let mut messages: Vec<&Message> =
            mb.messages.values().filter(|m| m.thread_id == id).collect();
        if messages.is_empty() {
            return google_not_found(NOT_FOUND);
        }
        messages.sort_by_key(|m| m.internal_date_ms);
        let last = messages.last().map(|m| history_id(m)).unwrap_or_default();
        let rendered: Vec<Value> = messages
            .iter()
            .map(|m| render(m, &format, &metadata_headers))
            .collect();
        HttpResponse::Ok().json(json!({"id": id, "historyId": last, "messages": rendered}))
    })
    .await
}

async fn messages_list(
    sb: web::Data<Sandbox>,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    let (sb, req) = (sb.get_ref(), &req);
    gate::serve(sb, req, MESSAGES_LIST, |p| async move {
        let email = match mailbox_email(&path, &p) {
            Ok(e) => e,
            Err(e) => return e,
        };
        let (max, offset) = match paging(req) {
            Ok(x) => x,
            Err(e) => return e,
        };
        let q = query_map(req);
        let query = Query::parse(q.get("q").map_or("", String::as_str), sb.clock.now_utc());
        let spam = q.get("includeSpamTrash").is_some_and(|v| v == "true");
        let world = sb.lock_world();
        let Some(mb) = world.mailboxes.get(&email) else {
            return google_not_found(NOT_FOUND);
        };
        let mut found: Vec<&Message> = mb
            .messages
            .values()
            .filter(|m| visible(m, &query, spam))
            .collect();
        found.sort_by_key(|m| std::cmp::Reverse(m.internal_date_ms));
        let page: Vec<Value> = found
            .iter()
            .skip(offset)
            .take(max)
            .map(|m| json!({"id": m.id, "threadId": m.thread_id}))
            .collect();
        page_body("messages", page, found.len(), offset + max)
    })
    .await
}

async fn messages_get(
    sb: web::Data<Sandbox>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (user, id) = path.into_inner();
    let (sb, req) = (sb.get_ref(), &req);
    gate::serve(sb, req, MESSAGES_GET, |p| async move {
        let email = match mailbox_email(&user, &p) {
            Ok(e) => e,
            Err(e) => return e,
        };
        let format = match check_format(req) {
            Ok(f) => f,
            Err(e) => return e,
        };
        let world = sb.lock_world();
        match world
            .mailboxes
            .get(&email)
            .and_then(|mb| mb.messages.get(&id))
        {
            Some(m) => {
                HttpResponse::Ok().json(render(m, &format, &query_all(req, "metadataHeaders")))
            }
            None => google_not_found(NOT_FOUND),
        }
    })
    .await
}

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

/// Stores a new message in `email`'s mailbox; Gmail adds a Message-ID when the
/// client sent none.
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

async fn messages_send(
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

async fn drafts_create(
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

fn draft<'a>(mb: &'a Mailbox, id: &str) -> Option<&'a Message> {
    mb.messages.get(mb.drafts.get(id)?)
}

async fn drafts_get(
    sb: web::Data<Sandbox>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (user, id) = path.into_inner();
    let (sb, req) = (sb.get_ref(), &req);
    gate::serve(sb, req, DRAFTS_GET, |p| async move {
        let email = match mailbox_email(&user, &p) {
            Ok(e) => e,
            Err(e) => return e,
        };
        let format = match check_format(req) {
            Ok(f) => f,
            Err(e) => return e,
        };
        let world = sb.lock_world();
        match world.mailboxes.get(&email).and_then(|mb| draft(mb, &id)) {
            Some(m) => {
                HttpResponse::Ok().json(json!({"id": id, "message": render(m, &format, &[])}))
            }
            None => google_not_found(NOT_FOUND),
        }
    })
    .await
}

async fn drafts_list(
    sb: web::Data<Sandbox>,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    let (sb, req) = (sb.get_ref(), &req);
    gate::serve(sb, req, DRAFTS_LIST, |p| async move {
        let email = match mailbox_email(&path, &p) {
            Ok(e) => e,
            Err(e) => return e,
        };
        let (max, offset) = match paging(req) {
            Ok(x) => x,
            Err(e) => return e,
        };
        let q = query_map(req);
        let query = Query::parse(q.get("q").map_or("", String::as_str), sb.clock.now_utc());
        let world = sb.lock_world();
        let Some(mb) = world.mailboxes.get(&email) else {
            return google_not_found(NOT_FOUND);
        };
        let mut found: Vec<(&String, &Message)> = mb
            .drafts
            .iter()
            .filter_map(|(d, m)| Some((d, mb.messages.get(m)?)))
            .filter(|(_, m)| query.matches(m))
            .collect();
        found.sort_by_key(|(_, m)| std::cmp::Reverse(m.internal_date_ms));
        let page: Vec<Value> = found
            .iter()
            .skip(offset)
            .take(max)
            .map(|(d, m)| json!({"id": d, "message": {"id": m.id, "threadId": m.thread_id}}))
            .collect();
        page_body("drafts", page, found.len(), offset + max)
    })
    .await
}

/// Sends a draft: the draft is deleted and a new message with a new id and the
/// SENT label takes its place in the thread. A second send finds no draft: 404.
async fn drafts_send(
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
        let Some(message) = world
            .mailboxes
            .get(&email)
            .and_then(|mb| draft(mb, &id))
            .cloned()
        else {
            return google_not_found(NOT_FOUND);
        };
        let parsed = match mime::parse(message.raw.clone(), true) {
            Ok(p) => p,
            Err(e) => return google_bad_request(&e.to_string()),
        };
        if let Some(mb) = world.mailboxes.get_mut(&email) {
            mb.drafts.remove(&id);
            mb.messages.remove(&message.id);
        }
        let sent = insert(
            sb,
            &mut world,
            &email,
            Parsed {
                message_id: message.message_id.clone(),
                headers: message.headers.clone(),
                ..parsed
            },
            message.thread_id.clone(),
            &["SENT"],
        );
        HttpResponse::Ok().json(brief(&sent))
    })
    .await
}

async fn drafts_delete(
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

async fn profile(
    sb: web::Data<Sandbox>,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    let (sb, req) = (sb.get_ref(), &req);
    gate::serve(sb, req, PROFILE, |p| async move {
        let email = match mailbox_email(&path, &p) { Ok(e) => e, Err(e) => return e };
        let world = sb.lock_world();
        let Some(mb) = world.mailboxes.get(&email) else { return google_not_found(NOT_FOUND) };
        let threads: std::collections::BTreeSet<&str> = mb.messages.values().map(|m| m.thread_id.as_str()).collect();
        HttpResponse::Ok().json(json!({"emailAddress": mb.email, "messagesTotal": mb.messages.len(), "threadsTotal": threads.len(), "historyId": world_history(mb)}))
    })
    .await
}

fn world_history(mb: &Mailbox) -> String {
    mb.messages
        .values()
        .map(history_id)
        .max()
        .unwrap_or_default()
}
