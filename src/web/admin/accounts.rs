//! Connected accounts in the admin API: each account's status (connected, or
//! needing reconnection since when and why), the operator's path to
//! reconnect a rep's mailbox with a refresh token obtained elsewhere — sealed
//! with the keyring, audited, and the leads waiting for it woken — and to
//! disconnect one (revoked at Google, then deleted; the console's *Disconnect
//! Google* goes through the same function).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::json;

use super::{checked_reason, store_error};
use crate::accounts::AccountsError;
use crate::accounts::google::{DisconnectError, Disconnected};
use crate::connectors::google_revoke::GoogleRevocation;
use crate::store::grants;
use crate::web::auth::Caller;
use crate::web::{ApiError, AppState};

pub async fn list(_caller: Caller, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let rows = state
        .store
        .run(grants::list_status)
        .await
        .map_err(store_error)?;
    Ok(HttpResponse::Ok().json(json!({ "accounts": rows })))
}

#[derive(Deserialize)]
pub struct Grant {
    #[serde(default)]
    refresh_token: String,
    #[serde(default)]
    reason: String,
}

impl std::fmt::Debug for Grant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Grant { refresh_token: [redacted], .. }")
    }
}

/// `PUT /api/accounts/google/{email}`: stores a new grant for a rep's mailbox.
pub async fn put_google(
    caller: Caller,
    email: web::Path<String>,
    body: web::Json<Grant>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let reason = checked_reason(&body.reason)?;
    let email = checked_account(&email)?;
    let token = body.refresh_token.trim();
    if token.is_empty() || token.len() > 4096 || token.chars().any(char::is_whitespace) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "refresh_token must be the provider's refresh token",
        )
        .with_field("refresh_token"));
    }
    let token = SecretString::from(token.to_string());
    match state
        .accounts
        .reconnect(&email, token, &caller.actor, &reason)
        .await
    {
        Ok(done) => Ok(HttpResponse::Ok().json(json!({
            "provider": "google", "account": email, "connected": true, "woken": done.woken.len()
        }))),
        Err(AccountsError::NoKeyToSeal) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "no_secret_key",
            AccountsError::NoKeyToSeal.to_string(),
        )),
        Err(AccountsError::Store(e)) => Err(store_error(e)),
        Err(other) => {
            tracing::error!(error = %other, "a grant could not be stored");
            Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "the grant could not be stored",
            ))
        }
    }
}

/// The account in the path: a mailbox address, lower-cased.
fn checked_account(email: &str) -> Result<String, ApiError> {
    let email = email.trim().to_lowercase();
    if !email_address::EmailAddress::is_valid(&email) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_account",
            "the account is a mailbox address",
        )
        .with_field("email"));
    }
    Ok(email)
}

#[derive(Debug, Deserialize)]
pub struct Why {
    #[serde(default)]
    reason: String,
}

/// `DELETE /api/accounts/google/{email}?reason=`: revokes a mailbox's grant at
/// Google and deletes it; the account then reads as not connected.
pub async fn delete_google(
    caller: Caller,
    email: web::Path<String>,
    query: web::Query<Why>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let done = disconnect_google(&state, caller, &email, &query.reason).await?;
    Ok(HttpResponse::Ok().json(json!({
        "provider": "google",
        "account": email.trim().to_lowercase(),
        "connected": false,
        "at_google": done.at_google.as_str(),
    })))
}

/// Disconnects a rep's mailbox (admins only, with a reason): the one rule for
/// the admin API and the console.
pub(crate) async fn disconnect_google(
    state: &AppState,
    caller: Caller,
    email: &str,
    reason: &str,
) -> Result<Disconnected, ApiError> {
    caller.require_admin()?;
    let reason = checked_reason(reason)?;
    let email = checked_account(email)?;
    let google = GoogleRevocation::from_config(&state.config.connectors);
    let refused =
        |status, code, error: DisconnectError| Err(ApiError::new(status, code, error.to_string()));
    match state
        .accounts
        .disconnect(&google, &email, &caller.actor, &reason)
        .await
    {
        Ok(done) => Ok(done),
        Err(e @ DisconnectError::NotConnected) => {
            refused(StatusCode::NOT_FOUND, "not_connected", e)
        }
        Err(e @ DisconnectError::NoKey) => refused(StatusCode::CONFLICT, "no_secret_key", e),
        Err(e @ DisconnectError::Replaced) => refused(StatusCode::CONFLICT, "grant_replaced", e),
        Err(e @ DisconnectError::NotRevoked(_)) => {
            refused(StatusCode::BAD_GATEWAY, "revocation_failed", e)
        }
        Err(DisconnectError::Accounts(AccountsError::Store(e))) => Err(store_error(e)),
        Err(other) => {
            tracing::error!(error = %other, "a grant could not be disconnected");
            Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "the grant could not be disconnected",
            ))
        }
    }
}
