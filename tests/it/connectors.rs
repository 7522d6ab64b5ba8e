//! Client edge cases over real HTTP against wiremock: error envelopes, Retry-After
//! units, OAuth refresh, caching and dead grants, and the request shapes sent.
//! Gmail and OAuth here; HubSpot in `hubspot`, Calendar, Drive and the LLM in
//! `google_apis`, transport failures in `transport`.

mod google_apis;
mod hubspot;
mod transport;

use std::sync::Arc;
use std::time::Duration;

use actix::Actor;

use sales_agent::connectors::ConnectorError;
use sales_agent::connectors::gmail::{Gmail, GmailClient, ListRequest};
use sales_agent::connectors::google_auth::{
    AccountStatus, CredentialStore, GoogleTokens, InMemoryCredentials,
};
use sales_agent::connectors::http;
use sales_agent::connectors::hubspot::HubSpotClient;
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

pub(crate) fn hubspot(server: &MockServer) -> HubSpotClient {
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
    let addr = ConnectorActor::new(client, policy).start().recipient();
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
