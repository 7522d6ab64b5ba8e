//! `GET /leads/{id}`: one lead — the submission as inert text, the 13 steps as a
//! timeline (outcome, duration, attempts, error, what each found), the draft as
//! the prospect will see it, the guardrail verdict, what a pilot run would have
//! written (each request with its body, as text), the audit trail, and the
//! admin's actions; a draft gone stale says so. Seven queries, whatever the lead.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use minijinja::context;
use serde::Serialize;

use super::error::ConsoleError;
use super::page;
use super::session::Session;
use super::view::{self, DraftView};
use crate::steps::Step;
use crate::store::side_effects::{self, EffectKind};
use crate::store::workflows::WorkflowStatus;
use crate::store::{audit, bookings, draft_watches, pilot_writes, settings, step_runs, workflows};
use crate::web::AppState;

#[derive(Serialize)]
struct StepView {
    number: usize,
    name: &'static str,
    outcome: String,
    attempts: i32,
    duration_ms: i64,
    error: String,
    found: String,
    finished: String,
}

pub async fn show(
    session: Session,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    let id = id.into_inner();
    let (mode, workflow, runs, trail, send, planned, watch) = state
        .store
        .run(move |c| {
            Ok((
                settings::mode(c)?,
                workflows::find_by_id(c, &id)?,
                step_runs::list_for_workflow(c, &id)?,
                audit::list_for_workflow(c, &id)?,
                side_effects::find(c, &id, EffectKind::GmailSend)?,
                pilot_writes::list_for_workflow(c, &id)?,
                draft_watches::find(c, &id)?,
            ))
        })
        .await?;
    let workflow =
        workflow.ok_or_else(|| ConsoleError::new(StatusCode::NOT_FOUND, "no such lead"))?;
    let output = |step: &str| {
        view::parse(
            runs.iter()
                .find(|r| r.step == step)
                .and_then(|r| r.output.as_deref()),
        )
    };
    let steps: Vec<StepView> = Step::ALL
        .iter()
        .enumerate()
        .map(|(i, step)| {
            let run = runs.iter().find(|r| r.step == step.as_str());
            StepView {
                number: i + 1,
                name: step.as_str(),
                outcome: run.map_or("not run".into(), |r| r.outcome.clone()),
                attempts: run.map_or(0, |r| r.attempts),
                duration_ms: run.map_or(0, |r| r.duration_ms),
                error: run.and_then(|r| r.error.clone()).unwrap_or_default(),
                found: run
                    .and_then(|r| r.output.as_deref())
                    .map(pretty)
                    .unwrap_or_default(),
                finished: run.map(|r| view::time(r.finished_at)).unwrap_or_default(),
            }
        })
        .collect();
    let lead_id = workflow.id.clone();
    let booking = state
        .store
        .run(move |c| bookings::active_for_workflow(c, &lead_id))
        .await?
        .map(|b| {
            context! {
                status => b.status.clone(),
                awaiting => b.status == bookings::AWAITING_REP,
                slot => view::time(b.slot_start),
                event_link => b.event_link.clone().unwrap_or_default(),
            }
        });
    let send = send.map(|e| e.state.as_str());
    let delivery = output("deliver");
    let stale = watch.as_ref().and_then(|w| w.stale());
    let draft =
        DraftView::new(&workflow, &output("compose"), &delivery, send).map(|d| d.with_stale(stale));
    let planned: Vec<_> = planned
        .iter()
        .map(|w| {
            context! { step => w.step.clone(), endpoint => w.endpoint.clone(), method => w.method.clone(),
            path => w.path.clone(), body => w.body.as_deref().map(pretty).unwrap_or_default(),
            message => w.message.clone().unwrap_or_default(), at => view::time(w.planned_at) }
        })
        .collect();
    let trail: Vec<_> = trail
        .iter()
        .map(|a| {
            context! { at => view::time(a.at), actor => a.actor.clone(), action => a.action.clone(),
            reason => a.reason.clone().unwrap_or_default(), detail => a.detail.clone() }
        })
        .collect();
    let status = WorkflowStatus::parse(&workflow.status);
    let can = context! {
        // A pilot run made no draft: there is nothing to approve.
        // A stale draft is never sent: no approval is offered.
        approve => draft.as_ref().is_some_and(|d| !d.sent && !d.sending && d.stale.is_empty())
            && delivery["draft_id"].is_string()
            && status == Some(WorkflowStatus::Completed),
        retry => status == Some(WorkflowStatus::DeadLettered),
        cancel => status.is_some_and(|s| WorkflowStatus::UNFINISHED.contains(&s)),
    };
    let own = context! {
        lead => context! {
            id => workflow.id.clone(), email => workflow.email.clone(), status => workflow.status.clone(),
            attempts => workflow.attempts, error => workflow.last_error.clone().unwrap_or_default(),
            created => view::time(workflow.created_at),
        },
        submission => view::submission_fields(&workflow.submission),
        steps, draft, trail, can, planned, booking,
    };
    page::render("lead.html", &session, mode, "leads", own)
}

/// Stored JSON, indented for reading (as it was, when it is not JSON).
fn pretty(raw: &str) -> String {
    serde_json::from_str::<serde_json::Value>(raw)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_else(|_| raw.to_string())
}
