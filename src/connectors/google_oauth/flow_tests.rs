//! The way out and back: what the authorization URL carries, what the callback
//! check accepts, and how the code exchange's answers are classified.

use std::collections::HashMap;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::tests::client;
use super::*;

#[test]
fn the_pkce_challenge_is_rfc_7636s_example() {
    // RFC 7636 Appendix B.
    assert_eq!(
        pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    );
}

#[test]
fn each_trip_gets_fresh_unguessable_values() {
    let (a, b) = (Pending::new(), Pending::new());
    assert_ne!(a.state, b.state);
    assert_ne!(a.nonce, b.nonce);
    assert_ne!(
        a.pkce_verifier.expose_secret(),
        b.pkce_verifier.expose_secret()
    );
    // 32 random bytes, base64url: a verifier of RFC 7636's recommended length.
    assert_eq!(a.pkce_verifier.expose_secret().len(), 43);
    assert!(!format!("{a:?}").contains(&a.state), "Debug shows nothing");
}

#[tokio::test]
async fn the_authorization_url_carries_everything_but_the_verifier() {
    let server = MockServer::start().await;
    let oauth = client(&server, &server.uri(), Duration::ZERO);
    let pending = Pending::new();
    let request = AuthRequest {
        redirect_uri: "https://console.example.com/signin/google/callback",
        scopes: &[
            "openid",
            "email",
            "https://www.googleapis.com/auth/gmail.compose",
        ],
        offline: true,
        prompt: Some("consent"),
        login_hint: Some("rep@example.com"),
        hd: Some("example.com"),
    };
    let url = oauth.authorization_url(&request, &pending);
    assert!(
        url.as_str()
            .starts_with(&format!("{}/o/oauth2/v2/auth?", server.uri()))
    );
    let q: HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(q["client_id"], "client-123.apps.googleusercontent.com");
    assert_eq!(q["redirect_uri"], request.redirect_uri);
    assert_eq!(q["response_type"], "code");
    assert_eq!(
        q["scope"],
        "openid email https://www.googleapis.com/auth/gmail.compose"
    );
    assert_eq!(q["state"], pending.state);
    assert_eq!(q["nonce"], pending.nonce);
    assert_eq!(
        q["code_challenge"],
        pkce_challenge(pending.pkce_verifier.expose_secret())
    );
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["access_type"], "offline");
    assert_eq!(q["prompt"], "consent");
    assert_eq!(q["login_hint"], "rep@example.com");
    assert_eq!(q["hd"], "example.com");
    assert!(!url.as_str().contains(pending.pkce_verifier.expose_secret()));
    assert!(!url.as_str().contains("client-secret"));

    let sign_in = oauth.authorization_url(&AuthRequest::sign_in("https://c/cb"), &pending);
    let q: HashMap<String, String> = sign_in.query_pairs().into_owned().collect();
    assert_eq!(q["scope"], "openid email profile");
    assert_eq!(q["access_type"], "online");
    assert!(!q.contains_key("login_hint") && !q.contains_key("hd"));
}

fn callback(code: Option<&str>, state: Option<&str>, error: Option<&str>) -> CallbackParams {
    CallbackParams {
        code: code.map(str::to_string),
        state: state.map(str::to_string),
        error: error.map(str::to_string),
        error_description: None,
    }
}

#[test]
fn the_callback_must_carry_this_browsers_state() {
    let pending = Pending::new();
    let ok = pending.check_callback(&callback(Some("4/abc"), Some(&pending.state), None));
    assert_eq!(ok.unwrap(), "4/abc");
    let forged = pending.check_callback(&callback(Some("4/abc"), Some("other"), None));
    assert!(matches!(forged, Err(OAuthError::StateMismatch)));
    let missing = pending.check_callback(&callback(Some("4/abc"), None, None));
    assert!(matches!(missing, Err(OAuthError::StateMismatch)));
    let denied =
        pending.check_callback(&callback(None, Some(&pending.state), Some("access_denied")));
    assert!(matches!(denied, Err(OAuthError::Denied)));
    let other =
        pending.check_callback(&callback(None, Some(&pending.state), Some("invalid_scope")));
    assert!(matches!(other, Err(OAuthError::Provider(e)) if e == "invalid_scope"));
}

#[tokio::test]
async fn the_code_is_exchanged_with_its_verifier() {
    let server = MockServer::start().await;
    let pending = Pending::new();
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(body_string_contains("grant_type=authorization_code"))
        .and(body_string_contains("code=4%2Fabc"))
        .and(body_string_contains(format!(
            "code_verifier={}",
            pending.pkce_verifier.expose_secret()
        )))
        .and(body_string_contains("redirect_uri=https%3A%2F%2Fc%2Fcb"))
        .and(body_string_contains("client_secret=client-secret"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "ya29.a", "expires_in": 3599, "token_type": "Bearer",
            "refresh_token": "1//r", "scope": "openid email", "id_token": "x.y.z",
        })))
        .expect(1)
        .mount(&server)
        .await;
    let oauth = client(&server, &server.uri(), Duration::ZERO);
    let grant = oauth
        .exchange_code("4/abc", "https://c/cb", &pending.pkce_verifier)
        .await
        .unwrap();
    assert_eq!(grant.access_token.expose_secret(), "ya29.a");
    assert_eq!(grant.refresh_token.unwrap().expose_secret(), "1//r");
    assert_eq!(grant.scopes, ["openid", "email"]);
    assert_eq!(grant.id_token.unwrap().expose_secret(), "x.y.z");
}

async fn exchange_answered(status: u16, body: serde_json::Value) -> OAuthError {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(status).set_body_json(body))
        .mount(&server)
        .await;
    let oauth = client(&server, &server.uri(), Duration::ZERO);
    let verifier = SecretString::from("v".repeat(43));
    oauth
        .exchange_code("4/abc", "https://c/cb", &verifier)
        .await
        .unwrap_err()
}

#[tokio::test]
async fn exchange_errors_are_classified_by_what_can_fix_them() {
    let used = json!({"error": "invalid_grant", "error_description": "Bad Request"});
    assert!(matches!(
        exchange_answered(400, used).await,
        OAuthError::InvalidGrant(_)
    ));
    let client_wrong = json!({"error": "invalid_client", "error_description": "Unauthorized"});
    assert!(matches!(
        exchange_answered(401, client_wrong).await,
        OAuthError::Misconfigured(m) if m.starts_with("invalid_client")
    ));
    let down = json!({"error": {"code": 503, "message": "backendError"}});
    let err = exchange_answered(503, down).await;
    assert!(
        matches!(&err, OAuthError::Unavailable(e) if e.is_retryable()),
        "{err:?}"
    );
}

#[tokio::test]
async fn finish_needs_an_id_token() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "ya29.a", "expires_in": 3599, "token_type": "Bearer",
        })))
        .mount(&server)
        .await;
    let oauth = client(&server, &server.uri(), Duration::ZERO);
    let err = oauth
        .finish("4/abc", "https://c/cb", &Pending::new(), &[])
        .await
        .unwrap_err();
    assert!(matches!(err, OAuthError::NoIdToken));
}
