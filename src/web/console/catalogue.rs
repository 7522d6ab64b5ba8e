//! Read-only views of the asset catalogue and the experiments: `GET /assets`
//! (allowlisted Drive folders, files with their tags, last sync) and
//! `GET /experiments`, `GET /experiments/{id}` (per-variant results with rates,
//! a bar chart and the p-value). Changes stay in the admin API for now.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use minijinja::context;

use super::error::ConsoleError;
use super::page;
use super::session::Session;
use super::view;
use crate::assets::Tags;
use crate::experiments::results;
use crate::store::{assets, experiments, settings};
use crate::web::AppState;

fn tags(tags: &Tags) -> String {
    [
        ("industry", &tags.industry),
        ("intent", &tags.intent),
        ("persona", &tags.persona),
        ("stage", &tags.stage),
    ]
    .iter()
    .filter(|(_, v)| !v.is_empty())
    .map(|(k, v)| format!("{k}: {}", v.join(", ")))
    .collect::<Vec<_>>()
    .join("; ")
}

pub async fn assets_page(
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    let configured = state.config.engine.asset_folders.clone();
    let (draft_only, folders, files) = state
        .store
        .run(move |c| {
            Ok((
                settings::draft_only(c)?,
                assets::folders(c, &configured)?,
                assets::list(c)?,
            ))
        })
        .await?;
    let last_sync = files.iter().map(|f| f.synced_at).max().map(view::time);
    let folders: Vec<_> = folders
        .iter()
        .map(|f| context! { id => f.folder_id.clone(), tags => tags(&f.tags), added => view::time(f.added_at), by => f.added_by.clone() })
        .collect();
    let files: Vec<_> = files
        .iter()
        .map(|f| context! { name => f.name.clone(), folder => f.folder_id.clone(), kind => f.mime_type.clone(),
                             link => f.web_view_link.starts_with("https://").then(|| f.web_view_link.clone()), tags => tags(&f.tags), edited => f.tags_edited, active => f.active })
        .collect();
    page::render(
        "assets.html",
        &session,
        draft_only,
        "assets",
        context! { folders, files, last_sync },
    )
}

pub async fn experiments_page(
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    let (draft_only, all) = state
        .store
        .run(|c| Ok((settings::draft_only(c)?, experiments::list(c)?)))
        .await?;
    let all: Vec<_> = all
        .iter()
        .map(|e| {
            context! { id => e.id.clone(), name => e.name.clone(), status => e.status.clone(),
            variants => e.variants.iter().map(|v| v.name.clone()).collect::<Vec<_>>().join(", "),
            created => view::time(e.created_at), by => e.created_by.clone() }
        })
        .collect();
    page::render(
        "experiments.html",
        &session,
        draft_only,
        "experiments",
        context! { experiments => all },
    )
}

pub async fn experiment_page(
    session: Session,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    let id = id.into_inner();
    let (draft_only, found, assignments) = state
        .store
        .run(move |c| {
            Ok((
                settings::draft_only(c)?,
                experiments::find(c, &id)?,
                experiments::assignments(c, &id)?,
            ))
        })
        .await?;
    let experiment =
        found.ok_or_else(|| ConsoleError::new(StatusCode::NOT_FOUND, "no such experiment"))?;
    let results = results::tally(&experiment.variants, &assignments);
    let pct = |r: Option<f64>| r.map_or("–".to_string(), |r| format!("{:.1}%", r * 100.0));
    let rows: Vec<_> = results
        .variants
        .iter()
        .enumerate()
        .map(|(i, v)| context! { name => v.variant.clone(), assigned => v.assigned, replies => v.replies, meetings => v.meetings,
                                  reply_rate => pct(v.reply_rate), meeting_rate => pct(v.meeting_rate),
                                  y => 10 + i * 28, width => (v.reply_rate.unwrap_or(0.0) * 400.0).round() })
        .collect();
    let p = |s: &Option<crate::experiments::stats::Significance>| {
        s.as_ref().map_or("not defined yet".to_string(), |s| {
            format!("{:.4} ({})", s.p_value, s.test)
        })
    };
    page::render(
        "experiment.html",
        &session,
        draft_only,
        "experiments",
        context! { name => experiment.name.clone(), status => experiment.status.clone(), rows,
        height => 20 + results.variants.len() * 28,
        replies_p => p(&results.replies_significance), meetings_p => p(&results.meetings_significance) },
    )
}
