//! ID-token verification refuses every token it must: each test signs a token
//! with a test RSA key (tests/fixtures/oauth, never used outside tests), serves
//! the key set over real HTTP, and changes one thing.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use secrecy::SecretString;
use serde_json::{Value, json};
use url::Url;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;

const KEY_A: &[u8] = include_bytes!("../../../tests/fixtures/oauth/test-key-a.pem");
const KEY_B: &[u8] = include_bytes!("../../../tests/fixtures/oauth/test-key-b.pem");
const JWKS: &str = include_str!("../../../tests/fixtures/oauth/test-jwks.json");
const CLIENT: &str = "client-123.apps.googleusercontent.com";
const NONCE: &str = "n-0S6_WzA2Mj";

/// The key set with only the keys whose ids are given.
fn jwks(kids: &[&str]) -> Value {
    let mut all: Value = serde_json::from_str(JWKS).unwrap();
    let keys = all["keys"].as_array_mut().unwrap();
    keys.retain(|k| kids.contains(&k["kid"].as_str().unwrap()));
    all
}

async fn serve_keys(kids: &[&str]) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/oauth2/v3/certs"))
        .respond_with(ResponseTemplate::new(200).set_body_json(jwks(kids)))
        .mount(&server)
        .await;
    server
}

pub(super) fn client(server: &MockServer, issuer: &str, min_refetch: Duration) -> GoogleOAuth {
    let url = |p: &str| Url::parse(&format!("{}{p}", server.uri())).unwrap();
    let mut oauth = GoogleOAuth::new(
        reqwest::Client::new(),
        CLIENT,
        SecretString::from("client-secret"),
        url("/o/oauth2/v2/auth"),
        url("/token"),
        issuer,
        JwksSource::Url(url("/oauth2/v3/certs")),
    );
    oauth.keys = std::sync::Arc::new(
        JwksCache::new(
            reqwest::Client::new(),
            JwksSource::Url(url("/oauth2/v3/certs")),
        )
        .with_min_refetch(min_refetch),
    );
    oauth
}

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

/// Claims as the provider issues them to `issuer` for a Workspace admin.
fn claims(issuer: &str) -> Value {
    json!({
        "iss": issuer, "aud": CLIENT, "azp": CLIENT, "sub": "1098765",
        "email": "Ada@Example.com", "email_verified": true, "hd": "example.com",
        "name": "Ada Admin", "nonce": NONCE, "iat": now(), "exp": now() + 3600,
    })
}

fn sign(claims: &Value, kid: &str, pem: &[u8]) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.to_string());
    encode(&header, claims, &EncodingKey::from_rsa_pem(pem).unwrap()).unwrap()
}

fn expect(domains: &[String]) -> Expectations<'_> {
    Expectations {
        nonce: NONCE,
        allowed_domains: domains,
    }
}

/// Verifies `claims` signed by key A against a client of the mock issuer.
async fn verify(claims: Value, domains: &[String]) -> Result<IdClaims, IdTokenError> {
    let server = serve_keys(&["test-key-a"]).await;
    let oauth = client(&server, &server.uri(), Duration::from_secs(10));
    let mut claims = claims;
    if claims["iss"] == "ISSUER" {
        claims["iss"] = json!(server.uri());
    }
    let token = sign(&claims, "test-key-a", KEY_A);
    oauth.verify_id_token(&token, &expect(domains)).await
}

fn with(mut c: Value, key: &str, value: Value) -> Value {
    c[key] = value;
    c
}

#[tokio::test]
async fn a_good_token_gives_the_verified_person() {
    let person = verify(claims("ISSUER"), &["example.com".into()])
        .await
        .unwrap();
    assert_eq!(person.email, "ada@example.com");
    assert_eq!(person.subject, "1098765");
    assert_eq!(person.hosted_domain.as_deref(), Some("example.com"));
}

#[tokio::test]
async fn a_token_signed_by_another_key_is_refused() {
    let server = serve_keys(&["test-key-a"]).await;
    let oauth = client(&server, &server.uri(), Duration::from_secs(10));
    // Names key A, but was signed with key B.
    let token = sign(&claims(&server.uri()), "test-key-a", KEY_B);
    let err = oauth.verify_id_token(&token, &expect(&[])).await;
    assert_eq!(err, Err(IdTokenError::BadSignature));
}

#[tokio::test]
async fn a_token_whose_payload_was_changed_after_signing_is_refused() {
    let server = serve_keys(&["test-key-a"]).await;
    let oauth = client(&server, &server.uri(), Duration::from_secs(10));
    let token = sign(&claims(&server.uri()), "test-key-a", KEY_A);
    let parts: Vec<&str> = token.split('.').collect();
    let forged = with(claims(&server.uri()), "email", json!("mallory@example.com"));
    let payload = URL_SAFE_NO_PAD.encode(forged.to_string());
    let tampered = format!("{}.{payload}.{}", parts[0], parts[2]);
    let err = oauth.verify_id_token(&tampered, &expect(&[])).await;
    assert_eq!(err, Err(IdTokenError::BadSignature));
}

#[tokio::test]
async fn a_token_for_another_client_is_refused() {
    let c = with(
        claims("ISSUER"),
        "aud",
        json!("someone-else.apps.googleusercontent.com"),
    );
    assert_eq!(verify(c, &[]).await, Err(IdTokenError::WrongAudience));
}

#[tokio::test]
async fn a_token_for_several_audiences_not_issued_to_us_is_refused() {
    let c = with(claims("ISSUER"), "aud", json!([CLIENT, "other-client"]));
    let c = with(c, "azp", json!("other-client"));
    assert_eq!(verify(c, &[]).await, Err(IdTokenError::WrongAudience));
}

#[tokio::test]
async fn an_expired_token_is_refused_past_the_leeway() {
    let c = with(claims("ISSUER"), "exp", json!(now() - LEEWAY_SECS - 5));
    assert_eq!(verify(c, &[]).await, Err(IdTokenError::Expired));
    // Inside the leeway a slightly slow clock still signs in.
    let c = with(claims("ISSUER"), "exp", json!(now() - 5));
    assert!(verify(c, &[]).await.is_ok());
}

#[tokio::test]
async fn a_token_issued_in_the_future_is_refused() {
    let c = with(claims("ISSUER"), "iat", json!(now() + LEEWAY_SECS + 60));
    assert_eq!(verify(c, &[]).await, Err(IdTokenError::IssuedInFuture));
}

#[tokio::test]
async fn a_token_from_another_issuer_is_refused() {
    let c = with(claims("ISSUER"), "iss", json!("https://evil.example"));
    assert_eq!(verify(c, &[]).await, Err(IdTokenError::WrongIssuer));
}

#[tokio::test]
async fn googles_issuer_is_accepted_with_or_without_its_scheme() {
    let server = serve_keys(&["test-key-a"]).await;
    let oauth = client(&server, GOOGLE_ISSUER, Duration::from_secs(10));
    for iss in ["accounts.google.com", "https://accounts.google.com"] {
        let token = sign(&claims(iss), "test-key-a", KEY_A);
        assert!(
            oauth.verify_id_token(&token, &expect(&[])).await.is_ok(),
            "{iss}"
        );
    }
    let token = sign(&claims("http://accounts.google.com"), "test-key-a", KEY_A);
    let err = oauth.verify_id_token(&token, &expect(&[])).await;
    assert_eq!(err, Err(IdTokenError::WrongIssuer));
}

#[tokio::test]
async fn a_token_with_another_nonce_is_refused() {
    let c = with(claims("ISSUER"), "nonce", json!("replayed-from-elsewhere"));
    assert_eq!(verify(c, &[]).await, Err(IdTokenError::WrongNonce));
    let mut c = claims("ISSUER");
    c.as_object_mut().unwrap().remove("nonce");
    assert_eq!(verify(c, &[]).await, Err(IdTokenError::WrongNonce));
}

#[tokio::test]
async fn an_account_outside_the_allowed_domains_is_refused() {
    let allowed = ["example.com".to_string()];
    let c = with(claims("ISSUER"), "hd", json!("other.example"));
    assert_eq!(verify(c, &allowed).await, Err(IdTokenError::WrongDomain));
    // A consumer account has no hd, whatever its address says.
    let mut c = with(claims("ISSUER"), "email", json!("ada@example.com"));
    c.as_object_mut().unwrap().remove("hd");
    assert_eq!(verify(c, &allowed).await, Err(IdTokenError::WrongDomain));
}

#[tokio::test]
async fn an_unverified_email_is_refused() {
    let c = with(claims("ISSUER"), "email_verified", json!(false));
    assert_eq!(verify(c, &[]).await, Err(IdTokenError::EmailNotVerified));
    let c = with(claims("ISSUER"), "email_verified", json!("true"));
    assert!(verify(c, &[]).await.is_ok());
}

#[tokio::test]
async fn an_unsigned_token_is_refused() {
    let server = serve_keys(&["test-key-a"]).await;
    let oauth = client(&server, &server.uri(), Duration::from_secs(10));
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","kid":"test-key-a","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims(&server.uri()).to_string());
    let err = oauth
        .verify_id_token(&format!("{header}.{payload}."), &expect(&[]))
        .await;
    assert!(
        matches!(
            err,
            Err(IdTokenError::WrongAlgorithm | IdTokenError::Malformed)
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_token_hmac_signed_with_the_public_key_is_refused() {
    let server = serve_keys(&["test-key-a"]).await;
    let oauth = client(&server, &server.uri(), Duration::from_secs(10));
    // The classic confusion: HS256 keyed with what the attacker knows, the public key.
    let public = jwks(&["test-key-a"])["keys"][0]["n"]
        .as_str()
        .unwrap()
        .to_string();
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("test-key-a".into());
    let secret = EncodingKey::from_secret(public.as_bytes()).unwrap();
    let token = encode(&header, &claims(&server.uri()), &secret).unwrap();
    let err = oauth.verify_id_token(&token, &expect(&[])).await;
    assert_eq!(err, Err(IdTokenError::WrongAlgorithm));
    assert_eq!(
        oauth.keys().fetches(),
        0,
        "refused before any key was fetched"
    );
}

#[tokio::test]
async fn an_unknown_key_id_is_refetched_once_then_refused() {
    let server = serve_keys(&["test-key-a"]).await;
    let oauth = client(&server, &server.uri(), Duration::ZERO);
    let good = sign(&claims(&server.uri()), "test-key-a", KEY_A);
    oauth.verify_id_token(&good, &expect(&[])).await.unwrap();
    assert_eq!(oauth.keys().fetches(), 1);
    let unknown = sign(&claims(&server.uri()), "test-key-b", KEY_B);
    let err = oauth.verify_id_token(&unknown, &expect(&[])).await;
    assert_eq!(err, Err(IdTokenError::UnknownKey));
    assert_eq!(oauth.keys().fetches(), 2, "one refetch for the unknown kid");
}

#[tokio::test]
async fn unknown_key_ids_do_not_refetch_more_often_than_allowed() {
    let server = serve_keys(&["test-key-a"]).await;
    let oauth = client(&server, &server.uri(), Duration::from_secs(600));
    let good = sign(&claims(&server.uri()), "test-key-a", KEY_A);
    oauth.verify_id_token(&good, &expect(&[])).await.unwrap();
    for i in 0..5 {
        let made_up = sign(&claims(&server.uri()), &format!("made-up-{i}"), KEY_B);
        let err = oauth.verify_id_token(&made_up, &expect(&[])).await;
        assert_eq!(err, Err(IdTokenError::UnknownKey));
    }
    assert_eq!(oauth.keys().fetches(), 1);
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_rotated_key_is_found_by_refetching() {
    let server = MockServer::start().await;
    // First the set holds key A only; after the provider rotates, A and B.
    Mock::given(method("GET"))
        .and(path("/oauth2/v3/certs"))
        .respond_with(ResponseTemplate::new(200).set_body_json(jwks(&["test-key-a"])))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/oauth2/v3/certs"))
        .respond_with(ResponseTemplate::new(200).set_body_json(jwks(&["test-key-a", "test-key-b"])))
        .mount(&server)
        .await;
    let oauth = client(&server, &server.uri(), Duration::ZERO);
    let old = sign(&claims(&server.uri()), "test-key-a", KEY_A);
    oauth.verify_id_token(&old, &expect(&[])).await.unwrap();
    let new = sign(&claims(&server.uri()), "test-key-b", KEY_B);
    let person = oauth.verify_id_token(&new, &expect(&[])).await.unwrap();
    assert_eq!(person.email, "ada@example.com");
    assert_eq!(oauth.keys().fetches(), 2);
}

#[tokio::test]
async fn the_keys_are_found_through_the_discovery_document() {
    let server = serve_keys(&["test-key-a"]).await;
    Mock::given(method("GET"))
        .and(path("/.well-known/openid-configuration"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "issuer": server.uri(),
            "jwks_uri": format!("{}/oauth2/v3/certs", server.uri()),
        })))
        .expect(1)
        .mount(&server)
        .await;
    let mut oauth = client(&server, &server.uri(), Duration::ZERO);
    oauth.keys = std::sync::Arc::new(JwksCache::new(
        reqwest::Client::new(),
        JwksSource::Discovery(server.uri()),
    ));
    for _ in 0..2 {
        let token = sign(&claims(&server.uri()), "test-key-a", KEY_A);
        oauth.verify_id_token(&token, &expect(&[])).await.unwrap();
    }
}
