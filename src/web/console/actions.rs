//! The console's actions on leads: approve & send, retry, cancel, the batch
//! retry of dead letters in a filtered list, and of one group of dead letters. Each checks the form (CSRF, origin), then calls the very
//! function the admin API calls, which checks the role and writes the audit entry
//! with the signed-in person.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::error::ConsoleError;
use super::leads::Filters;
use super::page::see_other;
use super::session::Session;
use crate::store::admin_queries;
use crate::store::workflows::WorkflowStatus;
use crate::web::AppState;
use crate::web::admin::{approve as approving, dead_letters, workflows};

/// Every action form: the CSRF token, why, and a ticked confirmation.
#[derive(Debug, Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    pub(super) reason: String,
    #[serde(default)]
    confirm: String,
}

impl ActionForm {
    /// An admin's form, with its CSRF token and the confirmation ticked.
    pub(super) fn check(&self, req: &HttpRequest, session: &Session) -> Result<(), ConsoleError> {
        session.check_admin_form(req, &self.csrf)?;
        super::settings::confirmed(&self.confirm)
    }
}

pub async fn approve(
    req: HttpRequest,
    session: Session,
    id: web::Path<String>,
    form: web::Form<ActionForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    form.check(&req, &session)?;
    let id = id.into_inner();
    approving::approve_and_send(&state, session.caller(), id.clone(), &form.reason).await?;
    Ok(see_other(&format!("/leads/{id}")))
}

pub async fn retry(
    req: HttpRequest,
    session: Session,
    id: web::Path<String>,
    form: web::Form<ActionForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    form.check(&req, &session)?;
    let id =
        workflows::retry_workflow(&state, session.caller(), id.into_inner(), &form.reason).await?;
    Ok(see_other(&format!("/leads/{id}")))
}

pub async fn cancel(
    req: HttpRequest,
    session: Session,
    id: web::Path<String>,
    form: web::Form<ActionForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    form.check(&req, &session)?;
    let id =
        workflows::cancel_workflow(&state, session.caller(), id.into_inner(), &form.reason).await?;
    Ok(see_other(&format!("/leads/{id}")))
}

/// The batch form: the action form plus the list's filters.
#[derive(Debug, Deserialize)]
pub struct BatchForm {
    #[serde(flatten)]
    action: ActionForm,
    #[serde(flatten)]
    filters: Filters,
}

/// Retries up to 500 dead letters matching the list's filters, one reason for all;
/// each retry is its own transaction and audit entry.
pub async fn retry_dead(
    req: HttpRequest,
    session: Session,
    form: web::Form<BatchForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    let BatchForm { action, filters } = form.into_inner();
    action.check(&req, &session)?;
    let (mut filter, by_output) = (filters.to_filter(500)?, filters.outputs()?);
    filter.status = Some(WorkflowStatus::DeadLettered);
    filter.before = None;
    let rows = state
        .store
        .run(move |c| admin_queries::list_workflows_with(c, &filter, &by_output))
        .await?;
    for row in rows {
        workflows::retry_workflow(&state, session.caller(), row.id, &action.reason).await?;
    }
    let mut back = filters;
    back.cursor.clear();
    Ok(see_other(&format!(
        "/leads?{}",
        serde_urlencoded::to_string(&back).unwrap_or_default()
    )))
}

/// The overview's group form: the action form plus the group's name.
#[derive(Debug, Deserialize)]
pub struct GroupForm {
    #[serde(flatten)]
    action: ActionForm,
    #[serde(default)]
    reason_group: String,
}

/// Retries the dead letters of one reason group (as `POST /api/dead-letters/retry`).
pub async fn retry_group(
    req: HttpRequest,
    session: Session,
    form: web::Form<GroupForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    let GroupForm {
        action,
        reason_group,
    } = form.into_inner();
    action.check(&req, &session)?;
    dead_letters::retry_group(&state, session.caller(), &reason_group, &action.reason).await?;
    Ok(see_other("/#dead"))
}

/// `POST /leads/{id}/confirm-meeting`: the rep (an admin) confirms the time a
/// prospect booked while the calendar is left to the rep
/// (`SALES_AGENT_BOOKING_CALENDAR=confirm`); the same booking chain then runs.
pub async fn confirm_meeting(
    req: HttpRequest,
    session: Session,
    id: web::Path<String>,
    form: web::Form<ActionForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    form.check(&req, &session)?;
    let id = id.into_inner();
    let (lead, actor) = (id.clone(), session.actor.clone());
    let booking = state
        .store
        .run(move |c| {
            let Some(booking) = crate::store::bookings::active_for_workflow(c, &lead)? else {
                return Ok(None);
            };
            if !crate::store::bookings::confirm_by_rep(c, &booking.id)? {
                return Ok(None);
            }
            crate::store::audit::append(
                c,
                &crate::store::audit::Entry {
                    actor: &actor,
                    action: "booking.confirmed_by_rep",
                    workflow_id: Some(&lead),
                    reason: Some("the rep confirms the booked time"),
                    detail: serde_json::json!({ "booking_id": booking.id }),
                },
            )?;
            Ok(Some(booking.id))
        })
        .await?;
    let Some(booking) = booking else {
        return Err(ConsoleError::new(
            actix_web::http::StatusCode::CONFLICT,
            "no booked time is waiting for confirmation",
        ));
    };
    let owner = format!("console-{}", uuid::Uuid::new_v4().simple());
    crate::engine::booking::run(&state.engine, &booking, &owner).await?;
    Ok(see_other(&format!("/leads/{id}")))
}
