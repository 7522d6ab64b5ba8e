//! `GET /settings`: the mode switch (pilot, draft-only, send), the suppression list and the audit log;
//! and their forms, which go through the admin API's own functions.

use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::context;
use serde::Deserialize;

use super::error::ConsoleError;
use super::page::{self, see_other};
use super::session::Session;
use super::view;
use crate::domain::Mode;
use crate::store::{audit, settings, suppressions};
use crate::web::AppState;
use crate::web::admin::controls;

#[derive(Debug, Deserialize)]
pub struct AuditFilter {
    #[serde(default)]
    before: Option<i64>,
    #[serde(default)]
    suppressed_after: Option<String>,
    /// Part of a suppressed address to look for.
    #[serde(default)]
    q: String,
}

pub async fn show(
    session: Session,
    query: web::Query<AuditFilter>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    let (before, after, q) = (
        query.before,
        query.suppressed_after.clone(),
        query.q.trim().to_string(),
    );
    let search = q.clone();
    let (mode, entries, suppressed) = state
        .store
        .run(move |c| {
            Ok((
                settings::mode(c)?,
                audit::list_recent(c, None, before, 50)?,
                suppressions::search(c, Some(&search), after.as_deref(), 50)?,
            ))
        })
        .await?;
    let older = (entries.len() == 50)
        .then(|| entries.last().map(|e| e.id))
        .flatten();
    let entries: Vec<_> = entries
        .iter()
        .map(|a| {
            context! { at => view::time(a.at), actor => a.actor.clone(), action => a.action.clone(),
            workflow_id => a.workflow_id.clone().unwrap_or_default(),
            reason => a.reason.clone().unwrap_or_default(), detail => a.detail.clone() }
        })
        .collect();
    // The next page keeps the search: both go in one query string.
    let more_suppressed = (suppressed.len() == 50)
        .then(|| suppressed.last())
        .flatten()
        .map(|last| {
            serde_urlencoded::to_string([("q", q.as_str()), ("suppressed_after", &last.email)])
                .unwrap_or_default()
        });
    let suppressed: Vec<_> = suppressed
        .iter()
        .map(|s| context! { email => s.email.clone(), reason => s.reason.clone(), source => s.source.clone(),
                             created => view::time(s.created_at) })
        .collect();
    let hubspot = super::hubspot_connect::status(&state).await;
    let mut response = page::render(
        "settings.html",
        &session,
        mode,
        "settings",
        context! { entries, older, suppressed, more_suppressed, q, hubspot },
    )?;
    // *Install the HubSpot app* answers with a redirect to HubSpot's install page.
    if session.is_admin() && state.hubspot.can_install() {
        page::allow_form_redirect_to(&mut response, &state.hubspot.authorization_origin());
    }
    Ok(response)
}

/// `mode` (pilot, draft_only, send); the old form's `draft_only` (true, false)
/// is still understood.
#[derive(Debug, Deserialize)]
pub struct ModeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    mode: Option<String>,
    #[serde(default)]
    draft_only: Option<String>,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    confirm: String,
}

pub async fn set_mode(
    req: HttpRequest,
    session: Session,
    form: web::Form<ModeForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    session.check_form(&req, &form.csrf)?;
    confirmed(&form.confirm)?;
    let mode = match (form.mode.as_deref(), form.draft_only.as_deref()) {
        (Some(raw), _) => Mode::parse(raw),
        (None, Some("true")) => Some(Mode::DraftOnly),
        (None, Some("false")) => Some(Mode::Send),
        _ => None,
    }
    .ok_or_else(|| {
        ConsoleError::new(
            actix_web::http::StatusCode::BAD_REQUEST,
            "choose a mode: pilot, draft-only or send",
        )
    })?;
    controls::change_mode(&state, session.caller(), mode, &form.reason).await?;
    Ok(see_other("/settings"))
}

#[derive(Debug, Deserialize)]
pub struct SuppressionForm {
    #[serde(default)]
    csrf: String,
    email: String,
    #[serde(default)]
    reason: String,
}

pub async fn suppress(
    req: HttpRequest,
    session: Session,
    form: web::Form<SuppressionForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    session.check_form(&req, &form.csrf)?;
    controls::suppress(&state, session.caller(), &form.email, &form.reason).await?;
    Ok(see_other("/settings"))
}

pub async fn unsuppress(
    req: HttpRequest,
    session: Session,
    form: web::Form<SuppressionForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    session.check_form(&req, &form.csrf)?;
    controls::unsuppress(&state, session.caller(), &form.email, &form.reason).await?;
    Ok(see_other("/settings"))
}

pub fn confirmed(confirm: &str) -> Result<(), ConsoleError> {
    if confirm == "yes" {
        Ok(())
    } else {
        Err(ConsoleError::new(
            actix_web::http::StatusCode::BAD_REQUEST,
            "tick the confirmation box to go ahead",
        ))
    }
}
