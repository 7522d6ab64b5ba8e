//! Operating controls of the admin API: draft-only mode, the suppression list and
//! the audit trail.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use diesel::Connection;
use serde::Deserialize;
use serde_json::json;

use super::{checked_reason, page_size, store_error};
use crate::store::{StoreError, audit, settings, suppressions};
use crate::web::auth::Caller;
use crate::web::{ApiError, AppState};

pub async fn get_mode(
    _caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let draft_only = state
        .store
        .run(settings::draft_only)
        .await
        .map_err(store_error)?;
    Ok(HttpResponse::Ok().json(json!({ "draft_only": draft_only })))
}

#[derive(Debug, Deserialize)]
pub struct ModeChange {
    draft_only: bool,
    reason: String,
}

pub async fn set_mode(
    caller: Caller,
    body: web::Json<ModeChange>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    change_mode(&state, caller, body.draft_only, &body.reason).await?;
    Ok(HttpResponse::Ok().json(json!({ "draft_only": body.draft_only })))
}

/// Switches draft-only mode with its audit entry, in one transaction: the one
/// rule for the admin API and the console.
pub(crate) async fn change_mode(
    state: &AppState,
    caller: Caller,
    draft_only: bool,
    reason: &str,
) -> Result<(), ApiError> {
    caller.require_admin()?;
    let reason = checked_reason(reason)?;
    state
        .store
        .run(move |conn| {
            conn.transaction(|c| {
                let before = settings::draft_only(c)?;
                settings::set_draft_only(c, draft_only, &caller.actor)?;
                audit::append(
                    c,
                    &audit::Entry {
                        actor: &caller.actor,
                        action: "mode.set",
                        workflow_id: None,
                        reason: Some(&reason),
                        detail: json!({ "draft_only": { "from": before, "to": draft_only } }),
                    },
                )
            })
        })
        .await
        .map_err(store_error)
}

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    after: Option<String>,
    limit: Option<i64>,
}

pub async fn list_suppressions(
    _caller: Caller,
    query: web::Query<PageQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let limit = page_size(query.limit)?;
    let after = query.after.clone();
    let rows = state
        .store
        .run(move |c| suppressions::list(c, after.as_deref(), limit))
        .await
        .map_err(store_error)?;
    Ok(HttpResponse::Ok().json(json!({ "suppressions": rows })))
}

#[derive(Debug, Deserialize)]
pub struct NewSuppression {
    email: String,
    reason: String,
}

pub async fn add_suppression(
    caller: Caller,
    body: web::Json<NewSuppression>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (email, added) = suppress(&state, caller, &body.email, &body.reason).await?;
    let status = if added {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(HttpResponse::build(status).json(json!({ "email": email, "added": added })))
}

/// Adds an address to the suppression list; returns it normalised and whether it
/// was new. The one rule for the admin API and the console.
pub(crate) async fn suppress(
    state: &AppState,
    caller: Caller,
    email: &str,
    reason: &str,
) -> Result<(String, bool), ApiError> {
    caller.require_admin()?;
    let reason = checked_reason(reason)?;
    let email = email.trim().to_lowercase();
    if !email_address::EmailAddress::is_valid(&email) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_email",
            "not an email address",
        )
        .with_field("email"));
    }
    let added = change_suppression(state, caller, reason, email.clone(), true).await?;
    Ok((email, added))
}

#[derive(Debug, Deserialize)]
pub struct RemovalQuery {
    reason: String,
}

pub async fn remove_suppression(
    caller: Caller,
    email: web::Path<String>,
    query: web::Query<RemovalQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    unsuppress(&state, caller, &email, &query.reason).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Removes an address from the suppression list (404 when it was not on it): the
/// one rule for the admin API and the console.
pub(crate) async fn unsuppress(
    state: &AppState,
    caller: Caller,
    email: &str,
    reason: &str,
) -> Result<(), ApiError> {
    caller.require_admin()?;
    let reason = checked_reason(reason)?;
    let email = email.trim().to_lowercase();
    if !change_suppression(state, caller, reason, email, false).await? {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "address is not suppressed",
        ));
    }
    Ok(())
}

/// Adds or removes an address with its audit entry in one transaction; returns
/// whether anything changed. The audit entry never holds the address itself.
async fn change_suppression(
    state: &AppState,
    caller: Caller,
    reason: String,
    email: String,
    add: bool,
) -> Result<bool, ApiError> {
    state
        .store
        .run(move |conn| {
            conn.transaction(|c| {
                let changed = if add {
                    suppressions::insert(c, &email, "manual", "admin", &caller.actor)?
                } else {
                    suppressions::delete(c, &email)?
                };
                if changed {
                    audit::append(
                        c,
                        &audit::Entry {
                            actor: &caller.actor,
                            action: if add {
                                "suppression.added"
                            } else {
                                "suppression.removed"
                            },
                            workflow_id: None,
                            reason: Some(&reason),
                            detail: json!({ "source": "admin" }),
                        },
                    )?;
                }
                Ok::<_, StoreError>(changed)
            })
        })
        .await
        .map_err(store_error)
}

#[derive(Debug, Deserialize)]
pub struct AuditQuery {
    workflow_id: Option<String>,
    before: Option<i64>,
    limit: Option<i64>,
}

pub async fn audit_trail(
    _caller: Caller,
    query: web::Query<AuditQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let limit = page_size(query.limit)?;
    let (workflow_id, before) = (query.workflow_id.clone(), query.before);
    let rows = state
        .store
        .run(move |c| audit::list_recent(c, workflow_id.as_deref(), before, limit))
        .await
        .map_err(store_error)?;
    let entries: Vec<_> = rows
        .iter()
        .map(|a| {
            json!({"id": a.id, "at": a.at.and_utc(), "actor": a.actor, "action": a.action, "workflow_id": a.workflow_id,
                   "reason": a.reason, "detail": serde_json::from_str::<serde_json::Value>(&a.detail).unwrap_or_default()})
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "entries": entries })))
}
