//! Google as an OAuth 2.0 / OpenID Connect provider (RFC 6749, 7636, 7009,
//! OpenID Connect Core and Discovery), under Google's real paths:
//!
//! ```text
//! mod.rs        POST /token (grant dispatch, client auth, refresh), POST /revoke
//! model.rs      the client, accounts, requests, codes, grants, access tokens
//! authorize.rs  GET /o/oauth2/v2/auth, POST /signin/oauth/consent
//! page.rs       the account chooser + consent page, and error pages
//! code.rs       the authorization_code grant with PKCE
//! jwt_bearer.rs the service-account grant (domain-wide delegation)
//! id_token.rs   signing keys, ID tokens, JWKS, discovery, userinfo
//! ```
//!
//! Access tokens last 3599 s on the sandbox clock.

pub mod authorize;
mod code;
pub mod id_token;
mod jwt_bearer;
pub mod model;
pub mod page;

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use serde_json::{Value, json};

use super::Sandbox;
use super::gate::{self, Cost, endpoint};
use super::respond::{Provider, oauth};
use super::state::{AccessToken, World};

const TOKEN: gate::Endpoint = endpoint("oauth.token", Provider::OAuth, Cost::Free);
const REVOKE: gate::Endpoint = endpoint("oauth.revoke", Provider::OAuth, Cost::Free);
pub const LIFETIME_S: u64 = 3599;
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/token", web::post().to(token))
        .route("/revoke", web::post().to(revoke_route));
    authorize::routes(cfg);
    id_token::routes(cfg);
}

/// Revokes a refresh token (or an access token and its grant).
pub fn revoke(world: &mut World, token: &str) -> bool {
    world.google.revoke(token)
}

/// Registers a redirect URI for the Google client (`client_id` `None` or
/// Google's) or a HubSpot app; false for an unknown client id.
pub fn register_redirect_uri(world: &mut World, client_id: Option<&str>, uri: &str) -> bool {
    match client_id {
        None => {}
        Some(id) if id == world.google.client_id => {}
        Some(id) => {
            let Some(app) = world.hubspot.apps.iter_mut().find(|a| a.client_id == id) else {
                return false;
            };
            if !app.redirect_uris.iter().any(|u| u == uri) {
                app.redirect_uris.push(uri.to_string());
            }
            return true;
        }
    }
    world.google.redirect_uris.insert(uri.to_string());
    true
}

/// Every refresh and access token issued by either provider.
pub fn issued_tokens(world: &World) -> Vec<String> {
    let g = &world.google;
    let h = &world.hubspot.oauth;
    g.grants
        .keys()
        .chain(g.access_tokens.keys())
        .chain(h.refresh_tokens.keys())
        .chain(h.access_tokens.keys())
        .cloned()
        .collect()
}

/// The form fields of a token request.
pub type Form = HashMap<String, String>;

pub fn field<'a>(form: &'a Form, name: &str) -> Option<&'a str> {
    form.get(name).map(String::as_str).filter(|v| !v.is_empty())
}

fn is_form(req: &HttpRequest) -> bool {
    req.headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| {
            t.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// The base URL the caller reached the sandbox at: the issuer of its ID tokens
/// and the audience of JWT-bearer assertions (stand-ins for Google's hosts).
pub fn base_url(req: &HttpRequest) -> String {
    let info = req.connection_info();
    format!("{}://{}", info.scheme(), info.host())
}

pub fn missing(name: &str) -> HttpResponse {
    oauth(
        StatusCode::BAD_REQUEST,
        "invalid_request",
        &format!("Required parameter is missing: {name}"),
    )
}

async fn token(sb: web::Data<Sandbox>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    gate::serve(&sb, &req, TOKEN, |_| async { dispatch(&sb, &req, &body) }).await
}

fn dispatch(sb: &Sandbox, req: &HttpRequest, body: &[u8]) -> HttpResponse {
    if !is_form(req) {
        return oauth(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Invalid Content-Type; expected application/x-www-form-urlencoded.",
        );
    }
    let Ok(form) = serde_urlencoded::from_bytes::<Form>(body) else {
        return oauth(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Malformed form body.",
        );
    };
    let Some(grant_type) = field(&form, "grant_type") else {
        return missing("grant_type");
    };
    // The JWT-bearer grant authenticates by the assertion's signature alone.
    if grant_type == JWT_BEARER {
        return jwt_bearer::grant(sb, req, &form);
    }
    let mut world = sb.lock_world();
    if let Err(refused) = client_auth(&world, req, &form) {
        return refused;
    }
    match grant_type {
        "refresh_token" => refresh(sb, req, &mut world, &form),
        "authorization_code" => code::grant(sb, req, &mut world, &form),
        other => oauth(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            &format!("Invalid grant_type: {other}"),
        ),
    }
}

/// `client_secret_post` or `client_secret_basic` (RFC 6749 §2.3.1), as the
/// discovery document advertises.
fn client_auth(world: &World, req: &HttpRequest, form: &Form) -> Result<(), HttpResponse> {
    let basic = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|pair| {
            let (id, secret) = pair.split_once(':')?;
            let decode = |s: &str| {
                url::form_urlencoded::parse(format!("x={s}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
            };
            Some((decode(id)?, decode(secret)?))
        });
    let (id, secret) = match &basic {
        Some((id, secret)) => (Some(id.as_str()), Some(secret.as_str())),
        None => (field(form, "client_id"), field(form, "client_secret")),
    };
    if id != Some(world.google.client_id.as_str()) {
        return Err(oauth(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "The OAuth client was not found.",
        ));
    }
    if secret != Some(world.google.client_secret.as_str()) {
        return Err(oauth(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Unauthorized",
        ));
    }
    Ok(())
}

/// Mints an access token for `email` with `scope`, remembering its grant.
pub fn mint_access(
    sb: &Sandbox,
    world: &mut World,
    email: &str,
    scope: &str,
    grant: Option<String>,
) -> String {
    let serial = world.serial();
    let access = format!("ya29.sandbox.{serial}.{}", uuid::Uuid::new_v4().simple());
    world.google.access_tokens.insert(
        access.clone(),
        AccessToken {
            email: email.to_string(),
            scope: scope.to_string(),
            expires_at_ms: sb.clock.now_ms() + LIFETIME_S * 1000,
            grant,
        },
    );
    access
}

/// A token response with Google's no-store caching headers.
pub fn token_response(body: Value) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((
            "Cache-Control",
            "no-cache, no-store, max-age=0, must-revalidate",
        ))
        .insert_header(("Pragma", "no-cache"))
        .json(body)
}

fn refresh(sb: &Sandbox, req: &HttpRequest, world: &mut World, form: &Form) -> HttpResponse {
    let Some(refresh_token) = field(form, "refresh_token") else {
        return missing("refresh_token");
    };
    let grant = match world.google.grants.get(refresh_token) {
        Some(g) if !g.revoked => g.clone(),
        _ => {
            return oauth(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                "Token has been expired or revoked.",
            );
        }
    };
    let access = mint_access(
        sb,
        world,
        &grant.email,
        &grant.scope,
        Some(refresh_token.to_string()),
    );
    let mut body = json!({"access_token": access, "expires_in": LIFETIME_S,
        "scope": grant.scope, "token_type": "Bearer"});
    if model::has_openid(&grant.scope) {
        match id_token::mint(sb, req, world, &grant.email, None) {
            Ok(jwt) => body["id_token"] = json!(jwt),
            Err(e) => return e,
        }
    }
    token_response(body)
}

async fn revoke_route(sb: web::Data<Sandbox>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    gate::serve(&sb, &req, REVOKE, |_| async {
        let query = web::Query::<Form>::from_query(req.query_string()).ok();
        let form = serde_urlencoded::from_bytes::<Form>(&body).ok();
        let token = query
            .and_then(|q| q.get("token").cloned())
            .or_else(|| form.and_then(|f| f.get("token").cloned()));
        let mut world = sb.lock_world();
        // Google answers `invalid_token` for a token already revoked or
        // expired, not 200 as RFC 7009 §2.2 would.
        let now = sb.clock.now_ms();
        let live = |world: &World, t: &str| {
            world.google.grants.get(t).is_some_and(|g| !g.revoked)
                || world
                    .google
                    .access_tokens
                    .get(t)
                    .is_some_and(|a| a.expires_at_ms > now)
        };
        match token {
            Some(t) if live(&world, &t) && world.google.revoke(&t) => HttpResponse::Ok().finish(),
            _ => oauth(
                StatusCode::BAD_REQUEST,
                "invalid_token",
                "Token expired or revoked",
            ),
        }
    })
    .await
}
