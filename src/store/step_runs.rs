//! Step runs: the committed result of each of a workflow's steps, the checkpoint a
//! restarted process resumes from.

use diesel::prelude::*;

use super::schema::{step_runs, workflows};
use super::{DbConn, StoreError, leases, now};

pub use crate::domain::Outcome;
use crate::domain::Step;

/// One step's result, ready to commit.
#[derive(Debug, Clone)]
pub struct NewStepRun<'a> {
    pub workflow_id: &'a str,
    pub step: &'a str,
    pub outcome: Outcome,
    pub attempts: i32,
    pub output: Option<serde_json::Value>,
    pub error: Option<&'a str>,
    pub started_at: chrono::NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = step_runs)]
pub struct StepRunRow {
    pub workflow_id: String,
    pub step: String,
    pub outcome: String,
    pub attempts: i32,
    pub output: Option<String>,
    pub error: Option<String>,
    pub started_at: chrono::NaiveDateTime,
    pub finished_at: chrono::NaiveDateTime,
    pub duration_ms: i64,
}

/// Why a step result was not committed.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// Another process took the workflow over (our lease expired): stop working on it.
    #[error("lease on the workflow was lost")]
    LeaseLost,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<diesel::result::Error> for RecordError {
    fn from(error: diesel::result::Error) -> Self {
        RecordError::Store(error.into())
    }
}

/// Commits a step's result, replacing an earlier attempt of the same step, only
/// while `owner` holds the workflow's lease.
pub fn record(conn: &mut DbConn, owner: &str, run: &NewStepRun<'_>) -> Result<(), RecordError> {
    let finished = now();
    let duration_ms = (finished - run.started_at).num_milliseconds().max(0);
    conn.write_transaction(|c| {
        if !leases::holds(c, owner, run.workflow_id)? {
            return Err(RecordError::LeaseLost);
        }
        diesel::delete(
            step_runs::table
                .filter(step_runs::workflow_id.eq(run.workflow_id))
                .filter(step_runs::step.eq(run.step)),
        )
        .execute(c)?;
        diesel::insert_into(step_runs::table)
            .values((
                step_runs::workflow_id.eq(run.workflow_id),
                step_runs::step.eq(run.step),
                step_runs::outcome.eq(run.outcome.as_str()),
                step_runs::attempts.eq(run.attempts),
                step_runs::output.eq(run.output.as_ref().map(|o| o.to_string())),
                step_runs::error.eq(run.error),
                step_runs::started_at.eq(run.started_at),
                step_runs::finished_at.eq(finished),
                step_runs::duration_ms.eq(duration_ms),
            ))
            .execute(c)?;
        diesel::update(workflows::table.find(run.workflow_id))
            .set((
                workflows::current_step.eq(run.step),
                workflows::updated_at.eq(finished),
            ))
            .execute(c)?;
        if run.step == Step::Deliver.as_str() {
            // Speed to lead (submission to reply drafted or sent), kept on the
            // workflow so the console's chart reads one narrow index.
            let created: chrono::NaiveDateTime = workflows::table
                .find(run.workflow_id)
                .select(workflows::created_at)
                .first(c)?;
            let draft_ms = (finished - created).num_milliseconds().max(0);
            diesel::update(workflows::table.find(run.workflow_id))
                .set(workflows::draft_ms.eq(Some(draft_ms)))
                .execute(c)?;
        }
        Ok(())
    })
}

/// Every recorded step of a workflow, in the steps' own order ([`Step::ALL`]):
/// steps that run side by side finish in any order, and the record reads the
/// same whichever came first.
pub fn list_for_workflow(
    conn: &mut DbConn,
    workflow_id: &str,
) -> Result<Vec<StepRunRow>, StoreError> {
    let mut runs: Vec<StepRunRow> = step_runs::table
        .filter(step_runs::workflow_id.eq(workflow_id))
        .select(StepRunRow::as_select())
        .load(conn)?;
    let position = |name: &str| Step::parse(name).map_or(usize::MAX, |s| s as usize);
    runs.sort_by_key(|r| position(&r.step));
    Ok(runs)
}
