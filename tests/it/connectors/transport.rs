//! Transport failures and HubSpot batch and owner edge cases over real HTTP.

use std::sync::Arc;
use std::time::Duration;

use sales_agent::connectors::ConnectorError;
use sales_agent::connectors::http;
use sales_agent::connectors::hubspot::{ContactUpsert, HubSpot, HubSpotClient};
use secrecy::SecretString;
use serde_json::json;
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn hubspot(base: String, timeout: Duration) -> HubSpotClient {
    HubSpotClient::new(
        http::client(timeout),
        base,
        SecretString::from("pat-na1-test"),
    )
}

#[tokio::test]
async fn a_response_slower_than_the_timeout_is_transient() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_millis(500)))
        .mount(&server)
        .await;
    let client = hubspot(server.uri(), Duration::from_millis(100));
    let err = client.list_owners().await.unwrap_err();
    assert!(matches!(err, ConnectorError::Transient { .. }), "{err:?}");
    assert!(err.is_retryable() && !err.had_no_effect());
}

#[tokio::test]
async fn a_refused_connection_is_unreachable_and_had_no_effect() {
    // Bind then drop, so nothing listens on the port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = hubspot(format!("http://127.0.0.1:{port}"), Duration::from_secs(2));
    let err = client.list_owners().await.unwrap_err();
    assert!(matches!(err, ConnectorError::Unreachable(_)), "{err:?}");
    assert!(err.is_retryable() && err.had_no_effect());
}

#[tokio::test]
async fn a_batch_upsert_sends_email_as_the_id_property_and_reports_new_contacts() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/crm/v3/objects/contacts/batch/upsert"))
        .and(body_partial_json(json!({"inputs": [{"id": "bob@buyer.com", "idProperty": "email", "properties": {"firstname": "Bob"}, "objectWriteTraceId": "wf-1"}]})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "status": "COMPLETE",
            "results": [{"id": 51, "new": true, "properties": {"email": "bob@buyer.com"}}]
        })))
        .mount(&server)
        .await;
    let input = ContactUpsert {
        email: "Bob@Buyer.com".into(),
        properties: [("firstname".to_string(), "Bob".to_string())].into(),
        trace_id: "wf-1".into(),
    };
    let done = hubspot(server.uri(), Duration::from_secs(5))
        .upsert_contacts_by_email(&[input])
        .await
        .unwrap();
    assert_eq!(done[0].id, "51");
    assert!(done[0].new);
}

#[tokio::test]
async fn a_partly_failed_batch_is_an_error_not_a_silent_success() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/crm/v3/objects/contacts/batch/upsert"))
        .respond_with(ResponseTemplate::new(207).set_body_json(json!({
            "status": "COMPLETE",
            "results": [],
            "errors": [{"status": "error", "category": "VALIDATION_ERROR", "message": "Property values were not valid"}]
        })))
        .mount(&server)
        .await;
    let input = ContactUpsert {
        email: "bob@buyer.com".into(),
        properties: Default::default(),
        trace_id: "wf-1".into(),
    };
    let err = hubspot(server.uri(), Duration::from_secs(5))
        .upsert_contacts_by_email(&[input])
        .await
        .unwrap_err();
    assert!(
        matches!(err, ConnectorError::Permanent { status: 207, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_contact_comes_with_its_owner_and_a_departed_owner_is_none() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/crm/v3/objects/contacts/51"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"id": "51", "properties": {"email": "bob@buyer.com", "hubspot_owner_id": "77"}}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/crm/v3/objects/contacts/52"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": "52", "properties": {"hubspot_owner_id": "78"}})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/crm/v3/owners/77"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                json!({"id": "77", "email": "rita@seller.com", "firstName": "Rita"}),
            ),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/crm/v3/owners/78"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"status": "error", "message": "Owner not found", "category": "OBJECT_NOT_FOUND"})))
        .mount(&server)
        .await;
    let client: Arc<dyn HubSpot> = Arc::new(hubspot(server.uri(), Duration::from_secs(5)));
    let (contact, owner) = client.get_contact("51").await.unwrap();
    assert_eq!(contact.property("email"), Some("bob@buyer.com"));
    assert_eq!(owner.unwrap().email.as_deref(), Some("rita@seller.com"));
    let (_, gone) = client.get_contact("52").await.unwrap();
    assert!(gone.is_none());
}
