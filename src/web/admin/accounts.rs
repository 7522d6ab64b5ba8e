//! Connected accounts in the admin API: each account's status (connected, or
//! needing reconnection since when and why), and the operator's path to
//! reconnect a rep's mailbox with a refresh token obtained elsewhere — sealed
//! with the keyring, audited, and the leads waiting for it woken.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, put, web};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{checked_reason, store_error};
use crate::accounts::AccountsError;
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
    let email = email.into_inner().trim().to_lowercase();
    if !email_address::EmailAddress::is_valid(&email) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_account",
            "the account is a mailbox address",
        )
        .with_field("email"));
    }
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
