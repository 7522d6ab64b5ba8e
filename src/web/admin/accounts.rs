//! Connected accounts in the admin API: each account's status (connected, or
//! needing reconnection since when and why), the operator's path to
//! reconnect a rep's mailbox with a refresh token obtained elsewhere — sealed
//! with the keyring, audited, and the leads waiting for it woken — and to
//! disconnect one (revoked at Google, then deleted; the console's *Disconnect
//! Google* goes through the same function).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, get, put, web};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{checked_reason, store_error};
use crate::accounts::AccountsError;
use crate::accounts::google::{DisconnectError, Disconnected};
use crate::connectors::google_revoke::GoogleRevocation;
use crate::store::grants;
use crate::web::auth::Caller;
use crate::web::error::ErrorBody;
use crate::web::{ApiError, AppState};

/// Each connected account: connected, or since when and why not.
#[derive(Serialize, ToSchema)]
pub struct Accounts {
    accounts: Vec<grants::StatusRow>,
}

#[utoipa::path(security(("bearer" = ["viewer"])), responses((status = OK, body = Accounts)))]
#[get("/accounts")]
pub async fn list(_caller: Caller, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let rows = state
        .store
        .run(grants::list_status)
        .await
        .map_err(store_error)?;
    Ok(HttpResponse::Ok().json(Accounts { accounts: rows }))
}

#[derive(Deserialize, ToSchema)]
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

/// A mailbox reconnected, and how many waiting leads were woken.
#[derive(Serialize, ToSchema)]
pub struct Reconnected {
    /// Always `google`.
    provider: &'static str,
    account: String,
    connected: bool,
    woken: usize,
}

/// `PUT /api/accounts/google/{email}`: stores a new grant for a rep's mailbox.
#[utoipa::path(
    security(("bearer" = ["admin"])),
    responses(
        (status = OK, body = Reconnected),
        (status = CONFLICT, description = "No `SALES_AGENT_SECRET_KEY` to seal the grant with", body = ErrorBody),
    ),
)]
#[put("/accounts/google/{email}")]
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
        Ok(done) => Ok(HttpResponse::Ok().json(Reconnected {
            provider: "google",
            account: email,
            connected: true,
            woken: done.woken.len(),
        })),
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

#[derive(Debug, Deserialize, IntoParams)]
pub struct Why {
    /// Why (recorded in the audit log).
    #[serde(default)]
    reason: String,
}

#[derive(Serialize, ToSchema)]
pub struct Disconnection {
    /// Always `google`.
    provider: &'static str,
    account: String,
    /// Always false.
    connected: bool,
    /// `revoked`, or `already_invalid` when Google no longer knew the grant.
    at_google: &'static str,
}

/// `DELETE /api/accounts/google/{email}?reason=`: revokes a mailbox's grant at
/// Google and deletes it; the account then reads as not connected.
#[utoipa::path(
    security(("bearer" = ["admin"])),
    params(Why),
    responses(
        (status = OK, body = Disconnection),
        (status = CONFLICT, description = "No `SALES_AGENT_SECRET_KEY`, or a new grant was stored meanwhile", body = ErrorBody),
        (status = BAD_GATEWAY, description = "Google did not confirm the revocation: nothing was changed", body = ErrorBody),
    ),
)]
#[delete("/accounts/google/{email}")]
pub async fn delete_google(
    caller: Caller,
    email: web::Path<String>,
    query: web::Query<Why>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let done = disconnect_google(&state, caller, &email, &query.reason).await?;
    Ok(HttpResponse::Ok().json(Disconnection {
        provider: "google",
        account: email.trim().to_lowercase(),
        connected: false,
        at_google: done.at_google.as_str(),
    }))
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
