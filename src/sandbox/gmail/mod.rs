//! Gmail v1 (real base `https://gmail.googleapis.com`): threads list/get,
//! messages list/get/send, drafts create/get/list/update/send/delete and the profile,
//! with per-user quota units, Gmail's threading rule (threadId plus matching
//! subject plus In-Reply-To/References) and send deleting the draft.

mod query;
mod read;
mod write;

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::gate::{Cost, Endpoint, Principal, endpoint};
use super::mime::{self, Message, Parsed};
use super::respond::{self, Provider, google_bad_request};
use super::state::Mailbox;

use query::Query;
use read::{
    drafts_get, drafts_list, messages_get, messages_list, profile, threads_get, threads_list,
};
use write::{drafts_create, drafts_delete, drafts_send, drafts_update, messages_send};

const G: Provider = Provider::Google;

const THREADS_LIST: Endpoint = endpoint("gmail.threads.list", G, Cost::Gmail(10));

const THREADS_GET: Endpoint = endpoint("gmail.threads.get", G, Cost::Gmail(10));

const MESSAGES_LIST: Endpoint = endpoint("gmail.messages.list", G, Cost::Gmail(5));

const MESSAGES_GET: Endpoint = endpoint("gmail.messages.get", G, Cost::Gmail(20));

const MESSAGES_SEND: Endpoint = endpoint("gmail.messages.send", G, Cost::GmailSend(100));

const DRAFTS_CREATE: Endpoint = endpoint("gmail.drafts.create", G, Cost::Gmail(10));

const DRAFTS_GET: Endpoint = endpoint("gmail.drafts.get", G, Cost::Gmail(20));

const DRAFTS_LIST: Endpoint = endpoint("gmail.drafts.list", G, Cost::Gmail(5));

const DRAFTS_SEND: Endpoint = endpoint("gmail.drafts.send", G, Cost::GmailSend(100));

const DRAFTS_UPDATE: Endpoint = endpoint("gmail.drafts.update", G, Cost::Gmail(15));
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
            web::put().to(drafts_update),
        )
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

/// A message as `messages.get` returns it in its default `full` format.
pub(super) fn message_resource(m: &Message) -> Value {
    render(m, "full", &[])
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

fn draft<'a>(mb: &'a Mailbox, id: &str) -> Option<&'a Message> {
    mb.messages.get(mb.drafts.get(id)?)
}
