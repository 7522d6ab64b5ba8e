//! What the driver writes: each step's result (fenced on the workflow's lease),
//! and the end of a run — finished, retry later with backoff, deferred, or
//! waiting for a rep's mailbox to be reconnected.

use std::time::Duration;

use super::runner::RunEnd;
use crate::domain::{Outcome, Step, WorkflowStatus};
use crate::services::Services;
use crate::store::step_runs::{self, NewStepRun, RecordError};
use crate::store::workflows::WorkflowRow;
use crate::store::{StoreError, leases, now};

/// One attempt of a step, as it ended.
pub(super) struct StepResult<'a> {
    pub step: Step,
    pub outcome: Outcome,
    pub attempts: i32,
    /// `null` when the step produced nothing (failed, degraded).
    pub output: &'a serde_json::Value,
    pub error: Option<&'a str>,
    pub started: chrono::NaiveDateTime,
}

/// Commits one step's result; false when the lease was lost.
pub(super) async fn record(
    services: &Services,
    workflow: &WorkflowRow,
    owner: &str,
    run: StepResult<'_>,
) -> Result<bool, StoreError> {
    let StepResult {
        step,
        outcome,
        attempts,
        started,
        ..
    } = run;
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
        run.error.map(str::to_string),
    );
    let output = (!run.output.is_null()).then(|| run.output.clone());
    services
        .store
        .run(move |c| {
            let run = NewStepRun {
                workflow_id: &id,
                step: step.as_str(),
                outcome,
                attempts,
                output: output.clone(),
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

pub(super) async fn finish(
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
pub(super) async fn retry(
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
pub(super) async fn defer(
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

/// Sets the workflow `waiting` for `account` (a Google mailbox), with a reason
/// that names the rep, not the address; reconnecting the account wakes it.
pub(super) async fn wait(
    services: &Services,
    workflow: &WorkflowRow,
    owner: &str,
    account: &str,
) -> Result<RunEnd, StoreError> {
    use crate::store::{grants, reps};
    const GOOGLE: &str = "google";
    let (id, owner, account) = (
        workflow.id.clone(),
        owner.to_string(),
        account.to_lowercase(),
    );
    let released = services
        .store
        .run(move |c| {
            c.write_transaction(|c| {
                let rep = reps::find_by_email(c, &account)?;
                let whose = rep.map_or("a rep's".to_string(), |r| format!("{}'s", r.name));
                let reason = format!("waiting for {whose} Google account to be reconnected");
                let status = WorkflowStatus::Waiting;
                if !leases::release(c, &owner, &id, status, None, Some(&reason))? {
                    return Ok(false);
                }
                grants::wait(c, &id, GOOGLE, &account)?;
                // Reconnected while this run was failing: go on at once.
                if grants::find_status(c, GOOGLE, &account)?.is_some_and(|s| s.connected) {
                    grants::wake(c, GOOGLE, &account)?;
                }
                Ok(true)
            })
        })
        .await?;
    Ok(if released {
        RunEnd::Waiting
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
