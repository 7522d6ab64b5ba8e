//! Sign in with Google (OpenID Connect, authorization code with PKCE).
//!
//! `POST /signin/google` (the sign-in page's button, with its double-submit CSRF
//! token) stores a fresh state, nonce and PKCE verifier server-side under a
//! random cookie, and sends the browser to Google. `GET /signin/google/callback`
//! takes that attempt (once), checks `state`, exchanges the code, verifies the ID
//! token (signature, issuer, audience, expiry, nonce, the allowed Workspace
//! domains) and opens a console session whose actor is the person's email —
//! when the rules in [`role_for`] let them in.

use actix_web::cookie::{Cookie, SameSite, time};
use actix_web::http::StatusCode;
use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, web};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;

use super::error::ConsoleError;
use super::session;
use super::signin::{client_of, form_csrf_ok, open_session_from, show};
use crate::config::{ConsoleAccessConfig, OthersPolicy};
use crate::connectors::google_oauth::{
    AuthRequest, CallbackParams, IdClaims, IdTokenError, OAuthError, Pending,
};
use crate::store::signin_links::LinkGrant;
use crate::store::{console_users, signin_attempts};
use crate::web::AppState;
use crate::web::auth::Role;

const ATTEMPT_COOKIE: &str = "sa_google";
/// Long enough to pick an account and read a consent page.
const ATTEMPT_MINUTES: i64 = 10;

/// The redirect URI registered at Google: the public URL's
/// `/signin/google/callback`.
pub fn redirect_uri(state: &AppState) -> String {
    format!(
        "{}/signin/google/callback",
        state.config.public_url.as_str().trim_end_matches('/')
    )
}

#[derive(Debug, Deserialize)]
pub struct Start {
    #[serde(default)]
    csrf: String,
}

pub async fn start(
    req: HttpRequest,
    form: web::Form<Start>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    session::check_origin(&req)?;
    let Some(google) = state.google.clone() else {
        return show(&state, StatusCode::NOT_FOUND, Some(NOT_CONFIGURED));
    };
    if !form_csrf_ok(&req, &form.csrf) {
        return show(
            &state,
            StatusCode::FORBIDDEN,
            Some("The form expired. Please try again."),
        );
    }
    let pending = Pending::new();
    let cookie_value = session::random_token();
    let (key, p) = (cookie_value.clone(), pending.clone());
    let expires = crate::store::now() + chrono::TimeDelta::minutes(ATTEMPT_MINUTES);
    state
        .store
        .run(move |c| {
            signin_attempts::insert(
                c,
                &key,
                &p.state,
                &p.nonce,
                p.pkce_verifier.expose_secret(),
                expires,
            )
        })
        .await?;
    let redirect = redirect_uri(&state);
    let mut request = AuthRequest::sign_in(&redirect);
    // With one allowed domain, Google's chooser offers only its accounts; the
    // ID token's hd is still what decides.
    let only_domain = match state.config.console_access.domains.as_slice() {
        [one] => Some(one.as_str()),
        _ => None,
    };
    request.hd = only_domain;
    let url = google.authorization_url(&request, &pending);
    Ok(HttpResponse::SeeOther()
        .cookie(attempt_cookie(&state, cookie_value))
        .insert_header((LOCATION, url.as_str()))
        .finish())
}

/// Binds the attempt to this browser. `Lax`: it must come back on Google's
/// top-level redirect to the callback, a cross-site GET.
fn attempt_cookie(state: &AppState, value: String) -> Cookie<'static> {
    Cookie::build(ATTEMPT_COOKIE, value)
        .path("/signin/google")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.public_url.scheme() == "https")
        .max_age(time::Duration::minutes(ATTEMPT_MINUTES))
        .finish()
}

const NOT_CONFIGURED: &str = "Sign in with Google is not set up on this console.";

pub async fn callback(
    req: HttpRequest,
    params: web::Query<CallbackParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    let Some(google) = state.google.clone() else {
        return show(&state, StatusCode::NOT_FOUND, Some(NOT_CONFIGURED));
    };
    let cookie = req.cookie(ATTEMPT_COOKIE).map(|c| c.value().to_string());
    let attempt = match cookie {
        Some(cookie) if cookie.len() == 64 => {
            state
                .store
                .run(move |c| signin_attempts::take(c, &cookie))
                .await?
        }
        _ => None,
    };
    let Some(attempt) = attempt else {
        return refuse(
            &state,
            StatusCode::BAD_REQUEST,
            "This sign-in was not started in this browser, or took too long. Please start again.",
        );
    };
    let pending = Pending {
        state: attempt.state,
        nonce: attempt.nonce,
        pkce_verifier: SecretString::from(attempt.pkce_verifier),
    };
    let access = state.config.console_access.clone();
    let outcome = match pending.check_callback(&params) {
        Ok(code) => {
            google
                .finish(&code, &redirect_uri(&state), &pending, &access.domains)
                .await
        }
        Err(e) => Err(e),
    };
    let person = match outcome {
        Ok((_, person)) => person,
        Err(e) => return refuse_for(&state, &e),
    };
    let client = client_of(&req);
    let email = person.email.clone();
    let opened = open_session_from(&state, json!({ "via": "google" }), client, move |c| {
        let named = console_users::find(c, &email)?.map(|u| u.role);
        Ok(
            role_for(&access, named.as_deref(), &person).map(|role| LinkGrant {
                role: session::role_name(role).to_string(),
                actor: person.email.clone(),
            }),
        )
    })
    .await?;
    match opened {
        Some(response) => Ok(clear_attempt(&state, response)),
        None => refuse(
            &state,
            StatusCode::FORBIDDEN,
            "Your Google account is not allowed to use this console. Ask an admin to add you.",
        ),
    }
}

/// Who gets in, as what: admins named in the settings, then people named in the
/// console with their role, then other users of an allowed Workspace domain (the
/// ID token's `hd` was checked against the list when verifying) as the
/// `SALES_AGENT_CONSOLE_OTHERS` policy says. Everyone else is refused.
pub fn role_for(
    access: &ConsoleAccessConfig,
    named: Option<&str>,
    person: &IdClaims,
) -> Option<Role> {
    if access.admins.contains(&person.email) {
        return Some(Role::Admin);
    }
    match named {
        Some("admin") => return Some(Role::Admin),
        Some("viewer") => return Some(Role::Viewer),
        _ => {}
    }
    let in_domain = person
        .hosted_domain
        .as_ref()
        .is_some_and(|hd| access.domains.contains(hd));
    match (in_domain, access.others) {
        (true, OthersPolicy::Viewer) => Some(Role::Viewer),
        _ => None,
    }
}

fn refuse_for(state: &AppState, error: &OAuthError) -> Result<HttpResponse, ConsoleError> {
    let (status, text) = match error {
        OAuthError::Denied => (
            StatusCode::FORBIDDEN,
            "Google sign-in was cancelled. You can try again.",
        ),
        OAuthError::IdToken(IdTokenError::WrongDomain) => (
            StatusCode::FORBIDDEN,
            "Your Google account is not in a domain allowed to use this console.",
        ),
        OAuthError::IdToken(IdTokenError::EmailNotVerified) => (
            StatusCode::FORBIDDEN,
            "Your Google account's email address is not verified.",
        ),
        OAuthError::Unavailable(_) | OAuthError::IdToken(IdTokenError::KeysUnavailable(_)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "Google could not be reached. Please try again in a minute.",
        ),
        OAuthError::Misconfigured(_) => (
            StatusCode::BAD_GATEWAY,
            "Sign in with Google is misconfigured; tell your operator.",
        ),
        _ => (
            StatusCode::BAD_REQUEST,
            "This sign-in could not be completed. Please start again.",
        ),
    };
    // The reason, never the code, the token or the address.
    tracing::warn!(reason = %error, "google sign-in refused");
    refuse(state, status, text)
}

fn refuse(state: &AppState, status: StatusCode, text: &str) -> Result<HttpResponse, ConsoleError> {
    let response = show(state, status, Some(text))?;
    Ok(clear_attempt(state, response))
}

fn clear_attempt(state: &AppState, mut response: HttpResponse) -> HttpResponse {
    let mut gone = attempt_cookie(state, String::new());
    gone.make_removal();
    // A cookie that cannot be added only leaves an attempt that is already spent.
    let _ = response.add_cookie(&gone);
    response
}
