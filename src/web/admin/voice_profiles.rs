//! Voice profiles in the admin API: read, replace, remove, and a portable JSON
//! export/import (all-or-nothing). Every change is audited with who and why;
//! training from sent mail lives in `voice_training`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, get, post, put, web};
use diesel::Connection;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use super::{checked_reason, store_error};
use crate::compose::voice::VoiceProfile;
use crate::store::{DbConn, StoreError, audit, reps, voice_profiles};
use crate::web::auth::Caller;
use crate::web::{ApiError, AppState};

/// The version of the export format; an import of another version is refused.
pub(crate) const FORMAT: u32 = 1;

/// The portable form: profiles by rep id, nothing instance-specific.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Export {
    /// Always 1; an import of another format is refused.
    pub format: u32,
    pub profiles: Vec<PortableProfile>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PortableProfile {
    pub rep_id: String,
    pub profile: VoiceProfile,
}

/// Every stored profile, with where it came from.
#[derive(Serialize, ToSchema)]
pub struct Profiles {
    profiles: Vec<voice_profiles::StoredProfile>,
}

#[utoipa::path(security(("bearer" = ["viewer"])), responses((status = OK, body = Profiles)))]
#[get("/voice-profiles")]
pub async fn list(_caller: Caller, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let rows = state
        .store
        .run(voice_profiles::list)
        .await
        .map_err(store_error)?;
    Ok(HttpResponse::Ok().json(Profiles { profiles: rows }))
}

#[utoipa::path(
    security(("bearer" = ["viewer"])),
    responses((status = OK, body = voice_profiles::StoredProfile)),
)]
#[get("/voice-profiles/{rep_id}")]
pub async fn get(
    _caller: Caller,
    rep_id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = rep_id.into_inner();
    let row = state
        .store
        .run(move |c| voice_profiles::find_by_rep(c, &id))
        .await
        .map_err(store_error)?
        .ok_or_else(not_found)?;
    Ok(HttpResponse::Ok().json(row))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct Replace {
    profile: VoiceProfile,
    reason: String,
}

/// The profile as stored.
#[derive(Serialize, ToSchema)]
pub struct Replaced {
    profile: VoiceProfile,
}

/// Replaces a rep's profile (validated; the rep must exist).
#[utoipa::path(security(("bearer" = ["admin"])), responses((status = OK, body = Replaced)))]
#[put("/voice-profiles/{rep_id}")]
pub async fn put(
    caller: Caller,
    rep_id: web::Path<String>,
    body: web::Json<Replace>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let Replace { profile, reason } = body.into_inner();
    replace(
        &state,
        caller,
        rep_id.into_inner(),
        profile.clone(),
        &reason,
    )
    .await?;
    Ok(HttpResponse::Ok().json(Replaced { profile }))
}

/// Replaces a rep's voice profile after validation, audited as `caller`: the one
/// rule for the admin API and the console.
pub(crate) async fn replace(
    state: &AppState,
    caller: Caller,
    id: String,
    profile: VoiceProfile,
    reason: &str,
) -> Result<(), ApiError> {
    replace_from(state, caller, id, profile, reason, "admin").await
}

/// [`replace`], naming where the profile came from (`admin`, `trained`).
pub(crate) async fn replace_from(
    state: &AppState,
    caller: Caller,
    id: String,
    profile: VoiceProfile,
    reason: &str,
    source: &'static str,
) -> Result<(), ApiError> {
    caller.require_admin()?;
    let reason = checked_reason(reason)?;
    checked_profile(&profile, "profile")?;
    let found = state
        .store
        .run(move |conn| {
            conn.transaction(|c| {
                if reps::find_by_id(c, &id)?.is_none() {
                    return Ok(false);
                }
                store(c, &id, &profile, source, &caller.actor, &reason)?;
                Ok::<_, StoreError>(true)
            })
        })
        .await
        .map_err(store_error)?;
    if !found {
        return Err(not_found());
    }
    Ok(())
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct RemovalQuery {
    /// Why (recorded in the audit log).
    reason: String,
}

/// Removes a rep's stored profile: the rep writes in their seed voice again.
#[utoipa::path(
    security(("bearer" = ["admin"])),
    params(RemovalQuery),
    responses((status = NO_CONTENT, description = "Removed")),
)]
#[delete("/voice-profiles/{rep_id}")]
pub async fn delete(
    caller: Caller,
    rep_id: web::Path<String>,
    query: web::Query<RemovalQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let reason = checked_reason(&query.reason)?;
    let id = rep_id.into_inner();
    let removed = state
        .store
        .run(move |conn| {
            conn.transaction(|c| {
                let removed = voice_profiles::delete(c, &id)?;
                if removed {
                    audit::append(
                        c,
                        &audit::Entry {
                            actor: &caller.actor,
                            action: "voice_profile.removed",
                            workflow_id: None,
                            reason: Some(&reason),
                            detail: json!({ "rep_id": id }),
                        },
                    )?;
                }
                Ok::<_, StoreError>(removed)
            })
        })
        .await
        .map_err(store_error)?;
    if !removed {
        return Err(not_found());
    }
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(security(("bearer" = ["viewer"])), responses((status = OK, body = Export)))]
#[get("/voice-profiles/export")]
pub async fn export_all(
    _caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let rows = state
        .store
        .run(voice_profiles::list)
        .await
        .map_err(store_error)?;
    Ok(HttpResponse::Ok().json(Export {
        format: FORMAT,
        profiles: rows
            .into_iter()
            .map(|r| PortableProfile {
                rep_id: r.rep_id,
                profile: r.profile,
            })
            .collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct Import {
    #[serde(flatten)]
    export: Export,
    reason: String,
}

/// How many profiles an import stored.
#[derive(Serialize, ToSchema)]
pub struct Imported {
    imported: usize,
}

/// Stores every profile of an export, or none: each must be valid and name a
/// known rep.
#[utoipa::path(security(("bearer" = ["admin"])), responses((status = OK, body = Imported)))]
#[post("/voice-profiles/import")]
pub async fn import(
    caller: Caller,
    body: web::Json<Import>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let Import { export, reason } = body.into_inner();
    let count = import_profiles(&state, caller, export, &reason).await?;
    Ok(HttpResponse::Ok().json(Imported { imported: count }))
}

/// Imports an export, all or nothing, audited per profile; returns how many.
/// The one rule for the admin API and the console.
pub(crate) async fn import_profiles(
    state: &AppState,
    caller: Caller,
    export: Export,
    reason: &str,
) -> Result<usize, ApiError> {
    caller.require_admin()?;
    let reason = checked_reason(reason)?;
    if export.format != FORMAT {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "unsupported_format",
            format!("format must be {FORMAT}"),
        )
        .with_field("format"));
    }
    for (i, p) in export.profiles.iter().enumerate() {
        checked_profile(&p.profile, &format!("profiles[{i}].profile"))?;
    }
    let count = export.profiles.len();
    let unknown = state
        .store
        .run(move |conn| {
            // Every rep is checked before anything is written: all or nothing.
            conn.transaction(|c| {
                for p in &export.profiles {
                    if reps::find_by_id(c, &p.rep_id)?.is_none() {
                        return Ok(Some(p.rep_id.clone()));
                    }
                }
                for p in &export.profiles {
                    store(c, &p.rep_id, &p.profile, "import", &caller.actor, &reason)?;
                }
                Ok::<_, StoreError>(None)
            })
        })
        .await
        .map_err(store_error)?;
    if let Some(id) = unknown {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "unknown_rep",
            format!("no rep {id}; nothing was imported"),
        )
        .with_field("profiles"));
    }
    Ok(count)
}

/// Stores the profile with its audit entry (inside the caller's transaction).
pub(super) fn store(
    c: &mut DbConn,
    rep_id: &str,
    profile: &VoiceProfile,
    source: &str,
    actor: &str,
    reason: &str,
) -> Result<(), StoreError> {
    voice_profiles::upsert(c, rep_id, profile, source, actor)?;
    audit::append(
        c,
        &audit::Entry {
            actor,
            action: "voice_profile.set",
            workflow_id: None,
            reason: Some(reason),
            detail: json!({ "rep_id": rep_id, "source": source }),
        },
    )
}

fn checked_profile(profile: &VoiceProfile, field: &str) -> Result<(), ApiError> {
    profile.validate().map_err(|message| {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_profile", message).with_field(field)
    })
}

pub(super) fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such rep or profile")
}
