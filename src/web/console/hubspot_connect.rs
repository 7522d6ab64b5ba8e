//! Connecting HubSpot from `/settings` (admins only, CSRF like every console
//! form): *Install the HubSpot app* sends the admin to HubSpot's install page
//! with a `state` bound to this console session; the callback checks that
//! state against the session, trades the code for tokens and seals the refresh
//! token (see [`crate::accounts::hubspot`]), and the connector uses it at once.
//! Or an admin pastes a private-app token, sealed the same way.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use sha2::Digest;

use super::error::ConsoleError;
use super::page::see_other;
use super::session::{Session, random_token};
use crate::accounts::AccountsError;
use crate::accounts::hubspot::private_app_token;
use crate::connectors::hubspot_auth::HubSpotCredential;
use crate::web::AppState;

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

#[derive(Debug, Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    token: String,
}

#[derive(Debug, Deserialize)]
pub struct Callback {
    #[serde(default)]
    code: String,
    #[serde(default)]
    state: String,
}

fn callback_url(state: &AppState) -> String {
    format!(
        "{}/settings/hubspot/callback",
        state.config.public_url.as_str().trim_end_matches('/')
    )
}

/// `nonce.digest`: the digest binds the nonce to the session's secret token,
/// so a callback carrying another session's (or a forged) state is refused.
fn bound_state(session: &Session, nonce: &str) -> String {
    let digest = sha2::Sha256::digest(format!("hubspot-install:{}:{nonce}", session.token));
    format!("{nonce}.{}", hex::encode(digest))
}

fn failed(error: AccountsError) -> ConsoleError {
    tracing::warn!(%error, "HubSpot connection not stored");
    ConsoleError::new(StatusCode::BAD_REQUEST, error.to_string())
}

pub async fn connect(
    req: HttpRequest,
    session: Session,
    form: web::Form<CsrfForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    session.check_admin_form(&req, &form.csrf)?;
    let bound = bound_state(&session, &random_token());
    let Some(url) = state.hubspot.install_url(&callback_url(&state), &bound) else {
        return Err(ConsoleError::new(
            StatusCode::CONFLICT,
            "set SALES_AGENT_HUBSPOT_CLIENT_ID and SALES_AGENT_HUBSPOT_CLIENT_SECRET to install the app",
        ));
    };
    Ok(see_other(&url))
}

pub async fn callback(
    session: Session,
    query: web::Query<Callback>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    if !session.is_admin() {
        return Err(ConsoleError::forbidden("viewers cannot change anything"));
    }
    let nonce = query.state.split('.').next().unwrap_or_default();
    let expected = bound_state(&session, nonce);
    let matches: bool =
        subtle::ConstantTimeEq::ct_eq(expected.as_bytes(), query.state.as_bytes()).into();
    if nonce.is_empty() || !matches || query.code.is_empty() {
        return Err(ConsoleError::forbidden(
            "this HubSpot install was not started from this console session; start it again from Settings",
        ));
    }
    let installed = state
        .hubspot
        .tokens
        .exchange_code(&query.code, &callback_url(&state))
        .await
        .map_err(|e| {
            ConsoleError::new(
                StatusCode::BAD_GATEWAY,
                format!("HubSpot refused the install: {e}"),
            )
        })?;
    let credential = HubSpotCredential::OAuth {
        refresh_token: installed.refresh_token,
        portal_id: installed.portal_id,
    };
    state
        .hubspot
        .save(&state.store, credential)
        .await
        .map_err(failed)?;
    tracing::info!(portal_id = installed.portal_id, actor = %session.actor, "HubSpot app installed");
    Ok(see_other("/settings"))
}

pub async fn set_token(
    req: HttpRequest,
    session: Session,
    form: web::Form<TokenForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    session.check_admin_form(&req, &form.csrf)?;
    let Some(token) = private_app_token(&form.token) else {
        return Err(ConsoleError::new(
            StatusCode::BAD_REQUEST,
            "enter the private app's access token",
        ));
    };
    state
        .hubspot
        .save(&state.store, HubSpotCredential::PrivateApp(token))
        .await
        .map_err(failed)?;
    tracing::info!(actor = %session.actor, "HubSpot private-app token replaced");
    Ok(see_other("/settings"))
}

/// What `/settings` shows about the connection.
pub async fn status(state: &AppState) -> minijinja::Value {
    use crate::accounts::hubspot::Connection;
    let (kind, portal) = match state.hubspot.connection(&state.store).await {
        Ok(Connection::Portal(p)) => ("app", Some(p)),
        Ok(Connection::PrivateApp) => ("private_app", None),
        Ok(Connection::Environment) | Err(_) => ("environment", None),
    };
    minijinja::context! { kind, portal, can_install => state.hubspot.can_install() }
}
