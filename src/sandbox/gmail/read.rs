//! Gmail reads: threads and messages (list, get), drafts (list, get), profile.

use std::collections::BTreeMap;

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use crate::sandbox::Sandbox;
use crate::sandbox::gate;
use crate::sandbox::mime::{self, Message};
use crate::sandbox::respond::google_not_found;
use crate::sandbox::state::Mailbox;

use super::{
    DRAFTS_GET, DRAFTS_LIST, MESSAGES_GET, MESSAGES_LIST, NOT_FOUND, PROFILE, Query, THREADS_GET,
    THREADS_LIST, check_format, draft, history_id, mailbox_email, page_body, paging, query_all,
    query_map, render, visible,
};

pub(super) async fn threads_list(
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

pub(super) async fn threads_get(
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

pub(super) async fn messages_list(
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

pub(super) async fn messages_get(
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

pub(super) async fn drafts_get(
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

pub(super) async fn drafts_list(
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

pub(super) async fn profile(
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
