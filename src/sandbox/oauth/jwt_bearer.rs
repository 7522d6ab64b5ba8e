//! The JWT-bearer grant (RFC 7523) for a service account with domain-wide
//! delegation, as Google's token endpoint checks it: an RS256 assertion signed
//! with the account's key, `iss` the account, `aud` the token endpoint, `iat`
//! and `exp` at most an hour apart around now, `scope` a subset of what the
//! Workspace admin delegated, `sub` a user of the delegated domain; a `kid`
//! must name the account's key. Every assertion received is recorded with its
//! claims and outcome (`World::google.jwt_grants`), for tests that check what
//! a client sent.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::json;

use super::{Form, LIFETIME_S, base_url, field, mint_access, missing, token_response};
use crate::sandbox::Sandbox;
use crate::sandbox::respond::oauth;
use crate::sandbox::state::World;

use super::model::JwtGrant;

#[derive(Debug, Deserialize)]
struct Claims {
    iss: String,
    #[serde(default)]
    scope: String,
    aud: String,
    exp: u64,
    iat: u64,
    #[serde(default)]
    sub: Option<String>,
}

/// Why the token endpoint refused an assertion, as Google answers it.
struct Refusal {
    status: StatusCode,
    error: &'static str,
    description: &'static str,
}

const fn refusal(status: StatusCode, error: &'static str, description: &'static str) -> Refusal {
    Refusal {
        status,
        error,
        description,
    }
}

const fn invalid_grant(description: &'static str) -> Refusal {
    refusal(StatusCode::BAD_REQUEST, "invalid_grant", description)
}

const BAD_SIGNATURE: Refusal = invalid_grant("Invalid JWT Signature.");
const TIMEFRAME: &str = "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.";
/// Google allows a little clock skew between the signer and itself.
const SKEW_S: u64 = 300;

/// The claims, read before verification only to find whose key verifies them.
fn peek(assertion: &str) -> Option<Claims> {
    let payload = assertion.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

pub fn grant(sb: &Sandbox, req: &HttpRequest, form: &Form) -> HttpResponse {
    let Some(assertion) = field(form, "assertion") else {
        return missing("assertion");
    };
    let Some(claims) = peek(assertion) else {
        let r = invalid_grant("Invalid JWT: Token must be a valid JWT.");
        return oauth(r.status, r.error, r.description);
    };
    let kid = jsonwebtoken::decode_header(assertion)
        .ok()
        .and_then(|h| h.kid);
    let mut world = sb.lock_world();
    let outcome = check(sb, req, &world, assertion, kid.as_deref(), &claims);
    world.google.jwt_grants.push(JwtGrant {
        iss: claims.iss.clone(),
        sub: claims.sub.clone(),
        scope: claims.scope.clone(),
        aud: claims.aud.clone(),
        kid,
        iat: claims.iat,
        exp: claims.exp,
        outcome: match &outcome {
            Ok(_) => "ok".to_string(),
            Err(r) => format!("{}: {}", r.error, r.description),
        },
    });
    match outcome {
        Ok((email, scope)) => {
            let access = mint_access(sb, &mut world, &email, &scope, None);
            token_response(
                json!({"access_token": access, "expires_in": LIFETIME_S, "token_type": "Bearer"}),
            )
        }
        Err(r) => oauth(r.status, r.error, r.description),
    }
}

/// The account and scope an access token is minted for, or Google's refusal.
fn check(
    sb: &Sandbox,
    req: &HttpRequest,
    world: &World,
    assertion: &str,
    kid: Option<&str>,
    claims: &Claims,
) -> Result<(String, String), Refusal> {
    let account = world
        .google
        .service_accounts
        .get(&claims.iss.to_ascii_lowercase())
        .ok_or(invalid_grant("Invalid grant: account not found"))?;
    // Google picks the account's key by `kid`; an unknown one verifies nothing.
    if kid.is_some_and(|k| k != account.private_key_id) {
        return Err(BAD_SIGNATURE);
    }
    let key =
        DecodingKey::from_rsa_pem(account.public_key.as_bytes()).map_err(|_| BAD_SIGNATURE)?;
    // Only the signature here; times are checked on the sandbox clock below.
    let mut validation = Validation::new(Algorithm::RS256);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    if jsonwebtoken::decode::<serde_json::Value>(assertion, &key, &validation).is_err() {
        return Err(BAD_SIGNATURE);
    }
    let endpoint = format!("{}/token", base_url(req));
    if claims.aud != endpoint && claims.aud != "https://oauth2.googleapis.com/token" {
        return Err(invalid_grant("Invalid JWT: Failed audience check."));
    }
    let now = u64::try_from(sb.clock.now_utc().timestamp()).unwrap_or(0);
    if claims.exp <= claims.iat
        || claims.exp - claims.iat > 3600
        || claims.iat > now + SKEW_S
        || claims.exp + SKEW_S < now
    {
        return Err(invalid_grant(TIMEFRAME));
    }
    if claims.scope.trim().is_empty() {
        return Err(refusal(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            "Invalid OAuth scope or ID token audience provided.",
        ));
    }
    let delegated = |s: &str| account.scopes.iter().any(|d| d == s);
    let email = match &claims.sub {
        None => account.client_email.to_ascii_lowercase(),
        Some(sub) => {
            let sub = sub.to_ascii_lowercase();
            let in_domain = world
                .google
                .users
                .get(&sub)
                .is_some_and(|u| u.hd.as_deref() == Some(account.domain.as_str()));
            if !in_domain {
                return Err(invalid_grant("Invalid email or User ID"));
            }
            if !claims.scope.split_whitespace().all(delegated) {
                return Err(refusal(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized_client",
                    "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.",
                ));
            }
            sub
        }
    };
    let scope = claims
        .scope
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    Ok((email, scope))
}
