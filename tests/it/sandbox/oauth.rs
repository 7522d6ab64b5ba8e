//! Google's authorization-code flow at the sandbox over real HTTP, driven
//! through the consent page as a person would: PKCE, single-use codes, exact
//! redirect URIs, error pages for untrusted clients, Deny, offline access.

use std::time::Duration;

use base64::Engine;
use reqwest::{Client, StatusCode};
use sales_agent::sandbox::SandboxHandle;
use sales_agent::sandbox::consent::{self, Decision};
use serde_json::{Value, json};
use sha2::Digest;

use super::{CLIENT_ID, CLIENT_SECRET, MAYA, body, demo, gmail};

pub const CALLBACK: &str = "http://127.0.0.1:8080/auth/google/callback";
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-sandbox-verifier";
pub const SCOPES: &str = "openid email profile https://www.googleapis.com/auth/gmail.compose";

pub fn challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier))
}

/// An authorization URL with PKCE (S256), offline access and forced consent.
pub fn authorize_url(sb: &SandboxHandle, extra: &[(&str, &str)]) -> String {
    let challenge = challenge(VERIFIER);
    let mut pairs = vec![
        ("client_id", CLIENT_ID),
        ("redirect_uri", CALLBACK),
        ("response_type", "code"),
        ("scope", SCOPES),
        ("state", "st-123"),
        ("nonce", "n-456"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
        ("access_type", "offline"),
        ("prompt", "consent"),
    ];
    for (k, v) in extra {
        pairs.retain(|(name, _)| name != k);
        pairs.push((k, v));
    }
    super::with_query(&format!("{}/o/oauth2/v2/auth", sb.base_url()), &pairs)
}

pub fn query(url: &str) -> std::collections::HashMap<String, String> {
    url::Url::parse(url)
        .expect("callback url")
        .query_pairs()
        .into_owned()
        .collect()
}

pub async fn exchange(
    client: &Client,
    sb: &SandboxHandle,
    code: &str,
    verifier: &str,
    redirect: &str,
) -> (StatusCode, Value) {
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("code_verifier", verifier),
        ("redirect_uri", redirect),
        ("client_id", CLIENT_ID),
        ("client_secret", CLIENT_SECRET),
    ];
    body(
        client
            .post(format!("{}/token", sb.base_url()))
            .form(&form)
            .send()
            .await
            .expect("token"),
    )
    .await
}

/// Consent as `account` and return the code.
pub async fn consent_code(sb: &SandboxHandle, account: &str, extra: &[(&str, &str)]) -> String {
    let callback = consent::click_through(&authorize_url(sb, extra), account)
        .await
        .expect("consent");
    let q = query(&callback);
    assert!(callback.starts_with(CALLBACK), "{callback}");
    assert_eq!(q.get("state").map(String::as_str), Some("st-123"));
    q.get("code").expect("code").clone()
}

#[actix_web::test]
async fn consent_gives_a_code_that_buys_tokens_which_reach_the_mailbox() {
    let sb = demo();
    let client = Client::new();
    let page = client
        .get(authorize_url(&sb, &[]))
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("html");
    for needle in [
        "Choose an account",
        MAYA,
        "Manage drafts and send emails",
        ">Allow<",
        ">Deny<",
        "<label for=",
    ] {
        assert!(html.contains(needle), "page lacks {needle}");
    }
    let code = consent_code(&sb, MAYA, &[]).await;
    let (status, tokens) = exchange(&client, &sb, &code, VERIFIER, CALLBACK).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 3599);
    assert!(
        tokens["refresh_token"]
            .as_str()
            .is_some_and(|t| t.starts_with("1//"))
    );
    assert!(tokens["id_token"].is_string());
    let scope = tokens["scope"].as_str().expect("scope");
    assert!(
        scope.contains("https://www.googleapis.com/auth/userinfo.email"),
        "{scope}"
    );
    let access = tokens["access_token"].as_str().expect("access");
    let (status, profile) = body(
        client
            .get(gmail(&sb, "/profile"))
            .bearer_auth(access)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(profile["emailAddress"], MAYA);
    sb.stop().await;
}

#[actix_web::test]
async fn a_wrong_or_missing_code_verifier_is_refused_and_the_right_one_then_accepted() {
    let sb = demo();
    let client = Client::new();
    let code = consent_code(&sb, MAYA, &[]).await;
    let wrong = "x".repeat(64);
    let (status, json) = exchange(&client, &sb, &code, &wrong, CALLBACK).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        json,
        json!({"error": "invalid_grant", "error_description": "Invalid code verifier."})
    );
    let (status, json) = exchange(&client, &sb, &code, "", CALLBACK).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(json["error_description"], "Missing code verifier.");
    let (status, _) = exchange(&client, &sb, &code, VERIFIER, CALLBACK).await;
    assert_eq!(status, StatusCode::OK);

    // plain: the verifier is the challenge.
    let plain = "p".repeat(50);
    let code = consent_code(
        &sb,
        MAYA,
        &[
            ("code_challenge", &plain),
            ("code_challenge_method", "plain"),
        ],
    )
    .await;
    let (status, _) = exchange(&client, &sb, &code, VERIFIER, CALLBACK).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = exchange(&client, &sb, &code, &plain, CALLBACK).await;
    assert_eq!(status, StatusCode::OK);
    sb.stop().await;
}

#[actix_web::test]
async fn a_code_is_single_use_and_its_replay_revokes_the_tokens_it_bought() {
    let sb = demo();
    let client = Client::new();
    let code = consent_code(&sb, MAYA, &[]).await;
    let (status, tokens) = exchange(&client, &sb, &code, VERIFIER, CALLBACK).await;
    assert_eq!(status, StatusCode::OK);
    let (status, json) = exchange(&client, &sb, &code, VERIFIER, CALLBACK).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(json["error"], "invalid_grant");
    let refresh = tokens["refresh_token"].as_str().expect("refresh");
    let (status, json) = body(super::refresh(&client, &sb, refresh).await).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "replay revoked the grant: {json}"
    );
    assert_eq!(json["error"], "invalid_grant");
    sb.stop().await;
}

#[actix_web::test]
async fn a_code_expires_after_ten_minutes_and_must_come_back_with_its_exact_redirect_uri() {
    let sb = demo();
    let client = Client::new();
    let code = consent_code(&sb, MAYA, &[]).await;
    let (status, json) = exchange(
        &client,
        &sb,
        &code,
        VERIFIER,
        "http://127.0.0.1:8080/auth/google/callback/",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(json["error"], "redirect_uri_mismatch");
    sb.advance(Duration::from_secs(601));
    let (status, json) = exchange(&client, &sb, &code, VERIFIER, CALLBACK).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(json["error"], "invalid_grant");
    sb.stop().await;
}

#[actix_web::test]
async fn an_unregistered_redirect_or_unknown_client_gets_an_error_page_and_never_a_redirect() {
    let sb = demo();
    let client = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let evil = "https://evil.example/steal";
    let response = client
        .get(authorize_url(&sb, &[("redirect_uri", evil)]))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.headers().get("location").is_none());
    assert!(
        response
            .text()
            .await
            .expect("html")
            .contains("redirect_uri_mismatch")
    );
    let response = client
        .get(authorize_url(
            &sb,
            &[("client_id", "nobody.apps.googleusercontent.com")],
        ))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.headers().get("location").is_none());
    assert!(
        response
            .text()
            .await
            .expect("html")
            .contains("invalid_client")
    );

    // Registered at run time (a service on a random port), it is accepted.
    let fresh = "http://127.0.0.1:45678/auth/google/callback";
    let registered = client
        .post(format!("{}/_sandbox/oauth/redirect-uris", sb.base_url()))
        .json(&json!({"redirectUri": fresh}))
        .send()
        .await
        .expect("register");
    assert_eq!(registered.status(), StatusCode::OK);
    let callback = consent::click_through(&authorize_url(&sb, &[("redirect_uri", fresh)]), MAYA)
        .await
        .expect("consent");
    assert!(callback.starts_with(fresh), "{callback}");
    sb.stop().await;
}

#[actix_web::test]
async fn deny_and_bad_parameters_come_back_to_the_trusted_redirect_as_errors_with_the_state() {
    let sb = demo();
    let callback = consent::decide(&authorize_url(&sb, &[]), MAYA, Decision::Deny)
        .await
        .expect("deny");
    let q = query(&callback);
    assert_eq!(q.get("error").map(String::as_str), Some("access_denied"));
    assert_eq!(q.get("state").map(String::as_str), Some("st-123"));
    assert!(!q.contains_key("code"));

    let client = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    for (extra, error) in [
        (("response_type", "token"), "unsupported_response_type"),
        (
            ("scope", "openid https://evil.example/all"),
            "invalid_scope",
        ),
        (("code_challenge_method", "S512"), "invalid_request"),
        (("prompt", "none"), "login_required"),
    ] {
        let response = client
            .get(authorize_url(&sb, &[extra]))
            .send()
            .await
            .expect("send");
        assert_eq!(response.status(), StatusCode::FOUND, "{extra:?}");
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .expect("location")
            .to_string();
        assert!(location.starts_with(CALLBACK));
        let q = query(&location);
        assert_eq!(q.get("error").map(String::as_str), Some(error), "{extra:?}");
        assert_eq!(q.get("state").map(String::as_str), Some("st-123"));
    }
    sb.stop().await;
}

#[actix_web::test]
async fn a_refresh_token_comes_only_with_offline_access_on_first_consent_or_forced_consent() {
    let sb = demo();
    let client = Client::new();
    let alex = "alex.morgan@northwind-analytics.com";
    let code = consent_code(&sb, alex, &[("prompt", "select_account")]).await;
    let (_, first) = exchange(&client, &sb, &code, VERIFIER, CALLBACK).await;
    assert!(first["refresh_token"].is_string(), "first consent: {first}");
    let code = consent_code(&sb, alex, &[("prompt", "select_account")]).await;
    let (_, again) = exchange(&client, &sb, &code, VERIFIER, CALLBACK).await;
    assert!(
        again.get("refresh_token").is_none(),
        "already granted: {again}"
    );
    let code = consent_code(&sb, alex, &[]).await;
    let (_, forced) = exchange(&client, &sb, &code, VERIFIER, CALLBACK).await;
    assert!(
        forced["refresh_token"].is_string(),
        "prompt=consent: {forced}"
    );
    let code = consent_code(&sb, alex, &[("access_type", "online")]).await;
    let (_, online) = exchange(&client, &sb, &code, VERIFIER, CALLBACK).await;
    assert!(online.get("refresh_token").is_none(), "online: {online}");
    sb.stop().await;
}
