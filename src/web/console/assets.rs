//! `GET /assets`: the allowlisted Drive folders, the catalogue with its tags and
//! the last sync; `POST /assets/{file_id}/tags` edits a file's tags and
//! `POST /assets/sync` syncs now, both through the admin API's own functions
//! (validation, role, audit written once).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::error::ConsoleError;
use super::page::{self, see_other};
use super::session::Session;
use super::view;
use crate::assets::{TAG_KEYS, Tags};
use crate::store::{assets, settings};
use crate::web::AppState;
use crate::web::admin::assets as admin;

/// Tags as one line a person reads: `intent: demo, pricing; stage: …`.
fn tags_line(tags: &Tags) -> String {
    TAG_KEYS
        .iter()
        .filter(|k| !tags.values(k).is_empty())
        .map(|k| format!("{k}: {}", tags.values(k).join(", ")))
        .collect::<Vec<_>>()
        .join("; ")
}

/// What the last sync did, carried to the page in the redirect's query.
#[derive(Debug, Default, Deserialize, Serialize)]
pub struct Synced {
    synced: Option<usize>,
    #[serde(default)]
    folders: usize,
    #[serde(default)]
    deactivated: usize,
}

pub async fn show(
    session: Session,
    query: web::Query<Synced>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    let configured = state.config.engine.asset_folders.clone();
    let (mode, folders, files, last_sync) = state
        .store
        .run(move |c| {
            Ok((
                settings::mode(c)?,
                assets::folders(c, &configured)?,
                assets::list(c)?,
                assets::synced_at(c)?,
            ))
        })
        .await?;
    let folders: Vec<_> = folders
        .iter()
        .map(|f| context! { id => f.folder_id.clone(), tags => tags_line(&f.tags), added => view::time(f.added_at), by => f.added_by.clone() })
        .collect();
    let files: Vec<_> = files
        .iter()
        .map(|f| {
            let values: Vec<(&str, String)> = TAG_KEYS
                .iter()
                .map(|k| (*k, f.tags.values(k).join(", ")))
                .collect();
            // Drive ids are URL-safe; encoding keeps any other id one path segment.
            let id: String = url::form_urlencoded::byte_serialize(f.file_id.as_bytes()).collect();
            context! { action => format!("/assets/{id}/tags"), name => f.name.clone(), folder => f.folder_id.clone(), kind => f.mime_type.clone(),
                       link => f.web_view_link.starts_with("https://").then(|| f.web_view_link.clone()),
                       tags => tags_line(&f.tags), values, edited => f.tags_edited, active => f.active }
        })
        .collect();
    page::render(
        "assets.html",
        &session,
        mode,
        "assets",
        context! { folders, files, last_sync => last_sync.map(view::time), synced => query.into_inner() },
    )
}

/// The tag form: each key's values comma-separated, and why.
#[derive(Debug, Deserialize)]
pub struct TagsForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    industry: String,
    #[serde(default)]
    intent: String,
    #[serde(default)]
    persona: String,
    #[serde(default)]
    stage: String,
    #[serde(default)]
    reason: String,
}

fn values(raw: &str) -> Vec<String> {
    raw.split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
        .collect()
}

pub async fn set_tags(
    req: HttpRequest,
    session: Session,
    file_id: web::Path<String>,
    form: web::Form<TagsForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    session.check_form(&req, &form.csrf)?;
    let tags = Tags {
        industry: values(&form.industry),
        intent: values(&form.intent),
        persona: values(&form.persona),
        stage: values(&form.stage),
    };
    admin::tag(
        &state,
        session.caller(),
        file_id.into_inner(),
        tags,
        &form.reason,
    )
    .await?;
    Ok(see_other("/assets"))
}

#[derive(Debug, Deserialize)]
pub struct SyncForm {
    #[serde(default)]
    csrf: String,
}

pub async fn sync(
    req: HttpRequest,
    session: Session,
    form: web::Form<SyncForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    session.check_form(&req, &form.csrf)?;
    let report = admin::sync_catalogue(&state, session.caller()).await?;
    let done = Synced {
        synced: Some(report.files),
        folders: report.folders,
        deactivated: report.deactivated,
    };
    let query = serde_urlencoded::to_string(&done).map_err(|_| {
        ConsoleError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the sync report could not be shown",
        )
    })?;
    Ok(see_other(&format!("/assets?{query}")))
}
