//! A step's narrow view of its workflow: the workflow's row, its submission, what
//! the steps it needs have committed, and the services; plus how a step says it
//! finished ([`StepDone`]).

use serde_json::Value;

use super::StepError;
use super::state::WorkflowState;
use crate::domain::{Lead, Outcome, Rep, WorkflowStatus};
use crate::intake::FormSubmission;
use crate::services::Services;
use crate::store::workflows::WorkflowRow;

/// One step's view of its workflow.
pub struct StepCx<'a> {
    pub services: &'a Services,
    pub workflow: &'a WorkflowRow,
    pub submission: &'a FormSubmission,
    pub state: &'a WorkflowState,
}

/// A step that finished: how, what it produced, and whether the workflow ends here.
#[derive(Debug)]
pub struct StepDone {
    pub outcome: Outcome,
    pub output: Value,
    pub end: Option<(WorkflowStatus, String)>,
}

impl StepDone {
    pub fn ok(output: impl serde::Serialize) -> Self {
        StepDone {
            outcome: Outcome::Ok,
            output: to_value(output),
            end: None,
        }
    }

    /// The step had nothing to do; the workflow goes on.
    pub fn skipped(output: impl serde::Serialize) -> Self {
        StepDone {
            outcome: Outcome::Skipped,
            output: to_value(output),
            end: None,
        }
    }

    /// The workflow stops here, finished as `status` for `reason` (e.g. skipped: spam).
    pub fn finish(status: WorkflowStatus, reason: impl Into<String>) -> Self {
        let reason = reason.into();
        StepDone {
            outcome: Outcome::Skipped,
            // The end is part of the recorded output, so a run resumed after a
            // crash between recording this step and finishing the workflow ends
            // here too instead of going on to the next step.
            output: serde_json::json!({ "reason": reason, "finishes": status.as_str() }),
            end: Some((status, reason)),
        }
    }
}

/// The workflow end a recorded step output carries (see [`StepDone::finish`]).
pub fn recorded_end(output: &Value) -> Option<(WorkflowStatus, String)> {
    let status = WorkflowStatus::parse(output.get("finishes")?.as_str()?)?;
    let reason = output
        .get("reason")
        .and_then(Value::as_str)
        .unwrap_or_default();
    Some((status, reason.to_string()))
}

fn to_value(output: impl serde::Serialize) -> Value {
    serde_json::to_value(output).expect("step outputs are plain data")
}

impl StepCx<'_> {
    /// The prospect's language as qualify read it (ISO 639-1), if it did.
    pub fn prospect_language(&self) -> Option<&str> {
        self.state
            .qualification
            .as_ref()
            .and_then(|q| q.language.as_ref())
            .map(|l| l.code.as_str())
    }

    /// The rep the workflow was routed to; every step after `route` may rely on it.
    pub async fn rep(&self) -> Result<Rep, StepError> {
        let id = self
            .state
            .route
            .as_ref()
            .ok_or_else(|| StepError::Permanent("no rep routed".into()))?
            .rep_id
            .clone();
        let lookup = id.clone();
        self.services
            .store
            .run(move |c| {
                // The stored voice profile, when there is one, is the rep's voice.
                let mut rep = crate::store::reps::find_by_id(c, &lookup)?;
                if let Some(rep) = rep.as_mut()
                    && let Some(stored) = crate::store::voice_profiles::find_by_rep(c, &lookup)?
                {
                    rep.voice = stored.profile;
                }
                Ok(rep)
            })
            .await?
            .ok_or_else(|| StepError::Permanent(format!("rep {id} no longer exists")))
    }

    /// The validated lead; every step after `validate` may rely on it.
    pub fn lead(&self) -> Result<&Lead, StepError> {
        self.state
            .lead
            .as_deref()
            .ok_or_else(|| StepError::Permanent("no validated lead in the workflow state".into()))
    }
}
