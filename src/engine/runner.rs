//! Runs one claimed workflow from its first unfinished step to the end.
//!
//! Each step's result is committed (fenced on the lease) before the next starts,
//! so a crash loses at most the step in flight, which runs again on resume; steps
//! look for their earlier attempt before any external write. After a failure the
//! step's policy decides: a degrading step is recorded as degraded and the
//! workflow goes on; otherwise a transient failure schedules a retry with backoff
//! and a permanent one (or too many attempts) dead-letters the workflow.

use std::time::Duration;

use tracing::Instrument;

use super::{Services, StepCx, StepDone, StepError, WorkflowState};
use crate::intake::FormSubmission;
use crate::steps::{self, FailurePolicy, Step};
use crate::store::step_runs::{self, NewStepRun, Outcome, RecordError, StepRunRow};
use crate::store::workflows::{self, WorkflowRow, WorkflowStatus};
use crate::store::{StoreError, leases, now};

/// How a run of the workflow ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunEnd {
    Finished(WorkflowStatus),
    Retrying,
    Deferred,
    /// Someone else holds the workflow now (or it was cancelled); nothing more to do here.
    NotOurs,
}

/// Runs workflow `id`, which `owner` has claimed.
pub async fn run(services: &Services, id: &str, owner: &str) -> Result<RunEnd, StoreError> {
    let span = tracing::info_span!("workflow", workflow.id = %id);
    run_inner(services, id, owner).instrument(span).await
}

async fn run_inner(services: &Services, id: &str, owner: &str) -> Result<RunEnd, StoreError> {
    let load_id = id.to_string();
    let (workflow, runs) = services
        .store
        .run(move |c| {
            Ok((
                workflows::find_by_id(c, &load_id)?,
                step_runs::list_for_workflow(c, &load_id)?,
            ))
        })
        .await?;
    let Some(mut workflow) = workflow else {
        return Ok(RunEnd::NotOurs);
    };
    if workflow.status != WorkflowStatus::Running.as_str()
        || workflow.lease_owner.as_deref() != Some(owner)
    {
        return Ok(RunEnd::NotOurs);
    }
    // The steps read the parsed submission; the stored text is not kept beside
    // it for the whole run (a kilobyte per workflow in flight).
    let parsed = serde_json::from_str::<FormSubmission>(&std::mem::take(&mut workflow.submission));
    let submission = match parsed {
        Ok(s) => s,
        Err(e) => {
            return finish(
                services,
                &workflow,
                owner,
                WorkflowStatus::DeadLettered,
                &format!("stored submission unreadable: {e}"),
            )
            .await;
        }
    };
    let mut state = WorkflowState::default();
    let mut done = std::collections::BTreeSet::new();
    for run in &runs {
        let (Some(step), Some(outcome)) = (Step::parse(&run.step), parse_outcome(&run.outcome))
        else {
            continue;
        };
        if outcome.is_final() {
            let output = run
                .output
                .as_deref()
                .and_then(|o| serde_json::from_str(o).ok())
                .unwrap_or_default();
            if let Some((status, reason)) = super::recorded_end(&output) {
                return finish(services, &workflow, owner, status, &reason).await;
            }
            if let Err(e) = state.apply(step, &output) {
                return finish(
                    services,
                    &workflow,
                    owner,
                    WorkflowStatus::DeadLettered,
                    &format!("{} output unreadable: {e}", step.as_str()),
                )
                .await;
            }
            done.insert(step);
        }
    }

    for step in Step::ALL.into_iter().filter(|s| !done.contains(s)) {
        let attempts = previous_attempts(&runs, step) + 1;
        let started = now();
        let result = {
            let cx = StepCx {
                services,
                workflow: &workflow,
                submission: &submission,
                state: &state,
            };
            let span =
                tracing::info_span!("step", step.name = step.as_str(), step.attempt = attempts);
            steps::run(step, &cx).instrument(span).await
        };
        let (outcome, output, error, end) = match result {
            Ok(StepDone {
                outcome,
                output,
                end,
            }) => (outcome, output, None, end),
            Err(StepError::LeaseLost) => return Ok(RunEnd::NotOurs),
            Err(StepError::Defer { after, reason }) => {
                // The rep by id, never by address (reasons carry no address either).
                let rep_id = state.route.as_ref().map(|r| r.rep_id.as_str());
                tracing::info!(step.name = step.as_str(), rep.id = rep_id, reason = %reason, "step deferred");
                return defer(services, &workflow, owner, after, &reason).await;
            }
            Err(error) if step.on_failure() == FailurePolicy::Degrade => {
                tracing::warn!(step.name = step.as_str(), %error, "step degraded");
                (
                    Outcome::Degraded,
                    serde_json::Value::Null,
                    Some(error.to_string()),
                    None,
                )
            }
            Err(error) => {
                tracing::warn!(step.name = step.as_str(), %error, "step failed");
                let message = format!("{}: {error}", step.as_str());
                record(
                    services,
                    &workflow,
                    owner,
                    step,
                    Outcome::Failed,
                    attempts,
                    serde_json::Value::Null,
                    Some(&message),
                    started,
                )
                .await?;
                return match error {
                    StepError::Transient { retry_after, .. }
                        if workflow.attempts + 1 < services.config.engine.max_attempts =>
                    {
                        retry(services, &workflow, owner, retry_after, &message).await
                    }
                    StepError::Transient { .. } => {
                        let reason = format!(
                            "gave up after {} attempts; last: {message}",
                            workflow.attempts + 1
                        );
                        finish(
                            services,
                            &workflow,
                            owner,
                            WorkflowStatus::DeadLettered,
                            &reason,
                        )
                        .await
                    }
                    _ => {
                        finish(
                            services,
                            &workflow,
                            owner,
                            WorkflowStatus::DeadLettered,
                            &message,
                        )
                        .await
                    }
                };
            }
        };
        if !record(
            services,
            &workflow,
            owner,
            step,
            outcome,
            attempts,
            output.clone(),
            error.as_deref(),
            started,
        )
        .await?
        {
            return Ok(RunEnd::NotOurs);
        }
        if step == Step::Deliver && outcome == Outcome::Ok {
            observe_reply(services, &workflow, &output);
        }
        if let Some((status, reason)) = end {
            return finish(services, &workflow, owner, status, &reason).await;
        }
        if let Err(e) = state.apply(step, &output) {
            return finish(
                services,
                &workflow,
                owner,
                WorkflowStatus::DeadLettered,
                &format!("{} output unreadable: {e}", step.as_str()),
            )
            .await;
        }
    }
    finish(services, &workflow, owner, WorkflowStatus::Completed, "").await
}

/// Speed to lead: the reply exists now, as a draft or sent (the deliver step's output).
fn observe_reply(services: &Services, workflow: &WorkflowRow, output: &serde_json::Value) {
    let sent = output
        .get("sent_message_id")
        .is_some_and(|id| !id.is_null());
    let seconds = (now() - workflow.created_at).as_seconds_f64();
    services.metrics.observe_reply(sent, seconds);
}

fn parse_outcome(raw: &str) -> Option<Outcome> {
    [
        Outcome::Ok,
        Outcome::Skipped,
        Outcome::Degraded,
        Outcome::Failed,
    ]
    .into_iter()
    .find(|o| o.as_str() == raw)
}

fn previous_attempts(runs: &[StepRunRow], step: Step) -> i32 {
    runs.iter()
        .find(|r| r.step == step.as_str())
        .map(|r| r.attempts)
        .unwrap_or(0)
}

/// Commits one step's result; false when the lease was lost.
#[expect(
    clippy::too_many_arguments,
    reason = "the arguments are the fields of one step record"
)]
async fn record(
    services: &Services,
    workflow: &WorkflowRow,
    owner: &str,
    step: Step,
    outcome: Outcome,
    attempts: i32,
    output: serde_json::Value,
    error: Option<&str>,
    started: chrono::NaiveDateTime,
) -> Result<bool, StoreError> {
    let took = (now() - started).as_seconds_f64();
    services.metrics.observe_step(step, outcome, took);
    tracing::info!(
        step.name = step.as_str(),
        step.outcome = outcome.as_str(),
        step.attempt = attempts,
        duration_ms = (took * 1000.0) as u64,
        "step recorded"
    );
    let (id, owner, error) = (
        workflow.id.clone(),
        owner.to_string(),
        error.map(str::to_string),
    );
    services
        .store
        .run(move |c| {
            let run = NewStepRun {
                workflow_id: &id,
                step: step.as_str(),
                outcome,
                attempts,
                output: (!output.is_null()).then(|| output.clone()),
                error: error.as_deref(),
                started_at: started,
            };
            match step_runs::record(c, &owner, &run) {
                Ok(()) => Ok(true),
                Err(RecordError::LeaseLost) => Ok(false),
                Err(RecordError::Store(e)) => Err(e),
            }
        })
        .await
}

async fn finish(
    services: &Services,
    workflow: &WorkflowRow,
    owner: &str,
    status: WorkflowStatus,
    reason: &str,
) -> Result<RunEnd, StoreError> {
    let reason = (!reason.is_empty()).then(|| reason.to_string());
    if release(services, workflow, owner, status, None, reason).await? {
        tracing::info!(status = status.as_str(), "workflow finished");
        services
            .metrics
            .workflows_finished
            .with_label_values(&[status.as_str()])
            .inc();
        Ok(RunEnd::Finished(status))
    } else {
        Ok(RunEnd::NotOurs)
    }
}

/// Schedules the next run: the larger of the provider's Retry-After and an
/// exponential backoff from the configured base, at most the configured maximum.
async fn retry(
    services: &Services,
    workflow: &WorkflowRow,
    owner: &str,
    retry_after: Option<Duration>,
    reason: &str,
) -> Result<RunEnd, StoreError> {
    let (base, max) = (
        services.config.engine.retry_base,
        services.config.engine.retry_max,
    );
    let backoff = base
        .saturating_mul(2u32.saturating_pow(workflow.attempts.clamp(0, 16) as u32))
        .min(max);
    let wait = retry_after.map_or(backoff, |r| r.max(backoff));
    let released = release(
        services,
        workflow,
        owner,
        WorkflowStatus::RetryWait,
        Some(wait),
        Some(reason.to_string()),
    )
    .await?;
    if released {
        services.metrics.workflow_retries.inc();
    }
    Ok(if released {
        RunEnd::Retrying
    } else {
        RunEnd::NotOurs
    })
}

/// Runs the workflow again after `after`, without counting an attempt.
async fn defer(
    services: &Services,
    workflow: &WorkflowRow,
    owner: &str,
    after: Duration,
    reason: &str,
) -> Result<RunEnd, StoreError> {
    let released = release(
        services,
        workflow,
        owner,
        WorkflowStatus::Pending,
        Some(after),
        Some(reason.to_string()),
    )
    .await?;
    Ok(if released {
        RunEnd::Deferred
    } else {
        RunEnd::NotOurs
    })
}

async fn release(
    services: &Services,
    workflow: &WorkflowRow,
    owner: &str,
    status: WorkflowStatus,
    after: Option<Duration>,
    reason: Option<String>,
) -> Result<bool, StoreError> {
    let (id, owner) = (workflow.id.clone(), owner.to_string());
    services
        .store
        .run(move |c| leases::release(c, &owner, &id, status, after, reason.as_deref()))
        .await
}
