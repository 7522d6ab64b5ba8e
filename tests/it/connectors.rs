//! Client edge cases over real HTTP against wiremock: error envelopes, Retry-After
//! units, OAuth refresh, caching and dead grants, and the request shapes sent.
//! HubSpot, Gmail and OAuth here; Calendar, Drive and the LLM in `google_apis`.

mod google_apis;
mod transport;

use std::sync::Arc;
use std::time::Duration;

use actix::Actor;

use chrono::{TimeZone, Utc};
use sales_agent::connectors::ConnectorError;
use sales_agent::connectors::gmail::{Gmail, GmailClient, ListRequest};
use sales_agent::connectors::google_auth::{
    AccountStatus, CredentialStore, GoogleTokens, InMemoryCredentials,
};
use sales_agent::connectors::http;
use sales_agent::connectors::hubspot::{Engagement, HubSpot, HubSpotClient, NewNote};
use sales_agent::connectors::query::{Folder, GmailQuery};
use secrecy::SecretString;
use serde_json::json;
use wiremock::matchers::{
    body_json, body_partial_json, body_string_contains, header, method, path, query_param,
};
use wiremock::{Mock, MockServer, ResponseTemplate};

const MAILBOX: &str = "rita@seller.com";

fn client() -> reqwest::Client {
    http::client(Duration::from_secs(5))
}

fn hubspot(server: &MockServer) -> HubSpotClient {
    HubSpotClient::new(client(), server.uri(), SecretString::from("pat-na1-test"))
}

fn tokens(server: &MockServer) -> (Arc<GoogleTokens>, Arc<InMemoryCredentials>) {
    let store = Arc::new(InMemoryCredentials::new([(
        MAILBOX.to_string(),
        SecretString::from("1//refresh"),
    )]));
    let tokens = GoogleTokens::new(
        client(),
        format!("{}/token", server.uri()),
        SecretString::from("client-id"),
        SecretString::from("client-secret"),
        store.clone(),
    );
    (Arc::new(tokens), store)
}

async fn token_endpoint(server: &MockServer, access_token: &str, expect: u64) {
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(body_string_contains("grant_type=refresh_token"))
        .and(body_string_contains("refresh_token=1%2F%2Frefresh"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": access_token, "expires_in": 3599, "token_type": "Bearer"
        })))
        .expect(expect)
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_hubspot_429_reports_retry_after_in_milliseconds() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/crm/v3/objects/contacts/search"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "2500")
                .set_body_json(json!({"status":"error","message":"You have reached your secondly limit.","errorType":"RATE_LIMIT","policyName":"SECONDLY"})),
        )
        .mount(&server)
        .await;
    let err = hubspot(&server)
        .search_contact_by_email("a@b.com")
        .await
        .unwrap_err();
    assert_eq!(err.retry_after(), Some(Duration::from_millis(2500)));
    assert!(err.is_retryable());
}

#[tokio::test]
async fn a_hubspot_daily_429_is_quota_exhausted() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(429)
                .set_body_json(json!({"policyName":"DAILY","message":"daily"})),
        )
        .mount(&server)
        .await;
    let err = hubspot(&server)
        .search_contact_by_email("a@b.com")
        .await
        .unwrap_err();
    assert!(matches!(err, ConnectorError::QuotaExhausted(_)), "{err:?}");
}

#[tokio::test]
async fn hubspot_search_sends_the_email_filter_and_the_bearer_token() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/crm/v3/objects/contacts/search"))
        .and(header("authorization", "Bearer pat-na1-test"))
        .and(body_partial_json(json!({"filterGroups":[{"filters":[{"propertyName":"email","operator":"EQ","value":"bob@buyer.com"}]}]})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "total": 1,
            "results": [{"id": "51", "properties": {"email": "bob@buyer.com", "hubspot_owner_id": null}}]
        })))
        .mount(&server)
        .await;
    let found = hubspot(&server)
        .search_contact_by_email("Bob@Buyer.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, "51");
    assert_eq!(found.property("hubspot_owner_id"), None);
}

#[tokio::test]
async fn a_note_is_created_with_its_timestamp_and_inline_contact_association() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/crm/v3/objects/notes"))
        .and(body_json(json!({
            "properties": {"hs_timestamp": "2026-11-24T10:00:00.000Z", "hs_note_body": "Replied [sa:op=op-1]"},
            "associations": [{"to": {"id": "51"}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 202}]}]
        })))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": "9001", "properties": {}})))
        .expect(1)
        .mount(&server)
        .await;
    let note = NewNote {
        contact_id: "51".into(),
        body: "Replied [sa:op=op-1]".into(),
        timestamp: Utc.with_ymd_and_hms(2026, 11, 24, 10, 0, 0).unwrap(),
        owner_id: None,
    };
    assert_eq!(
        hubspot(&server).create_note(&note).await.unwrap().id,
        "9001"
    );
}

#[tokio::test]
async fn an_earlier_note_is_found_by_its_marker_through_associations() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/crm/v4/objects/contacts/51/associations/notes"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "results": [{"toObjectId": 7, "associationTypes": []}, {"toObjectId": 8, "associationTypes": []}]
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/crm/v3/objects/notes/batch/read"))
        .and(body_partial_json(
            json!({"inputs": [{"id": "7"}, {"id": "8"}]}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "status": "COMPLETE",
            "results": [
                {"id": "7", "properties": {"hs_note_body": "other"}},
                {"id": "8", "properties": {"hs_note_body": "Replied [sa:op=op-1]"}}
            ]
        })))
        .mount(&server)
        .await;
    let hs = hubspot(&server);
    assert_eq!(
        hs.find_marked("51", Engagement::Note, "[sa:op=op-1]")
            .await
            .unwrap(),
        Some("8".into())
    );
    assert_eq!(
        hs.find_marked("51", Engagement::Note, "[sa:op=op-2]")
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn a_google_403_rate_limit_reason_is_rate_limited_with_retry_after_in_seconds() {
    let server = MockServer::start().await;
    token_endpoint(&server, "ya29.a", 1).await;
    Mock::given(method("GET"))
        .and(path("/gmail/v1/users/me/threads"))
        .respond_with(
            ResponseTemplate::new(403)
                .insert_header("Retry-After", "4")
                .set_body_json(json!({"error":{"code":403,"message":"User-rate limit exceeded","errors":[{"domain":"usageLimits","reason":"userRateLimitExceeded"}]}})),
        )
        .mount(&server)
        .await;
    let (tokens, _) = tokens(&server);
    let gmail = GmailClient::new(client(), server.uri(), tokens);
    let err = gmail
        .threads_list(MAILBOX, &ListRequest::default())
        .await
        .unwrap_err();
    assert!(matches!(err, ConnectorError::RateLimited { .. }), "{err:?}");
    assert_eq!(err.retry_after(), Some(Duration::from_secs(4)));
}

#[tokio::test]
async fn access_tokens_are_refreshed_once_and_then_cached() {
    let server = MockServer::start().await;
    token_endpoint(&server, "ya29.cached", 1).await;
    Mock::given(method("GET"))
        .and(path("/gmail/v1/users/me/threads"))
        .and(header("authorization", "Bearer ya29.cached"))
        .and(query_param(
            "q",
            r#"in:sent rfc822msgid:"sa.wf-1.deliver@seller.com""#,
        ))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"threads":[{"id":"t1"}],"resultSizeEstimate":1})),
        )
        .expect(3)
        .mount(&server)
        .await;
    let (tokens, _) = tokens(&server);
    let gmail = GmailClient::new(client(), server.uri(), tokens);
    let req = ListRequest {
        q: Some(
            GmailQuery::new()
                .in_folder(Folder::Sent)
                .rfc822msgid("<sa.wf-1.deliver@seller.com>")
                .unwrap(),
        ),
        ..Default::default()
    };
    let (a, b, c) = tokio::join!(
        gmail.threads_list(MAILBOX, &req),
        gmail.threads_list(MAILBOX, &req),
        gmail.threads_list(MAILBOX, &req)
    );
    assert_eq!(a.unwrap().threads[0].id, "t1");
    assert!(b.is_ok() && c.is_ok());
}

#[tokio::test]
async fn a_token_within_a_minute_of_expiry_is_refreshed_not_used() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "ya29.short", "expires_in": 60
        })))
        .expect(2)
        .mount(&server)
        .await;
    let (tokens, _) = tokens(&server);
    tokens.access_token(MAILBOX).await.unwrap();
    tokens.access_token(MAILBOX).await.unwrap();
}

#[tokio::test]
async fn invalid_grant_marks_the_mailbox_and_later_calls_fail_fast() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error":"invalid_grant","error_description":"Token has been expired or revoked."})))
        .expect(1)
        .mount(&server)
        .await;
    let (tokens, store) = tokens(&server);
    let err = tokens.access_token(MAILBOX).await.unwrap_err();
    assert!(matches!(err, ConnectorError::NeedsReauth { .. }), "{err:?}");
    assert!(!err.is_retryable());
    assert_eq!(store.status(MAILBOX), AccountStatus::NeedsReauth);
    // No second request reaches the token endpoint (the mock expects exactly one).
    let again = tokens.access_token(MAILBOX).await.unwrap_err();
    assert!(matches!(again, ConnectorError::NeedsReauth { .. }));
}

#[tokio::test]
async fn a_stale_token_is_refreshed_once_after_a_401() {
    let server = MockServer::start().await;
    token_endpoint(&server, "ya29.fresh", 2).await;
    Mock::given(method("POST"))
        .and(path("/gmail/v1/users/me/drafts"))
        .and(body_partial_json(json!({"message": {"threadId": "t1"}})))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": "d1", "message": {"id": "m1", "threadId": "t1"}})),
        )
        .up_to_n_times(1)
        .with_priority(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/gmail/v1/users/me/drafts"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"error":{"code":401,"message":"Invalid Credentials","errors":[{"reason":"authError"}]}})))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    let (tokens, _) = tokens(&server);
    let gmail = GmailClient::new(client(), server.uri(), tokens);
    let draft = gmail
        .drafts_create(MAILBOX, b"Subject: x\r\n\r\nhi", Some("t1"))
        .await
        .unwrap();
    assert_eq!(draft.id, "d1");
}

#[tokio::test]
async fn a_sent_message_and_a_draft_are_found_by_their_message_id() {
    let server = MockServer::start().await;
    token_endpoint(&server, "ya29.a", 1).await;
    Mock::given(method("GET"))
        .and(path("/gmail/v1/users/me/threads"))
        .and(query_param(
            "q",
            r#"in:sent rfc822msgid:"sa.wf-1.deliver@seller.com""#,
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"threads": [{"id": "t9"}]})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/gmail/v1/users/me/drafts"))
        .and(query_param(
            "q",
            r#"rfc822msgid:"sa.wf-1.deliver@seller.com""#,
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"resultSizeEstimate": 0})))
        .mount(&server)
        .await;
    let (tokens, _) = tokens(&server);
    let gmail = GmailClient::new(client(), server.uri(), tokens);
    let id = "<sa.wf-1.deliver@seller.com>";
    assert_eq!(
        gmail.find_sent_thread(MAILBOX, id).await.unwrap(),
        Some("t9".into())
    );
    assert_eq!(gmail.find_draft(MAILBOX, id).await.unwrap(), None);
}

#[tokio::test]
async fn a_sent_draft_reads_as_not_found() {
    let server = MockServer::start().await;
    token_endpoint(&server, "ya29.a", 1).await;
    Mock::given(method("GET"))
        .and(path("/gmail/v1/users/me/drafts/d1"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"error":{"code":404,"message":"Requested entity was not found.","errors":[{"reason":"notFound"}]}})))
        .mount(&server)
        .await;
    let (tokens, _) = tokens(&server);
    let gmail = GmailClient::new(client(), server.uri(), tokens);
    let err = gmail
        .drafts_get(
            MAILBOX,
            "d1",
            sales_agent::connectors::gmail::Format::Minimal,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, ConnectorError::NotFound(_)), "{err:?}");
}

#[tokio::test]
async fn a_refresh_token_never_appears_in_an_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let (tokens, _) = tokens(&server);
    let err = tokens.access_token(MAILBOX).await.unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    assert!(!format!("{err:?}").contains("1//refresh"));
}

/// The whole path a step uses: connector actor → policy → real client → HTTP.
#[actix_rt::test]
async fn the_hubspot_connector_retries_a_429_and_returns_the_contact() {
    use sales_agent::actors::connector::{self, Call, ConnectorActor};
    use sales_agent::connectors::breaker::BreakerConfig;
    use sales_agent::connectors::hubspot::{self as hs, CONTACTS_SEARCH};
    use sales_agent::connectors::limiter::{Limiter, quota};
    use sales_agent::connectors::policy::{CallPolicy, RetryPolicy};
    use sales_agent::metrics::Metrics;

    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/crm/v3/objects/contacts/search"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "20")
                .set_body_json(json!({"policyName": "SECONDLY"})),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/crm/v3/objects/contacts/search"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "results": [{"id": "51", "properties": {"email": "bob@buyer.com"}}]
        })))
        .with_priority(2)
        .mount(&server)
        .await;
    let metrics = Metrics::new();
    let policy = CallPolicy::new(
        "hubspot",
        RetryPolicy {
            max_attempts: 3,
            base: Duration::from_millis(1),
            max_backoff: Duration::from_millis(5),
            max_retry_after: Duration::from_secs(60),
        },
        Limiter::new(quota(100, Duration::from_secs(10)))
            .with_bucket(hs::SEARCH_BUCKET, quota(4, Duration::from_secs(1))),
        BreakerConfig {
            failure_threshold: 5,
            cool_down: Duration::from_secs(30),
        },
        Some(metrics.clone()),
    );
    let client: Arc<dyn HubSpot> = Arc::new(hubspot(&server));
    let addr = ConnectorActor::new(client, policy).start();
    let started = std::time::Instant::now();
    let search = Call::to(
        &CONTACTS_SEARCH,
        hs::cost(&CONTACTS_SEARCH),
        |c: Arc<dyn HubSpot>| async move { c.search_contact_by_email("bob@buyer.com").await },
    );
    let found = connector::call(&addr, search).await.unwrap().unwrap();
    assert_eq!(found.id, "51");
    // HubSpot's Retry-After is in milliseconds: 20 means 20 ms, not 20 s.
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(20) && took < Duration::from_secs(5),
        "{took:?}"
    );
    let calls = &metrics.connector_calls;
    let id = CONTACTS_SEARCH.id;
    assert_eq!(
        calls
            .with_label_values(&["hubspot", id, "rate_limited"])
            .get(),
        1
    );
    assert_eq!(calls.with_label_values(&["hubspot", id, "ok"]).get(), 1);
    assert_eq!(
        metrics
            .connector_retries
            .with_label_values(&["hubspot"])
            .get(),
        1
    );
}

/// A send that fails with a 5xx may have gone out: it is not resent blindly.
#[actix_rt::test]
async fn a_draft_send_that_fails_with_a_5xx_is_not_resent() {
    use sales_agent::actors::connector::{self, Call, ConnectorActor};
    use sales_agent::connectors::breaker::BreakerConfig;
    use sales_agent::connectors::gmail::{self as gm, DRAFTS_SEND};
    use sales_agent::connectors::limiter::{Limiter, quota};
    use sales_agent::connectors::policy::{CallPolicy, RetryPolicy};

    let server = MockServer::start().await;
    token_endpoint(&server, "ya29.a", 1).await;
    Mock::given(method("POST"))
        .and(path("/gmail/v1/users/me/drafts/send"))
        .and(body_json(json!({"id": "d1"})))
        .respond_with(ResponseTemplate::new(502))
        .expect(1)
        .mount(&server)
        .await;
    let (tokens, _) = tokens(&server);
    let client: Arc<dyn Gmail> = Arc::new(GmailClient::new(client(), server.uri(), tokens));
    let policy = CallPolicy::new(
        "gmail",
        RetryPolicy {
            max_attempts: 5,
            base: Duration::from_millis(1),
            max_backoff: Duration::from_millis(2),
            max_retry_after: Duration::from_secs(60),
        },
        Limiter::new(quota(6000, Duration::from_secs(60))),
        BreakerConfig {
            failure_threshold: 5,
            cool_down: Duration::from_secs(30),
        },
        None,
    );
    let addr = ConnectorActor::new(client, policy).start();
    let send = Call::to(
        &DRAFTS_SEND,
        gm::cost(MAILBOX, &DRAFTS_SEND),
        |c: Arc<dyn Gmail>| async move { c.drafts_send(MAILBOX, "d1").await },
    );
    let err = connector::call(&addr, send).await.unwrap_err();
    assert!(
        matches!(err, ConnectorError::OutcomeUnknown { .. }),
        "{err:?}"
    );
}
