//! Calendar v3 `events.patch` and `events.delete`, as Google answers them:
//! patch merges the given fields into the event (times re-validated, `sequence`
//! and `updated` moved on) and answers the event; delete answers 204 with no
//! body and leaves the event `cancelled` (hidden from lists, not busy); a
//! second delete is 410 `deleted`; an unknown id is 404. Both honour
//! `sendUpdates` (`all`, `externalOnly`, `none`; anything else is 400).

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::Sandbox;
use super::calendar::{calendar_id, event_time};
use super::gate::{self, Cost, Endpoint, Principal, endpoint};
use super::respond::{self, Provider, google_bad_request, google_not_found, json_body};
use super::state::{Calendar, World};

const G: Provider = Provider::Google;
const PATCH: Endpoint = endpoint("calendar.events.patch", G, Cost::Calendar);
const DELETE: Endpoint = endpoint("calendar.events.delete", G, Cost::Calendar);

/// Fields a client may not change by patch: Google owns them.
const READ_ONLY: &[&str] = &[
    "id",
    "kind",
    "etag",
    "htmlLink",
    "created",
    "updated",
    "iCalUID",
    "creator",
    "organizer",
    "hangoutLink",
];

fn send_updates(req: &HttpRequest) -> Result<Option<String>, HttpResponse> {
    let query: HashMap<String, String> =
        serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    match query.get("sendUpdates") {
        Some(s) if !matches!(s.as_str(), "all" | "externalOnly" | "none") => Err(
            google_bad_request(&format!("Invalid value for sendUpdates: {s}")),
        ),
        other => Ok(other.cloned()),
    }
}

fn no_write_access() -> HttpResponse {
    respond::google(
        StatusCode::FORBIDDEN,
        "PERMISSION_DENIED",
        "calendar",
        "requiredAccessLevel",
        "You need to have writer access to this calendar.",
    )
}

fn deleted() -> HttpResponse {
    respond::google(
        StatusCode::GONE,
        "NOT_FOUND",
        "global",
        "deleted",
        "Resource has been deleted",
    )
}

/// The calendar and a copy of the event a change is about, or Google's answer
/// when there is none to change: 404 for an unknown calendar or event, 403 for
/// another user's calendar, 410 for a deleted event.
fn live_event<'w>(
    world: &'w mut World,
    calendar: &str,
    principal: &Principal,
    id: &str,
) -> Result<(&'w mut Calendar, Value), HttpResponse> {
    let cal_id = calendar_id(calendar, principal);
    let Some(cal) = world.calendars.get_mut(&cal_id) else {
        return Err(google_not_found("Not Found"));
    };
    if cal_id != principal.email() {
        return Err(no_write_access());
    }
    let Some(stored) = cal.events.get(id) else {
        return Err(google_not_found("Not Found"));
    };
    if stored.resource.get("status").and_then(Value::as_str) == Some("cancelled") {
        return Err(deleted());
    }
    let event = stored.resource.clone();
    Ok((cal, event))
}

pub async fn patch(
    sb: web::Data<Sandbox>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> HttpResponse {
    let (calendar, id) = path.into_inner();
    let (sb, req) = (sb.get_ref(), &req);
    gate::serve(sb, req, PATCH, |p| async move {
        let updates = match send_updates(req) {
            Ok(u) => u,
            Err(e) => return e,
        };
        let change: Value = match json_body(G, req, &body) {
            Ok(v) => v,
            Err(e) => return e,
        };
        let Some(change) = change.as_object() else {
            return google_bad_request("Invalid event resource.");
        };
        let now = sb
            .clock
            .now_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let mut world = sb.lock_world();
        let (cal, mut event) = match live_event(&mut world, &calendar, &p, &id) {
            Ok(found) => found,
            Err(e) => return e,
        };
        for (k, v) in change {
            if !READ_ONLY.contains(&k.as_str()) {
                event[k] = v.clone();
            }
        }
        let (start, end) = match (
            event_time(event.get("start"), "start"),
            event_time(event.get("end"), "end"),
        ) {
            (Ok(s), Ok(e)) => (s, e),
            (Err(e), _) | (_, Err(e)) => return e,
        };
        if end < start {
            return respond::google(
                StatusCode::BAD_REQUEST,
                "INVALID_ARGUMENT",
                "calendar",
                "timeRangeEmpty",
                "The specified time range is empty.",
            );
        }
        let sequence = event.get("sequence").and_then(Value::as_i64).unwrap_or(0);
        event["sequence"] = json!(sequence + 1);
        event["updated"] = json!(now);
        cal.notify(&event, "update", updates.as_deref());
        if let Some(stored) = cal.events.get_mut(&id) {
            stored.resource = event.clone();
            stored.start = start;
            stored.end = end;
        }
        HttpResponse::Ok().json(event)
    })
    .await
}

pub async fn delete(
    sb: web::Data<Sandbox>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (calendar, id) = path.into_inner();
    let (sb, req) = (sb.get_ref(), &req);
    gate::serve(sb, req, DELETE, |p| async move {
        let updates = match send_updates(req) {
            Ok(u) => u,
            Err(e) => return e,
        };
        let now = sb
            .clock
            .now_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let mut world = sb.lock_world();
        let (cal, mut event) = match live_event(&mut world, &calendar, &p, &id) {
            Ok(found) => found,
            Err(e) => return e,
        };
        event["status"] = json!("cancelled");
        event["updated"] = json!(now);
        cal.notify(&event, "cancellation", updates.as_deref());
        if let Some(stored) = cal.events.get_mut(&id) {
            stored.resource = event;
        }
        HttpResponse::NoContent().finish()
    })
    .await
}
