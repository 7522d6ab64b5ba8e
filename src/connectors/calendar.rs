//! Calendar v3: free/busy of a rep's calendar and idempotent event creation.
//! A calendar that answers with `errors` is an error, never "free" (API_FACTS §3.1);
//! events carry a client-chosen id so a retried insert hits 409 instead of booking twice.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::error::ConnectorError;
use super::google_auth::GoogleTokens;
use super::http::Endpoint;
use super::limiter::RateCost;

pub const FREEBUSY_QUERY: Endpoint = Endpoint {
    id: "calendar.freebusy.query",
    method: "POST",
    path: "calendar/v3/freeBusy",
    query: &[],
    body: &["timeMin", "timeMax", "timeZone", "items"],
    idempotent: true,
};
pub const EVENTS_INSERT: Endpoint = Endpoint {
    id: "calendar.events.insert",
    method: "POST",
    path: "calendar/v3/calendars/{calendarId}/events",
    query: &["conferenceDataVersion", "sendUpdates"],
    body: &[
        "id",
        "summary",
        "description",
        "start",
        "end",
        "attendees",
        "conferenceData",
    ],
    idempotent: true,
};
pub const EVENTS_GET: Endpoint = Endpoint {
    id: "calendar.events.get",
    method: "GET",
    path: "calendar/v3/calendars/{calendarId}/events/{eventId}",
    query: &[],
    body: &[],
    idempotent: true,
};

pub const EVENTS_LIST: Endpoint = Endpoint {
    id: "calendar.events.list",
    method: "GET",
    path: "calendar/v3/calendars/{calendarId}/events",
    query: &["q", "timeMin", "maxResults", "pageToken", "singleEvents"],
    body: &[],
    idempotent: true,
};

pub const EVENTS_PATCH: Endpoint = Endpoint {
    id: "calendar.events.patch",
    method: "PATCH",
    path: "calendar/v3/calendars/{calendarId}/events/{eventId}",
    query: &["conferenceDataVersion", "sendUpdates"],
    body: &["summary", "description", "start", "end"],
    idempotent: true,
};
pub const EVENTS_DELETE: Endpoint = Endpoint {
    id: "calendar.events.delete",
    method: "DELETE",
    path: "calendar/v3/calendars/{calendarId}/events/{eventId}",
    query: &["sendUpdates"],
    body: &[],
    idempotent: true,
};

pub const ENDPOINTS: &[Endpoint] = &[
    FREEBUSY_QUERY,
    EVENTS_INSERT,
    EVENTS_GET,
    EVENTS_LIST,
    EVENTS_PATCH,
    EVENTS_DELETE,
];

/// Calendar's quota is per user: one request from the account's bucket.
pub fn cost(account: &str) -> RateCost {
    RateCost::units(account.to_ascii_lowercase(), 1)
}

/// A deterministic event id: base32hex (`0-9a-v`, as Calendar requires) of a UUIDv5
/// of `key`, so every retry of one booking proposes the same id.
pub fn event_id(key: &str) -> String {
    let uuid = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, key.as_bytes());
    data_encoding::BASE32HEX_NOPAD
        .encode(uuid.as_bytes())
        .to_ascii_lowercase()
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Busy {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct FreeBusyResponse {
    calendars: BTreeMap<String, CalendarBusy>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CalendarBusy {
    busy: Vec<Busy>,
    errors: Vec<CalendarError>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CalendarError {
    reason: Option<String>,
}

/// A time with its IANA zone, as Calendar takes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventTime {
    pub date_time: String,
    pub time_zone: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    /// From [`event_id`].
    pub id: String,
    pub summary: String,
    pub description: String,
    pub start: EventTime,
    pub end: EventTime,
    pub attendees: Vec<String>,
    /// Ask for a Meet link (needs `conferenceDataVersion=1`, always sent).
    pub meet: bool,
    /// `none` (default while drafts only), `externalOnly` or `all`.
    pub send_updates: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Event {
    pub id: String,
    pub status: Option<String>,
    pub html_link: Option<String>,
    pub hangout_link: Option<String>,
    pub description: Option<String>,
}

/// What a patch changes; `None` leaves the field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventPatch {
    pub description: Option<String>,
    pub start: Option<EventTime>,
    pub end: Option<EventTime>,
    /// As for [`NewEvent::send_updates`].
    pub send_updates: String,
}

/// The `events.insert` body for `event` (also what pilot mode records).
pub fn insert_body(event: &NewEvent) -> serde_json::Value {
    let mut body = serde_json::json!({
        "id": event.id,
        "summary": event.summary,
        "description": event.description,
        "start": event.start,
        "end": event.end,
        "attendees": event.attendees.iter().map(|a| serde_json::json!({"email": a})).collect::<Vec<_>>(),
    });
    if event.meet {
        // The request id is the event's own: a retried insert asks for the same
        // conference, never a second one.
        body["conferenceData"] = serde_json::json!({
            "createRequest": {"requestId": event.id, "conferenceSolutionKey": {"type": "hangoutsMeet"}}
        });
    }
    body
}

/// The `events.patch` body for `patch`.
pub fn patch_body(patch: &EventPatch) -> serde_json::Value {
    let mut body = serde_json::json!({});
    if let Some(d) = &patch.description {
        body["description"] = serde_json::json!(d);
    }
    if let Some(t) = &patch.start {
        body["start"] = serde_json::json!(t);
    }
    if let Some(t) = &patch.end {
        body["end"] = serde_json::json!(t);
    }
    body
}

/// An attendee as `events.list` returns it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Attendee {
    pub email: String,
    pub response_status: Option<String>,
}

/// The fields of a listed event the experiment outcome check reads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ListedEvent {
    pub id: String,
    pub status: Option<String>,
    pub created: Option<DateTime<Utc>>,
    pub attendees: Vec<Attendee>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct EventList {
    items: Vec<ListedEvent>,
    next_page_token: Option<String>,
}

#[async_trait]
pub trait Calendar: Send + Sync {
    /// Events on `calendar_id` ending after `since` that mention `text` (Calendar's
    /// free-text `q` covers attendees' addresses), all pages, single instances.
    async fn events_matching(
        &self,
        account: &str,
        calendar_id: &str,
        text: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<ListedEvent>, ConnectorError>;
    /// Busy intervals of `calendar_id`; an error if Google could not read it.
    async fn busy(
        &self,
        account: &str,
        calendar_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Busy>, ConnectorError>;
    /// Creates the event; if it already exists (409 on our id) returns the existing one.
    async fn insert_event(
        &self,
        account: &str,
        calendar_id: &str,
        event: &NewEvent,
    ) -> Result<Event, ConnectorError>;
    /// The event, or `None` when the calendar has no event of that id.
    async fn get_event(
        &self,
        account: &str,
        calendar_id: &str,
        event_id: &str,
    ) -> Result<Option<Event>, ConnectorError>;
    /// Changes the given fields of the event.
    async fn patch_event(
        &self,
        account: &str,
        calendar_id: &str,
        event_id: &str,
        patch: &EventPatch,
    ) -> Result<Event, ConnectorError>;
    /// Deletes (cancels) the event; one already gone counts as deleted.
    async fn delete_event(
        &self,
        account: &str,
        calendar_id: &str,
        event_id: &str,
        send_updates: &str,
    ) -> Result<(), ConnectorError>;
}

pub struct CalendarClient {
    http: reqwest::Client,
    base: String,
    tokens: Arc<GoogleTokens>,
}

impl CalendarClient {
    /// `base` is `https://www.googleapis.com` in production.
    pub fn new(http: reqwest::Client, base: impl Into<String>, tokens: Arc<GoogleTokens>) -> Self {
        CalendarClient {
            http,
            base: base.into(),
            tokens,
        }
    }
}

#[async_trait]
impl Calendar for CalendarClient {
    async fn events_matching(
        &self,
        account: &str,
        calendar_id: &str,
        text: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<ListedEvent>, ConnectorError> {
        let url = EVENTS_LIST.url(&self.base, &[calendar_id]);
        let mut out = Vec::new();
        let mut page_token: Option<String> = None;
        // A bounded number of pages: the check runs again on its next tick.
        for _ in 0..10 {
            let mut params = vec![
                ("q", text.to_string()),
                ("timeMin", since.to_rfc3339()),
                ("maxResults", "250".to_string()),
                ("singleEvents", "true".to_string()),
            ];
            if let Some(token) = &page_token {
                params.push(("pageToken", token.clone()));
            }
            let page: EventList = self
                .tokens
                .send_json(account, || {
                    self.http.get(&url).query(EVENTS_LIST.query(&params))
                })
                .await?;
            out.extend(page.items);
            match page.next_page_token {
                Some(token) => page_token = Some(token),
                None => break,
            }
        }
        Ok(out)
    }

    async fn busy(
        &self,
        account: &str,
        calendar_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Busy>, ConnectorError> {
        let body = serde_json::json!({
            "timeMin": from.to_rfc3339(),
            "timeMax": to.to_rfc3339(),
            "timeZone": "UTC",
            "items": [{"id": calendar_id}],
        });
        let url = FREEBUSY_QUERY.url(&self.base, &[]);
        let response: FreeBusyResponse = self
            .tokens
            .send_json(account, || {
                self.http.post(&url).json(FREEBUSY_QUERY.body(&body))
            })
            .await?;
        let Some(calendar) = response
            .calendars
            .into_iter()
            .find(|(id, _)| id.eq_ignore_ascii_case(calendar_id))
            .map(|(_, c)| c)
        else {
            return Err(ConnectorError::Permanent {
                status: 0,
                message: "free/busy answer lacks the calendar asked for".into(),
            });
        };
        if let Some(first) = calendar.errors.first() {
            let reason = first.reason.clone().unwrap_or_else(|| "unknown".into());
            return Err(match reason.as_str() {
                "notFound" => ConnectorError::NotFound(format!("calendar free/busy: {reason}")),
                "backendError" => {
                    ConnectorError::transient(format!("calendar free/busy: {reason}"))
                }
                _ => ConnectorError::Permanent {
                    status: 0,
                    message: format!("calendar free/busy: {reason}"),
                },
            });
        }
        Ok(calendar.busy)
    }

    async fn insert_event(
        &self,
        account: &str,
        calendar_id: &str,
        event: &NewEvent,
    ) -> Result<Event, ConnectorError> {
        let body = insert_body(event);
        let url = EVENTS_INSERT.url(&self.base, &[calendar_id]);
        let query = [
            ("conferenceDataVersion", "1"),
            ("sendUpdates", event.send_updates.as_str()),
        ];
        let created = self
            .tokens
            .send_json(account, || {
                self.http
                    .post(&url)
                    .query(EVENTS_INSERT.query(&query))
                    .json(EVENTS_INSERT.body(&body))
            })
            .await;
        match created {
            Err(ConnectorError::Conflict(_)) => {
                // Our id already exists: an earlier attempt booked it. Read it back.
                let url = EVENTS_GET.url(&self.base, &[calendar_id, &event.id]);
                self.tokens.send_json(account, || self.http.get(&url)).await
            }
            other => other,
        }
    }

    async fn get_event(
        &self,
        account: &str,
        calendar_id: &str,
        event_id: &str,
    ) -> Result<Option<Event>, ConnectorError> {
        let url = EVENTS_GET.url(&self.base, &[calendar_id, event_id]);
        match self.tokens.send_json(account, || self.http.get(&url)).await {
            Ok(event) => Ok(Some(event)),
            Err(ConnectorError::NotFound(_)) => Ok(None),
            Err(other) => Err(other),
        }
    }

    async fn patch_event(
        &self,
        account: &str,
        calendar_id: &str,
        event_id: &str,
        patch: &EventPatch,
    ) -> Result<Event, ConnectorError> {
        let url = EVENTS_PATCH.url(&self.base, &[calendar_id, event_id]);
        let body = patch_body(patch);
        let query = [("sendUpdates", patch.send_updates.as_str())];
        self.tokens
            .send_json(account, || {
                self.http
                    .patch(&url)
                    .query(EVENTS_PATCH.query(&query))
                    .json(EVENTS_PATCH.body(&body))
            })
            .await
    }

    async fn delete_event(
        &self,
        account: &str,
        calendar_id: &str,
        event_id: &str,
        send_updates: &str,
    ) -> Result<(), ConnectorError> {
        let url = EVENTS_DELETE.url(&self.base, &[calendar_id, event_id]);
        let query = [("sendUpdates", send_updates)];
        let deleted = self
            .tokens
            .send(account, || {
                self.http.delete(&url).query(EVENTS_DELETE.query(&query))
            })
            .await;
        match deleted {
            // Gone already (an earlier attempt deleted it): 404, or 410 `deleted`.
            Ok(_) | Err(ConnectorError::NotFound(_)) => Ok(()),
            Err(other) => Err(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_ids_are_deterministic_base32hex() {
        let a = event_id("wf-1:propose");
        assert_eq!(a, event_id("wf-1:propose"));
        assert_ne!(a, event_id("wf-2:propose"));
        assert!(a.len() >= 5 && a.len() <= 1024);
        assert!(a.chars().all(|c| matches!(c, '0'..='9' | 'a'..='v')), "{a}");
    }
}
