//! HubSpot's app-install page (`GET /oauth/authorize`, real host
//! app.hubspot.com): the app's `client_id`, a registered `redirect_uri`, the
//! `scope` list (each must be one the app is configured for), `optional_scope`
//! and `state`. The person picks the portal (account) and presses Connect app;
//! HubSpot redirects with `code` (and `state`). A bad client, redirect or
//! scope list gets HubSpot's error page, never a redirect.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use html_escape::{encode_double_quoted_attribute as attr, encode_text as text};

use super::oauth_model::{Code, Install, InstallRequest};
use crate::sandbox::Sandbox;
use crate::sandbox::gate::{self, Cost, endpoint};
use crate::sandbox::oauth::page;
use crate::sandbox::oauth::{Form, field};
use crate::sandbox::respond::Provider;

const AUTHORIZE: gate::Endpoint = endpoint("hubspot.oauth.authorize", Provider::OAuth, Cost::Free);
const INSTALL: gate::Endpoint = endpoint("hubspot.oauth.install", Provider::OAuth, Cost::Free);

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/oauth/authorize", web::get().to(authorize))
        .route("/oauth/authorize/connect", web::post().to(connect));
}

fn scopes(s: Option<&str>) -> Vec<String> {
    // HubSpot accepts scopes separated by spaces (encoded as %20 or +).
    s.unwrap_or_default()
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

async fn authorize(sb: web::Data<Sandbox>, req: HttpRequest) -> HttpResponse {
    gate::serve(&sb, &req, AUTHORIZE, |_| async { show(&sb, &req) }).await
}

fn show(sb: &Sandbox, req: &HttpRequest) -> HttpResponse {
    let q = web::Query::<Form>::from_query(req.query_string())
        .map(|q| q.into_inner())
        .unwrap_or_default();
    let mut world = sb.lock_world();
    let hs = &world.hubspot;
    let Some(app) =
        field(&q, "client_id").and_then(|id| hs.apps.iter().find(|a| a.client_id == id))
    else {
        return page::error(
            StatusCode::BAD_REQUEST,
            "BAD_CLIENT_ID",
            "Couldn't complete the connection: the app's client ID is invalid.",
        );
    };
    let Some(redirect_uri) =
        field(&q, "redirect_uri").filter(|u| app.redirect_uris.iter().any(|r| r == u))
    else {
        return page::error(
            StatusCode::BAD_REQUEST,
            "BAD_REDIRECT_URI",
            "Couldn't complete the connection: the redirect URL doesn't match the app's settings.",
        );
    };
    let required = scopes(field(&q, "scope"));
    if required.is_empty() || required.iter().any(|s| !app.scopes.contains(s)) {
        return page::error(
            StatusCode::BAD_REQUEST,
            "SCOPE_MISMATCH",
            "Authorization failed because there is a mismatch between the scopes in the install URL and the app's configured scopes.",
        );
    }
    // Optional scopes the app has are granted; others are silently dropped.
    let mut granted = required.clone();
    granted.extend(
        scopes(field(&q, "optional_scope"))
            .into_iter()
            .filter(|s| app.scopes.contains(s) && !required.contains(s)),
    );
    let request = InstallRequest {
        client_id: app.client_id.clone(),
        redirect_uri: redirect_uri.to_string(),
        scopes: granted,
        state: field(&q, "state").map(str::to_string),
    };
    let installer = hs
        .owners
        .first()
        .map(|o| o.email.clone())
        .unwrap_or_default();
    let portal = hs.portal_id;
    let domain = hs.hub_domain.clone();
    let mut list = String::new();
    for s in &request.scopes {
        list.push_str(&format!("<li>{}</li>", text(s)));
    }
    let id = uuid::Uuid::new_v4().simple().to_string();
    let body = format!(
        "<h1>Choose an account</h1><p>Signed in as {}</p>\
<form method=\"post\" action=\"/oauth/authorize/connect\"><input type=\"hidden\" name=\"request\" value=\"{}\">\
<fieldset><legend>HubSpot account</legend><div class=\"choice\">\
<input type=\"radio\" id=\"portal-{portal}\" name=\"portal\" value=\"{portal}\" required>\
<label for=\"portal-{portal}\">{} <small>ID {portal}</small></label></div></fieldset>\
<h2>The app is requesting access to:</h2><ul>{list}</ul>\
<div class=\"actions\"><button type=\"submit\" class=\"primary\" name=\"decision\" value=\"connect\">Connect app</button></div></form>",
        text(&installer),
        attr(&id),
        text(&domain),
    );
    world.hubspot.oauth.requests.insert(id, request);
    page::html(StatusCode::OK, page::frame("Connect app | HubSpot", &body))
}

async fn connect(sb: web::Data<Sandbox>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    gate::serve(&sb, &req, INSTALL, |_| async {
        let form = serde_urlencoded::from_bytes::<Form>(&body).unwrap_or_default();
        install(&sb, &form)
    })
    .await
}

fn install(sb: &Sandbox, form: &Form) -> HttpResponse {
    let mut world = sb.lock_world();
    let Some(request) =
        field(form, "request").and_then(|id| world.hubspot.oauth.requests.remove(id))
    else {
        return page::error(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "This install link has expired or was already used.",
        );
    };
    let hs = &world.hubspot;
    if field(form, "portal").and_then(|p| p.parse::<u64>().ok()) != Some(hs.portal_id) {
        return page::error(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "Choose an account to connect.",
        );
    }
    let Some(app) = hs.apps.iter().find(|a| a.client_id == request.client_id) else {
        return page::error(StatusCode::BAD_REQUEST, "BAD_CLIENT_ID", "Unknown app.");
    };
    let (email, user_id) = hs
        .owners
        .first()
        .map(|o| (o.email.clone(), o.user_id))
        .unwrap_or_default();
    let install = Install {
        app_id: app.app_id,
        client_id: app.client_id.clone(),
        hub_id: hs.portal_id,
        user: email,
        user_id,
        scopes: request.scopes.clone(),
    };
    let code = uuid::Uuid::new_v4().to_string();
    world.hubspot.oauth.codes.insert(
        code.clone(),
        Code {
            install,
            redirect_uri: request.redirect_uri.clone(),
            issued_at_ms: sb.clock.now_ms(),
            used: false,
        },
    );
    let mut pairs = vec![("code", code.as_str())];
    if let Some(s) = &request.state {
        pairs.push(("state", s.as_str()));
    }
    crate::sandbox::oauth::authorize::redirect(&request.redirect_uri, &pairs)
}
