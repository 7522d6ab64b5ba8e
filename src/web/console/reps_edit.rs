//! The console's rep changes: add a rep, edit one, deactivate or reactivate it.
//! Each form is checked (CSRF, origin, admin) and handed to the admin API's own
//! functions, which validate every field and write the audit entry.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::error::ConsoleError;
use super::page::see_other;
use super::session::Session;
use crate::web::AppState;
use crate::web::admin::reps::{self as api, RepInput};

/// The add and edit forms: the fields as typed, territories and languages
/// comma-separated.
#[derive(Debug, Deserialize)]
pub struct RepForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    calendar_id: String,
    #[serde(default)]
    time_zone: String,
    #[serde(default)]
    hours: String,
    #[serde(default)]
    days: String,
    #[serde(default)]
    hubspot_owner_id: String,
    #[serde(default)]
    territories: String,
    #[serde(default)]
    languages: String,
    #[serde(default)]
    booking_link: String,
    #[serde(default)]
    reason: String,
}

impl RepForm {
    fn input(&self) -> RepInput {
        let some = |v: &str| Some(v.to_string());
        RepInput {
            id: some(&self.id),
            name: some(&self.name),
            email: some(&self.email),
            calendar_id: some(&self.calendar_id),
            time_zone: some(&self.time_zone),
            hours: some(&self.hours),
            days: some(&self.days),
            hubspot_owner_id: some(&self.hubspot_owner_id),
            territories: Some(self.territories.split(',').map(str::to_string).collect()),
            languages: Some(self.languages.split(',').map(str::to_string).collect()),
            booking_link: some(&self.booking_link),
            reason: self.reason.clone(),
        }
    }
}

pub async fn create(
    req: HttpRequest,
    session: Session,
    form: web::Form<RepForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    session.check_admin_form(&req, &form.csrf)?;
    let id = form.id.trim().to_string();
    let rep = api::save(&state, session.caller(), id, form.input(), true).await?;
    Ok(see_other(&format!("/reps/{}", rep.id)))
}

pub async fn update(
    req: HttpRequest,
    session: Session,
    id: web::Path<String>,
    form: web::Form<RepForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    session.check_admin_form(&req, &form.csrf)?;
    let rep = api::save(
        &state,
        session.caller(),
        id.into_inner(),
        form.input(),
        false,
    )
    .await?;
    Ok(see_other(&format!("/reps/{}", rep.id)))
}

#[derive(Debug, Deserialize)]
pub struct ActiveForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
}

pub async fn deactivate(
    req: HttpRequest,
    session: Session,
    id: web::Path<String>,
    form: web::Form<ActiveForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    toggle(req, session, id.into_inner(), form, state, false).await
}

pub async fn activate(
    req: HttpRequest,
    session: Session,
    id: web::Path<String>,
    form: web::Form<ActiveForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    toggle(req, session, id.into_inner(), form, state, true).await
}

async fn toggle(
    req: HttpRequest,
    session: Session,
    id: String,
    form: web::Form<ActiveForm>,
    state: web::Data<AppState>,
    active: bool,
) -> Result<HttpResponse, ConsoleError> {
    session.check_admin_form(&req, &form.csrf)?;
    api::set_active(&state, session.caller(), id.clone(), active, &form.reason).await?;
    Ok(see_other(&format!("/reps/{id}")))
}
