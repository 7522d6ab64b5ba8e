//! The booking chain's links, one file each, run by `engine::booking` in
//! order over one accepted booking: the slot checked free again (`check`), the
//! event in the rep's calendar (`event`), the meeting brief in the rep's Drive
//! (`brief`), the HubSpot meeting and the follow-up task completed (`meeting`),
//! and the workflow's slot holds given up (`release`); `times` lists the rep's
//! other free times. Each link looks for its earlier attempt first, so a
//! re-run after a crash repeats nothing.

pub mod brief;
pub mod check;
pub mod event;
pub mod follow_up;
pub mod meeting;
pub mod release;
pub mod times;

use chrono::{DateTime, Utc};

use super::StepError;
use super::state::WorkflowState;
use crate::compose::voice::proper_case;
use crate::domain::{Lead, Mode, Rep};
use crate::services::Services;
use crate::store::bookings::Booking;
use crate::store::workflows::WorkflowRow;
use crate::store::{pilot_writes, reps, settings, step_runs, workflows};

/// What the links of one booking's chain read.
pub struct BookingCx<'a> {
    pub services: &'a Services,
    pub booking: Booking,
    pub workflow: WorkflowRow,
    pub state: WorkflowState,
    pub rep: Rep,
    pub lead: Lead,
    /// Writes are recorded, not made (pilot mode, or a pilot run's workflow).
    pub pilot: bool,
}

impl<'a> BookingCx<'a> {
    /// Loads the booking's workflow, its committed state and its rep.
    pub async fn load(services: &'a Services, booking: Booking) -> Result<Self, StepError> {
        let (workflow_id, rep_id) = (booking.workflow_id.clone(), booking.rep_id.clone());
        let (workflow, runs, rep, mode, piloted) = services
            .store
            .run(move |c| {
                Ok((
                    workflows::find_by_id(c, &workflow_id)?,
                    step_runs::list_for_workflow(c, &workflow_id)?,
                    reps::find_by_id(c, &rep_id)?,
                    settings::mode(c)?,
                    pilot_writes::any_for_workflow(c, &workflow_id)?,
                ))
            })
            .await?;
        let workflow = workflow.ok_or_else(|| {
            StepError::Permanent("the booking's workflow no longer exists".into())
        })?;
        let rep = rep.ok_or_else(|| {
            StepError::Permanent(format!("rep {} no longer exists", booking.rep_id))
        })?;
        let state = WorkflowState::from_runs(&runs);
        let lead = state
            .lead
            .as_deref()
            .cloned()
            .ok_or_else(|| StepError::Permanent("the workflow has no validated lead".into()))?;
        Ok(BookingCx {
            services,
            booking,
            workflow,
            state,
            rep,
            lead,
            pilot: mode == Mode::Pilot || piloted,
        })
    }

    pub fn start(&self) -> DateTime<Utc> {
        self.booking.slot_start.and_utc()
    }

    pub fn end(&self) -> DateTime<Utc> {
        self.booking.slot_end.and_utc()
    }

    /// The company as the CRM knows it, else as the form gave it.
    pub fn company(&self) -> Option<String> {
        self.state
            .company
            .as_ref()
            .and_then(|c| c.name.clone())
            .or_else(|| self.lead.company.clone())
    }

    /// The prospect's name as text (first and last, proper-cased), if given.
    pub fn contact_name(&self) -> Option<String> {
        let name = [
            self.lead.first_name.as_deref(),
            self.lead.last_name.as_deref(),
        ]
        .into_iter()
        .flatten()
        .map(proper_case)
        .collect::<Vec<_>>()
        .join(" ");
        (!name.is_empty()).then_some(name)
    }
}
