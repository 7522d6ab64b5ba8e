//! Dead letters grouped by normalised reason (`GET /api/dead-letters`) and the
//! batch retry of one group (`POST /api/dead-letters/retry`). A batch retries
//! each lead as the single retry does — its own transaction and audit entry with
//! the caller and the reason — as the console's batch retry of a filtered list.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{checked_reason, store_error, workflows};
use crate::store::dead_letters;
use crate::web::auth::Caller;
use crate::web::error::ErrorBody;
use crate::web::{ApiError, AppState};

/// At most this many leads are retried by one request; `remaining` says how many
/// of the group are left for the next.
pub const BATCH: usize = 500;

/// The dead letters, grouped by normalised reason, largest group first.
#[derive(Serialize, ToSchema)]
pub struct Groups {
    groups: Vec<Group>,
}

/// Dead letters whose reasons differ only in ids, addresses, numbers, durations
/// and URLs.
#[derive(Serialize, ToSchema)]
pub struct Group {
    reason_group: String,
    count: i64,
    /// When the group's first lead was dead-lettered.
    first_seen: DateTime<Utc>,
    last_seen: DateTime<Utc>,
    sample_workflow_id: String,
}

#[utoipa::path(security(("bearer" = ["viewer"])), responses((status = OK, body = Groups)))]
#[get("/dead-letters")]
pub async fn list(_caller: Caller, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let groups = state
        .store
        .run(dead_letters::groups)
        .await
        .map_err(store_error)?;
    let groups = groups
        .into_iter()
        .map(|g| Group {
            first_seen: g.first_seen.and_utc(),
            last_seen: g.last_seen.and_utc(),
            reason_group: g.reason_group,
            count: g.count,
            sample_workflow_id: g.sample_workflow_id,
        })
        .collect();
    Ok(HttpResponse::Ok().json(Groups { groups }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct GroupRetry {
    /// A `reason_group` as `GET /api/dead-letters` lists it.
    reason_group: String,
    reason: String,
}

/// Retries the dead letters of one group, up to 500, oldest first.
#[utoipa::path(
    security(("bearer" = ["admin"])),
    responses(
        (status = OK, body = Retried),
        (status = NOT_FOUND, description = "No dead letters in that group", body = ErrorBody),
    ),
)]
#[post("/dead-letters/retry")]
pub async fn retry(
    caller: Caller,
    body: web::Json<GroupRetry>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let done = retry_group(&state, caller, &body.reason_group, &body.reason).await?;
    Ok(HttpResponse::Ok().json(done))
}

/// What a group retry did.
#[derive(Debug, Serialize, ToSchema)]
pub struct Retried {
    pub reason_group: String,
    pub retried: Vec<String>,
    /// Leads of the group another change took first (retried or cancelled meanwhile).
    pub skipped: Vec<String>,
    /// Leads of the group past this batch, for the next request.
    pub remaining: usize,
}

/// Retries the dead letters of one group, up to [`BATCH`], oldest first: the one
/// rule for the admin API and the console.
pub(crate) async fn retry_group(
    state: &AppState,
    caller: Caller,
    reason_group: &str,
    reason: &str,
) -> Result<Retried, ApiError> {
    caller.require_admin()?;
    let reason = checked_reason(reason)?;
    let group = reason_group.to_string();
    let (ids, total) = state
        .store
        .run(move |c| dead_letters::ids_in_group(c, &group, BATCH))
        .await
        .map_err(store_error)?;
    if ids.is_empty() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "no dead letters in that group",
        )
        .with_field("reason_group"));
    }
    let mut done = Retried {
        reason_group: reason_group.to_string(),
        retried: Vec::new(),
        skipped: Vec::new(),
        remaining: total - ids.len(),
    };
    for id in ids {
        match workflows::retry_workflow(state, caller.clone(), id.clone(), &reason).await {
            Ok(id) => done.retried.push(id),
            Err(error) if error.status == StatusCode::CONFLICT => done.skipped.push(id),
            Err(error) => return Err(error),
        }
    }
    Ok(done)
}
