//! HubSpot as an OAuth app at the sandbox over real HTTP: the install page
//! clicked through, code → tokens → refresh → token info, CRM calls with the
//! OAuth token (and still with the private-app token), expiry after 1800 s
//! with HubSpot's 401, and HubSpot's error shapes.

use std::time::Duration;

use reqwest::{Client, StatusCode};
use sales_agent::sandbox::SandboxHandle;
use sales_agent::sandbox::consent;
use serde_json::{Value, json};

use super::oauth::query;
use super::{PAT, body, demo, with_query};

const APP_CLIENT_ID: &str = "5f0c8e2a-1b7d-4c3e-9a6f-2d8b4e1c7a90";
const APP_SECRET: &str = "7a3e9c1d-4b6f-4e2a-8d5c-0f1e2d3c4b5a";
const CALLBACK: &str = "http://127.0.0.1:8080/settings/hubspot/callback";
const PORTAL: &str = "24681357";

fn install_url(sb: &SandboxHandle, extra: &[(&str, &str)]) -> String {
    let mut pairs = vec![
        ("client_id", APP_CLIENT_ID),
        ("redirect_uri", CALLBACK),
        (
            "scope",
            "oauth crm.objects.contacts.read crm.objects.contacts.write",
        ),
        ("optional_scope", "forms automation"),
        ("state", "hs-state-1"),
    ];
    for (k, v) in extra {
        pairs.retain(|(name, _)| name != k);
        pairs.push((k, v));
    }
    with_query(&format!("{}/oauth/authorize", sb.base_url()), &pairs)
}

async fn token(client: &Client, sb: &SandboxHandle, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let mut all = vec![("client_id", APP_CLIENT_ID), ("client_secret", APP_SECRET)];
    all.extend_from_slice(form);
    body(
        client
            .post(format!("{}/oauth/v1/token", sb.base_url()))
            .form(&all)
            .send()
            .await
            .expect("token"),
    )
    .await
}

async fn owners(client: &Client, sb: &SandboxHandle, bearer: &str) -> (StatusCode, Value) {
    body(
        client
            .get(format!("{}/crm/v3/owners", sb.base_url()))
            .bearer_auth(bearer)
            .send()
            .await
            .expect("owners"),
    )
    .await
}

#[actix_web::test]
async fn an_installed_app_trades_its_code_for_tokens_that_reach_the_crm_and_refresh() {
    let sb = demo();
    let client = Client::new();
    let callback = consent::click_through(&install_url(&sb, &[]), PORTAL)
        .await
        .expect("install");
    assert!(callback.starts_with(CALLBACK), "{callback}");
    let q = query(&callback);
    assert_eq!(q.get("state").map(String::as_str), Some("hs-state-1"));
    let code = q.get("code").expect("code").clone();

    let (status, tokens) = token(
        &client,
        &sb,
        &[
            ("grant_type", "authorization_code"),
            ("redirect_uri", CALLBACK),
            ("code", &code),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert_eq!(tokens["expires_in"], 1800);
    assert_eq!(tokens["token_type"], "bearer");
    assert_eq!(tokens["hub_id"], 24681357);
    let scopes = tokens["scopes"].as_array().expect("scopes");
    assert!(
        scopes.contains(&json!("forms")),
        "optional scope the app has is granted"
    );
    assert!(
        !scopes.contains(&json!("automation")),
        "optional scope the app lacks is not"
    );
    let access = tokens["access_token"].as_str().expect("access").to_string();
    let refresh = tokens["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_string();

    let (status, _) = owners(&client, &sb, &access).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = owners(&client, &sb, PAT).await;
    assert_eq!(status, StatusCode::OK, "private-app tokens still work");

    let (status, info) = body(
        client
            .get(format!("{}/oauth/v1/access-tokens/{access}", sb.base_url()))
            .send()
            .await
            .expect("info"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(info["hub_id"], 24681357);
    assert_eq!(info["user"], "maya.chen@northwind-analytics.com");
    assert_eq!(info["app_id"], 3120045);
    assert_eq!(info["token_type"], "access");

    let (status, json) = token(
        &client,
        &sb,
        &[
            ("grant_type", "authorization_code"),
            ("redirect_uri", CALLBACK),
            ("code", &code),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(json["status"], "BAD_AUTH_CODE");

    sb.advance(Duration::from_secs(1801));
    let (status, json) = owners(&client, &sb, &access).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(json["category"], "EXPIRED_AUTHENTICATION");
    assert!(
        json["message"]
            .as_str()
            .is_some_and(|m| m.contains("expired"))
    );
    let (status, renewed) = token(
        &client,
        &sb,
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        renewed["refresh_token"],
        refresh.as_str(),
        "HubSpot refresh tokens do not rotate"
    );
    let (status, _) = owners(
        &client,
        &sb,
        renewed["access_token"].as_str().expect("access"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    let deleted = client
        .delete(format!(
            "{}/oauth/v1/refresh-tokens/{refresh}",
            sb.base_url()
        ))
        .send()
        .await
        .expect("delete");
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let (status, json) = token(
        &client,
        &sb,
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(json["status"], "BAD_REFRESH_TOKEN");
    assert!(json["correlationId"].is_string());
    sb.stop().await;
}

#[actix_web::test]
async fn a_bad_install_link_shows_an_error_page_and_bad_token_requests_get_hubspots_statuses() {
    let sb = demo();
    let client = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    for extra in [
        ("client_id", "not-an-app"),
        ("redirect_uri", "https://evil.example/cb"),
        ("scope", "oauth crm.objects.deals.write"),
    ] {
        let response = client
            .get(install_url(&sb, &[extra]))
            .send()
            .await
            .expect("send");
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{extra:?}");
        assert!(response.headers().get("location").is_none(), "{extra:?}");
    }
    let callback = consent::click_through(&install_url(&sb, &[]), PORTAL)
        .await
        .expect("install");
    let code = query(&callback).get("code").expect("code").clone();
    let (status, json) = token(
        &client,
        &sb,
        &[
            ("grant_type", "authorization_code"),
            ("redirect_uri", "http://127.0.0.1:8080/other"),
            ("code", &code),
        ],
    )
    .await;
    assert_eq!(
        (status, json["status"].as_str()),
        (StatusCode::BAD_REQUEST, Some("BAD_REDIRECT_URI"))
    );
    let form = [
        ("client_id", APP_CLIENT_ID),
        ("client_secret", "wrong"),
        ("grant_type", "authorization_code"),
        ("redirect_uri", CALLBACK),
        ("code", code.as_str()),
    ];
    let (status, json) = body(
        client
            .post(format!("{}/oauth/v1/token", sb.base_url()))
            .form(&form)
            .send()
            .await
            .expect("token"),
    )
    .await;
    assert_eq!(
        (status, json["status"].as_str()),
        (StatusCode::BAD_REQUEST, Some("BAD_CLIENT_SECRET"))
    );
    let (status, json) = token(
        &client,
        &sb,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", "unknown"),
        ],
    )
    .await;
    assert_eq!(
        (status, json["status"].as_str()),
        (StatusCode::BAD_REQUEST, Some("BAD_REFRESH_TOKEN"))
    );
    let (status, _) = body(
        client
            .get(format!("{}/oauth/v1/access-tokens/unknown", sb.base_url()))
            .send()
            .await
            .expect("info"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    sb.stop().await;
}
