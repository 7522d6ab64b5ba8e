//! HubSpot client edge cases over real HTTP, and the whole connector path
//! (actor → policy → client → HTTP) for a throttled search.

use std::sync::Arc;
use std::time::Duration;

use actix::Actor;
use chrono::{TimeZone, Utc};
use sales_agent::connectors::ConnectorError;
use sales_agent::connectors::hubspot::{Engagement, HubSpot, NewNote};
use serde_json::json;
use wiremock::matchers::{body_json, body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::hubspot;

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
    let addr = ConnectorActor::new(client, policy).start().recipient();
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
