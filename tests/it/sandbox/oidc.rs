//! OpenID Connect and the other grants at the sandbox over real HTTP: ID
//! tokens verified against the published JWKS (with `jsonwebtoken`, as a
//! relying party would), key rotation, userinfo, revocation from either side,
//! scope removal, and the service account's JWT-bearer grant.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use reqwest::{Client, StatusCode};
use sales_agent::sandbox::SandboxHandle;
use sales_agent::sandbox::fixture::DEMO_SERVICE_ACCOUNT_KEY;
use serde_json::{Value, json};

use super::oauth::{CALLBACK, VERIFIER, consent_code, exchange};
use super::{CLIENT_ID, MAYA, body, demo, gmail};

async fn jwks(client: &Client, sb: &SandboxHandle) -> JwkSet {
    let (status, discovery) = body(
        client
            .get(format!(
                "{}/.well-known/openid-configuration",
                sb.base_url()
            ))
            .send()
            .await
            .expect("discovery"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(discovery["issuer"], sb.base_url());
    assert_eq!(
        discovery["id_token_signing_alg_values_supported"],
        json!(["RS256"])
    );
    let uri = discovery["jwks_uri"].as_str().expect("jwks_uri");
    client
        .get(uri)
        .send()
        .await
        .expect("certs")
        .json()
        .await
        .expect("jwks")
}

/// Verifies `token` as a relying party: signature by the kid's key, issuer,
/// audience, expiry.
fn verify(set: &JwkSet, token: &str, base: &str) -> Result<Value, jsonwebtoken::errors::Error> {
    let kid = jsonwebtoken::decode_header(token)?.kid.unwrap_or_default();
    let jwk = set
        .find(&kid)
        .ok_or(jsonwebtoken::errors::ErrorKind::InvalidKeyFormat)?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[CLIENT_ID]);
    validation.set_issuer(&[base]);
    Ok(jsonwebtoken::decode::<Value>(token, &DecodingKey::from_jwk(jwk)?, &validation)?.claims)
}

async fn tokens_for(client: &Client, sb: &SandboxHandle, account: &str) -> Value {
    let code = consent_code(sb, account, &[]).await;
    let (status, tokens) = exchange(client, sb, &code, VERIFIER, CALLBACK).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    tokens
}

#[actix_web::test]
async fn the_id_token_verifies_against_the_jwks_and_carries_the_nonce_and_the_workspace_domain() {
    let sb = demo();
    let client = Client::new();
    let set = jwks(&client, &sb).await;
    let tokens = tokens_for(&client, &sb, MAYA).await;
    let claims = verify(
        &set,
        tokens["id_token"].as_str().expect("id_token"),
        &sb.base_url(),
    )
    .expect("verifies");
    assert_eq!(claims["email"], MAYA);
    assert_eq!(claims["email_verified"], true);
    assert_eq!(claims["hd"], "northwind-analytics.com");
    assert_eq!(claims["nonce"], "n-456");
    assert_eq!(claims["name"], "Maya Chen");
    assert!(
        claims["sub"]
            .as_str()
            .is_some_and(|s| s.chars().all(|c| c.is_ascii_digit()))
    );
    assert_eq!(
        claims["exp"].as_u64().unwrap_or(0) - claims["iat"].as_u64().unwrap_or(0),
        3600
    );

    // A consumer account has no hd; a forged signature does not verify.
    let other = tokens_for(&client, &sb, "jordan.lee.sales@gmail.com").await;
    let id = other["id_token"].as_str().expect("id_token");
    assert!(
        verify(&set, id, &sb.base_url())
            .expect("verifies")
            .get("hd")
            .is_none()
    );
    let mut parts: Vec<&str> = id.split('.').collect();
    let forged_sig = tokens["id_token"]
        .as_str()
        .expect("id")
        .split('.')
        .nth(2)
        .expect("sig")
        .to_string();
    parts[2] = &forged_sig;
    assert!(verify(&set, &parts.join("."), &sb.base_url()).is_err());

    // Refreshing a grant with openid gives a fresh ID token (no nonce).
    let (status, refreshed) =
        body(super::refresh(&client, &sb, tokens["refresh_token"].as_str().expect("rt")).await)
            .await;
    assert_eq!(status, StatusCode::OK);
    let claims = verify(
        &set,
        refreshed["id_token"].as_str().expect("id"),
        &sb.base_url(),
    )
    .expect("verifies");
    assert_eq!(claims["email"], MAYA);
    assert!(claims.get("nonce").is_none());

    let (status, info) = body(
        client
            .get(format!("{}/v1/userinfo", sb.base_url()))
            .bearer_auth(tokens["access_token"].as_str().expect("at"))
            .send()
            .await
            .expect("userinfo"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(info["email"], MAYA);
    assert_eq!(
        info["sub"],
        verify(
            &set,
            tokens["id_token"].as_str().expect("id"),
            &sb.base_url()
        )
        .expect("v")["sub"]
    );
    sb.stop().await;
}

#[actix_web::test]
async fn after_rotation_new_id_tokens_carry_a_kid_the_old_jwks_does_not_know() {
    let sb = demo();
    let client = Client::new();
    let old = jwks(&client, &sb).await;
    let rotated: Value = client
        .post(format!(
            "{}/_sandbox/oauth/rotate-signing-key",
            sb.base_url()
        ))
        .send()
        .await
        .expect("rotate")
        .json()
        .await
        .expect("json");
    let kid = rotated["kid"].as_str().expect("kid");
    let tokens = tokens_for(&client, &sb, MAYA).await;
    let id = tokens["id_token"].as_str().expect("id");
    assert_eq!(
        jsonwebtoken::decode_header(id)
            .expect("header")
            .kid
            .as_deref(),
        Some(kid)
    );
    assert!(old.find(kid).is_none());
    assert!(verify(&old, id, &sb.base_url()).is_err());
    let new = jwks(&client, &sb).await;
    assert_eq!(new.keys.len(), 2, "the previous key stays published");
    verify(&new, id, &sb.base_url()).expect("verifies with the refreshed JWKS");
    sb.stop().await;
}

#[actix_web::test]
async fn a_grant_revoked_by_the_app_or_on_the_account_page_refreshes_to_invalid_grant() {
    let sb = demo();
    let client = Client::new();
    let first = tokens_for(&client, &sb, MAYA).await;
    let rt = first["refresh_token"].as_str().expect("rt");
    let revoked = client
        .post(format!("{}/revoke", sb.base_url()))
        .form(&[("token", rt)])
        .send()
        .await
        .expect("revoke");
    assert_eq!(revoked.status(), StatusCode::OK);
    // Google, unlike RFC 7009, refuses a token that is no longer live.
    let (status, json) = body(
        client
            .post(format!("{}/revoke", sb.base_url()))
            .form(&[("token", rt)])
            .send()
            .await
            .expect("revoke again"),
    )
    .await;
    assert_eq!(
        (status, json["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_token"))
    );
    let (status, json) = body(super::refresh(&client, &sb, rt).await).await;
    assert_eq!(
        (status, json["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    let (status, _) = body(
        client
            .get(gmail(&sb, "/profile"))
            .bearer_auth(first["access_token"].as_str().expect("at"))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let second = tokens_for(&client, &sb, MAYA).await;
    let page = client
        .post(format!("{}/_sandbox/oauth/revoke", sb.base_url()))
        .json(&json!({"email": MAYA}))
        .send()
        .await
        .expect("revoke");
    assert_eq!(page.status(), StatusCode::OK);
    let (status, json) =
        body(super::refresh(&client, &sb, second["refresh_token"].as_str().expect("rt")).await)
            .await;
    assert_eq!(
        (status, json["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    let (status, json) = body(super::refresh(&client, &sb, super::MAYA_REFRESH).await).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "the fixture's grant went too: {json}"
    );
    sb.stop().await;
}

#[actix_web::test]
async fn a_scope_removed_from_a_grant_is_refused_with_403_while_the_others_still_work() {
    let sb = demo();
    let client = Client::new();
    let access = super::google_token(&client, &sb).await;
    let removed = client
        .post(format!("{}/_sandbox/oauth/remove-scope", sb.base_url()))
        .json(&json!({"email": MAYA, "scope": "https://www.googleapis.com/auth/gmail.readonly"}))
        .send()
        .await
        .expect("remove");
    assert_eq!(removed.status(), StatusCode::OK);
    let (status, json) = body(
        client
            .get(gmail(&sb, "/threads"))
            .bearer_auth(&access)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        json["error"]["errors"][0]["reason"],
        "insufficientPermissions"
    );
    let (status, _) = body(
        client
            .get(gmail(&sb, "/drafts"))
            .bearer_auth(&access)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, refreshed) = body(super::refresh(&client, &sb, super::MAYA_REFRESH).await).await;
    assert!(
        !refreshed["scope"]
            .as_str()
            .expect("scope")
            .contains("gmail.readonly")
    );
    sb.stop().await;
}

fn assertion(key_pem: &str, kid: &str, claims: Value) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.to_string());
    jsonwebtoken::encode(
        &header,
        &claims,
        &EncodingKey::from_rsa_pem(key_pem.as_bytes()).expect("key"),
    )
    .expect("sign")
}

async fn jwt_grant(client: &Client, sb: &SandboxHandle, jwt: &str) -> (StatusCode, Value) {
    let form = [
        ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
        ("assertion", jwt),
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

#[actix_web::test]
async fn a_service_account_assertion_impersonates_a_domain_user_and_a_bad_one_is_refused_as_google_does()
 {
    let sb = demo();
    let client = Client::new();
    let key: Value = serde_json::from_str(DEMO_SERVICE_ACCOUNT_KEY).expect("key file");
    let (pem, kid, iss) = (
        key["private_key"].as_str().expect("pk"),
        key["private_key_id"].as_str().expect("kid"),
        key["client_email"].as_str().expect("email"),
    );
    let now = chrono::Utc::now().timestamp();
    let scope = "https://www.googleapis.com/auth/gmail.compose https://www.googleapis.com/auth/gmail.readonly";
    let claims = |sub: &str, scope: &str, iat: i64| {
        json!({"iss": iss, "sub": sub, "scope": scope,
        "aud": format!("{}/token", sb.base_url()), "iat": iat, "exp": iat + 3600})
    };

    let (status, tokens) =
        jwt_grant(&client, &sb, &assertion(pem, kid, claims(MAYA, scope, now))).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert!(tokens.get("refresh_token").is_none());
    let (status, profile) = body(
        client
            .get(gmail(&sb, "/profile"))
            .bearer_auth(tokens["access_token"].as_str().expect("at"))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(
        (status, profile["emailAddress"].as_str()),
        (StatusCode::OK, Some(MAYA))
    );

    let other_key = include_str!("../../../src/sandbox/fixtures/keys/signing-1.pem");
    let (status, json) = jwt_grant(
        &client,
        &sb,
        &assertion(other_key, kid, claims(MAYA, scope, now)),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        json,
        json!({"error": "invalid_grant", "error_description": "Invalid JWT Signature."})
    );

    let (status, json) = jwt_grant(
        &client,
        &sb,
        &assertion(
            pem,
            kid,
            claims(
                MAYA,
                "https://www.googleapis.com/auth/gmail.settings.sharing",
                now,
            ),
        ),
    )
    .await;
    assert_eq!(
        (status, json["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unauthorized_client"))
    );
    let (status, json) = jwt_grant(
        &client,
        &sb,
        &assertion(
            pem,
            kid,
            claims("riley.quinn@contoso-partners.com", scope, now),
        ),
    )
    .await;
    assert_eq!(
        (status, json["error_description"].as_str()),
        (StatusCode::BAD_REQUEST, Some("Invalid email or User ID"))
    );
    let (status, json) = jwt_grant(
        &client,
        &sb,
        &assertion(pem, kid, claims(MAYA, scope, now - 7200)),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        json["error_description"]
            .as_str()
            .is_some_and(|d| d.contains("iat and exp"))
    );
    sb.stop().await;
}
