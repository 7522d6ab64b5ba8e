//! Operating controls of the admin API: the mode (pilot, draft-only, send), the
//! suppression list and the audit trail.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use diesel::Connection;
use serde::Deserialize;
use serde_json::json;

use super::{checked_reason, page_size, store_error};
use crate::domain::Mode;
use crate::store::{StoreError, audit, settings, suppressions};
use crate::web::auth::Caller;
use crate::web::{ApiError, AppState};

pub async fn get_mode(
    _caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let mode = state.store.run(settings::mode).await.map_err(store_error)?;
    Ok(HttpResponse::Ok().json(mode_body(mode)))
}

/// The mode in both forms: `mode`, and the old boolean `draft_only` (true unless
/// the mode is send) for clients written before pilot mode.
fn mode_body(mode: Mode) -> serde_json::Value {
    json!({ "mode": mode, "draft_only": mode.draft_only() })
}

/// `{"mode": "pilot" | "draft_only" | "send", "reason"}`, or the old form
/// `{"draft_only": bool, "reason"}`.
#[derive(Debug, Deserialize)]
pub struct ModeChange {
    mode: Option<String>,
    draft_only: Option<bool>,
    reason: String,
}

impl ModeChange {
    fn mode(&self) -> Result<Mode, ApiError> {
        let invalid = |message: &str| {
            ApiError::new(StatusCode::BAD_REQUEST, "invalid_mode", message).with_field("mode")
        };
        let named = match self.mode.as_deref() {
            None => None,
            Some(raw) => Some(
                Mode::parse(raw)
                    .ok_or_else(|| invalid("mode must be pilot, draft_only or send"))?,
            ),
        };
        match (named, self.draft_only.map(Mode::from_draft_only)) {
            (Some(mode), None) => Ok(mode),
            (None, Some(old)) => Ok(old),
            // Both forms at once must say the same thing (pilot is draft-only too).
            (Some(mode), Some(_)) if Some(mode.draft_only()) == self.draft_only => Ok(mode),
            (Some(_), Some(_)) => Err(invalid("mode and draft_only disagree")),
            (None, None) => Err(invalid("mode is required")),
        }
    }
}

pub async fn set_mode(
    caller: Caller,
    body: web::Json<ModeChange>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let mode = body.mode()?;
    change_mode(&state, caller, mode, &body.reason).await?;
    Ok(HttpResponse::Ok().json(mode_body(mode)))
}

/// Switches the mode with its audit entry, in one transaction: the one rule for
/// the admin API and the console. Workflows in flight see the new mode at their
/// next write step (`steps::pilot`).
pub(crate) async fn change_mode(
    state: &AppState,
    caller: Caller,
    mode: Mode,
    reason: &str,
) -> Result<(), ApiError> {
    caller.require_admin()?;
    let reason = checked_reason(reason)?;
    state
        .store
        .run(move |conn| {
            conn.transaction(|c| {
                let before = settings::mode(c)?;
                settings::set_mode(c, mode, &caller.actor)?;
                audit::append(
                    c,
                    &audit::Entry {
                        actor: &caller.actor,
                        action: "mode.set",
                        workflow_id: None,
                        reason: Some(&reason),
                        detail: json!({
                            "mode": { "from": before, "to": mode },
                            "draft_only": { "from": before.draft_only(), "to": mode.draft_only() },
                        }),
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
