//! HubSpot's OAuth token API (real host api.hubapi.com): `POST /oauth/v1/token`
//! (authorization_code and refresh_token grants, form-encoded with the app's
//! client id and secret), `GET /oauth/v1/access-tokens/{token}` (token info:
//! hub_id, user, scopes, expires_in), `GET` and `DELETE
//! /oauth/v1/refresh-tokens/{token}`. Access tokens last 1800 s on the sandbox
//! clock; refresh tokens do not rotate. Errors in HubSpot's OAuth shape
//! `{"status":"BAD_REFRESH_TOKEN","message":…,"correlationId":…}`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use super::oauth_model::{Access, Install, Refresh};
use crate::sandbox::Sandbox;
use crate::sandbox::gate::{self, Cost, endpoint};
use crate::sandbox::oauth::{Form, field};
use crate::sandbox::respond::{self, Provider};

const TOKEN: gate::Endpoint = endpoint("hubspot.oauth.token", Provider::OAuth, Cost::Free);
const INFO: gate::Endpoint = endpoint("hubspot.oauth.token_info", Provider::OAuth, Cost::Free);
const REFRESH_INFO: gate::Endpoint =
    endpoint("hubspot.oauth.refresh_token", Provider::OAuth, Cost::Free);

/// HubSpot's access tokens live 30 minutes.
pub const ACCESS_LIFETIME_S: u64 = 1800;
/// Codes must be exchanged within a short window.
const CODE_LIFETIME_MS: u64 = 10 * 60 * 1000;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/oauth/v1/token", web::post().to(token))
        .route(
            "/oauth/v1/access-tokens/{token}",
            web::get().to(access_info),
        )
        .route(
            "/oauth/v1/refresh-tokens/{token}",
            web::get().to(refresh_info),
        )
        .route(
            "/oauth/v1/refresh-tokens/{token}",
            web::delete().to(refresh_delete),
        );
}

fn error(status: &str, message: &str) -> HttpResponse {
    HttpResponse::BadRequest().json(json!({"status": status, "message": message,
        "correlationId": uuid::Uuid::new_v4().to_string()}))
}

async fn token(sb: web::Data<Sandbox>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    gate::serve(&sb, &req, TOKEN, |_| async {
        match serde_urlencoded::from_bytes::<Form>(&body) {
            Ok(form) => grant(&sb, &form),
            Err(_) => error("BAD_REQUEST", "invalid form body"),
        }
    })
    .await
}

fn grant(sb: &Sandbox, form: &Form) -> HttpResponse {
    let mut world = sb.lock_world();
    let Some(app) = field(form, "client_id")
        .and_then(|id| world.hubspot.apps.iter().find(|a| a.client_id == id))
        .cloned()
    else {
        return error("BAD_CLIENT_ID", "missing or unknown client id");
    };
    if field(form, "client_secret") != Some(app.client_secret.as_str()) {
        return error("BAD_CLIENT_SECRET", "missing or invalid client secret");
    }
    let now = sb.clock.now_ms();
    let oauth = &mut world.hubspot.oauth;
    let (install, refresh) = match field(form, "grant_type") {
        Some("authorization_code") => {
            let Some(code) = field(form, "code").and_then(|c| oauth.codes.get_mut(c)) else {
                return error("BAD_AUTH_CODE", "missing or invalid auth code");
            };
            if code.used
                || code.install.client_id != app.client_id
                || now.saturating_sub(code.issued_at_ms) > CODE_LIFETIME_MS
            {
                return error("BAD_AUTH_CODE", "missing or invalid auth code");
            }
            if field(form, "redirect_uri") != Some(code.redirect_uri.as_str()) {
                return error(
                    "BAD_REDIRECT_URI",
                    "redirect_uri does not match initial redirect_uri",
                );
            }
            code.used = true;
            let install = code.install.clone();
            let refresh = uuid::Uuid::new_v4().to_string();
            oauth.refresh_tokens.insert(
                refresh.clone(),
                Refresh {
                    install: install.clone(),
                    revoked: false,
                },
            );
            (install, refresh)
        }
        Some("refresh_token") => {
            let token = field(form, "refresh_token").unwrap_or_default();
            match oauth.refresh_tokens.get(token) {
                Some(r) if !r.revoked && r.install.client_id == app.client_id => {
                    (r.install.clone(), token.to_string())
                }
                _ => return error("BAD_REFRESH_TOKEN", "missing or invalid refresh token"),
            }
        }
        _ => return error("BAD_GRANT_TYPE", "unsupported grant type"),
    };
    let access = format!(
        "CKsandbox{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    oauth.access_tokens.insert(
        access.clone(),
        Access {
            install: install.clone(),
            expires_at_ms: now + ACCESS_LIFETIME_S * 1000,
            refresh: refresh.clone(),
        },
    );
    HttpResponse::Ok().json(json!({"token_type": "bearer", "refresh_token": refresh,
        "access_token": access, "expires_in": ACCESS_LIFETIME_S,
        "hub_id": install.hub_id, "scopes": install.scopes}))
}

fn info(install: &Install, hub_domain: &str) -> serde_json::Value {
    json!({"user": install.user, "user_id": install.user_id, "hub_domain": hub_domain,
        "hub_id": install.hub_id, "app_id": install.app_id, "scopes": install.scopes})
}

fn not_found() -> HttpResponse {
    respond::hubspot(
        StatusCode::NOT_FOUND,
        "EXPIRED_AUTHENTICATION",
        "The token is expired or invalid",
        vec![],
    )
}

async fn access_info(
    sb: web::Data<Sandbox>,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    gate::serve(&sb, &req, INFO, |_| async {
        let world = sb.lock_world();
        let now = sb.clock.now_ms();
        match world.hubspot.oauth.access_tokens.get(path.as_str()) {
            Some(a) if a.expires_at_ms > now => {
                let mut body = info(&a.install, &world.hubspot.hub_domain);
                body["token"] = json!(path.as_str());
                body["token_type"] = json!("access");
                body["expires_in"] = json!((a.expires_at_ms - now) / 1000);
                HttpResponse::Ok().json(body)
            }
            _ => not_found(),
        }
    })
    .await
}

async fn refresh_info(
    sb: web::Data<Sandbox>,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    gate::serve(&sb, &req, REFRESH_INFO, |_| async {
        let world = sb.lock_world();
        match world.hubspot.oauth.refresh_tokens.get(path.as_str()) {
            Some(r) if !r.revoked => {
                let mut body = info(&r.install, &world.hubspot.hub_domain);
                body["token"] = json!(path.as_str());
                body["token_type"] = json!("refresh");
                body["client_id"] = json!(r.install.client_id);
                HttpResponse::Ok().json(body)
            }
            _ => not_found(),
        }
    })
    .await
}

/// Deleting the refresh token uninstalls the app's access (HubSpot answers 204).
async fn refresh_delete(
    sb: web::Data<Sandbox>,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    gate::serve(&sb, &req, REFRESH_INFO, |_| async {
        match sb.lock_world().hubspot.oauth.revoke(path.as_str()) {
            true => HttpResponse::NoContent().finish(),
            false => not_found(),
        }
    })
    .await
}
