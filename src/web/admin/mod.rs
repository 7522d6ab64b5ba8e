//! The admin JSON API under `/api/`, behind bearer tokens (see `auth`): viewers
//! read, admins also change. Every change is committed with its audit entry, which
//! records who (`Caller::actor`) and why (the required `reason`).
//!
//! | route | role |
//! |---|---|
//! | `GET /api/workflows?status=&email=&from=&to=&limit=&cursor=` | viewer |
//! | `GET /api/workflows/{id}` | viewer |
//! | `POST /api/workflows/{id}/retry` `{"reason"}` | admin |
//! | `POST /api/workflows/{id}/cancel` `{"reason"}` | admin |
//! | `POST /api/workflows/{id}/approve` `{"reason"}` | admin |
//! | `GET /api/mode` → `{"mode","draft_only"}`, `PUT /api/mode` `{"mode": "pilot"\|"draft_only"\|"send", "reason"}` (old form: `{"draft_only": bool, "reason"}`) | viewer / admin |
//! | `GET /api/dead-letters` (groups by normalised reason: count, first and last seen, a sample) | viewer |
//! | `POST /api/dead-letters/retry` `{"reason_group","reason"}` (up to 500 of the group, each audited) | admin |
//! | `GET /api/suppressions?after=&limit=`, `POST /api/suppressions` `{"email","reason"}`, `DELETE /api/suppressions/{email}?reason=` | viewer / admin |
//! | `GET /api/audit?workflow_id=` | viewer |
//! | `GET /api/voice-profiles`, `GET /api/voice-profiles/{rep_id}`, `GET /api/voice-profiles/export` | viewer |
//! | `PUT /api/voice-profiles/{rep_id}` `{"profile","reason"}`, `DELETE /api/voice-profiles/{rep_id}?reason=` | admin |
//! | `POST /api/voice-profiles/import` `{"format":1,"profiles":[{"rep_id","profile"}],"reason"}` | admin |
//! | `POST /api/voice-profiles/{rep_id}/train` `{"reason","max_threads"?,"dry_run"?}` | admin |
//! | `GET /api/experiments`, `GET /api/experiments/{id}` (results) | viewer |
//! | `GET /api/asset-folders`, `GET /api/assets` | viewer |
//! | `POST /api/asset-folders` `{"folder_id","tags"?,"reason"}`, `DELETE /api/asset-folders/{id}?reason=`, `PUT /api/assets/{id}/tags` `{"tags","reason"}`, `POST /api/assets/sync` | admin |
//! | `POST /api/experiments` `{"name","variants","reason"}`, `POST /api/experiments/{id}/stop` `{"reason"}`, `POST /api/experiments/check-outcomes` | admin |
//! | `GET /api/reps`, `GET /api/reps/{id}` | viewer |
//! | `GET /api/accounts` (each connected account: connected or not, since, why) | viewer |
//! | `PUT /api/accounts/google/{email}` `{"refresh_token","reason"}` (reconnect a mailbox; needs `SALES_AGENT_SECRET_KEY`) | admin |
//! | `POST /api/reps` `{"id","name","email","calendar_id"?,"time_zone","hours"?,"days"?,"hubspot_owner_id"?,"territories"?,"booking_link"?,"reason"}`, `PUT /api/reps/{id}` (the same without `id`), `POST /api/reps/{id}/deactivate` `{"reason"}`, `POST /api/reps/{id}/activate` `{"reason"}` | admin |

pub(crate) mod accounts;
pub(crate) mod approve;
pub(crate) mod assets;
pub(crate) mod controls;
pub(crate) mod dead_letters;
pub(crate) mod experiments;
pub(crate) mod reps;
pub(crate) mod voice_profiles;
pub(crate) mod voice_training;
pub(crate) mod workflows;

use actix_web::http::StatusCode;
use actix_web::web;
use serde::Deserialize;

use super::ApiError;
use crate::store::StoreError;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api")
            .route("/workflows", web::get().to(workflows::list))
            .route("/workflows/{id}", web::get().to(workflows::detail))
            .route("/workflows/{id}/retry", web::post().to(workflows::retry))
            .route("/workflows/{id}/cancel", web::post().to(workflows::cancel))
            .route("/workflows/{id}/approve", web::post().to(approve::approve))
            .route("/mode", web::get().to(controls::get_mode))
            .route("/mode", web::put().to(controls::set_mode))
            .route("/suppressions", web::get().to(controls::list_suppressions))
            .route("/suppressions", web::post().to(controls::add_suppression))
            .route(
                "/suppressions/{email}",
                web::delete().to(controls::remove_suppression),
            )
            .route("/audit", web::get().to(controls::audit_trail))
            .route("/dead-letters", web::get().to(dead_letters::list))
            .route("/dead-letters/retry", web::post().to(dead_letters::retry))
            .route("/voice-profiles", web::get().to(voice_profiles::list))
            .route(
                "/voice-profiles/export",
                web::get().to(voice_profiles::export),
            )
            .route(
                "/voice-profiles/import",
                web::post().to(voice_profiles::import),
            )
            .route(
                "/voice-profiles/{rep_id}",
                web::get().to(voice_profiles::get),
            )
            .route(
                "/voice-profiles/{rep_id}",
                web::put().to(voice_profiles::put),
            )
            .route(
                "/voice-profiles/{rep_id}",
                web::delete().to(voice_profiles::delete),
            )
            .route(
                "/voice-profiles/{rep_id}/train",
                web::post().to(voice_training::train),
            )
            .route("/experiments", web::get().to(experiments::list))
            .route("/experiments", web::post().to(experiments::create))
            .route(
                "/experiments/check-outcomes",
                web::post().to(experiments::check_outcomes),
            )
            .route("/experiments/{id}", web::get().to(experiments::detail))
            .route("/experiments/{id}/stop", web::post().to(experiments::stop))
            .route("/asset-folders", web::get().to(assets::list_folders))
            .route("/asset-folders", web::post().to(assets::add_folder))
            .route(
                "/asset-folders/{id}",
                web::delete().to(assets::remove_folder),
            )
            .route("/assets", web::get().to(assets::list_assets))
            .route("/assets/sync", web::post().to(assets::sync_now))
            .route("/assets/{id}/tags", web::put().to(assets::set_tags))
            .route("/reps", web::get().to(reps::list))
            .route("/reps", web::post().to(reps::create))
            .route("/reps/{id}", web::get().to(reps::get))
            .route("/reps/{id}", web::put().to(reps::replace))
            .route("/reps/{id}/deactivate", web::post().to(reps::deactivate))
            .route("/reps/{id}/activate", web::post().to(reps::activate))
            .route("/accounts", web::get().to(accounts::list))
            .route(
                "/accounts/google/{email}",
                web::put().to(accounts::put_google),
            ),
    );
}

/// The body every changing action takes: why it is done.
#[derive(Debug, Deserialize)]
pub struct Reason {
    pub reason: String,
}

/// A reason is required and bounded; it ends up in the audit log.
pub(crate) fn checked_reason(reason: &str) -> Result<String, ApiError> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_reason",
            "a reason of 1–500 characters is required",
        )
        .with_field("reason"));
    }
    Ok(reason.to_string())
}

/// Store failures as API errors: 503 when the database is away, else 500.
fn store_error(error: StoreError) -> ApiError {
    tracing::error!(%error, "admin request failed in the store");
    ApiError::from_store(&error, "the request could not be completed")
}

/// Page size: default 50, at most 500.
fn page_size(limit: Option<i64>) -> Result<i64, ApiError> {
    match limit {
        None => Ok(50),
        Some(n) if (1..=500).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_limit",
            "limit must be 1–500",
        )
        .with_field("limit")),
    }
}
