//! One person's data: `GET /api/contacts/{email}/export` (everything held about
//! them, as JSON) and `DELETE /api/contacts/{email}?reason=` (erase them
//! everywhere, keeping only the hash that keeps them suppressed). Admins only;
//! both are audited under the address's hash, never the address.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, get, web};
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;

use super::{checked_reason, store_error};
use crate::store::erasure::{self, Erased};
use crate::store::{audit, export, suppressions};
use crate::web::auth::Caller;
use crate::web::{ApiError, AppState};

#[derive(Debug, Deserialize, IntoParams)]
pub struct EraseQuery {
    /// Why (recorded in the audit log, with the address cut out).
    reason: String,
}

/// Erases the person everywhere this service holds them; only the address's
/// hash stays, on the suppression list. A repeat answers `"changed": false`.
#[utoipa::path(
    security(("bearer" = ["admin"])),
    params(EraseQuery),
    responses((status = OK, description = "What was erased", body = Erased)),
)]
#[delete("/contacts/{email}")]
pub async fn erase(
    caller: Caller,
    email: web::Path<String>,
    query: web::Query<EraseQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let erased = erase_contact(&state, caller, &email, &query.reason).await?;
    Ok(HttpResponse::Ok().json(erased))
}

/// Erases the person with `email` (idempotent: a repeat finds nothing and
/// changes nothing): the one rule for the admin API and the console.
pub(crate) async fn erase_contact(
    state: &AppState,
    caller: Caller,
    email: &str,
    reason: &str,
) -> Result<Erased, ApiError> {
    caller.require_admin()?;
    let reason = checked_reason(reason)?;
    let email = checked_email(email)?;
    let erased = state
        .store
        .run(move |c| erasure::erase(c, &email, &caller.actor, &reason))
        .await
        .map_err(store_error)?;
    tracing::info!(
        workflows = erased.workflows,
        cancelled = erased.cancelled,
        changed = erased.changed,
        "contact erased"
    );
    Ok(erased)
}

/// Everything held about the person, as JSON: each workflow with its
/// submission, raw event, steps, ledger rows, slot holds, wait and audit trail;
/// experiment assignments; suppression.
#[utoipa::path(
    security(("bearer" = ["admin"])),
    responses((status = OK, description = "Everything held about the person", content_type = "application/json", body = Object)),
)]
#[get("/contacts/{email}/export")]
pub async fn export_contact(
    caller: Caller,
    email: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let email = checked_email(&email)?;
    let document = state
        .store
        .run(move |c| {
            let document = export::export(c, &email)?;
            audit::append(
                c,
                &audit::Entry {
                    actor: &caller.actor,
                    action: "contact.exported",
                    workflow_id: None,
                    reason: None,
                    detail: json!({
                        "email_sha256": suppressions::email_hash(&email),
                        "workflows": document["workflows"].as_array().map_or(0, Vec::len),
                    }),
                },
            )?;
            Ok(document)
        })
        .await
        .map_err(store_error)?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(document))
}

/// The address as stored (trimmed, lower case). Not held to full address syntax:
/// whatever odd address a submission left must still be erasable.
fn checked_email(email: &str) -> Result<String, ApiError> {
    let email = email.trim().to_lowercase();
    if email.is_empty() || email.len() > 320 || !email.contains('@') {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_email",
            "not an email address",
        )
        .with_field("email"));
    }
    Ok(email)
}
