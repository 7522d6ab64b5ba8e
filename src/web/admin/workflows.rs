//! Workflow routes of the admin API: list, detail, retry, cancel.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::{Reason, checked_reason, page_size, store_error};
use crate::actors::supervisor::WorkflowAccepted;
use crate::domain::StaleReason;
use crate::store::admin_queries::{self, Request, TransitionError, WorkflowFilter};
use crate::store::workflows::{self, WorkflowRow, WorkflowStatus};
use crate::store::{audit, draft_watches, pilot_writes, step_runs};
use crate::web::auth::Caller;
use crate::web::error::ErrorBody;
use crate::web::{ApiError, AppState};

#[derive(Debug, Deserialize, IntoParams)]
pub struct ListQuery {
    /// `pending`, `running`, `retry_wait`, `waiting`, `completed`, `skipped`,
    /// `dead_lettered` or `cancelled`.
    status: Option<String>,
    /// The prospect's address (any case).
    email: Option<String>,
    /// Created at or after: RFC 3339, or a date (midnight UTC).
    from: Option<String>,
    /// Created before: RFC 3339, or a date (midnight UTC).
    to: Option<String>,
    /// Page size, 1–500 (default 50).
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// One workflow in a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Summary {
    id: String,
    email: String,
    status: String,
    current_step: Option<String>,
    attempts: i32,
    last_error: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
}

impl From<&WorkflowRow> for Summary {
    fn from(row: &WorkflowRow) -> Self {
        Summary {
            id: row.id.clone(),
            email: row.email.clone(),
            status: row.status.clone(),
            current_step: row.current_step.clone(),
            attempts: row.attempts,
            last_error: row.last_error.clone(),
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
            finished_at: row.finished_at.map(|t| t.and_utc()),
        }
    }
}

#[utoipa::path(
    security(("bearer" = ["viewer"])),
    params(ListQuery),
    responses((status = OK, description = "Newest first", body = Page)),
)]
#[get("/workflows")]
pub async fn list(
    _caller: Caller,
    query: web::Query<ListQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let status = match query.status.as_deref() {
        None => None,
        Some(raw) => Some(WorkflowStatus::parse(raw).ok_or_else(|| {
            let known: Vec<&str> = WorkflowStatus::ALL.iter().map(|s| s.as_str()).collect();
            bad_request("status", format!("expected one of {}", known.join(", ")))
        })?),
    };
    let limit = page_size(query.limit)?;
    let filter = WorkflowFilter {
        status,
        email: query.email.clone(),
        created_from: query
            .from
            .as_deref()
            .map(|raw| parse_time("from", raw))
            .transpose()?,
        created_to: query
            .to
            .as_deref()
            .map(|raw| parse_time("to", raw))
            .transpose()?,
        before: query.cursor.as_deref().map(decode_cursor).transpose()?,
        limit,
        ..WorkflowFilter::default()
    };
    let rows = state
        .store
        .run(move |c| admin_queries::list_workflows(c, &filter))
        .await
        .map_err(store_error)?;
    let next_cursor = (rows.len() as i64 == limit)
        .then(|| rows.last().map(encode_cursor))
        .flatten();
    // Serialised straight from the rows, without an intermediate JSON tree.
    Ok(HttpResponse::Ok().json(Page {
        workflows: rows.iter().map(Summary::from).collect(),
        next_cursor,
    }))
}

/// One page of the workflow list and the cursor of the next.
#[derive(Serialize, ToSchema)]
pub struct Page {
    workflows: Vec<Summary>,
    next_cursor: Option<String>,
}

/// A workflow with its submission, every step run and its audit trail.
#[derive(Serialize, ToSchema)]
pub struct Detail {
    workflow: Summary,
    /// The submission as received (its text is the prospect's, untrusted).
    submission: Value,
    steps: Vec<StepView>,
    /// Whether the workflow ran in pilot mode (it wrote nothing outside).
    pilot: bool,
    /// In pilot mode, each write it would have made, in the steps' order.
    pilot_writes: Vec<PilotWrite>,
    audit: Vec<TrailEntry>,
    /// The draft left for the rep went stale before it was sent (the prospect
    /// replied or booked a meeting): it will never be sent.
    stale: bool,
    stale_reason: Option<StaleReason>,
    stale_at: Option<DateTime<Utc>>,
}

/// A write a pilot run recorded instead of making.
#[derive(Serialize, ToSchema)]
pub struct PilotWrite {
    step: String,
    /// The connector operation, e.g. `hubspot.notes.create`.
    endpoint: String,
    method: String,
    /// The path with its query, as the provider would have received it.
    path: String,
    /// The JSON body, when the request has one.
    body: Option<Value>,
    /// A Gmail draft's MIME message, as it would have been sent.
    message: Option<String>,
    planned_at: DateTime<Utc>,
}

/// One step's committed result.
#[derive(Serialize, ToSchema)]
pub struct StepView {
    step: String,
    /// `ok`, `skipped`, `degraded` or `failed`.
    outcome: String,
    attempts: i32,
    output: Option<Value>,
    error: Option<String>,
    started_at: DateTime<Utc>,
    finished_at: DateTime<Utc>,
    duration_ms: i64,
}

/// One audit entry about the workflow.
#[derive(Serialize, ToSchema)]
pub struct TrailEntry {
    at: DateTime<Utc>,
    actor: String,
    action: String,
    reason: Option<String>,
    detail: Value,
}

#[utoipa::path(
    security(("bearer" = ["viewer"])),
    responses((status = OK, body = Detail)),
)]
#[get("/workflows/{id}")]
pub async fn detail(
    _caller: Caller,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let (row, steps, trail, planned, watch) = state
        .store
        .run(move |c| {
            Ok((
                workflows::find_by_id(c, &id)?,
                step_runs::list_for_workflow(c, &id)?,
                audit::list_for_workflow(c, &id)?,
                pilot_writes::list_for_workflow(c, &id)?,
                draft_watches::find(c, &id)?,
            ))
        })
        .await
        .map_err(store_error)?;
    let row = row.ok_or_else(not_found)?;
    let steps = steps
        .into_iter()
        .map(|s| StepView {
            output: s.output.as_deref().map(parse_json),
            step: s.step,
            outcome: s.outcome,
            attempts: s.attempts,
            error: s.error,
            started_at: s.started_at.and_utc(),
            finished_at: s.finished_at.and_utc(),
            duration_ms: s.duration_ms,
        })
        .collect();
    let audit = trail
        .into_iter()
        .map(|a| TrailEntry {
            detail: parse_json(&a.detail),
            at: a.at.and_utc(),
            actor: a.actor,
            action: a.action,
            reason: a.reason,
        })
        .collect();
    let stale_reason = watch.as_ref().and_then(|w| w.stale());
    // What a pilot run would have written, in place of writing it.
    let pilot_writes: Vec<PilotWrite> = planned
        .into_iter()
        .map(|w| PilotWrite {
            body: w.body.as_deref().map(parse_json),
            planned_at: w.planned_at.and_utc(),
            step: w.step,
            endpoint: w.endpoint,
            method: w.method,
            path: w.path,
            message: w.message,
        })
        .collect();
    Ok(HttpResponse::Ok().json(Detail {
        workflow: Summary::from(&row),
        submission: parse_json(&row.submission),
        steps,
        pilot: !pilot_writes.is_empty(),
        pilot_writes,
        audit,
        stale: stale_reason.is_some(),
        stale_reason,
        stale_at: stale_reason
            .and(watch.and_then(|w| w.stale_at))
            .map(|t| t.and_utc()),
    }))
}

/// A workflow after a retry or cancel, and its new status.
#[derive(Serialize, ToSchema)]
pub struct Transitioned {
    workflow_id: String,
    /// `pending` after a retry, `cancelled` after a cancel.
    status: &'static str,
}

/// Resumes a dead-lettered workflow from its failed step.
#[utoipa::path(
    security(("bearer" = ["admin"])),
    responses(
        (status = OK, body = Transitioned),
        (status = CONFLICT, description = "The workflow is not dead-lettered", body = ErrorBody),
    ),
)]
#[post("/workflows/{id}/retry")]
pub async fn retry(
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<Reason>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = retry_workflow(&state, caller, id.into_inner(), &body.reason).await?;
    Ok(HttpResponse::Ok().json(Transitioned {
        workflow_id: id,
        status: WorkflowStatus::Pending.as_str(),
    }))
}

/// Stops an unfinished workflow for good.
#[utoipa::path(
    security(("bearer" = ["admin"])),
    responses(
        (status = OK, body = Transitioned),
        (status = CONFLICT, description = "The workflow has finished", body = ErrorBody),
    ),
)]
#[post("/workflows/{id}/cancel")]
pub async fn cancel(
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<Reason>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = cancel_workflow(&state, caller, id.into_inner(), &body.reason).await?;
    Ok(HttpResponse::Ok().json(Transitioned {
        workflow_id: id,
        status: WorkflowStatus::Cancelled.as_str(),
    }))
}

/// Makes a dead-lettered workflow runnable again and wakes the supervisor: the
/// one rule for the admin API and the console.
pub(crate) async fn retry_workflow(
    state: &AppState,
    caller: Caller,
    id: String,
    reason: &str,
) -> Result<String, ApiError> {
    let id = transition(caller, id, reason, state, admin_queries::retry).await?;
    state.accepted.do_send(WorkflowAccepted(id.clone()));
    Ok(id)
}

/// Stops an unfinished workflow for good: the one rule for the admin API and the console.
pub(crate) async fn cancel_workflow(
    state: &AppState,
    caller: Caller,
    id: String,
    reason: &str,
) -> Result<String, ApiError> {
    transition(caller, id, reason, state, admin_queries::cancel).await
}

type Transition = fn(&mut crate::store::DbConn, &Request<'_>) -> Result<(), TransitionError>;

async fn transition(
    caller: Caller,
    id: String,
    reason: &str,
    state: &AppState,
    change: Transition,
) -> Result<String, ApiError> {
    caller.require_admin()?;
    let reason = checked_reason(reason)?;
    let workflow_id = id.clone();
    let result = state
        .store
        .run_as(move |c| {
            change(
                c,
                &Request {
                    workflow_id: &workflow_id,
                    actor: &caller.actor,
                    reason: &reason,
                },
            )
        })
        .await;
    match result {
        Ok(()) => Ok(id),
        Err(TransitionError::NotFound) => Err(not_found()),
        Err(TransitionError::Conflict(status)) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "invalid_state",
            format!("workflow is {status}"),
        )),
        Err(TransitionError::Store(error)) => Err(store_error(error)),
    }
}

fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such workflow")
}

fn bad_request(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", message).with_field(field)
}

fn parse_json(raw: &str) -> Value {
    serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_string()))
}

/// RFC 3339 or a plain date (midnight UTC).
pub(crate) fn parse_time(field: &str, raw: &str) -> Result<NaiveDateTime, ApiError> {
    if let Ok(at) = DateTime::parse_from_rfc3339(raw) {
        return Ok(at.naive_utc());
    }
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .map(|d| d.and_hms_opt(0, 0, 0).expect("midnight exists"))
        .map_err(|_| bad_request(field, "expected an RFC 3339 time or a YYYY-MM-DD date"))
}

pub(crate) fn encode_cursor(row: &WorkflowRow) -> String {
    B64.encode(format!(
        "{}|{}",
        row.created_at.and_utc().timestamp_micros(),
        row.id
    ))
}

pub(crate) fn decode_cursor(raw: &str) -> Result<(NaiveDateTime, String), ApiError> {
    let invalid = || bad_request("cursor", "not a cursor from this API");
    let text = String::from_utf8(B64.decode(raw).map_err(|_| invalid())?).map_err(|_| invalid())?;
    let (micros, id) = text.split_once('|').ok_or_else(invalid)?;
    let at = DateTime::from_timestamp_micros(micros.parse().map_err(|_| invalid())?)
        .ok_or_else(invalid)?;
    Ok((at.naive_utc(), id.to_string()))
}
