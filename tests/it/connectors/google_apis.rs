//! Calendar, Drive and LLM client edge cases over real HTTP against wiremock.

use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use sales_agent::connectors::ConnectorError;
use sales_agent::connectors::calendar::{Calendar, CalendarClient, EventTime, NewEvent, event_id};
use sales_agent::connectors::drive::{Drive, DriveClient};
use sales_agent::connectors::google_auth::{GoogleTokens, InMemoryCredentials};
use sales_agent::connectors::http;
use sales_agent::connectors::llm::{ChatMessage, ChatRequest, Llm, LlmClient};
use sales_agent::connectors::query::DriveQuery;
use secrecy::SecretString;
use serde_json::json;
use wiremock::matchers::{body_partial_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const REP: &str = "rita@seller.com";

async fn google(server: &MockServer) -> Arc<GoogleTokens> {
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": "ya29.t", "expires_in": 3599})),
        )
        .mount(server)
        .await;
    let store = Arc::new(InMemoryCredentials::new([(
        REP.to_string(),
        SecretString::from("1//r"),
    )]));
    Arc::new(GoogleTokens::new(
        http::client(Duration::from_secs(5)),
        format!("{}/token", server.uri()),
        SecretString::from("id"),
        SecretString::from("secret"),
        store,
    ))
}

fn day(h: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, h, 0, 0).unwrap()
}

#[tokio::test]
async fn a_calendar_with_errors_is_an_error_not_free_time() {
    let server = MockServer::start().await;
    let tokens = google(&server).await;
    Mock::given(method("POST"))
        .and(path("/calendar/v3/freeBusy"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "kind": "calendar#freeBusy",
            "calendars": {REP: {"busy": [], "errors": [{"domain": "global", "reason": "notFound"}]}}
        })))
        .mount(&server)
        .await;
    let calendar = CalendarClient::new(http::client(Duration::from_secs(5)), server.uri(), tokens);
    let err = calendar.busy(REP, REP, day(8), day(18)).await.unwrap_err();
    assert!(matches!(err, ConnectorError::NotFound(_)), "{err:?}");
}

#[tokio::test]
async fn busy_intervals_are_returned() {
    let server = MockServer::start().await;
    let tokens = google(&server).await;
    Mock::given(method("POST"))
        .and(path("/calendar/v3/freeBusy"))
        .and(body_partial_json(json!({"items": [{"id": REP}]})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "calendars": {REP: {"busy": [{"start": "2026-12-01T09:00:00Z", "end": "2026-12-01T10:00:00Z"}]}}
        })))
        .mount(&server)
        .await;
    let calendar = CalendarClient::new(http::client(Duration::from_secs(5)), server.uri(), tokens);
    let busy = calendar.busy(REP, REP, day(8), day(18)).await.unwrap();
    assert_eq!(busy.len(), 1);
    assert_eq!(busy[0].start, day(9));
}

#[tokio::test]
async fn an_event_insert_that_conflicts_returns_the_existing_event() {
    let server = MockServer::start().await;
    let tokens = google(&server).await;
    let id = event_id("wf-1:propose");
    Mock::given(method("POST"))
        .and(path(format!("/calendar/v3/calendars/{REP}/events").replace('@', "%40")))
        .and(query_param("conferenceDataVersion", "1"))
        .and(query_param("sendUpdates", "none"))
        .and(body_partial_json(json!({"id": id, "conferenceData": {"createRequest": {"conferenceSolutionKey": {"type": "hangoutsMeet"}}}})))
        .respond_with(ResponseTemplate::new(409).set_body_json(json!({"error": {"code": 409, "message": "The requested identifier already exists.", "errors": [{"reason": "duplicate"}]}})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(
            format!("/calendar/v3/calendars/{REP}/events/{id}").replace('@', "%40"),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"id": id, "status": "confirmed", "hangoutLink": "https://meet.google.com/abc"}),
        ))
        .mount(&server)
        .await;
    let calendar = CalendarClient::new(http::client(Duration::from_secs(5)), server.uri(), tokens);
    let at = |t: &str| EventTime {
        date_time: t.into(),
        time_zone: "America/New_York".into(),
    };
    let event = NewEvent {
        id: id.clone(),
        summary: "Intro".into(),
        description: "".into(),
        start: at("2026-12-01T10:00:00"),
        end: at("2026-12-01T10:30:00"),
        attendees: vec!["bob@buyer.com".into()],
        meet: true,
        send_updates: "none".into(),
    };
    let got = calendar.insert_event(REP, REP, &event).await.unwrap();
    assert_eq!(got.id, id);
    assert_eq!(
        got.hangout_link.as_deref(),
        Some("https://meet.google.com/abc")
    );
}

#[tokio::test]
async fn drive_lists_with_the_escaped_query_and_shares_without_notification() {
    let server = MockServer::start().await;
    let tokens = google(&server).await;
    Mock::given(method("GET"))
        .and(path("/drive/v3/files"))
        .and(query_param("q", "trashed = false and 'f1' in parents and name contains 'O\\'Brien'"))
        .and(header("authorization", "Bearer ya29.t"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"files": [{"id": "x1", "name": "Case study", "webViewLink": "https://drive.google.com/x1"}]})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/drive/v3/files/x1/permissions"))
        .and(query_param("sendNotificationEmail", "false"))
        .and(body_partial_json(
            json!({"role": "reader", "type": "user", "emailAddress": "bob@buyer.com"}),
        ))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"id": "p1", "role": "reader"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let drive = DriveClient::new(http::client(Duration::from_secs(5)), server.uri(), tokens);
    let q = DriveQuery::new().in_parent("f1").name_contains("O'Brien");
    let page = drive.list_files(REP, &q, 50, None).await.unwrap();
    assert_eq!(page.files[0].id, "x1");
    assert_eq!(
        drive
            .share_with_reader(REP, "x1", "bob@buyer.com")
            .await
            .unwrap()
            .id,
        "p1"
    );
}

#[tokio::test]
async fn the_llm_returns_the_message_content_and_classifies_quota_errors() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(header("authorization", "Bearer sk-test"))
        .and(body_partial_json(json!({"model": "m", "response_format": {"type": "json_object"}})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "{\"subject\":\"Hi\"}"}, "finish_reason": "stop"}]
        })))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(429).set_body_json(json!({"error": {"message": "quota", "type": "insufficient_quota", "code": "insufficient_quota"}})))
        .mount(&server)
        .await;
    let llm = LlmClient::new(
        http::client(Duration::from_secs(5)),
        format!("{}/v1", server.uri()),
        SecretString::from("sk-test"),
        "m",
    );
    let request = ChatRequest {
        messages: vec![ChatMessage::system("json"), ChatMessage::user("hi")],
        temperature: 0.2,
        max_tokens: 400,
    };
    assert_eq!(
        llm.complete_json(&request).await.unwrap(),
        "{\"subject\":\"Hi\"}"
    );
    let err = llm.complete_json(&request).await.unwrap_err();
    assert!(matches!(err, ConnectorError::QuotaExhausted(_)), "{err:?}");
}
