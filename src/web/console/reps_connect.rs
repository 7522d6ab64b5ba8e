//! *Connect Google* from a rep's page: an admin (on the rep's behalf) starts
//! Google's consent for the rep's mailbox — authorization code with PKCE,
//! offline access, forced consent so a refresh token comes back, the least
//! scopes the steps call — and the callback stores the grant only when the
//! consenting account is the rep's own mailbox.
//!
//! With a service account (domain-wide delegation) there is no consent: the
//! button checks the rep's delegation again instead.
//!
//! `state` is single use and bound to the console session that started it;
//! the nonce is checked in the verified ID token. The consents in progress are
//! kept in the database (see `GoogleAccounts::begin_consent`): behind several
//! processes, or after a restart, any process finishes the consent.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::error::ConsoleError;
use super::page::see_other;
use super::session::Session;
use crate::accounts::google::Consent;
use crate::connectors::google_oauth::{AuthRequest, CallbackParams, OAuthError, Pending};
use crate::store::reps;
use crate::web::AppState;

/// What the steps call on a rep's behalf (README, "Scopes"): read threads for
/// the conversation context, write drafts and send, read free/busy and write
/// booked events, find and share Drive assets; and who consented (`openid email`).
pub const REP_SCOPES: &[&str] = &[
    "openid",
    "email",
    "https://www.googleapis.com/auth/gmail.readonly",
    "https://www.googleapis.com/auth/gmail.compose",
    "https://www.googleapis.com/auth/calendar.freebusy",
    "https://www.googleapis.com/auth/calendar.events",
    "https://www.googleapis.com/auth/drive",
];

/// Where Google sends the consent back: this service's public URL.
pub fn callback_url(state: &AppState) -> String {
    format!(
        "{}/reps/connect/callback",
        state.config.public_url.as_str().trim_end_matches('/')
    )
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

fn refused(status: StatusCode, message: impl Into<String>) -> ConsoleError {
    ConsoleError::new(status, message)
}

pub async fn start(
    req: HttpRequest,
    session: Session,
    id: web::Path<String>,
    form: web::Form<CsrfForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    session.check_admin_form(&req, &form.csrf)?;
    if state.accounts.delegated() {
        return check_delegation(&state, &session, &id).await;
    }
    let oauth = state.google.clone().ok_or_else(|| {
        refused(
            StatusCode::CONFLICT,
            "no Google OAuth client is configured: set SALES_AGENT_GOOGLE_CLIENT_ID and SALES_AGENT_GOOGLE_CLIENT_SECRET",
        )
    })?;
    if !state.accounts.can_store() {
        return Err(refused(
            StatusCode::CONFLICT,
            "grants are stored sealed only: set SALES_AGENT_SECRET_KEY first",
        ));
    }
    let id = id.into_inner();
    let probe = id.clone();
    let rep = state
        .store
        .run(move |c| reps::find_by_id(c, &probe))
        .await?
        .ok_or_else(|| refused(StatusCode::NOT_FOUND, "no such rep"))?;
    let pending = Pending::new();
    let redirect = callback_url(&state);
    let url = oauth.authorization_url(
        &AuthRequest {
            redirect_uri: &redirect,
            scopes: REP_SCOPES,
            offline: true,
            prompt: Some("consent"),
            login_hint: Some(&rep.email),
            hd: None,
        },
        &pending,
    );
    state
        .accounts
        .begin_consent(Consent::new(pending, id, session.csrf.clone()))
        .await
        .map_err(|e| refused(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok(see_other(url.as_str()))
}

/// With a service account there is no consent to give: *Connect Google*
/// asks Google for the rep's token again, after an admin delegated the mailbox.
async fn check_delegation(
    state: &AppState,
    session: &Session,
    id: &str,
) -> Result<HttpResponse, ConsoleError> {
    let probe = id.to_string();
    let rep = state
        .store
        .run(move |c| reps::find_by_id(c, &probe))
        .await?
        .ok_or_else(|| refused(StatusCode::NOT_FOUND, "no such rep"))?;
    state
        .accounts
        .recheck_delegation(&rep.email, &session.actor)
        .await
        .map_err(|e| {
            refused(
                StatusCode::CONFLICT,
                format!(
                    "{e}. In the Google Admin console, delegate the service account's client id with the scopes the README lists, then try again."
                ),
            )
        })?;
    Ok(see_other(&format!("/reps/{}", rep.id)))
}

pub async fn callback(
    session: Session,
    query: web::Query<CallbackParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    session.caller().require_admin()?;
    let params = query.into_inner();
    let taken = match params.state.as_deref() {
        Some(s) => state
            .accounts
            .take_consent(s)
            .await
            .map_err(|e| refused(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?,
        None => None,
    };
    let consent = taken.ok_or_else(|| {
        refused(
            StatusCode::BAD_REQUEST,
            "this consent is unknown, used or expired: start again from the rep's page",
        )
    })?;
    if !consent.started_in(&session.csrf) {
        return Err(refused(
            StatusCode::FORBIDDEN,
            "this consent was started in another console session",
        ));
    }
    let code = consent
        .pending
        .check_callback(&params)
        .map_err(|e| match e {
            OAuthError::Denied => refused(StatusCode::BAD_REQUEST, "the consent was declined"),
            other => refused(StatusCode::BAD_REQUEST, other.to_string()),
        })?;
    let oauth = state
        .google
        .clone()
        .ok_or_else(|| refused(StatusCode::CONFLICT, "no Google OAuth client is configured"))?;
    let (grant, claims) = oauth
        .finish(&code, &callback_url(&state), &consent.pending, &[])
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "a mailbox consent could not be completed");
            refused(
                StatusCode::BAD_GATEWAY,
                format!("Google's answer could not be used: {e}"),
            )
        })?;
    let rep_id = consent.rep_id.clone();
    let rep = state
        .store
        .run(move |c| reps::find_by_id(c, &rep_id))
        .await?
        .ok_or_else(|| refused(StatusCode::NOT_FOUND, "no such rep"))?;
    // Only the rep's own mailbox may be connected for the rep: a grant for any
    // other account would draft and send as someone else.
    if !claims.email.eq_ignore_ascii_case(&rep.email) {
        return Err(refused(
            StatusCode::FORBIDDEN,
            format!(
                "the consent was given by {}, not by {}'s mailbox: nothing was stored",
                claims.email, rep.name
            ),
        ));
    }
    let refresh = grant.refresh_token.ok_or_else(|| {
        refused(
            StatusCode::BAD_GATEWAY,
            "Google returned no refresh token: start again (the consent page must be shown)",
        )
    })?;
    state
        .accounts
        .reconnect(
            &rep.email,
            refresh,
            &session.actor,
            "connected through Google's consent",
        )
        .await
        .map_err(|e| refused(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok(see_other(&format!("/reps/{}", rep.id)))
}
