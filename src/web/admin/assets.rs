//! The asset allowlist and catalogue in the admin API: list, add and remove Drive
//! folders, list the synced files, set a file's tags, and sync now.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, get, post, put, web};
use diesel::Connection;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use super::{checked_reason, store_error};
use crate::assets::Tags;
use crate::assets::sync::{self, SyncError};
use crate::store::assets as store;
use crate::store::{StoreError, audit, reps};
use crate::web::auth::Caller;
use crate::web::error::ErrorBody;
use crate::web::{ApiError, AppState};

/// Drive ids are URL-safe base64-like strings.
fn valid_folder_id(id: &str) -> bool {
    (10..=100).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn audited(
    c: &mut crate::store::DbConn,
    actor: &str,
    action: &str,
    reason: &str,
    detail: serde_json::Value,
) -> Result<(), StoreError> {
    audit::append(
        c,
        &audit::Entry {
            actor,
            action,
            workflow_id: None,
            reason: Some(reason),
            detail,
        },
    )
}

/// The allowlisted Drive folders.
#[derive(Serialize, ToSchema)]
pub struct Folders {
    folders: Vec<store::Folder>,
}

#[utoipa::path(security(("bearer" = ["viewer"])), responses((status = OK, body = Folders)))]
#[get("/asset-folders")]
pub async fn list_folders(
    _caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let configured = state.config.engine.asset_folders.clone();
    let folders = state
        .store
        .run(move |c| store::folders(c, &configured))
        .await
        .map_err(store_error)?;
    Ok(HttpResponse::Ok().json(Folders { folders }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFolder {
    folder_id: String,
    #[serde(default)]
    tags: Tags,
    reason: String,
}

/// A folder id, and whether this call added it.
#[derive(Serialize, ToSchema)]
pub struct FolderAdded {
    folder_id: String,
    added: bool,
}

/// Allowlists a Drive folder; the next sync reads its files.
#[utoipa::path(
    security(("bearer" = ["admin"])),
    responses(
        (status = CREATED, description = "Added", body = FolderAdded),
        (status = OK, description = "Already allowlisted", body = FolderAdded),
    ),
)]
#[post("/asset-folders")]
pub async fn add_folder(
    caller: Caller,
    body: web::Json<NewFolder>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let reason = checked_reason(&body.reason)?;
    let folder_id = body.folder_id.trim().to_string();
    if !valid_folder_id(&folder_id) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_folder_id",
            "not a Drive folder id",
        )
        .with_field("folder_id"));
    }
    let tags = body.tags.clone().normalised();
    let configured = state.config.engine.asset_folders.clone();
    let id = folder_id.clone();
    let added = state
        .store
        .run(move |conn| {
            conn.transaction(|c| {
                store::folders(c, &configured)?;
                let added = store::add_folder(c, &id, &tags, &caller.actor)?;
                if added {
                    store::mark_stale(c)?;
                    audited(
                        c,
                        &caller.actor,
                        "asset_folder.added",
                        &reason,
                        json!({ "folder_id": id }),
                    )?;
                }
                Ok::<_, StoreError>(added)
            })
        })
        .await
        .map_err(store_error)?;
    let status = if added {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(HttpResponse::build(status).json(FolderAdded { folder_id, added }))
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
#[delete("/asset-folders/{id}")]
pub async fn remove_folder(
    caller: Caller,
    folder_id: web::Path<String>,
    query: web::Query<RemovalQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let reason = checked_reason(&query.reason)?;
    let configured = state.config.engine.asset_folders.clone();
    let id = folder_id.into_inner();
    let removed = state
        .store
        .run(move |conn| {
            conn.transaction(|c| {
                store::folders(c, &configured)?;
                let removed = store::remove_folder(c, &id)?;
                if removed {
                    audited(
                        c,
                        &caller.actor,
                        "asset_folder.removed",
                        &reason,
                        json!({ "folder_id": id }),
                    )?;
                }
                Ok::<_, StoreError>(removed)
            })
        })
        .await
        .map_err(store_error)?;
    if !removed {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "folder is not allowlisted",
        ));
    }
    Ok(HttpResponse::NoContent().finish())
}

/// The synced catalogue and when it was last synced.
#[derive(Serialize, ToSchema)]
pub struct Catalogue {
    assets: Vec<store::Asset>,
    synced_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[utoipa::path(security(("bearer" = ["viewer"])), responses((status = OK, body = Catalogue)))]
#[get("/assets")]
pub async fn list_assets(
    _caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (assets, synced_at) = state
        .store
        .run(|c| Ok((store::list(c)?, store::synced_at(c)?)))
        .await
        .map_err(store_error)?;
    Ok(HttpResponse::Ok().json(Catalogue {
        assets,
        synced_at: synced_at.map(|t| t.and_utc()),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TagsChange {
    tags: Tags,
    reason: String,
}

/// A file's tags as stored (normalised).
#[derive(Serialize, ToSchema)]
pub struct Tagged {
    tags: Tags,
}

/// Sets a file's tags; syncs keep an admin's tags.
#[utoipa::path(security(("bearer" = ["admin"])), responses((status = OK, body = Tagged)))]
#[put("/assets/{id}/tags")]
pub async fn set_tags(
    caller: Caller,
    file_id: web::Path<String>,
    body: web::Json<TagsChange>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let TagsChange { tags, reason } = body.into_inner();
    let tags = tag(&state, caller, file_id.into_inner(), tags, &reason).await?;
    Ok(HttpResponse::Ok().json(Tagged { tags }))
}

/// The most values one tag key may hold.
const MAX_VALUES: usize = 20;

/// Refuses tags the catalogue could not use: an intent that is not one the
/// qualify step finds, a value over 60 characters, or too many values.
fn checked_tags(tags: &Tags) -> Result<(), ApiError> {
    let bad = |key: &str, message: String| {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_tags", message)
            .with_field(format!("tags.{key}"))
    };
    for key in crate::assets::TAG_KEYS {
        let values = tags.values(key);
        if values.len() > MAX_VALUES {
            return Err(bad(key, format!("{key}: at most {MAX_VALUES} values")));
        }
        if let Some(long) = values.iter().find(|v| v.trim().chars().count() > 60) {
            return Err(bad(
                key,
                format!("{key}: \"{long}\" is longer than 60 characters"),
            ));
        }
    }
    let known: Vec<&str> = crate::domain::Intent::ALL
        .iter()
        .map(|i| i.as_str())
        .collect();
    if let Some(unknown) = tags
        .intent
        .iter()
        .map(|v| v.trim().to_lowercase())
        .find(|v| !v.is_empty() && !known.contains(&v.as_str()))
    {
        return Err(bad(
            "intent",
            format!("intent: \"{unknown}\" is not one of {}", known.join(", ")),
        ));
    }
    Ok(())
}

/// Sets a file's tags (validated, normalised) with its audit entry: the one
/// rule for the admin API and the console. Returns the tags as stored.
pub(crate) async fn tag(
    state: &AppState,
    caller: Caller,
    file_id: String,
    tags: Tags,
    reason: &str,
) -> Result<Tags, ApiError> {
    caller.require_admin()?;
    let reason = checked_reason(reason)?;
    checked_tags(&tags)?;
    let tags = tags.normalised();
    let (id, stored) = (file_id, tags.clone());
    let changed = state
        .store
        .run(move |conn| {
            conn.transaction(|c| {
                let changed = store::set_tags(c, &id, &stored)?;
                if changed {
                    audited(
                        c,
                        &caller.actor,
                        "asset.tagged",
                        &reason,
                        json!({ "file_id": id, "tags": stored }),
                    )?;
                }
                Ok::<_, StoreError>(changed)
            })
        })
        .await
        .map_err(store_error)?;
    if !changed {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such asset",
        ));
    }
    Ok(tags)
}

/// Syncs the catalogue now, through the first active rep's Drive access.
#[utoipa::path(
    security(("bearer" = ["admin"])),
    responses(
        (status = OK, body = sync::SyncReport),
        (status = CONFLICT, description = "No active rep, or the first sync is in progress", body = ErrorBody),
        (status = BAD_GATEWAY, description = "Drive could not be read", body = ErrorBody),
    ),
)]
#[post("/assets/sync")]
pub async fn sync_now(
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(sync_catalogue(&state, caller).await?))
}

/// Syncs the catalogue now and audits who asked: the one rule for the admin
/// API and the console.
pub(crate) async fn sync_catalogue(
    state: &AppState,
    caller: Caller,
) -> Result<sync::SyncReport, ApiError> {
    caller.require_admin()?;
    let account = state
        .store
        .run(reps::list_active)
        .await
        .map_err(store_error)?
        .into_iter()
        .next()
        .map(|r| r.email)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::CONFLICT,
                "no_rep",
                "no active rep whose Drive access could be used",
            )
        })?;
    let report = match sync::sync(&state.engine, &account).await {
        Ok(report) => report,
        Err(SyncError::Store(e)) => return Err(store_error(e)),
        Err(error @ SyncError::FirstSyncInProgress) => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "sync_in_progress",
                error.to_string(),
            ));
        }
        Err(SyncError::Drive(e)) => {
            tracing::warn!(error = %e, "asset sync failed");
            return Err(ApiError::new(
                StatusCode::BAD_GATEWAY,
                "drive_unavailable",
                "Drive could not be read; try again later",
            ));
        }
    };
    let detail = serde_json::to_value(&report).unwrap_or_default();
    state
        .store
        .run(move |c| {
            audit::append(
                c,
                &audit::Entry {
                    actor: &caller.actor,
                    action: "assets.synced",
                    workflow_id: None,
                    reason: None,
                    detail: detail.clone(),
                },
            )
        })
        .await
        .map_err(store_error)?;
    Ok(report)
}
