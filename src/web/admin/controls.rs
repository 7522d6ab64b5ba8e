//! Operating controls of the admin API: the mode (pilot, draft-only, send), the
//! suppression list and the audit trail.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, get, post, put, web};
use diesel::Connection;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use super::{checked_reason, page_size, store_error};
use crate::domain::Mode;
use crate::store::{StoreError, audit, settings, suppressions};
use crate::web::auth::Caller;
use crate::web::{ApiError, AppState};

/// The mode in both forms: `mode`, and the old boolean `draft_only` (true unless
/// the mode is send) for clients written before pilot mode.
#[derive(Serialize, ToSchema)]
pub struct ModeBody {
    mode: Mode,
    /// True unless the mode is send: replies wait as drafts (or, in pilot, are
    /// only recorded).
    draft_only: bool,
}

fn mode_body(mode: Mode) -> ModeBody {
    ModeBody {
        mode,
        draft_only: mode.draft_only(),
    }
}

#[utoipa::path(security(("bearer" = ["viewer"])), responses((status = OK, body = ModeBody)))]
#[get("/mode")]
pub async fn get_mode(
    _caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let mode = state.store.run(settings::mode).await.map_err(store_error)?;
    Ok(HttpResponse::Ok().json(mode_body(mode)))
}

/// `{"mode": "pilot" | "draft_only" | "send", "reason"}`, or the old form
/// `{"draft_only": bool, "reason"}`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ModeChange {
    /// `pilot`, `draft_only` or `send`.
    mode: Option<String>,
    /// The form before pilot mode: true for draft-only, false for send.
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

#[utoipa::path(security(("bearer" = ["admin"])), responses((status = OK, body = ModeBody)))]
#[put("/mode")]
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

#[derive(Debug, Deserialize, IntoParams)]
pub struct PageQuery {
    /// The last address of the previous page.
    after: Option<String>,
    /// Page size, 1–500 (default 50).
    limit: Option<i64>,
}

#[utoipa::path(security(("bearer" = ["viewer"])), params(PageQuery), responses((status = OK, body = Suppressions)))]
#[get("/suppressions")]
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
    Ok(HttpResponse::Ok().json(Suppressions { suppressions: rows }))
}

/// A page of the suppression list, in address order.
#[derive(Serialize, ToSchema)]
pub struct Suppressions {
    suppressions: Vec<suppressions::SuppressionRow>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewSuppression {
    email: String,
    reason: String,
}

/// An address as stored (lower case), and whether this call added it.
#[derive(Serialize, ToSchema)]
pub struct Suppressed {
    email: String,
    added: bool,
}

#[utoipa::path(
    security(("bearer" = ["admin"])),
    responses(
        (status = CREATED, description = "Added", body = Suppressed),
        (status = OK, description = "Already on the list", body = Suppressed),
    ),
)]
#[post("/suppressions")]
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
    Ok(HttpResponse::build(status).json(Suppressed { email, added }))
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

#[derive(Debug, Deserialize, IntoParams)]
pub struct RemovalQuery {
    /// Why (recorded in the audit log).
    reason: String,
}

#[utoipa::path(
    security(("bearer" = ["admin"])),
    params(RemovalQuery),
    responses((status = NO_CONTENT, description = "Removed")),
)]
#[delete("/suppressions/{email}")]
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

#[derive(Debug, Deserialize, IntoParams)]
pub struct AuditQuery {
    /// Only the entries about this workflow.
    workflow_id: Option<String>,
    /// Only entries older than this entry id (the last `id` of the previous page).
    before: Option<i64>,
    /// Page size, 1–500 (default 50).
    limit: Option<i64>,
}

/// Entries of the append-only audit log, newest first.
#[derive(Serialize, ToSchema)]
pub struct AuditPage {
    entries: Vec<AuditEntry>,
}

/// Who did what, when and why.
#[derive(Serialize, ToSchema)]
pub struct AuditEntry {
    id: i64,
    at: chrono::DateTime<chrono::Utc>,
    /// `admin` or `viewer`, with the `X-Actor` name (`admin:maria`), or the engine.
    actor: String,
    action: String,
    workflow_id: Option<String>,
    reason: Option<String>,
    detail: serde_json::Value,
}

#[utoipa::path(
    security(("bearer" = ["viewer"])),
    params(AuditQuery),
    responses((status = OK, body = AuditPage)),
)]
#[get("/audit")]
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
    let entries = rows
        .into_iter()
        .map(|a| AuditEntry {
            detail: serde_json::from_str(&a.detail).unwrap_or_default(),
            id: a.id,
            at: a.at.and_utc(),
            actor: a.actor,
            action: a.action,
            workflow_id: a.workflow_id,
            reason: a.reason,
        })
        .collect();
    Ok(HttpResponse::Ok().json(AuditPage { entries }))
}
