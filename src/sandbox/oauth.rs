//! Google's token endpoint (`POST /token`, real host oauth2.googleapis.com):
//! the refresh-token grant only, form-encoded, checked against the fixture's
//! client and grants. Access tokens last 3599 s on the sandbox clock.
//! Also `POST /revoke?token=` as Google has it.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use super::Sandbox;
use super::gate::{self, Cost, endpoint};
use super::respond::{Provider, oauth};
use super::state::{AccessToken, World};

const TOKEN: gate::Endpoint = endpoint("oauth.token", Provider::OAuth, Cost::Free);
const REVOKE: gate::Endpoint = endpoint("oauth.revoke", Provider::OAuth, Cost::Free);
const LIFETIME_S: u64 = 3599;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/token", web::post().to(token))
        .route("/revoke", web::post().to(revoke_route));
}

/// Marks a refresh token revoked, and drops the access tokens it issued.
pub fn revoke(world: &mut World, token: &str) -> bool {
    let Some(grant) = world.google.grants.get_mut(token) else {
        return false;
    };
    grant.revoked = true;
    let email = grant.email.clone();
    world.google.access_tokens.retain(|_, t| t.email != email);
    true
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

async fn token(sb: web::Data<Sandbox>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    gate::serve(&sb, &req, TOKEN, |_| async { refresh(&sb, &req, &body) }).await
}

fn refresh(sb: &Sandbox, req: &HttpRequest, body: &[u8]) -> HttpResponse {
    if !is_form(req) {
        return oauth(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Invalid Content-Type; expected application/x-www-form-urlencoded.",
        );
    }
    let Ok(form) = serde_urlencoded::from_bytes::<HashMap<String, String>>(body) else {
        return oauth(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Malformed form body.",
        );
    };
    let field = |name: &str| form.get(name).map(String::as_str).filter(|v| !v.is_empty());
    let Some(grant_type) = field("grant_type") else {
        return oauth(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Required parameter is missing: grant_type",
        );
    };
    let mut world = sb.lock_world();
    if field("client_id") != Some(world.google.client_id.as_str()) {
        return oauth(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "The OAuth client was not found.",
        );
    }
    if field("client_secret") != Some(world.google.client_secret.as_str()) {
        return oauth(StatusCode::UNAUTHORIZED, "invalid_client", "Unauthorized");
    }
    if grant_type != "refresh_token" {
        return oauth(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            &format!("Invalid grant_type: {grant_type}"),
        );
    }
    let Some(refresh_token) = field("refresh_token") else {
        return oauth(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Required parameter is missing: refresh_token",
        );
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
    let serial = world.serial();
    let access = format!("ya29.sandbox.{serial}.{}", uuid::Uuid::new_v4().simple());
    let expires_at_ms = sb.clock.now_ms() + LIFETIME_S * 1000;
    world.google.access_tokens.insert(
        access.clone(),
        AccessToken {
            email: grant.email,
            scope: grant.scope.clone(),
            expires_at_ms,
        },
    );
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-cache, no-store, max-age=0, must-revalidate"))
        .json(json!({"access_token": access, "expires_in": LIFETIME_S, "scope": grant.scope, "token_type": "Bearer"}))
}

async fn revoke_route(sb: web::Data<Sandbox>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    gate::serve(&sb, &req, REVOKE, |_| async {
        let query = web::Query::<HashMap<String, String>>::from_query(req.query_string()).ok();
        let form = serde_urlencoded::from_bytes::<HashMap<String, String>>(&body).ok();
        let token = query
            .and_then(|q| q.get("token").cloned())
            .or_else(|| form.and_then(|f| f.get("token").cloned()));
        let mut world = sb.lock_world();
        match token {
            Some(t) if revoke(&mut world, &t) => HttpResponse::Ok().finish(),
            Some(t) if world.google.access_tokens.remove(&t).is_some() => {
                HttpResponse::Ok().finish()
            }
            _ => oauth(
                StatusCode::BAD_REQUEST,
                "invalid_token",
                "Token expired or revoked",
            ),
        }
    })
    .await
}
