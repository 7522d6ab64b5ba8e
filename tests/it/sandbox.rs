//! The sandbox over real HTTP: each provider accepts what the real API accepts,
//! rejects what it rejects in that provider's error shape, and faults and quotas
//! behave as configured.

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine;
use reqwest::{Client, StatusCode};
use sales_agent::sandbox::{self, FaultSpec, Fixture, QuotaConfig, SandboxHandle, SandboxOptions};
use serde_json::{Value, json};

const PAT: &str = "pat-na1-5a1e5d3c-7b2f-4c9e-8d10-0a1b2c3d4e5f";
const MAYA: &str = "maya.chen@northwind-analytics.com";
const MAYA_REFRESH: &str = "1//0sandbox-refresh-maya-chen";
const CLIENT_ID: &str = "118230012345-sandboxdemo.apps.googleusercontent.com";
const CLIENT_SECRET: &str = "GOCSPX-sandbox-demo-client-secret";
const LLM_KEY: &str = "sk-sandbox-demo-0123456789abcdef";

fn start(options: SandboxOptions) -> SandboxHandle {
    sandbox::spawn(options).expect("sandbox starts")
}

fn demo() -> SandboxHandle {
    start(SandboxOptions::default())
}

async fn body(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let value = response.json::<Value>().await.unwrap_or(Value::Null);
    (status, value)
}

fn hubspot(
    client: &Client,
    sb: &SandboxHandle,
    path: &str,
    payload: Value,
) -> reqwest::RequestBuilder {
    client
        .post(format!("{}{path}", sb.base_url()))
        .bearer_auth(PAT)
        .json(&payload)
}

async fn refresh(client: &Client, sb: &SandboxHandle, refresh_token: &str) -> reqwest::Response {
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
        ("client_id", CLIENT_ID),
        ("client_secret", CLIENT_SECRET),
    ];
    client
        .post(format!("{}/token", sb.base_url()))
        .form(&form)
        .send()
        .await
        .expect("token request")
}

async fn google_token(client: &Client, sb: &SandboxHandle) -> String {
    let (status, json) = body(refresh(client, sb, MAYA_REFRESH).await).await;
    assert_eq!(status, StatusCode::OK, "{json}");
    json["access_token"]
        .as_str()
        .expect("access_token")
        .to_string()
}

fn raw(message: &str) -> String {
    base64::engine::general_purpose::URL_SAFE.encode(message.replace('\n', "\r\n"))
}

/// `base` with `pairs` appended as a query string, percent-encoded.
fn with_query(base: &str, pairs: &[(&str, &str)]) -> String {
    let mut url = url::Url::parse(base).expect("url");
    url.query_pairs_mut().extend_pairs(pairs);
    url.to_string()
}

fn gmail(sb: &SandboxHandle, path: &str) -> String {
    format!("{}/gmail/v1/users/me{path}", sb.base_url())
}

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
async fn requests_without_valid_credentials_are_rejected_in_each_providers_shape() {
    let sb = demo();
    let client = Client::new();
    let url = format!("{}/crm/v3/objects/contacts/5101", sb.base_url());
    let (status, json) = body(client.get(&url).send().await.expect("send")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(json["status"], "error");
    assert_eq!(json["category"], "INVALID_AUTHENTICATION");
    let (status, _) = body(
        client
            .get(&url)
            .bearer_auth("pat-na1-wrong")
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, contact) = body(
        client
            .get(&url)
            .bearer_auth(PAT)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        contact["properties"]["email"],
        "laura.martinez@brightpath-health.com"
    );

    let (status, json) = body(
        client
            .get(gmail(&sb, "/threads"))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(json["error"]["code"], 401);
    assert_eq!(json["error"]["status"], "UNAUTHENTICATED");
    assert_eq!(json["error"]["errors"][0]["reason"], "required");
    let (_, json) = body(
        client
            .get(gmail(&sb, "/threads"))
            .bearer_auth("ya29.forged")
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(json["error"]["errors"][0]["reason"], "authError");

    let token = google_token(&client, &sb).await;
    let other = format!(
        "{}/gmail/v1/users/jonas.weber@northwind-analytics.com/threads",
        sb.base_url()
    );
    let (status, _) = body(
        client
            .get(other)
            .bearer_auth(&token)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "one mailbox's token cannot read another's"
    );
    sb.stop().await;
}

#[actix_web::test]
async fn a_sent_draft_cannot_be_sent_again_and_is_found_in_sent_by_its_message_id() {
    let sb = demo();
    let client = Client::new();
    let token = google_token(&client, &sb).await;
    let message = "From: Maya Chen <maya.chen@northwind-analytics.com>\nTo: daniel.brooks@summitcare-clinics.com\n\
Subject: Staffing forecasts for SummitCare\nMessage-ID: <sa.wf-1.deliver@northwind-analytics.com>\n\nHi Daniel,\n\nThanks for reaching out.\n";
    let create = json!({"message": {"raw": raw(message)}});
    let (status, draft) = body(
        client
            .post(gmail(&sb, "/drafts"))
            .bearer_auth(&token)
            .json(&create)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{draft}");
    let draft_id = draft["id"].as_str().expect("draft id").to_string();
    assert_eq!(sb.drafts(MAYA).len(), 1);

    let send = json!({"id": draft_id});
    let (status, sent) = body(
        client
            .post(gmail(&sb, "/drafts/send"))
            .bearer_auth(&token)
            .json(&send)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    assert_eq!(sent["labelIds"], json!(["SENT"]));
    assert_ne!(
        sent["id"], draft["message"]["id"],
        "sending gives the message a new id"
    );

    let (status, again) = body(
        client
            .post(gmail(&sb, "/drafts/send"))
            .bearer_auth(&token)
            .json(&send)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(again["error"]["code"], 404);
    let (status, _) = body(
        client
            .get(gmail(&sb, &format!("/drafts/{draft_id}")))
            .bearer_auth(&token)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let q = [(
        "q",
        "in:sent rfc822msgid:<sa.wf-1.deliver@northwind-analytics.com>",
    )];
    let (status, found) = body(
        client
            .get(with_query(&gmail(&sb, "/threads"), &q))
            .bearer_auth(&token)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(found["threads"].as_array().map(Vec::len), Some(1));
    assert_eq!(found["threads"][0]["id"], sent["threadId"]);
    assert!(sb.drafts(MAYA).is_empty());
    assert_eq!(
        sb.messages(MAYA, "SENT")
            .iter()
            .filter(|m| m.to == vec!["daniel.brooks@summitcare-clinics.com"])
            .count(),
        1
    );
    sb.stop().await;
}

#[actix_web::test]
async fn a_reply_draft_with_thread_id_and_reply_headers_joins_the_thread_and_one_without_them_does_not()
 {
    let sb = demo();
    let client = Client::new();
    let token = google_token(&client, &sb).await;
    let q = [("q", "from:laura.martinez@brightpath-health.com")];
    let (_, list) = body(
        client
            .get(with_query(&gmail(&sb, "/threads"), &q))
            .bearer_auth(&token)
            .send()
            .await
            .expect("send"),
    )
    .await;
    let thread_id = list["threads"][0]["id"]
        .as_str()
        .expect("a prior thread")
        .to_string();
    let (_, thread) = body(
        client
            .get(gmail(&sb, &format!("/threads/{thread_id}?format=metadata")))
            .bearer_auth(&token)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(thread["messages"].as_array().map(Vec::len), Some(2));

    let reply = "From: maya.chen@northwind-analytics.com\nTo: laura.martinez@brightpath-health.com\nSubject: Re: Scheduling forecasts for our clinics\n\
In-Reply-To: <NWA.maya.001@northwind-analytics.com>\nReferences: <CAK9laura.001@brightpath-health.com> <NWA.maya.001@northwind-analytics.com>\n\nHi Laura\n";
    let create = json!({"message": {"raw": raw(reply), "threadId": thread_id}});
    let (_, draft) = body(
        client
            .post(gmail(&sb, "/drafts"))
            .bearer_auth(&token)
            .json(&create)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(draft["message"]["threadId"], thread_id.as_str());

    // Same subject but no reply headers, and reply headers but another subject:
    // Gmail needs both, so each starts a thread of its own.
    let no_headers = "From: maya.chen@northwind-analytics.com\nTo: laura.martinez@brightpath-health.com\nSubject: Re: Scheduling forecasts for our clinics\n\nHi\n";
    let other_subject = "From: maya.chen@northwind-analytics.com\nTo: laura.martinez@brightpath-health.com\nSubject: Something else\n\
In-Reply-To: <NWA.maya.001@northwind-analytics.com>\nReferences: <NWA.maya.001@northwind-analytics.com>\n\nHi\n";
    for unthreaded in [no_headers, other_subject] {
        let create = json!({"message": {"raw": raw(unthreaded), "threadId": thread_id}});
        let (_, other) = body(
            client
                .post(gmail(&sb, "/drafts"))
                .bearer_auth(&token)
                .json(&create)
                .send()
                .await
                .expect("send"),
        )
        .await;
        assert_ne!(
            other["message"]["threadId"],
            thread_id.as_str(),
            "Gmail needs matching subject and references"
        );
    }

    let create = json!({"message": {"raw": raw(reply), "threadId": "ffffffffffffffff"}});
    let (status, _) = body(
        client
            .post(gmail(&sb, "/drafts"))
            .bearer_auth(&token)
            .json(&create)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    sb.stop().await;
}

#[actix_web::test]
async fn freebusy_reports_not_found_for_an_unknown_calendar_and_busy_blocks_for_a_known_one() {
    let sb = demo();
    let client = Client::new();
    let token = google_token(&client, &sb).await;
    let now = chrono::Utc::now();
    let request = json!({"timeMin": now.to_rfc3339(), "timeMax": (now + chrono::Duration::days(7)).to_rfc3339(), "timeZone": "America/New_York",
        "items": [{"id": MAYA}, {"id": "ghost@northwind-analytics.com"}]});
    let url = format!("{}/calendar/v3/freeBusy", sb.base_url());
    let (status, json) = body(
        client
            .post(&url)
            .bearer_auth(&token)
            .json(&request)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{json}");
    let ghost = &json["calendars"]["ghost@northwind-analytics.com"];
    assert_eq!(
        ghost["errors"][0],
        json!({"domain": "global", "reason": "notFound"})
    );
    assert_eq!(ghost["busy"], json!([]));
    assert!(
        json["calendars"][MAYA]["busy"]
            .as_array()
            .is_some_and(|b| !b.is_empty())
    );
    assert!(json["calendars"][MAYA].get("errors").is_none());

    let empty =
        json!({"timeMin": now.to_rfc3339(), "timeMax": now.to_rfc3339(), "items": [{"id": MAYA}]});
    let (status, _) = body(
        client
            .post(&url)
            .bearer_auth(&token)
            .json(&empty)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    sb.stop().await;
}

#[actix_web::test]
async fn inserting_an_event_with_the_same_id_twice_gives_409_duplicate() {
    let sb = demo();
    let client = Client::new();
    let token = google_token(&client, &sb).await;
    let url = format!(
        "{}/calendar/v3/calendars/primary/events?conferenceDataVersion=1&sendUpdates=none",
        sb.base_url()
    );
    let event = |id: &str| {
        json!({"id": id, "summary": "Intro call",
        "start": {"dateTime": "2026-12-01T10:00:00", "timeZone": "America/New_York"},
        "end": {"dateTime": "2026-12-01T10:30:00", "timeZone": "America/New_York"},
        "attendees": [{"email": "daniel.brooks@summitcare-clinics.com"}],
        "conferenceData": {"createRequest": {"requestId": "req-1", "conferenceSolutionKey": {"type": "hangoutsMeet"}}}})
    };
    let (status, first) = body(
        client
            .post(&url)
            .bearer_auth(&token)
            .json(&event("sa0123456789abcdef"))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert!(
        first["hangoutLink"]
            .as_str()
            .is_some_and(|l| l.starts_with("https://meet.google.com/"))
    );
    let (status, second) = body(
        client
            .post(&url)
            .bearer_auth(&token)
            .json(&event("sa0123456789abcdef"))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(second["error"]["errors"][0]["reason"], "duplicate");
    assert_eq!(
        sb.events(MAYA)
            .iter()
            .filter(|e| e.id == "sa0123456789abcdef")
            .count(),
        1
    );
    assert_eq!(
        sb.events(MAYA)
            .iter()
            .find(|e| e.id == "sa0123456789abcdef")
            .map(|e| e.start.to_rfc3339()),
        Some("2026-12-01T15:00:00+00:00".into())
    );

    for bad in ["abc", "has-dash-1234", "wxyz12345"] {
        let (status, _) = body(
            client
                .post(&url)
                .bearer_auth(&token)
                .json(&event(bad))
                .send()
                .await
                .expect("send"),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "id {bad}");
    }
    sb.stop().await;
}

#[actix_web::test]
async fn drive_q_honours_parents_trashed_name_contains_and_escapes() {
    let sb = demo();
    let client = Client::new();
    let token = google_token(&client, &sb).await;
    let list = |q: &'static str| {
        client
            .get(with_query(
                &format!("{}/drive/v3/files", sb.base_url()),
                &[
                    ("q", q),
                    ("fields", "nextPageToken,files(id,name,webViewLink)"),
                    ("pageSize", "100"),
                ],
            ))
            .bearer_auth(&token)
            .send()
    };
    let names = |json: &Value| -> Vec<String> {
        json["files"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| f["name"].as_str().map(String::from))
            .collect()
    };
    let (_, all) = body(
        list("'1SalesCollateralFolder000000001' in parents")
            .await
            .expect("send"),
    )
    .await;
    let (_, live) = body(
        list("'1SalesCollateralFolder000000001' in parents and trashed = false")
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(
        names(&all).len(),
        names(&live).len() + 1,
        "trashed files are listed unless excluded"
    );
    assert!(!names(&live).iter().any(|n| n.contains("outdated")));
    assert!(
        !names(&all).iter().any(|n| n.contains("battlecard")),
        "other folders are not listed"
    );
    assert!(
        live["files"][0]["webViewLink"]
            .as_str()
            .is_some_and(|l| l.starts_with("https://drive.google.com/file/d/"))
    );
    assert!(
        live["files"][0].get("mimeType").is_none(),
        "fields limits the output"
    );

    let (_, studies) = body(list("name contains 'case study' and trashed = false and mimeType != 'application/vnd.google-apps.folder'").await.expect("send")).await;
    assert_eq!(names(&studies).len(), 5);
    let (_, escaped) = body(
        list(r"name contains 'O\'Brien' and trashed = false")
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(escaped["files"], json!([]));
    let (status, json) = body(list("name contains 'unterminated").await.expect("send")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(json["error"]["errors"][0]["location"], "q");

    let url = format!(
        "{}/drive/v3/files/1CaseStudyRetailUrbanMart000001/permissions?sendNotificationEmail=false",
        sb.base_url()
    );
    let (status, _) = body(client.post(&url).bearer_auth(&token).json(&json!({"role": "reader", "type": "user", "emailAddress": "sam.okafor@acme-retail.com"})).send().await.expect("send")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = body(client.post(&url).bearer_auth(&token).json(&json!({"role": "viewer", "type": "user", "emailAddress": "sam.okafor@acme-retail.com"})).send().await.expect("send")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(sb.permissions("1CaseStudyRetailUrbanMart000001").len(), 1);
    sb.stop().await;
}

#[actix_web::test]
async fn oauth_refresh_issues_a_bearer_token_and_a_revoked_grant_is_invalid_grant() {
    let sb = demo();
    let client = Client::new();
    let (status, json) = body(refresh(&client, &sb, MAYA_REFRESH).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json["token_type"], "Bearer");
    assert_eq!(json["expires_in"], 3599);
    assert!(
        json["scope"]
            .as_str()
            .is_some_and(|s| s.contains("gmail.compose"))
    );

    let (status, json) =
        body(refresh(&client, &sb, "1//0sandbox-refresh-priya-raman-old").await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        json,
        json!({"error": "invalid_grant", "error_description": "Token has been expired or revoked."})
    );

    let token = json_token(&client, &sb).await;
    assert!(sb.revoke_refresh_token(MAYA_REFRESH));
    let (status, json) = body(refresh(&client, &sb, MAYA_REFRESH).await).await;
    assert_eq!(
        (status, json["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    let (status, _) = body(
        client
            .get(gmail(&sb, "/threads"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "revoking the grant kills its access tokens"
    );

    let response = client
        .post(format!("{}/token", sb.base_url()))
        .json(&json!({"grant_type": "refresh_token"}))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    sb.stop().await;
}

async fn json_token(client: &Client, sb: &SandboxHandle) -> String {
    google_token(client, sb).await
}

#[actix_web::test]
async fn access_tokens_expire_after_3599_seconds_on_the_sandbox_clock() {
    let sb = demo();
    let client = Client::new();
    let token = google_token(&client, &sb).await;
    let (status, _) = body(
        client
            .get(gmail(&sb, "/profile"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    sb.advance(Duration::from_secs(3600));
    let (status, _) = body(
        client
            .get(gmail(&sb, "/profile"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
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
async fn gmail_answers_user_rate_limit_exceeded_when_a_users_units_run_out() {
    let quotas = QuotaConfig {
        gmail_units_per_window: 250,
        ..QuotaConfig::default()
    };
    let sb = start(SandboxOptions {
        quotas: Some(quotas),
        ..SandboxOptions::default()
    });
    let client = Client::new();
    let token = google_token(&client, &sb).await;
    for _ in 0..25 {
        assert_eq!(
            client
                .get(gmail(&sb, "/threads"))
                .bearer_auth(&token)
                .send()
                .await
                .expect("send")
                .status(),
            StatusCode::OK
        );
    }
    let response = client
        .get(gmail(&sb, "/threads"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().contains_key("retry-after"));
    let (_, json) = body(response).await;
    assert_eq!(
        json["error"]["errors"][0]["reason"],
        "userRateLimitExceeded"
    );
    sb.stop().await;
}

fn error_faults(rate: f64) -> BTreeMap<String, FaultSpec> {
    BTreeMap::from([(
        "hubspot.owners.list".to_string(),
        FaultSpec {
            error_rate: rate,
            error_status: Some(502),
            ..FaultSpec::default()
        },
    )])
}

async fn owner_statuses(sb: &SandboxHandle, n: usize) -> Vec<u16> {
    let client = Client::new();
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(
            client
                .get(format!("{}/crm/v3/owners", sb.base_url()))
                .bearer_auth(PAT)
                .send()
                .await
                .expect("send")
                .status()
                .as_u16(),
        );
    }
    out
}

#[actix_web::test]
async fn a_5xx_fault_at_rate_one_always_fails_and_the_same_seed_replays_the_same_sequence() {
    let sb = start(SandboxOptions {
        seed: Some(11),
        faults: error_faults(1.0),
        ..SandboxOptions::default()
    });
    assert_eq!(owner_statuses(&sb, 5).await, vec![502; 5]);
    assert_eq!(sb.stats()["hubspot.owners.list"].injected_5xx, 5);

    sb.set_faults(Some(11), error_faults(0.5));
    let first = owner_statuses(&sb, 24).await;
    sb.set_faults(Some(11), error_faults(0.5));
    let again = owner_statuses(&sb, 24).await;
    assert_eq!(first, again);
    assert!(first.contains(&502) && first.contains(&200), "{first:?}");
    sb.stop().await;

    let other = start(SandboxOptions {
        seed: Some(11),
        faults: error_faults(0.5),
        ..SandboxOptions::default()
    });
    assert_eq!(
        owner_statuses(&other, 24).await,
        first,
        "a fresh sandbox with the same seed agrees"
    );
    other.stop().await;
}

#[actix_web::test]
async fn faults_set_at_runtime_inject_429_bursts_with_googles_retry_after_in_seconds() {
    let sb = demo();
    let client = Client::new();
    let token = google_token(&client, &sb).await;
    let control = json!({"faults": {"gmail.*": {"rateLimitBurst": 2, "retryAfter": 7}}});
    let response = client
        .post(format!("{}/_sandbox/faults", sb.base_url()))
        .json(&control)
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::OK);
    for _ in 0..2 {
        let response = client
            .get(gmail(&sb, "/threads"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("send");
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()["retry-after"], "7");
        assert_eq!(
            body(response).await.1["error"]["errors"][0]["reason"],
            "rateLimitExceeded"
        );
    }
    assert_eq!(
        client
            .get(gmail(&sb, "/threads"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("send")
            .status(),
        StatusCode::OK
    );
    let (_, stats) = body(
        client
            .get(format!("{}/_sandbox/stats", sb.base_url()))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(stats["endpoints"]["gmail.threads.list"]["injected429s"], 2);
    assert_eq!(stats["endpoints"]["gmail.threads.list"]["requests"], 3);
    sb.stop().await;
}

#[actix_web::test]
async fn a_timeout_after_the_effect_commits_the_send_but_the_client_sees_no_answer() {
    let faults = BTreeMap::from([(
        "gmail.messages.send".to_string(),
        FaultSpec {
            timeout_rate: 1.0,
            timeout_ms: Some(2_000),
            phase: sandbox::Phase::After,
            ..FaultSpec::default()
        },
    )]);
    let sb = start(SandboxOptions {
        faults,
        ..SandboxOptions::default()
    });
    let client = Client::new();
    let token = google_token(&client, &sb).await;
    let message = "From: maya.chen@northwind-analytics.com\nTo: kenji.watanabe@pacificroute.co.jp\nSubject: Demo\nMessage-ID: <t-1@x>\n\nHi\n";
    let result = client
        .post(gmail(&sb, "/messages/send"))
        .bearer_auth(&token)
        .timeout(Duration::from_millis(300))
        .json(&json!({"raw": raw(message)}))
        .send()
        .await;
    assert!(result.is_err_and(|e| e.is_timeout()));
    assert_eq!(
        sb.messages(MAYA, "SENT")
            .iter()
            .filter(|m| m.message_id.as_deref() == Some("<t-1@x>"))
            .count(),
        1
    );
    sb.stop().await;
}

#[actix_web::test]
async fn the_llm_endpoint_is_deterministic_and_answers_json_when_asked() {
    let sb = demo();
    let client = Client::new();
    let url = format!("{}/v1/chat/completions", sb.base_url());
    let request = json!({"model": "sandbox-writer-1", "response_format": {"type": "json_object"},
        "messages": [{"role": "system", "content": "Write a reply."}, {"role": "user", "content": "Name: Daniel Brooks\nMessage: staffing forecasts pricing"}]});
    let (status, first) = body(
        client
            .post(&url)
            .bearer_auth(LLM_KEY)
            .json(&request)
            .send()
            .await
            .expect("send"),
    )
    .await;
    let (_, second) = body(
        client
            .post(&url)
            .bearer_auth(LLM_KEY)
            .json(&request)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(first["choices"], second["choices"]);
    assert_eq!(first["id"], second["id"]);
    let content: Value = serde_json::from_str(
        first["choices"][0]["message"]["content"]
            .as_str()
            .expect("content"),
    )
    .expect("JSON content");
    assert!(content["subject"].is_string());
    assert!(
        content["body"]
            .as_str()
            .is_some_and(|b| b.starts_with("Hi Daniel,"))
    );
    let usage = &first["usage"];
    assert_eq!(
        usage["total_tokens"].as_u64(),
        Some(
            usage["prompt_tokens"].as_u64().unwrap_or(0)
                + usage["completion_tokens"].as_u64().unwrap_or(0)
        )
    );

    let mut changed = request.clone();
    changed["messages"][1]["content"] = json!("Name: Anna Schmid\nMessage: predictive maintenance");
    let (_, third) = body(
        client
            .post(&url)
            .bearer_auth(LLM_KEY)
            .json(&changed)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_ne!(
        third["choices"][0]["message"]["content"],
        first["choices"][0]["message"]["content"]
    );

    let (status, json) = body(
        client
            .post(&url)
            .bearer_auth("sk-wrong")
            .json(&request)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(json["error"]["code"], "invalid_api_key");
    let (status, _) = body(
        client
            .post(&url)
            .bearer_auth(LLM_KEY)
            .json(&json!({"model": "m", "messages": []}))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    sb.stop().await;
}

#[actix_web::test]
async fn a_fixture_file_replaces_the_demo() {
    let fixture =
        Fixture::from_json(r#"{"hubspot": {"tokens": ["pat-eu1-only"]}}"#).expect("fixture");
    let sb = start(SandboxOptions {
        fixture: Some(fixture),
        ..SandboxOptions::default()
    });
    let client = Client::new();
    let url = format!("{}/crm/v3/owners", sb.base_url());
    assert_eq!(
        client
            .get(&url)
            .bearer_auth("pat-eu1-only")
            .send()
            .await
            .expect("send")
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        client
            .get(&url)
            .bearer_auth(PAT)
            .send()
            .await
            .expect("send")
            .status(),
        StatusCode::UNAUTHORIZED
    );
    sb.stop().await;
}
