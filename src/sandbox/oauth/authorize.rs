//! Google's authorization endpoint (`GET /o/oauth2/v2/auth`) and the consent
//! form's answer (`POST /signin/oauth/consent`).
//!
//! An unknown client or a redirect URI not registered for it gets Google's
//! error page and never a redirect (RFC 6749 §4.1.2.1: the URI cannot be
//! trusted). Any other bad parameter is sent back to the (trusted) redirect
//! URI as `error=` with the `state`. A good request shows the chooser and
//! consent screen; Allow redirects with `code`, `scope` and `state`, Deny with
//! `error=access_denied`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use super::model::{AuthCode, AuthRequest, ChallengeMethod, User, known_scope, normalise_scope};
use super::{Form, field, page};
use crate::sandbox::Sandbox;
use crate::sandbox::gate::{self, Cost, endpoint};
use crate::sandbox::respond::Provider;

const AUTHORIZE: gate::Endpoint = endpoint("oauth.authorize", Provider::OAuth, Cost::Free);
const CONSENT: gate::Endpoint = endpoint("oauth.consent", Provider::OAuth, Cost::Free);

/// The name on the consent screen (Google shows the OAuth app's name).
const APP_NAME: &str = "Sales Agent";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/o/oauth2/v2/auth", web::get().to(authorize))
        .route("/signin/oauth/consent", web::post().to(consent));
}

/// `redirect_uri` with `pairs` added to its query (a registered URI may carry one).
pub fn redirect(redirect_uri: &str, pairs: &[(&str, &str)]) -> HttpResponse {
    let mut url = match url::Url::parse(redirect_uri) {
        Ok(u) => u,
        Err(_) => {
            return page::error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "Invalid redirect_uri.",
            );
        }
    };
    url.query_pairs_mut().extend_pairs(pairs);
    HttpResponse::Found()
        .insert_header(("Location", url.to_string()))
        .insert_header(("Cache-Control", "no-store"))
        .finish()
}

fn redirect_error(uri: &str, error: &str, description: &str, state: Option<&str>) -> HttpResponse {
    let mut pairs = vec![("error", error), ("error_description", description)];
    if let Some(s) = state {
        pairs.push(("state", s));
    }
    redirect(uri, &pairs)
}

async fn authorize(sb: web::Data<Sandbox>, req: HttpRequest) -> HttpResponse {
    gate::serve(&sb, &req, AUTHORIZE, |_| async { show(&sb, &req) }).await
}

fn show(sb: &Sandbox, req: &HttpRequest) -> HttpResponse {
    let q = web::Query::<Form>::from_query(req.query_string())
        .map(|q| q.into_inner())
        .unwrap_or_default();
    let mut world = sb.lock_world();
    let google = &world.google;
    match field(&q, "client_id") {
        Some(id) if id == google.client_id => {}
        _ => {
            return page::error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "The OAuth client was not found.",
            );
        }
    }
    let Some(redirect_uri) = field(&q, "redirect_uri") else {
        return page::error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Missing required parameter: redirect_uri",
        );
    };
    if !google.redirect_uris.contains(redirect_uri) {
        return page::error(
            StatusCode::BAD_REQUEST,
            "redirect_uri_mismatch",
            "You can't sign in to this app because it doesn't comply with Google's OAuth 2.0 policy. \
             The redirect URI is not registered for this client.",
        );
    }
    let state = field(&q, "state");
    let fail =
        |error: &str, description: &str| redirect_error(redirect_uri, error, description, state);
    match field(&q, "response_type") {
        None => {
            return fail(
                "invalid_request",
                "Missing required parameter: response_type",
            );
        }
        Some("code") => {}
        Some(_) => {
            return fail(
                "unsupported_response_type",
                "Only response_type=code is supported.",
            );
        }
    }
    let Some(scope) = field(&q, "scope") else {
        return fail("invalid_request", "Missing required parameter: scope");
    };
    if let Some(bad) = scope.split_whitespace().find(|s| !known_scope(s)) {
        return fail(
            "invalid_scope",
            &format!("Some requested scopes were invalid. {{invalid=[{bad}]}}"),
        );
    }
    let offline = match field(&q, "access_type") {
        None | Some("online") => false,
        Some("offline") => true,
        Some(_) => return fail("invalid_request", "Invalid access_type."),
    };
    let challenge = match (
        field(&q, "code_challenge"),
        field(&q, "code_challenge_method"),
    ) {
        (None, None) => None,
        (None, Some(_)) => return fail("invalid_request", "Missing code_challenge."),
        (Some(c), method) => {
            let method = match method {
                None | Some("plain") => ChallengeMethod::Plain,
                Some("S256") => ChallengeMethod::S256,
                Some(_) => return fail("invalid_request", "Invalid code_challenge_method."),
            };
            if !(43..=128).contains(&c.len()) {
                return fail("invalid_request", "Invalid code_challenge.");
            }
            Some((c.to_string(), method))
        }
    };
    let prompt: Vec<&str> = field(&q, "prompt")
        .map(|p| p.split_whitespace().collect())
        .unwrap_or_default();
    if prompt.contains(&"none") {
        // The sandbox keeps no browser session, so nobody is signed in.
        return fail("login_required", "The user is not signed in.");
    }
    let request = AuthRequest {
        client_id: google.client_id.clone(),
        redirect_uri: redirect_uri.to_string(),
        scope: normalise_scope(scope),
        state: state.map(str::to_string),
        nonce: field(&q, "nonce").map(str::to_string),
        challenge,
        offline,
        force_consent: prompt.contains(&"consent"),
        login_hint: field(&q, "login_hint").map(|h| h.to_ascii_lowercase()),
        hd: field(&q, "hd").map(|h| h.to_ascii_lowercase()),
    };
    // `hd` only puts that domain's accounts first; it is a hint, not a check
    // (the client must check the ID token's `hd`).
    let mut users: Vec<&User> = google.users.values().collect();
    users.sort_by_key(|u| request.hd.is_some() && u.hd != request.hd);
    let id = uuid::Uuid::new_v4().simple().to_string();
    let response = page::consent(
        &id,
        APP_NAME,
        &users,
        request.login_hint.as_deref(),
        &request.scope,
    );
    world.google.requests.insert(id, request);
    response
}

async fn consent(sb: web::Data<Sandbox>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    gate::serve(&sb, &req, CONSENT, |_| async {
        let form = serde_urlencoded::from_bytes::<Form>(&body).unwrap_or_default();
        decide(&sb, &form)
    })
    .await
}

fn decide(sb: &Sandbox, form: &Form) -> HttpResponse {
    let mut world = sb.lock_world();
    let Some(request) = field(form, "request").and_then(|id| world.google.requests.remove(id))
    else {
        return page::error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "This sign-in request has expired or was already answered.",
        );
    };
    let state = request.state.as_deref();
    if field(form, "decision") != Some("allow") {
        return redirect_error(
            &request.redirect_uri,
            "access_denied",
            "The user denied access.",
            state,
        );
    }
    let email = field(form, "account")
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    if !world.google.users.contains_key(&email) {
        return page::error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Choose an account to continue.",
        );
    }
    let code = format!("4/0sandbox{}", uuid::Uuid::new_v4().simple());
    let (uri, scope) = (request.redirect_uri.clone(), request.scope.clone());
    let state = request.state.clone();
    world.google.codes.insert(
        code.clone(),
        AuthCode {
            request,
            email,
            issued_at_ms: sb.clock.now_ms(),
            used: false,
            issued: vec![],
        },
    );
    let mut pairs = vec![("code", code.as_str()), ("scope", scope.as_str())];
    if let Some(s) = &state {
        pairs.push(("state", s.as_str()));
    }
    pairs.push(("authuser", "0"));
    pairs.push(("prompt", "consent"));
    redirect(&uri, &pairs)
}
