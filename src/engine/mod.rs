//! The workflow engine without actors: the services a step may use, the context
//! it runs in, and the runner that walks the 13 steps of one workflow, committing
//! each result under the workflow's lease and applying each step's failure policy.
//! The actors (`actors::supervisor`, `actors::workflow`) only schedule this.

mod error;
pub mod once;
pub mod runner;
pub mod send;
pub mod state;

use std::future::Future;
use std::sync::Arc;

pub use error::StepError;
use serde_json::Value;
pub use state::WorkflowState;

use crate::actors::connector::{self, Call, Connectors};
use crate::config::Config;
use crate::connectors::ConnectorError;
use crate::connectors::calendar::{self, Calendar};
use crate::connectors::drive::{self, Drive};
use crate::connectors::gmail::{self, Gmail};
use crate::connectors::http::Endpoint;
use crate::connectors::hubspot::{self, HubSpot};
use crate::connectors::limiter::RateCost;
use crate::connectors::llm::Llm;
use crate::intake::FormSubmission;
use crate::metrics::Metrics;
use crate::store::Store;
use crate::store::step_runs::Outcome;
use crate::store::workflows::{WorkflowRow, WorkflowStatus};

/// What steps reach the world through; one per process, shared.
pub struct Services {
    pub store: Store,
    pub connectors: Connectors,
    pub config: Arc<Config>,
    pub metrics: Metrics,
}

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
pub(crate) fn recorded_end(output: &Value) -> Option<(WorkflowStatus, String)> {
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
    /// The rep the workflow was routed to; every step after `route` may rely on it.
    pub async fn rep(&self) -> Result<crate::reps::Rep, StepError> {
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
    pub fn lead(&self) -> Result<&crate::steps::validate::Lead, StepError> {
        self.state
            .lead
            .as_deref()
            .ok_or_else(|| StepError::Permanent("no validated lead in the workflow state".into()))
    }
}

impl Services {
    /// Appends an audit entry for an external write the engine made for `workflow_id`.
    pub async fn audit(
        &self,
        workflow_id: &str,
        action: &'static str,
        reason: &'static str,
        detail: Value,
    ) -> Result<(), crate::store::StoreError> {
        let workflow_id = workflow_id.to_string();
        self.store
            .run(move |c| {
                crate::store::audit::append(
                    c,
                    &crate::store::audit::Entry {
                        actor: "engine",
                        action,
                        workflow_id: Some(&workflow_id),
                        reason: Some(reason),
                        detail: detail.clone(),
                    },
                )
            })
            .await
    }

    pub async fn hubspot<T, F, Fut>(
        &self,
        endpoint: &'static Endpoint,
        attempt: F,
    ) -> Result<T, ConnectorError>
    where
        F: Fn(Arc<dyn HubSpot>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, ConnectorError>> + Send + 'static,
        T: Send + 'static,
    {
        connector::call(
            &self.connectors.hubspot,
            Call::to(endpoint, hubspot::cost(endpoint), attempt),
        )
        .await
    }

    pub async fn gmail<T, F, Fut>(
        &self,
        mailbox: &str,
        endpoint: &'static Endpoint,
        attempt: F,
    ) -> Result<T, ConnectorError>
    where
        F: Fn(Arc<dyn Gmail>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, ConnectorError>> + Send + 'static,
        T: Send + 'static,
    {
        connector::call(
            &self.connectors.gmail,
            Call::to(endpoint, gmail::cost(mailbox, endpoint), attempt),
        )
        .await
    }

    pub async fn calendar<T, F, Fut>(
        &self,
        account: &str,
        endpoint: &'static Endpoint,
        attempt: F,
    ) -> Result<T, ConnectorError>
    where
        F: Fn(Arc<dyn Calendar>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, ConnectorError>> + Send + 'static,
        T: Send + 'static,
    {
        connector::call(
            &self.connectors.calendar,
            Call::to(endpoint, calendar::cost(account), attempt),
        )
        .await
    }

    pub async fn drive<T, F, Fut>(
        &self,
        account: &str,
        endpoint: &'static Endpoint,
        attempt: F,
    ) -> Result<T, ConnectorError>
    where
        F: Fn(Arc<dyn Drive>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, ConnectorError>> + Send + 'static,
        T: Send + 'static,
    {
        connector::call(
            &self.connectors.drive,
            Call::to(endpoint, drive::cost(account), attempt),
        )
        .await
    }

    pub async fn llm<T, F, Fut>(
        &self,
        endpoint: &'static Endpoint,
        attempt: F,
    ) -> Result<T, ConnectorError>
    where
        F: Fn(Arc<dyn Llm>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, ConnectorError>> + Send + 'static,
        T: Send + 'static,
    {
        connector::call(
            &self.connectors.llm,
            Call::to(endpoint, RateCost::one(), attempt),
        )
        .await
    }
}
