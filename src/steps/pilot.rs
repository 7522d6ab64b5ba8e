//! Pilot mode in the steps: a step with an outside effect (the contact upsert,
//! the company association, Drive shares, the Gmail draft, the HubSpot note and
//! task) asks [`is_pilot`] before it writes, and in pilot mode [`record`]s the
//! requests it would have made instead of making them. Reads still happen.
//!
//! The mode is read when a write step runs, so a switch reaches a workflow in
//! flight at its next write. One exception keeps a run whole: a workflow that
//! has recorded a write stays a pilot run to its end, whatever the mode becomes —
//! its later writes would name objects that were never made (the contact a pilot
//! upsert did not create, the draft a send would send).

use super::{StepCx, StepError};
use crate::connectors::planned::PlannedRequest;
use crate::domain::{Mode, Step};
use crate::services::Services;
use crate::store::pilot_writes::{self, NewPilotWrite};
use crate::store::settings;

/// The contact id a pilot run names where HubSpot would have given the new
/// contact's id (the upsert that creates it was not made).
pub const UNCREATED_CONTACT: &str = "(the id HubSpot gives the new contact)";

/// The id a pilot run records for a note or task it did not create.
pub const NOT_CREATED: &str = "(not created: pilot mode)";

/// Why a pilot run's reply is not in Gmail, in the delivery's `held`.
pub const HELD_IN_PILOT: &str = "pilot mode: recorded, not written to Gmail";

/// The mode as this workflow's next write sees it: pilot when the mode is pilot
/// or the workflow has recorded a write already (see the header).
pub async fn mode(cx: &StepCx<'_>) -> Result<Mode, StepError> {
    mode_of(cx.services, &cx.workflow.id).await
}

/// [`mode`] for a workflow run outside the step graph (booking).
pub async fn mode_of(services: &Services, workflow_id: &str) -> Result<Mode, StepError> {
    let id = workflow_id.to_string();
    Ok(services
        .store
        .run(move |c| {
            let mode = settings::mode(c)?;
            if mode != Mode::Pilot && pilot_writes::any_for_workflow(c, &id)? {
                return Ok(Mode::Pilot);
            }
            Ok(mode)
        })
        .await?)
}

/// Whether this workflow's writes are recorded instead of made.
pub async fn is_pilot(cx: &StepCx<'_>) -> Result<bool, StepError> {
    Ok(mode(cx).await? == Mode::Pilot)
}

/// Records what `step` would have written, replacing what an earlier attempt of
/// it recorded, with an audit entry naming the endpoints.
pub async fn record(
    cx: &StepCx<'_>,
    step: Step,
    writes: Vec<PlannedRequest>,
) -> Result<(), StepError> {
    record_as(cx.services, &cx.workflow.id, step.as_str(), writes).await
}

/// [`record`] under any stable name (booking's writes are no step of the graph,
/// e.g. `booking.brief`).
pub async fn record_as(
    services: &Services,
    workflow_id: &str,
    step: &'static str,
    writes: Vec<PlannedRequest>,
) -> Result<(), StepError> {
    let endpoints: Vec<&str> = writes.iter().map(|w| w.endpoint).collect();
    let detail = serde_json::json!({ "step": step, "endpoints": endpoints });
    let rows: Vec<NewPilotWrite> = writes
        .into_iter()
        .map(|w| NewPilotWrite {
            endpoint: w.endpoint.to_string(),
            method: w.method.to_string(),
            path: w.path,
            body: w.body,
            message: w.message,
        })
        .collect();
    let id = workflow_id.to_string();
    services
        .store
        .run(move |c| {
            c.write_transaction(|c| {
                pilot_writes::replace(c, &id, step, &rows)?;
                crate::store::audit::append(
                    c,
                    &crate::store::audit::Entry {
                        actor: "engine",
                        action: "pilot.writes_recorded",
                        workflow_id: Some(&id),
                        reason: Some("pilot mode: recorded instead of written"),
                        detail: detail.clone(),
                    },
                )
            })
        })
        .await?;
    Ok(())
}
