//! The sandbox over real HTTP: each provider accepts what the real API accepts,
//! rejects what it rejects in that provider's error shape, and faults and quotas
//! behave as configured.

mod calendar_list;
mod faults;
mod gmail;
mod google;
mod hubspot;
mod hubspot_oauth;
mod oauth;
mod oidc;
mod state;

use base64::Engine;
use reqwest::{Client, StatusCode};
use sales_agent::sandbox::{self, Fixture, SandboxHandle, SandboxOptions};
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

#[test]
fn the_sandbox_help_explains_the_fixture_the_faults_and_the_endpoint_names() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_sales-agent"))
        .args(["sandbox", "--help"])
        .output()
        .expect("the binary runs");
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for needle in [
        "--fixture",
        "--seed",
        "--bind",
        "refreshTokens",
        "rateLimitBurst",
        "POST /_sandbox/faults",
        "gmail.drafts.send",
        "hubspot.notes.create",
    ] {
        assert!(help.contains(needle), "--help lacks {needle}");
    }
}

#[actix_web::test]
async fn google_and_the_llm_reject_malformed_json_and_wrong_content_types_in_their_shapes() {
    let sb = demo();
    let client = Client::new();
    let token = google_token(&client, &sb).await;
    let url = format!("{}/calendar/v3/freeBusy", sb.base_url());
    let response = client
        .post(&url)
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{\"timeMin\":")
        .send()
        .await
        .expect("send");
    let (status, json) = body(response).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(json["error"]["code"], 400);
    assert_eq!(json["error"]["errors"][0]["reason"], "badRequest");
    let response = client
        .post(gmail(&sb, "/drafts"))
        .bearer_auth(&token)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let (status, json) = body(
        client
            .post(gmail(&sb, "/drafts"))
            .bearer_auth(&token)
            .json(&json!({"message": {"raw": "not base64 !!"}}))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{json}");

    let url = format!("{}/v1/chat/completions", sb.base_url());
    let response = client
        .post(&url)
        .bearer_auth(LLM_KEY)
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .expect("send");
    let (status, json) = body(response).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(json["error"]["type"], "invalid_request_error");
    sb.stop().await;
}
