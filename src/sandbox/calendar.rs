//! Google Calendar v3 (real base `https://www.googleapis.com`): `freeBusy`
//! (unknown calendars come back with `errors: [notFound]` and an empty `busy`),
//! `events.insert` honouring a client-supplied base32hex id (a repeat is 409
//! `duplicate`) and Meet links with `conferenceDataVersion=1`, `events.get`, `events.list`
//! (in `calendar_list`), and `events.patch` / `events.delete` (in `calendar_change`).
//! Cancelled (deleted) events are not busy.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Sandbox;
use super::fixture::CalendarFixture;
use super::gate::{self, Cost, Endpoint, Principal, endpoint};
use super::respond::{self, Provider, google_bad_request, google_not_found, json_body};
use super::state::{Calendar, Event};

const G: Provider = Provider::Google;
const FREEBUSY: Endpoint = endpoint("calendar.freebusy", G, Cost::Calendar);
const INSERT: Endpoint = endpoint("calendar.events.insert", G, Cost::Calendar);
const GET: Endpoint = endpoint("calendar.events.get", G, Cost::Calendar);

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/calendar/v3/freeBusy", web::post().to(freebusy))
        .route(
            "/calendar/v3/calendars/{calendar}/events",
            web::post().to(insert),
        )
        .route(
            "/calendar/v3/calendars/{calendar}/events",
            web::get().to(super::calendar_list::list),
        )
        .route(
            "/calendar/v3/calendars/{calendar}/events/{id}",
            web::get().to(get),
        )
        .route(
            "/calendar/v3/calendars/{calendar}/events/{id}",
            web::patch().to(super::calendar_change::patch),
        )
        .route(
            "/calendar/v3/calendars/{calendar}/events/{id}",
            web::delete().to(super::calendar_change::delete),
        );
}

/// Builds a calendar from the fixture; relative blocks are resolved against `now`.
pub fn from_fixture(c: &CalendarFixture, now: DateTime<Utc>) -> Result<Calendar, String> {
    let mut calendar = Calendar {
        id: c.id.to_ascii_lowercase(),
        time_zone: c.time_zone.clone(),
        ..Calendar::default()
    };
    for (i, e) in c.events.iter().enumerate() {
        let (start, end) = match (e.start, e.end, e.day_offset, e.at_utc.as_deref(), e.minutes) {
            (Some(s), Some(en), ..) => (s.with_timezone(&Utc), en.with_timezone(&Utc)),
            (_, _, Some(days), Some(at), Some(minutes)) => {
                let time = chrono::NaiveTime::parse_from_str(at, "%H:%M")
                    .map_err(|_| format!("{}: bad atUtc {at}", c.id))?;
                let start = (now.date_naive() + chrono::Duration::days(days))
                    .and_time(time)
                    .and_utc();
                (start, start + chrono::Duration::minutes(minutes))
            }
            _ => {
                return Err(format!(
                    "{}: event {i} needs start/end or dayOffset/atUtc/minutes",
                    c.id
                ));
            }
        };
        let id = e.id.clone().unwrap_or_else(|| format!("fixture{i:04}"));
        let resource = json!({"kind": "calendar#event", "id": id, "status": "confirmed", "summary": e.summary,
            "start": {"dateTime": start.to_rfc3339()}, "end": {"dateTime": end.to_rfc3339()}});
        calendar.events.insert(
            id.clone(),
            Event {
                id,
                resource,
                start,
                end,
            },
        );
    }
    Ok(calendar)
}

/// `primary` is the caller's own calendar.
pub(super) fn calendar_id(id: &str, principal: &Principal) -> String {
    if id == "primary" {
        principal.email().to_string()
    } else {
        id.to_ascii_lowercase()
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FreeBusyRequest {
    time_min: Option<String>,
    time_max: Option<String>,
    time_zone: Option<String>,
    #[serde(default)]
    items: Vec<Item>,
    calendar_expansion_max: Option<u32>,
    group_expansion_max: Option<u32>,
}

#[derive(Deserialize)]
struct Item {
    id: String,
}

fn required(field: &str) -> HttpResponse {
    respond::google(
        StatusCode::BAD_REQUEST,
        "INVALID_ARGUMENT",
        "global",
        "required",
        &format!("Missing {field}."),
    )
}

fn rfc3339(field: &str, v: Option<&String>) -> Result<DateTime<Utc>, HttpResponse> {
    let v = v.ok_or_else(|| required(field))?;
    DateTime::parse_from_rfc3339(v)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|_| google_bad_request(&format!("Bad Request: invalid {field}")))
}

async fn freebusy(sb: web::Data<Sandbox>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let (sb, req) = (sb.get_ref(), &req);
    gate::serve(sb, req, FREEBUSY, |p| async move {
        let input: FreeBusyRequest = match json_body(G, req, &body) { Ok(v) => v, Err(e) => return e };
        let (min, max) = match (rfc3339("timeMin", input.time_min.as_ref()), rfc3339("timeMax", input.time_max.as_ref())) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(e), _) | (_, Err(e)) => return e,
        };
        if max <= min {
            return respond::google(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", "calendar", "timeRangeEmpty", "The specified time range is empty.");
        }
        if input.calendar_expansion_max.is_some_and(|n| n > 50) || input.group_expansion_max.is_some_and(|n| n > 100) {
            return google_bad_request("Invalid expansion maximum.");
        }
        if input.items.len() > 50 {
            return respond::google(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", "calendar", "tooManyCalendarsRequested", "The number of calendars requested is too large.");
        }
        let tz: chrono_tz::Tz = match input.time_zone.as_deref().unwrap_or("UTC").parse() {
            Ok(tz) => tz,
            Err(_) => return google_bad_request("Invalid time zone definition."),
        };
        let show = |d: DateTime<Utc>| d.with_timezone(&tz).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let world = sb.lock_world();
        let mut calendars = serde_json::Map::new();
        for item in &input.items {
            let entry = match world.calendars.get(&calendar_id(&item.id, &p)) {
                None => json!({"errors": [{"domain": "global", "reason": "notFound"}], "busy": []}),
                Some(c) => {
                    let mut spans: Vec<(DateTime<Utc>, DateTime<Utc>)> = c
                        .events
                        .values()
                        .filter(|e| e.resource.get("transparency").and_then(Value::as_str) != Some("transparent"))
                        .filter(|e| e.resource.get("status").and_then(Value::as_str) != Some("cancelled"))
                        .filter(|e| e.start < max && e.end > min)
                        .map(|e| (e.start.max(min), e.end.min(max)))
                        .collect();
                    spans.sort();
                    let mut merged: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::new();
                    for (s, e) in spans {
                        match merged.last_mut() {
                            Some(last) if s <= last.1 => last.1 = last.1.max(e),
                            _ => merged.push((s, e)),
                        }
                    }
                    json!({"busy": merged.iter().map(|(s, e)| json!({"start": show(*s), "end": show(*e)})).collect::<Vec<_>>()})
                }
            };
            calendars.insert(item.id.clone(), entry);
        }
        HttpResponse::Ok().json(json!({"kind": "calendar#freeBusy", "timeMin": show(min), "timeMax": show(max), "calendars": calendars}))
    })
    .await
}

/// base32hex (lowercase a–v, 0–9), 5 to 1024 characters.
pub fn valid_event_id(id: &str) -> bool {
    (5..=1024).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='v').contains(&c))
}

/// An event time: `dateTime` with an offset, or without one plus an IANA
/// `timeZone`, or an all-day `date`.
pub(super) fn event_time(v: Option<&Value>, which: &str) -> Result<DateTime<Utc>, HttpResponse> {
    let v = v.ok_or_else(|| {
        respond::google(
            StatusCode::BAD_REQUEST,
            "INVALID_ARGUMENT",
            "global",
            "required",
            &format!("Missing {which} time."),
        )
    })?;
    let zone = v.get("timeZone").and_then(Value::as_str);
    let tz: Option<chrono_tz::Tz> = match zone {
        Some(z) => Some(z.parse().map_err(|_| {
            google_bad_request(&format!("Invalid time zone definition for {which} time."))
        })?),
        None => None,
    };
    if let Some(dt) = v.get("dateTime").and_then(Value::as_str) {
        if let Ok(d) = DateTime::parse_from_rfc3339(dt) {
            return Ok(d.with_timezone(&Utc));
        }
        let naive = NaiveDateTime::parse_from_str(dt, "%Y-%m-%dT%H:%M:%S")
            .map_err(|_| google_bad_request(&format!("Invalid {which} time.")))?;
        let tz = tz.ok_or_else(|| {
            google_bad_request(&format!("Missing time zone definition for {which} time."))
        })?;
        // A wall time that does not exist (DST gap) is refused; an ambiguous one
        // takes the earlier instant.
        return tz
            .from_local_datetime(&naive)
            .earliest()
            .map(|d| d.with_timezone(&Utc))
            .ok_or_else(|| google_bad_request(&format!("Invalid {which} time.")));
    }
    if let Some(date) = v.get("date").and_then(Value::as_str) {
        let d = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d")
            .map_err(|_| google_bad_request(&format!("Invalid {which} time.")))?;
        return d
            .and_hms_opt(0, 0, 0)
            .map(|n| n.and_utc())
            .ok_or_else(|| google_bad_request("Invalid date"));
    }
    Err(respond::google(
        StatusCode::BAD_REQUEST,
        "INVALID_ARGUMENT",
        "global",
        "required",
        &format!("Missing {which} time."),
    ))
}

async fn insert(
    sb: web::Data<Sandbox>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let (sb, req) = (sb.get_ref(), &req);
    gate::serve(sb, req, INSERT, |p| async move {
        let query: HashMap<String, String> = serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
        let version = match query.get("conferenceDataVersion").map(String::as_str) {
            None | Some("0") => 0,
            Some("1") => 1,
            Some(_) => return google_bad_request("Invalid conferenceDataVersion: must be 0 or 1."),
        };
        if let Some(s) = query.get("sendUpdates").filter(|s| !matches!(s.as_str(), "all" | "externalOnly" | "none")) {
            return google_bad_request(&format!("Invalid value for sendUpdates: {s}"));
        }
        let mut event: Value = match json_body(G, req, &body) { Ok(v) => v, Err(e) => return e };
        if !event.is_object() {
            return google_bad_request("Invalid event resource.");
        }
        let cal = calendar_id(&path, &p);
        let (start, end) = match (event_time(event.get("start"), "start"), event_time(event.get("end"), "end")) {
            (Ok(s), Ok(e)) => (s, e),
            (Err(e), _) | (_, Err(e)) => return e,
        };
        if end < start {
            return respond::google(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", "calendar", "timeRangeEmpty", "The specified time range is empty.");
        }
        let mut world = sb.lock_world();
        if !world.calendars.contains_key(&cal) {
            return google_not_found("Not Found");
        }
        if cal != p.email() {
            return respond::google(StatusCode::FORBIDDEN, "PERMISSION_DENIED", "calendar", "requiredAccessLevel", "You need to have writer access to this calendar.");
        }
        let id = match event.get("id").and_then(Value::as_str) {
            Some(id) if !valid_event_id(id) => return google_bad_request("Invalid resource id value."),
            Some(id) => id.to_string(),
            // Lowercase hex is a subset of base32hex, so a generated id is valid too.
            None => format!("{:026x}", u128::from(world.serial()).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835)),
        };
        if world.calendars.get(&cal).is_some_and(|c| c.events.contains_key(&id)) {
            return respond::google(StatusCode::CONFLICT, "ALREADY_EXISTS", "global", "duplicate", "The requested identifier already exists.");
        }
        let create = event.pointer("/conferenceData/createRequest").cloned();
        if let Some(obj) = event.as_object_mut() {
            obj.remove("conferenceData");
        }
        if let (1, Some(create)) = (version, create) {
            let Some(request_id) = create.get("requestId").and_then(Value::as_str) else { return google_bad_request("Missing conference request id.") };
            let kind = create.pointer("/conferenceSolutionKey/type").and_then(Value::as_str).unwrap_or("");
            if kind != "hangoutsMeet" {
                return google_bad_request("Invalid conference type value.");
            }
            let code = meet_code(&id);
            event["hangoutLink"] = json!(format!("https://meet.google.com/{code}"));
            event["conferenceData"] = json!({
                "createRequest": {"requestId": request_id, "conferenceSolutionKey": {"type": kind}, "status": {"statusCode": "success"}},
                "entryPoints": [{"entryPointType": "video", "uri": format!("https://meet.google.com/{code}"), "label": format!("meet.google.com/{code}")}],
                "conferenceSolution": {"key": {"type": "hangoutsMeet"}, "name": "Google Meet"},
                "conferenceId": code});
        }
        let now = sb.clock.now_utc().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let bad_attendee = event
            .get("attendees")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .any(|a| !a.get("email").and_then(Value::as_str).is_some_and(|e| e.contains('@')));
        if bad_attendee {
            return google_bad_request("Invalid attendee email.");
        }
        if let Some(attendees) = event.get_mut("attendees").and_then(Value::as_array_mut) {
            for a in attendees.iter_mut() {
                if a.get("responseStatus").is_none() {
                    a["responseStatus"] = json!("needsAction");
                }
            }
        }
        for (k, v) in [
            ("kind", json!("calendar#event")), ("id", json!(id)), ("status", json!("confirmed")),
            ("htmlLink", json!(format!("https://www.google.com/calendar/event?eid={id}"))),
            ("created", json!(now)), ("updated", json!(now)), ("iCalUID", json!(format!("{id}@google.com"))), ("sequence", json!(0)),
            ("creator", json!({"email": cal, "self": true})), ("organizer", json!({"email": cal, "self": true})),
            ("reminders", json!({"useDefault": true})), ("eventType", json!("default")),
        ] {
            event[k] = v;
        }
        if let Some(c) = world.calendars.get_mut(&cal) {
            c.notify(&event, "invitation", query.get("sendUpdates").map(String::as_str));
            c.events.insert(id.clone(), Event { id, resource: event.clone(), start, end });
        }
        HttpResponse::Ok().json(event)
    })
    .await
}

/// A Meet code (`abc-defg-hij`) derived from the event id, so retries agree.
fn meet_code(id: &str) -> String {
    let h = super::faults::fnv1a(id);
    let letters: String = (0..10)
        .map(|i| (b'a' + ((h >> (i * 6)) % 26) as u8) as char)
        .collect();
    format!("{}-{}-{}", &letters[0..3], &letters[3..7], &letters[7..10])
}

async fn get(
    sb: web::Data<Sandbox>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (calendar, id) = path.into_inner();
    let (sb, req) = (sb.get_ref(), &req);
    gate::serve(sb, req, GET, |p| async move {
        let world = sb.lock_world();
        match world
            .calendars
            .get(&calendar_id(&calendar, &p))
            .and_then(|c| c.events.get(&id))
        {
            Some(e) => HttpResponse::Ok().json(&e.resource),
            None => google_not_found("Not Found"),
        }
    })
    .await
}
