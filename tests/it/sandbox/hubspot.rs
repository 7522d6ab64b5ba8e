//! HubSpot CRM: validation and error shapes, upsert and search, associations, quotas.

use std::time::Duration;

use reqwest::{Client, StatusCode};
use sales_agent::sandbox::{Fixture, SandboxOptions};
use serde_json::json;

use super::{PAT, body, demo, hubspot, start};

#[actix_web::test]
async fn a_note_without_hs_timestamp_is_rejected_with_hubspots_validation_shape() {
    let sb = demo();
    let client = Client::new();
    let note = json!({"properties": {"hs_note_body": "Called, left a message."}});
    let (status, json) = body(
        hubspot(&client, &sb, "/crm/v3/objects/notes", note)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(json["status"], "error");
    assert_eq!(json["category"], "VALIDATION_ERROR");
    assert!(
        json["correlationId"]
            .as_str()
            .is_some_and(|c| !c.is_empty())
    );
    assert_eq!(json["errors"][0]["code"], "REQUIRED_FIELD");
    assert!(
        json["message"]
            .as_str()
            .is_some_and(|m| m.contains("hs_timestamp"))
    );
    assert!(sb.crm_objects("notes").is_empty(), "nothing was created");
    sb.stop().await;
}

#[actix_web::test]
async fn a_note_with_an_inline_association_is_listed_on_the_contact() {
    let sb = demo();
    let client = Client::new();
    let note = json!({
        "properties": {"hs_timestamp": "2026-11-24T10:00:00Z", "hs_note_body": "[sa:op=1] Draft created", "hubspot_owner_id": "71001"},
        "associations": [{"to": {"id": "5101"}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 202}]}]
    });
    let (status, created) = body(
        hubspot(&client, &sb, "/crm/v3/objects/notes", note)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().expect("id").to_string();
    let note_id: u64 = id.parse().expect("numeric id");
    assert_eq!(sb.associated("contacts", 5101, "notes"), vec![note_id]);
    let url = format!(
        "{}/crm/v4/objects/contacts/5101/associations/notes",
        sb.base_url()
    );
    let (status, listed) = body(client.get(url).bearer_auth(PAT).send().await.expect("send")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed["results"][0]["toObjectId"].to_string(), id);
    assert_eq!(listed["results"][0]["associationTypes"][0]["typeId"], 201);

    let bad = json!({"properties": {"hs_timestamp": "1764000000000"},
        "associations": [{"to": {"id": "999999"}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 204}]}]});
    let (status, json) = body(
        hubspot(&client, &sb, "/crm/v3/objects/tasks", bad)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(json["category"], "VALIDATION_ERROR");
    sb.stop().await;
}

#[actix_web::test]
async fn upsert_by_email_reports_new_then_existing_and_search_finds_the_contact() {
    let sb = demo();
    let client = Client::new();
    let input = json!({"inputs": [{"id": "New.Person@Example.com", "idProperty": "email", "properties": {"firstname": "New"}}]});
    let path = "/crm/v3/objects/contacts/batch/upsert";
    let (_, first) = body(
        hubspot(&client, &sb, path, input.clone())
            .send()
            .await
            .expect("send"),
    )
    .await;
    let (_, second) = body(
        hubspot(&client, &sb, path, input)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(first["results"][0]["new"], true);
    assert_eq!(second["results"][0]["new"], false);
    assert_eq!(first["results"][0]["id"], second["results"][0]["id"]);

    let search = json!({"filterGroups": [{"filters": [{"propertyName": "email", "operator": "EQ", "value": "new.person@example.com"}]}],
        "properties": ["email", "firstname"], "limit": 10});
    let (status, found) = body(
        hubspot(&client, &sb, "/crm/v3/objects/contacts/search", search)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(found["total"], 1);
    assert_eq!(found["results"][0]["properties"]["firstname"], "New");

    let company = json!({"filterGroups": [{"filters": [{"propertyName": "domain", "operator": "EQ", "value": "klein-logistik.de"}]}]});
    let (_, companies) = body(
        hubspot(&client, &sb, "/crm/v3/objects/companies/search", company)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(companies["results"][0]["id"], "6102");
    sb.stop().await;
}

#[actix_web::test]
async fn hubspot_rejects_malformed_json_and_a_wrong_content_type() {
    let sb = demo();
    let client = Client::new();
    let url = format!("{}/crm/v3/objects/contacts/search", sb.base_url());
    let response = client
        .post(&url)
        .bearer_auth(PAT)
        .header("content-type", "application/json")
        .body("{\"filterGroups\": [")
        .send()
        .await
        .expect("send");
    let (status, json) = body(response).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(json["category"], "VALIDATION_ERROR");
    let response = client
        .post(&url)
        .bearer_auth(PAT)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    sb.stop().await;
}

#[actix_web::test]
async fn the_hubspot_ten_second_quota_answers_429_after_100_requests() {
    let sb = demo();
    let client = Client::new();
    let url = format!("{}/crm/v3/owners", sb.base_url());
    for i in 0..100 {
        let status = client
            .get(&url)
            .bearer_auth(PAT)
            .send()
            .await
            .expect("send")
            .status();
        assert_eq!(status, StatusCode::OK, "request {i}");
    }
    let response = client
        .get(&url)
        .bearer_auth(PAT)
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .ok()
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in ms");
    assert!(retry_after > 0 && retry_after <= 10_000, "{retry_after}");
    let (_, json) = body(response).await;
    assert_eq!(json["policyName"], "TEN_SECONDLY_ROLLING");
    assert_eq!(json["category"], "RATE_LIMITS");
    assert_eq!(sb.stats()["hubspot.owners.list"].quota_429s, 1);

    sb.advance(Duration::from_millis(retry_after));
    assert_eq!(
        client
            .get(&url)
            .bearer_auth(PAT)
            .send()
            .await
            .expect("send")
            .status(),
        StatusCode::OK
    );
    sb.stop().await;
}

#[actix_web::test]
async fn hubspot_search_is_limited_to_four_requests_a_second() {
    let sb = demo();
    let client = Client::new();
    let search = json!({"filterGroups": [{"filters": [{"propertyName": "email", "operator": "HAS_PROPERTY"}]}]});
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let response = hubspot(
            &client,
            &sb,
            "/crm/v3/objects/contacts/search",
            search.clone(),
        )
        .send()
        .await
        .expect("send");
        statuses.push(response.status().as_u16());
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(body(response).await.1["policyName"], "SECONDLY");
        }
    }
    assert_eq!(statuses, vec![200, 200, 200, 200, 429]);
    sb.stop().await;
}

#[actix_web::test]
async fn reads_carry_rate_limit_headers_and_search_responses_do_not() {
    let sb = demo();
    let client = Client::new();
    let url = format!("{}/crm/v3/objects/contacts/5101", sb.base_url());
    let response = client
        .get(&url)
        .bearer_auth(PAT)
        .send()
        .await
        .expect("send");
    let header = |r: &reqwest::Response, name: &str| {
        r.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(String::from)
    };
    assert_eq!(
        header(&response, "x-hubspot-ratelimit-max").as_deref(),
        Some("100")
    );
    assert_eq!(
        header(&response, "x-hubspot-ratelimit-remaining").as_deref(),
        Some("99")
    );
    assert_eq!(
        header(&response, "x-hubspot-ratelimit-interval-milliseconds").as_deref(),
        Some("10000")
    );
    let search = json!({"filterGroups": []});
    let response = hubspot(&client, &sb, "/crm/v3/objects/contacts/search", search)
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "x-hubspot-ratelimit-max"), None);
    sb.stop().await;
}

#[actix_web::test]
async fn an_email_engagement_and_a_task_update_follow_hubspots_rules() {
    let sb = demo();
    let client = Client::new();
    let email = json!({
        "properties": {"hs_timestamp": "1764000000000", "hs_email_direction": "EMAIL", "hs_email_status": "SENT",
                       "hs_email_subject": "Staffing forecasts"},
        "associations": [{"to": {"id": "5101"}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 198}]}]
    });
    let (status, created) = body(
        hubspot(&client, &sb, "/crm/v3/objects/emails", email)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let bad =
        json!({"properties": {"hs_timestamp": "1764000000000", "hs_email_status": "DELIVERED"}});
    let (status, json) = body(
        hubspot(&client, &sb, "/crm/v3/objects/emails", bad)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(json["errors"][0]["code"], "INVALID_OPTION");

    let task = json!({"properties": {"hs_timestamp": "2026-11-27T15:00:00Z", "hs_task_subject": "Follow up", "hs_task_status": "NOT_STARTED"}});
    let (_, task) = body(
        hubspot(&client, &sb, "/crm/v3/objects/tasks", task)
            .send()
            .await
            .expect("send"),
    )
    .await;
    let url = format!(
        "{}/crm/v3/objects/tasks/{}",
        sb.base_url(),
        task["id"].as_str().expect("id")
    );
    let done = json!({"properties": {"hs_task_status": "COMPLETED"}});
    let (status, updated) = body(
        client
            .patch(&url)
            .bearer_auth(PAT)
            .json(&done)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(updated["properties"]["hs_task_status"], "COMPLETED");
    let wrong = json!({"properties": {"hs_task_status": "FINISHED"}});
    let (status, _) = body(
        client
            .patch(&url)
            .bearer_auth(PAT)
            .json(&wrong)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let missing = format!("{}/crm/v3/objects/tasks/424242", sb.base_url());
    let (status, json) = body(
        client
            .patch(&missing)
            .bearer_auth(PAT)
            .json(&done)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(
        (status, json["category"].as_str()),
        (StatusCode::NOT_FOUND, Some("OBJECT_NOT_FOUND"))
    );
    sb.stop().await;
}

#[actix_web::test]
async fn with_a_search_lag_a_new_contact_is_readable_by_id_before_search_finds_it() {
    let mut fixture = Fixture::demo();
    fixture.hubspot.search_lag_ms = 5_000;
    let sb = start(SandboxOptions {
        fixture: Some(fixture),
        ..SandboxOptions::default()
    });
    let client = Client::new();
    let input =
        json!({"inputs": [{"id": "late@example.com", "idProperty": "email", "properties": {}}]});
    let (_, upserted) = body(
        hubspot(&client, &sb, "/crm/v3/objects/contacts/batch/upsert", input)
            .send()
            .await
            .expect("send"),
    )
    .await;
    let id = upserted["results"][0]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let url = format!("{}/crm/v3/objects/contacts/{id}", sb.base_url());
    assert_eq!(
        client
            .get(&url)
            .bearer_auth(PAT)
            .send()
            .await
            .expect("send")
            .status(),
        StatusCode::OK
    );

    let search = json!({"filterGroups": [{"filters": [{"propertyName": "email", "operator": "EQ", "value": "late@example.com"}]}]});
    let (_, before) = body(
        hubspot(
            &client,
            &sb,
            "/crm/v3/objects/contacts/search",
            search.clone(),
        )
        .send()
        .await
        .expect("send"),
    )
    .await;
    assert_eq!(before["total"], 0);
    sb.advance(Duration::from_secs(5));
    let (_, after) = body(
        hubspot(&client, &sb, "/crm/v3/objects/contacts/search", search)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(after["total"], 1);
    sb.stop().await;
}

#[actix_web::test]
async fn an_unknown_path_or_object_type_answers_in_hubspots_shape() {
    let sb = demo();
    let client = Client::new();
    let (status, json) = body(
        client
            .get(format!("{}/crm/v3/nonsense", sb.base_url()))
            .bearer_auth(PAT)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(json["status"], "error");
    let (status, json) = body(
        hubspot(&client, &sb, "/crm/v3/objects/widgets/search", json!({}))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(json["category"], "VALIDATION_ERROR");
    sb.stop().await;
}

#[actix_web::test]
async fn the_forms_api_lists_the_fixtures_submissions_newest_first_in_pages() {
    let sb = demo();
    let client = Client::new();
    let url = format!(
        "{}/form-integrations/v1/submissions/forms/3f1c9a52-8e4b-4d2a-9c7e-5b6a7d8e9f01",
        sb.base_url()
    );
    let (status, first) = body(
        client
            .get(format!("{url}?limit=4"))
            .bearer_auth(PAT)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let page = first["results"].as_array().expect("results");
    assert_eq!(page.len(), 4);
    let times: Vec<i64> = page
        .iter()
        .filter_map(|r| r["submittedAt"].as_i64())
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {times:?}"
    );
    assert!(
        page.iter()
            .all(|r| r["conversionId"].is_string() && r["values"].is_array())
    );
    let after = first["paging"]["next"]["after"]
        .as_str()
        .expect("a next page");
    let (_, second) = body(
        client
            .get(format!("{url}?limit=4&after={after}"))
            .bearer_auth(PAT)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(
        second["results"].as_array().map(Vec::len),
        Some(sb.form_submissions().len() - 4)
    );
    let (status, _) = body(
        client
            .get(format!("{url}?limit=51"))
            .bearer_auth(PAT)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    sb.stop().await;
}

#[actix_web::test]
async fn a_default_v4_association_is_idempotent_and_listed_both_ways() {
    let sb = demo();
    let client = Client::new();
    let url = format!(
        "{}/crm/v4/objects/contacts/5104/associations/default/companies/6102",
        sb.base_url()
    );
    for _ in 0..2 {
        let (status, json) = body(
            client
                .put(&url)
                .bearer_auth(PAT)
                .send()
                .await
                .expect("send"),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{json}");
        assert_eq!(json["status"], "COMPLETE");
    }
    assert_eq!(
        sb.associated("contacts", 5104, "companies"),
        vec![6102, 6104]
    );
    assert!(sb.associated("companies", 6102, "contacts").contains(&5104));
    let missing = format!(
        "{}/crm/v4/objects/contacts/5104/associations/default/companies/999",
        sb.base_url()
    );
    let (status, _) = body(
        client
            .put(&missing)
            .bearer_auth(PAT)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    sb.stop().await;
}

#[actix_web::test]
async fn notes_search_filters_by_associated_contact() {
    let sb = demo();
    let client = Client::new();
    for (contact, body_text) in [("5101", "first"), ("5101", "second"), ("5102", "third")] {
        let note = json!({"properties": {"hs_timestamp": "1764000000000", "hs_note_body": body_text},
            "associations": [{"to": {"id": contact}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 202}]}]});
        let (status, _) = body(
            hubspot(&client, &sb, "/crm/v3/objects/notes", note)
                .send()
                .await
                .expect("send"),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let search = json!({"filterGroups": [{"filters": [{"propertyName": "associations.contact", "operator": "EQ", "value": "5101"}]}],
        "properties": ["hs_note_body"]});
    let (status, found) = body(
        hubspot(&client, &sb, "/crm/v3/objects/notes/search", search)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(found["total"], 2);
    let bodies: Vec<&str> = found["results"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["properties"]["hs_note_body"].as_str())
        .collect();
    assert_eq!(bodies, vec!["first", "second"]);
    sb.stop().await;
}

#[actix_web::test]
async fn listing_contacts_pages_by_id_without_a_total() {
    let sb = demo();
    let client = Client::new();
    let url = format!(
        "{}/crm/v3/objects/contacts?limit=3&properties=email",
        sb.base_url()
    );
    let (status, first) = body(
        client
            .get(&url)
            .bearer_auth(PAT)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(first["results"].as_array().map(Vec::len), Some(3));
    assert!(first.get("total").is_none());
    assert_eq!(
        first["results"][0]["properties"]["email"],
        "laura.martinez@brightpath-health.com"
    );
    let after = first["paging"]["next"]["after"]
        .as_str()
        .expect("next page");
    let next = format!(
        "{}/crm/v3/objects/contacts?limit=3&after={after}",
        sb.base_url()
    );
    let (_, second) = body(
        client
            .get(&next)
            .bearer_auth(PAT)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(second["results"][0]["id"], "5104");
    let too_many = format!("{}/crm/v3/objects/contacts?limit=101", sb.base_url());
    assert_eq!(
        client
            .get(&too_many)
            .bearer_auth(PAT)
            .send()
            .await
            .expect("send")
            .status(),
        StatusCode::BAD_REQUEST
    );
    sb.stop().await;
}
