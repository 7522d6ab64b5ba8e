//! Calendar `events.list`: `timeMin`/`timeMax` (RFC 3339 with an offset), free-text
//! `q` over summary, description, location and attendees' and organizer's
//! addresses and names, `maxResults` (1–2500, default 250) with `pageToken`
//! paging, `singleEvents`, and `orderBy` (`startTime` only with `singleEvents`).
//! Cancelled events are left out unless `showDeleted=true`.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::Sandbox;
use super::calendar::calendar_id;
use super::gate::{self, Cost, Endpoint, endpoint};
use super::respond::{self, Provider, google_bad_request, google_not_found};

const LIST: Endpoint = endpoint("calendar.events.list", Provider::Google, Cost::Calendar);

fn time(q: &HashMap<String, String>, name: &str) -> Result<Option<DateTime<Utc>>, HttpResponse> {
    q.get(name)
        .map(|v| {
            DateTime::parse_from_rfc3339(v)
                .map(|d| d.with_timezone(&Utc))
                .map_err(|_| google_bad_request(&format!("Bad Request: invalid {name}")))
        })
        .transpose()
}

/// Every string the free-text search looks in, lower-cased.
fn searchable(event: &Value) -> String {
    let mut text = String::new();
    for key in ["summary", "description", "location"] {
        if let Some(v) = event.get(key).and_then(Value::as_str) {
            text.push_str(v);
            text.push(' ');
        }
    }
    let people = event
        .get("attendees")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .chain(event.get("organizer"));
    for person in people {
        for key in ["email", "displayName"] {
            if let Some(v) = person.get(key).and_then(Value::as_str) {
                text.push_str(v);
                text.push(' ');
            }
        }
    }
    text.to_lowercase()
}

pub async fn list(
    sb: web::Data<Sandbox>,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    let (sb, req) = (sb.get_ref(), &req);
    gate::serve(sb, req, LIST, |p| async move {
        let q: HashMap<String, String> =
            serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
        let (min, max) = match (time(&q, "timeMin"), time(&q, "timeMax")) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(e), _) | (_, Err(e)) => return e,
        };
        if let (Some(a), Some(b)) = (min, max)
            && b <= a
        {
            return respond::google(
                StatusCode::BAD_REQUEST,
                "INVALID_ARGUMENT",
                "calendar",
                "timeRangeEmpty",
                "The specified time range is empty.",
            );
        }
        let size = match q.get("maxResults").map(|s| s.parse::<usize>()) {
            None => 250,
            Some(Ok(n)) if (1..=2500).contains(&n) => n,
            _ => return google_bad_request("Invalid value for maxResults."),
        };
        let flag = |name: &str| q.get(name).map(String::as_str) == Some("true");
        if let Some(order) = q.get("orderBy") {
            match order.as_str() {
                "updated" => {}
                "startTime" if flag("singleEvents") => {}
                "startTime" => {
                    return google_bad_request(
                        "The requested ordering is not available for the particular query.",
                    );
                }
                _ => return google_bad_request("Invalid value for orderBy."),
            }
        }
        let offset = match q.get("pageToken").map(|s| s.parse::<usize>()) {
            None => 0,
            Some(Ok(n)) => n,
            Some(Err(_)) => return google_bad_request("Invalid page token."),
        };
        let needle = q.get("q").map(|s| s.trim().to_lowercase());
        let world = sb.lock_world();
        let Some(calendar) = world.calendars.get(&calendar_id(&path, &p)) else {
            return google_not_found("Not Found");
        };
        let mut hits: Vec<&super::state::Event> = calendar
            .events
            .values()
            .filter(|e| min.is_none_or(|m| e.end > m) && max.is_none_or(|m| e.start < m))
            .filter(|e| {
                flag("showDeleted")
                    || e.resource.get("status").and_then(Value::as_str) != Some("cancelled")
            })
            .filter(|e| {
                needle.as_deref().is_none_or(|n| {
                    n.split_whitespace()
                        .all(|word| searchable(&e.resource).contains(word))
                })
            })
            .collect();
        hits.sort_by_key(|e| (e.start, e.id.clone()));
        let items: Vec<Value> = hits
            .iter()
            .skip(offset)
            .take(size)
            .map(|e| e.resource.clone())
            .collect();
        let mut body = json!({"kind": "calendar#events", "summary": calendar.id,
            "timeZone": calendar.time_zone, "accessRole": "owner", "items": items});
        if offset + size < hits.len() {
            body["nextPageToken"] = json!((offset + size).to_string());
        }
        HttpResponse::Ok().json(body)
    })
    .await
}
