//! Runs one claimed workflow through the step graph, from what is committed to
//! the end.
//!
//! A step starts as soon as every step it needs ([`Step::needs`]) has committed
//! its result; steps whose needs are met run side by side. Each result is
//! committed (fenced on the lease) on its own as it arrives, before any step that
//! needs it starts, so a crash loses at most the steps in flight, which run again
//! on resume; steps look for their earlier attempt before any external write.
//!
//! After a failure the step's policy decides: a degrading step is recorded as
//! degraded and its dependants go on without it; otherwise the run starts no new
//! step, lets the steps in flight finish and commit, and then a transient failure
//! schedules a retry with backoff and a permanent one (or too many attempts)
//! dead-letters the workflow. A step that ends the workflow (a duplicate, spam)
//! ends it where the list of steps would have: the steps listed before it still
//! run, none listed after it starts, so it writes what it always wrote.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::{FuturesUnordered, StreamExt};
use tracing::Instrument;

use super::commit::{StepResult, defer, finish, record, retry, wait};
use crate::domain::{FailurePolicy, Outcome, Step, WorkflowStatus};
use crate::intake::FormSubmission;
use crate::services::Services;
use crate::steps::{self, StepCx, StepError, WorkflowState};
use crate::store::step_runs::{self, StepRunRow};
use crate::store::workflows::{self, WorkflowRow};
use crate::store::{StoreError, now};

/// How a run of the workflow ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunEnd {
    Finished(WorkflowStatus),
    Retrying,
    Deferred,
    /// Waiting for a rep's mailbox to be reconnected.
    Waiting,
    /// Someone else holds the workflow now (or it was cancelled); nothing more to do here.
    NotOurs,
}

/// Why the run starts no further step, strongest first when several arrive.
#[derive(Debug)]
enum Halt {
    /// A step (`by`) ended the workflow (e.g. skipped: spam), or a recorded
    /// output is unreadable.
    End {
        status: WorkflowStatus,
        reason: String,
        by: Option<Step>,
    },
    /// A step that the reply cannot do without failed.
    Failed {
        message: String,
        transient: bool,
        retry_after: Option<Duration>,
    },
    /// Not now: quiet hours, a send limit.
    Defer { after: Duration, reason: String },
    /// Until a rep's mailbox is reconnected (the account, by address).
    Wait { account: String },
}

impl Halt {
    fn rank(&self) -> u8 {
        match self {
            Halt::End { .. } => 0,
            Halt::Failed { .. } => 1,
            Halt::Wait { .. } => 2,
            Halt::Defer { .. } => 3,
        }
    }

    /// Whether `step` may still start: after an end by a step, the steps listed
    /// before that step; after anything else, none.
    fn allows(halt: &Option<Halt>, step: Step) -> bool {
        match halt {
            None => true,
            Some(Halt::End { by: Some(by), .. }) => step < *by,
            Some(_) => false,
        }
    }

    fn unreadable(step: Step, error: serde_json::Error) -> Halt {
        Halt::End {
            status: WorkflowStatus::DeadLettered,
            reason: format!("{} output unreadable: {error}", step.as_str()),
            by: None,
        }
    }

    fn dead_letter(reason: String) -> Halt {
        Halt::End {
            status: WorkflowStatus::DeadLettered,
            reason,
            by: None,
        }
    }

    /// Keeps the stronger of the two reasons to stop.
    fn merge(current: Option<Halt>, new: Halt) -> Option<Halt> {
        match current {
            Some(held) if held.rank() <= new.rank() => Some(held),
            _ => Some(new),
        }
    }
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
            let reason = format!("stored submission unreadable: {e}");
            return conclude(services, &workflow, owner, Halt::dead_letter(reason)).await;
        }
    };
    let (state, mut done) = match resume(&runs) {
        Ok(resumed) => resumed,
        Err(halt) => return conclude(services, &workflow, owner, halt).await,
    };
    // Shared with the steps in flight; copied only when a result arrives while
    // some still read the earlier state.
    let mut state = Arc::new(state);

    let mut started: BTreeSet<Step> = done.clone();
    let mut halt: Option<Halt> = None;
    let mut running = FuturesUnordered::new();
    loop {
        let now_ready: Vec<Step> = ready(&done, &started)
            .filter(|s| Halt::allows(&halt, *s))
            .collect();
        for step in now_ready {
            started.insert(step);
            let attempts = previous_attempts(&runs, step) + 1;
            let committed = state.clone();
            running.push(attempt(
                services,
                &workflow,
                owner,
                &submission,
                committed,
                step,
                attempts,
            ));
        }
        // Nothing else is awaited here: a step in the set that is not polled
        // may hold a database slot it was granted, which a commit awaited here
        // would wait for. Each step's future commits its own result.
        let Some(settled) = running.next().await else {
            break;
        };
        match settled? {
            Settled::Committed { step, output, end } => {
                if let Some((status, reason)) = end {
                    let by = Some(step);
                    halt = Halt::merge(halt, Halt::End { status, reason, by });
                }
                if let Err(e) = Arc::make_mut(&mut state).apply(step, &output) {
                    halt = Halt::merge(halt, Halt::unreadable(step, e));
                    continue;
                }
                done.insert(step);
            }
            Settled::Halted(reason) => halt = Halt::merge(halt, reason),
            Settled::NotOurs => return Ok(RunEnd::NotOurs),
        }
    }
    match halt {
        Some(halt) => conclude(services, &workflow, owner, halt).await,
        None if done.len() == Step::ALL.len() => {
            finish(services, &workflow, owner, WorkflowStatus::Completed, "").await
        }
        // Unreachable while every step's needs come before it in the graph; a
        // run that stalls is handed back rather than finished as complete.
        None => {
            let reason = "the step graph stalled";
            conclude(services, &workflow, owner, Halt::dead_letter(reason.into())).await
        }
    }
}

/// The state and the finished steps rebuilt from the committed step runs, or the
/// end a recorded output carries (a run that crashed after a step ended it).
fn resume(runs: &[StepRunRow]) -> Result<(WorkflowState, BTreeSet<Step>), Halt> {
    let mut state = WorkflowState::default();
    let mut done = BTreeSet::new();
    for run in runs {
        let (Some(step), Some(outcome)) = (Step::parse(&run.step), parse_outcome(&run.outcome))
        else {
            continue;
        };
        if !outcome.is_final() {
            continue;
        }
        let output = run
            .output
            .as_deref()
            .and_then(|o| serde_json::from_str(o).ok())
            .unwrap_or_default();
        if let Some((status, reason)) = steps::recorded_end(&output) {
            return Err(Halt::End {
                status,
                reason,
                by: None,
            });
        }
        state
            .apply(step, &output)
            .map_err(|e| Halt::unreadable(step, e))?;
        done.insert(step);
    }
    Ok((state, done))
}

/// Steps not yet started whose needs are all committed.
fn ready<'a>(
    done: &'a BTreeSet<Step>,
    started: &'a BTreeSet<Step>,
) -> impl Iterator<Item = Step> + 'a {
    Step::ALL
        .into_iter()
        .filter(|s| !started.contains(s) && s.needs().iter().all(|n| done.contains(n)))
}

/// How one step's attempt settled, once its result is committed.
enum Settled {
    /// The result is committed (ok, skipped or degraded); dependants may start.
    Committed {
        step: Step,
        output: serde_json::Value,
        end: Option<(WorkflowStatus, String)>,
    },
    /// The step failed (recorded as failed) or deferred: start nothing new.
    Halted(Halt),
    /// The lease is someone else's now.
    NotOurs,
}

/// One attempt of `step` over a snapshot of the committed state, with its
/// result committed under the lease and its failure policy applied.
async fn attempt(
    services: &Services,
    workflow: &WorkflowRow,
    owner: &str,
    submission: &FormSubmission,
    state: Arc<WorkflowState>,
    step: Step,
    attempts: i32,
) -> Result<Settled, StoreError> {
    let began = now();
    let cx = StepCx {
        services,
        workflow,
        submission,
        state: &state,
    };
    let span = tracing::info_span!("step", step.name = step.as_str(), step.attempt = attempts);
    let result = steps::run(step, &cx).instrument(span).await;
    // How the step ended, its error, and whether the run may go on once the
    // result is committed (with the workflow end the step may carry).
    let (outcome, output, error, after) = match result {
        Ok(done) => (done.outcome, done.output, None, Ok(done.end)),
        Err(StepError::LeaseLost) => return Ok(Settled::NotOurs),
        Err(StepError::Defer { after, reason }) => {
            // The rep by id, never by address (reasons carry no address either).
            let rep_id = state.route.as_ref().map(|r| r.rep_id.as_str());
            tracing::info!(step.name = step.as_str(), rep.id = rep_id, reason = %reason, "step deferred");
            return Ok(Settled::Halted(Halt::Defer { after, reason }));
        }
        Err(StepError::WaitForAccount { account, rep_id }) => {
            // Named by routing when the wait starts there; else the routed rep.
            let rep_id = rep_id
                .as_deref()
                .or_else(|| state.route.as_ref().map(|r| r.rep_id.as_str()));
            tracing::info!(
                step.name = step.as_str(),
                rep.id = rep_id,
                "step waits for a mailbox to be reconnected"
            );
            return Ok(Settled::Halted(Halt::Wait { account }));
        }
        Err(error) if step.on_failure() == FailurePolicy::Degrade => {
            tracing::warn!(step.name = step.as_str(), %error, "step degraded");
            let null = serde_json::Value::Null;
            (Outcome::Degraded, null, Some(error.to_string()), Ok(None))
        }
        Err(error) => {
            tracing::warn!(step.name = step.as_str(), %error, "step failed");
            let message = format!("{}: {error}", step.as_str());
            let (transient, retry_after) = match &error {
                StepError::Transient { retry_after, .. } => (true, *retry_after),
                _ => (false, None),
            };
            let failed = Halt::Failed {
                message: message.clone(),
                transient,
                retry_after,
            };
            (
                Outcome::Failed,
                serde_json::Value::Null,
                Some(message),
                Err(failed),
            )
        }
    };
    let run = StepResult {
        step,
        outcome,
        attempts,
        output: &output,
        error: error.as_deref(),
        started: began,
    };
    if !record(services, workflow, owner, run).await? {
        return Ok(Settled::NotOurs);
    }
    Ok(match after {
        Err(halt) => Settled::Halted(halt),
        Ok(end) => {
            if step == Step::Deliver && outcome == Outcome::Ok {
                observe_reply(services, workflow, &output);
            }
            Settled::Committed { step, output, end }
        }
    })
}

/// Ends the run for `halt`: finished, a retry later, or deferred.
async fn conclude(
    services: &Services,
    workflow: &WorkflowRow,
    owner: &str,
    halt: Halt,
) -> Result<RunEnd, StoreError> {
    match halt {
        Halt::End { status, reason, .. } => {
            finish(services, workflow, owner, status, &reason).await
        }
        Halt::Defer { after, reason } => defer(services, workflow, owner, after, &reason).await,
        Halt::Wait { account } => wait(services, workflow, owner, &account).await,
        Halt::Failed {
            message,
            transient: true,
            retry_after,
        } if workflow.attempts + 1 < services.config.engine.max_attempts => {
            retry(services, workflow, owner, retry_after, &message).await
        }
        Halt::Failed {
            message,
            transient: true,
            ..
        } => {
            let reason = format!(
                "gave up after {} attempts; last: {message}",
                workflow.attempts + 1
            );
            finish(
                services,
                workflow,
                owner,
                WorkflowStatus::DeadLettered,
                &reason,
            )
            .await
        }
        Halt::Failed { message, .. } => {
            finish(
                services,
                workflow,
                owner,
                WorkflowStatus::DeadLettered,
                &message,
            )
            .await
        }
    }
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
