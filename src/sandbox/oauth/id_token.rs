//! OpenID Connect: RS256 ID tokens signed with the sandbox's key, the JWKS that
//! publishes it (the current key and the one before a rotation, as Google
//! keeps both for a while), the discovery document, and userinfo.
//!
//! The keys are fixed test keys shipped in `fixtures/keys/` (generating 2048-bit
//! RSA keys at start would slow every test); rotation moves to the next one
//! under a new `kid`, so a verifier that cached the old JWKS meets an unknown kid.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use jsonwebtoken::jwk::{Jwk, JwkSet, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;

use super::base_url;
use crate::sandbox::Sandbox;
use crate::sandbox::gate::{self, Cost, Principal, endpoint};
use crate::sandbox::respond::{Provider, oauth};
use crate::sandbox::state::World;

const KEYS: [&str; 3] = [
    include_str!("../fixtures/keys/signing-1.pem"),
    include_str!("../fixtures/keys/signing-2.pem"),
    include_str!("../fixtures/keys/signing-3.pem"),
];
const ID_TOKEN_LIFETIME_S: u64 = 3600;
const USERINFO: gate::Endpoint = endpoint("oauth.userinfo", Provider::Google, Cost::Free);
const CERTS: gate::Endpoint = endpoint("oauth.certs", Provider::OAuth, Cost::Free);
const DISCOVERY: gate::Endpoint = endpoint("oauth.discovery", Provider::OAuth, Cost::Free);

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/.well-known/openid-configuration",
        web::get().to(discovery),
    )
    .route("/oauth2/v3/certs", web::get().to(certs))
    .route("/v1/userinfo", web::get().to(userinfo))
    .route("/oauth2/v3/userinfo", web::get().to(userinfo));
}

/// The key id of generation `n` (stable across sandbox restarts).
pub fn kid(generation: usize) -> String {
    format!("sandbox-signing-{generation}")
}

fn key(generation: usize) -> EncodingKey {
    // The keys are part of the binary and covered by tests: a parse failure is
    // a build defect, not bad input.
    EncodingKey::from_rsa_pem(KEYS[generation % KEYS.len()].as_bytes())
        .expect("the shipped signing key parses")
}

/// The JWKS: the current key and, after a rotation, the previous one.
pub fn jwks(world: &World) -> JwkSet {
    let current = world.google.key_generation;
    let keys = (current.saturating_sub(1)..=current)
        .rev()
        .map(|g| {
            let mut jwk = Jwk::from_encoding_key(&key(g), Algorithm::RS256)
                .expect("an RSA key has public components");
            jwk.common.key_id = Some(kid(g));
            jwk.common.public_key_use = Some(PublicKeyUse::Signature);
            jwk.common.key_algorithm = Some(KeyAlgorithm::RS256);
            jwk
        })
        .collect();
    JwkSet { keys }
}

/// Moves to the next signing key; returns its kid.
pub fn rotate(world: &mut World) -> String {
    world.google.key_generation += 1;
    kid(world.google.key_generation)
}

/// An ID token for `email` (OpenID Connect Core §2), audience the client.
pub fn mint(
    sb: &Sandbox,
    req: &HttpRequest,
    world: &World,
    email: &str,
    nonce: Option<&str>,
) -> Result<String, HttpResponse> {
    let Some(user) = world.google.users.get(email) else {
        return Err(oauth(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "Account not found.",
        ));
    };
    // JWT times are Unix seconds on the (advanceable) wall clock.
    let now = u64::try_from(sb.clock.now_utc().timestamp()).unwrap_or(0);
    let client = &world.google.client_id;
    let mut claims = json!({
        "iss": base_url(req), "azp": client, "aud": client, "sub": user.sub(),
        "email": user.email, "email_verified": true, "name": user.name,
        "given_name": user.given_name(), "family_name": user.family_name(),
        "iat": now, "exp": now + ID_TOKEN_LIFETIME_S,
    });
    if let Some(hd) = &user.hd {
        claims["hd"] = json!(hd);
    }
    if let Some(n) = nonce {
        claims["nonce"] = json!(n);
    }
    let generation = world.google.key_generation;
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid(generation));
    jsonwebtoken::encode(&header, &claims, &key(generation)).map_err(|e| {
        tracing::error!(error = %e, "sandbox could not sign an ID token");
        oauth(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "Signing failed.",
        )
    })
}

/// Google's discovery document, with the sandbox's base URL standing in for
/// accounts.google.com, oauth2.googleapis.com and www.googleapis.com.
async fn discovery(sb: web::Data<Sandbox>, req: HttpRequest) -> HttpResponse {
    gate::serve(&sb, &req, DISCOVERY, |_| async {
        let base = base_url(&req);
        HttpResponse::Ok()
            .insert_header(("Cache-Control", "public, max-age=3600"))
            .json(json!({
                "issuer": base,
                "authorization_endpoint": format!("{base}/o/oauth2/v2/auth"),
                "token_endpoint": format!("{base}/token"),
                "userinfo_endpoint": format!("{base}/v1/userinfo"),
                "revocation_endpoint": format!("{base}/revoke"),
                "jwks_uri": format!("{base}/oauth2/v3/certs"),
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid", "email", "profile"],
                "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
                "claims_supported": ["aud", "email", "email_verified", "exp", "family_name",
                    "given_name", "hd", "iat", "iss", "name", "nonce", "sub"],
                "code_challenge_methods_supported": ["plain", "S256"],
                "grant_types_supported": ["authorization_code", "refresh_token",
                    "urn:ietf:params:oauth:grant-type:jwt-bearer"],
            }))
    })
    .await
}

async fn certs(sb: web::Data<Sandbox>, req: HttpRequest) -> HttpResponse {
    gate::serve(&sb, &req, CERTS, |_| async {
        let set = jwks(&sb.lock_world());
        HttpResponse::Ok()
            // Google's certs are cacheable for hours; a verifier must still
            // refetch when it meets an unknown kid.
            .insert_header(("Cache-Control", "public, max-age=21600"))
            .json(set)
    })
    .await
}

/// OpenID Connect userinfo for the bearer token's account (needs `openid`,
/// `email` or `profile`).
async fn userinfo(sb: web::Data<Sandbox>, req: HttpRequest) -> HttpResponse {
    let shared = sb.clone();
    gate::serve(&sb, &req, USERINFO, |principal| async move {
        let Principal::Google { email } = principal else {
            return crate::sandbox::refusals::unauthorized(Provider::Google, false);
        };
        let world = shared.lock_world();
        let Some(user) = world.google.users.get(&email) else {
            return crate::sandbox::refusals::unauthorized(Provider::Google, true);
        };
        let mut body = json!({"sub": user.sub(), "name": user.name,
            "given_name": user.given_name(), "family_name": user.family_name(),
            "email": user.email, "email_verified": true});
        if let Some(hd) = &user.hd {
            body["hd"] = json!(hd);
        }
        HttpResponse::Ok().json(body)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_key_parses_and_rotation_publishes_the_new_and_the_previous_key() {
        let mut world = World::default();
        assert_eq!(jwks(&world).keys.len(), 1);
        let new_kid = rotate(&mut world);
        let set = jwks(&world);
        let kids: Vec<_> = set
            .keys
            .iter()
            .filter_map(|k| k.common.key_id.clone())
            .collect();
        assert_eq!(kids, vec![new_kid, kid(0)]);
        for g in 0..KEYS.len() {
            let _ = key(g);
        }
    }
}
