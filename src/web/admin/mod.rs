//! The admin JSON API under `/api/`, behind bearer tokens (see `auth`): viewers
//! read, admins also change. Every change is committed with its audit entry, which
//! records who (`Caller::actor`) and why (the required `reason`).
//!
//! A new route is annotated with `#[utoipa::path]` and added to `routes` (see
//! `openapi` for how); the tests then want it in this table and in the README.
//!
//! | route | role |
//! |---|---|
//! | `GET /api/openapi.json` (this table as OpenAPI 3.1, see `openapi`) | anyone |
//! | `GET /api/workflows?status=&email=&from=&to=&limit=&cursor=` | viewer |
//! | `GET /api/workflows/{id}` | viewer |
//! | `POST /api/workflows/{id}/retry` `{"reason"}` | admin |
//! | `POST /api/workflows/{id}/cancel` `{"reason"}` | admin |
//! | `POST /api/workflows/{id}/approve` `{"reason"}` | admin |
//! | `GET /api/mode` → `{"mode","draft_only"}`, `PUT /api/mode` `{"mode": "pilot"\|"draft_only"\|"send", "reason"}` (old form: `{"draft_only": bool, "reason"}`) | viewer / admin |
//! | `GET /api/dead-letters` (groups by normalised reason: count, first and last seen, a sample) | viewer |
//! | `POST /api/dead-letters/retry` `{"reason_group","reason"}` (up to 500 of the group, each audited) | admin |
//! | `GET /api/suppressions?after=&limit=`, `POST /api/suppressions` `{"email","reason"}`, `DELETE /api/suppressions/{email}?reason=` | viewer / admin |
//! | `GET /api/audit?workflow_id=&before=&limit=` | viewer |
//! | `GET /api/contacts/{email}/export` (everything held about the person, JSON), `DELETE /api/contacts/{email}?reason=` (erase them; only a hash stays, on the suppression list) | admin |
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
//! | `DELETE /api/accounts/google/{email}?reason=` (disconnect a mailbox: revoked at Google, then deleted; 502 and nothing changed when Google does not confirm) | admin |
//! | `POST /api/reps` `{"id","name","email","calendar_id"?,"time_zone","hours"?,"days"?,"hubspot_owner_id"?,"territories"?,"booking_link"?,"reason"}`, `PUT /api/reps/{id}` (the same without `id`), `POST /api/reps/{id}/deactivate` `{"reason"}`, `POST /api/reps/{id}/activate` `{"reason"}` | admin |

pub(crate) mod accounts;
pub(crate) mod approve;
pub(crate) mod assets;
pub(crate) mod contacts;
pub(crate) mod controls;
pub(crate) mod dead_letters;
pub(crate) mod experiments;
pub(crate) mod openapi;
pub(crate) mod reps;
pub(crate) mod voice_profiles;
pub(crate) mod voice_training;
pub(crate) mod workflows;

use actix_web::http::StatusCode;
use actix_web::web;
use serde::Deserialize;

use super::ApiError;
use crate::store::StoreError;

/// Registers the admin API. Each handler goes in through `service`, which takes
/// only handlers annotated with `#[utoipa::path]`: a route cannot be served
/// without its entry in `/api/openapi.json` (see `openapi`). Literal paths come
/// before `{parameter}` ones that would match them.
pub fn routes(cfg: &mut web::ServiceConfig) {
    use utoipa_actix_web::OpenApiFactory as _;
    let scope = utoipa_actix_web::scope("/api")
        .service(openapi::serve)
        .service(workflows::list)
        .service(workflows::detail)
        .service(workflows::retry)
        .service(workflows::cancel)
        .service(dead_letters::list)
        .service(dead_letters::retry)
        .service(approve::approve)
        .service(controls::get_mode)
        .service(controls::set_mode)
        .service(controls::list_suppressions)
        .service(controls::add_suppression)
        .service(controls::remove_suppression)
        .service(controls::audit_trail)
        .service(voice_profiles::list)
        .service(voice_profiles::export_all)
        .service(voice_profiles::import)
        .service(voice_profiles::get)
        .service(voice_profiles::put)
        .service(voice_profiles::delete)
        .service(voice_training::train)
        .service(experiments::list)
        .service(experiments::create)
        .service(experiments::check_outcomes)
        .service(experiments::detail)
        .service(experiments::stop)
        .service(assets::list_folders)
        .service(assets::add_folder)
        .service(assets::remove_folder)
        .service(assets::list_assets)
        .service(assets::sync_now)
        .service(assets::set_tags)
        .service(reps::list)
        .service(reps::add)
        .service(reps::get)
        .service(reps::replace)
        .service(reps::deactivate)
        .service(reps::activate)
        .service(accounts::list)
        .service(accounts::put_google)
        .service(accounts::delete_google)
        .service(contacts::export_contact)
        .service(contacts::erase);
    let mut schemas = Vec::new();
    scope.schemas(&mut schemas);
    let doc = openapi::document(scope.paths(), schemas);
    cfg.app_data(web::Data::new(openapi::ApiDoc(doc)))
        .service(scope);
}

/// The body every changing action takes: why it is done.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
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
