//! What the web console reads beyond the admin API's queries: the overview's
//! counts, the drafts waiting for approval, and chosen step outputs for a page of
//! workflows — each one query, whatever the page size (no N+1).
//! A draft stops waiting once the send ledger (`side_effects`) claimed its send.

use chrono::NaiveDateTime;
use diesel::dsl::count_star;
use diesel::prelude::*;

use super::schema::{side_effects, step_runs, workflows};
use super::side_effects::{EffectKind, EffectState};
use super::workflows::{WorkflowRow, WorkflowStatus};
use super::{DbConn, StoreError};

/// Workflows created since `since`, counted by status.
pub fn status_counts(
    conn: &mut DbConn,
    since: NaiveDateTime,
) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(workflows::table
        .filter(workflows::created_at.ge(since))
        .group_by(workflows::status)
        .select((workflows::status, count_star()))
        .order(workflows::status.asc())
        .load(conn)?)
}

/// A completed workflow whose reply is a Gmail draft nobody has sent yet, with
/// its `deliver` and `compose` outputs (JSON text).
#[derive(Debug, Clone)]
pub struct WaitingDraft {
    pub workflow: WorkflowRow,
    pub delivery: String,
    pub compose: Option<String>,
    /// Why the draft went stale (never to be sent), when it did.
    pub stale: Option<crate::domain::StaleReason>,
}

/// Drafts waiting for approval, newest first: two queries for any `limit`.
pub fn drafts_waiting(conn: &mut DbConn, limit: i64) -> Result<Vec<WaitingDraft>, StoreError> {
    // Delivery outputs are serialised by serde_json, which writes an unsent
    // reply as `"sent_message_id":null`; the check is repeated on the parsed JSON.
    let rows: Vec<(WorkflowRow, Option<String>)> = workflows::table
        .inner_join(step_runs::table)
        .filter(workflows::status.eq(WorkflowStatus::Completed.as_str()))
        .filter(step_runs::step.eq("deliver"))
        .filter(step_runs::output.like("%\"sent_message_id\":null%"))
        // A draft whose send was claimed (done, or in flight) is no longer waiting.
        .filter(diesel::dsl::not(diesel::dsl::exists(
            side_effects::table
                .filter(side_effects::workflow_id.eq(workflows::id))
                .filter(side_effects::kind.eq(EffectKind::GmailSend.as_str()))
                .filter(side_effects::state.ne(EffectState::Planned.as_str())),
        )))
        .order((workflows::created_at.desc(), workflows::id.desc()))
        .limit(limit)
        .select((WorkflowRow::as_select(), step_runs::output))
        .load(conn)?;
    let waiting: Vec<(WorkflowRow, String)> = rows
        .into_iter()
        .filter_map(|(w, out)| out.map(|o| (w, o)))
        .filter(|(_, out)| {
            serde_json::from_str::<serde_json::Value>(out)
                .is_ok_and(|v| v["sent_message_id"].is_null() && v["draft_id"].is_string())
        })
        .collect();
    let ids: Vec<String> = waiting.iter().map(|(w, _)| w.id.clone()).collect();
    let composed = step_outputs(conn, &ids, &["compose"])?;
    let watches = super::draft_watches::find_many(conn, &ids)?;
    Ok(waiting
        .into_iter()
        .map(|(workflow, delivery)| {
            let compose = composed
                .iter()
                .find(|(id, _, _)| *id == workflow.id)
                .and_then(|(_, _, out)| out.clone());
            let stale = watches
                .iter()
                .find(|w| w.workflow_id == workflow.id)
                .and_then(|w| w.stale());
            WaitingDraft {
                workflow,
                delivery,
                compose,
                stale,
            }
        })
        .collect())
}

/// The outputs of `steps` for the workflows `ids`, as (workflow id, step, output).
pub fn step_outputs(
    conn: &mut DbConn,
    ids: &[String],
    steps: &[&str],
) -> Result<Vec<(String, String, Option<String>)>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(step_runs::table
        .filter(step_runs::workflow_id.eq_any(ids))
        .filter(step_runs::step.eq_any(steps))
        .select((step_runs::workflow_id, step_runs::step, step_runs::output))
        .load(conn)?)
}

/// One prospect: their address, how many submissions, the newest.
#[derive(Debug, Clone)]
pub struct ContactSummary {
    pub email: String,
    pub submissions: i64,
    pub latest: WorkflowRow,
}

/// Prospects by address, after `after`, optionally those whose address,
/// company, name or last name starts with `search` (see [`super::search`]:
/// index ranges, not a scan of every submission). Two queries: the grouped
/// page, then the page's workflows.
pub fn contacts(
    conn: &mut DbConn,
    search: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<ContactSummary>, StoreError> {
    let mut query = workflows::table
        .group_by(workflows::email)
        .select((workflows::email, count_star()))
        .into_boxed();
    if let Some(matches) = search.and_then(super::search::matches) {
        query = query.filter(matches);
    }
    if let Some(after) = after {
        query = query.filter(workflows::email.gt(after.to_string()));
    }
    let page: Vec<(String, i64)> = query
        .order(workflows::email.asc())
        .limit(limit)
        .load(conn)?;
    let emails: Vec<&str> = page.iter().map(|(e, _)| e.as_str()).collect();
    let rows: Vec<WorkflowRow> = workflows::table
        .filter(workflows::email.eq_any(&emails))
        .order((workflows::created_at.desc(), workflows::id.desc()))
        .select(WorkflowRow::as_select())
        .load(conn)?;
    Ok(page
        .into_iter()
        .filter_map(|(email, submissions)| {
            let latest = rows.iter().find(|r| r.email == email)?.clone();
            Some(ContactSummary {
                email,
                submissions,
                latest,
            })
        })
        .collect())
}
