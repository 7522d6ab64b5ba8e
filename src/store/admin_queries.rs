//! What the admin API reads and changes on workflows: the filtered, paginated
//! list, and the retry and cancel transitions (each committed with its audit entry).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{step_runs, workflows};
use super::workflows::{WorkflowRow, WorkflowStatus};
use super::{DbConn, FromStore, StoreError, audit, now, slot_holds};

/// Filters of the workflow list; the cursor is the last row of the previous page.
#[derive(Debug, Clone, Default)]
pub struct WorkflowFilter {
    pub status: Option<WorkflowStatus>,
    pub email: Option<String>,
    /// Leads whose company name starts with this (see [`super::search`]).
    pub company: Option<String>,
    pub created_from: Option<NaiveDateTime>,
    pub created_to: Option<NaiveDateTime>,
    pub before: Option<(NaiveDateTime, String)>,
    pub limit: i64,
}

/// What the console's list also narrows by: the intent `qualify` found and the
/// rep `route` chose, matched in their committed outputs.
#[derive(Debug, Clone, Default)]
pub struct OutputFilter {
    pub intent: Option<String>,
    pub rep: Option<String>,
}

/// A `LIKE … ESCAPE '\\'` pattern matching any text that contains `text` as is.
pub fn contains_pattern(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// Newest first, keyset-paginated on (created_at, id) so deep pages stay cheap.
pub fn list_workflows(
    conn: &mut DbConn,
    filter: &WorkflowFilter,
) -> Result<Vec<WorkflowRow>, StoreError> {
    list_workflows_with(conn, filter, &OutputFilter::default())
}

/// [`list_workflows`], narrowed by step outputs too (one query still).
pub fn list_workflows_with(
    conn: &mut DbConn,
    filter: &WorkflowFilter,
    outputs: &OutputFilter,
) -> Result<Vec<WorkflowRow>, StoreError> {
    let mut query = workflows::table
        .select(WorkflowRow::as_select())
        .into_boxed();
    if let Some(status) = filter.status {
        query = query.filter(workflows::status.eq(status.as_str()));
    }
    if let Some(email) = &filter.email {
        query = query.filter(workflows::email.eq(email.trim().to_lowercase()));
    }
    if let Some((low, high)) = filter.company.as_deref().and_then(super::search::key_range) {
        query = query.filter(
            workflows::company_key
                .ge(low)
                .and(workflows::company_key.lt(high)),
        );
    }
    if let Some(from) = filter.created_from {
        query = query.filter(workflows::created_at.ge(from));
    }
    if let Some(to) = filter.created_to {
        query = query.filter(workflows::created_at.lt(to));
    }
    for (step, key, value) in [
        ("qualify", "intent", &outputs.intent),
        ("route", "rep_id", &outputs.rep),
    ] {
        let Some(value) = value else { continue };
        // Outputs are compact serde_json: a top-level `"key":"value"` pair is
        // this exact text, and a quote inside another string would be escaped.
        let pair = format!("\"{key}\":{}", serde_json::Value::from(value.as_str()));
        let pattern = contains_pattern(&pair);
        query = query.filter(diesel::dsl::exists(
            step_runs::table
                .filter(step_runs::workflow_id.eq(workflows::id))
                .filter(step_runs::step.eq(step))
                .filter(step_runs::output.like(pattern).escape('\\')),
        ));
    }
    if let Some((at, id)) = &filter.before {
        query = query.filter(
            workflows::created_at.lt(*at).or(workflows::created_at
                .eq(*at)
                .and(workflows::id.lt(id.clone()))),
        );
    }
    Ok(query
        .order((workflows::created_at.desc(), workflows::id.desc()))
        .limit(filter.limit)
        .load(conn)?)
}

/// Why an admin transition did not happen.
#[derive(Debug, thiserror::Error)]
pub enum TransitionError {
    #[error("no such workflow")]
    NotFound,
    #[error("workflow is {0}")]
    Conflict(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl FromStore for TransitionError {
    fn store_error(&self) -> Option<&StoreError> {
        match self {
            TransitionError::Store(error) => Some(error),
            _ => None,
        }
    }
}

impl From<diesel::result::Error> for TransitionError {
    fn from(error: diesel::result::Error) -> Self {
        TransitionError::Store(error.into())
    }
}

/// Who asked for a transition and why; lands in the audit log with it.
pub struct Request<'a> {
    pub workflow_id: &'a str,
    pub actor: &'a str,
    pub reason: &'a str,
}

/// A dead-lettered workflow becomes runnable again and resumes from its first
/// unfinished step, with a fresh set of attempts (the ones it used up are what
/// dead-lettered it).
pub fn retry(conn: &mut DbConn, request: &Request<'_>) -> Result<(), TransitionError> {
    conn.write_transaction(|c| {
        transition(
            c,
            request,
            &[WorkflowStatus::DeadLettered],
            WorkflowStatus::Pending,
            "workflow.retry",
        )?;
        diesel::update(workflows::table.find(request.workflow_id))
            .set(workflows::attempts.eq(0))
            .execute(c)?;
        Ok(())
    })
}

/// An unfinished workflow stops for good; a process working on it loses its
/// lease, and the slots it held are free for other prospects.
pub fn cancel(conn: &mut DbConn, request: &Request<'_>) -> Result<(), TransitionError> {
    conn.write_transaction(|c| {
        transition(
            c,
            request,
            &WorkflowStatus::UNFINISHED,
            WorkflowStatus::Cancelled,
            "workflow.cancel",
        )?;
        slot_holds::release(c, request.workflow_id).map_err(TransitionError::Store)?;
        Ok(())
    })
}

/// Runs inside the caller's write transaction: it reads, then writes.
fn transition(
    c: &mut DbConn,
    request: &Request<'_>,
    from: &[WorkflowStatus],
    to: WorkflowStatus,
    action: &str,
) -> Result<(), TransitionError> {
    {
        let current: Option<String> = workflows::table
            .find(request.workflow_id)
            .select(workflows::status)
            .first(c)
            .optional()?;
        let current = current.ok_or(TransitionError::NotFound)?;
        let from_names: Vec<&str> = from.iter().map(|s| s.as_str()).collect();
        let at = now();
        let finished = (!WorkflowStatus::UNFINISHED.contains(&to)).then_some(at);
        // The status guard in the WHERE clause makes a concurrent change lose cleanly.
        let changed = diesel::update(
            workflows::table
                .find(request.workflow_id)
                .filter(workflows::status.eq_any(&from_names)),
        )
        .set((
            workflows::status.eq(to.as_str()),
            workflows::next_run_at.eq(at),
            workflows::lease_owner.eq(None::<String>),
            workflows::lease_expires_at.eq(None::<NaiveDateTime>),
            workflows::finished_at.eq(finished),
            workflows::updated_at.eq(at),
        ))
        .execute(c)?;
        if changed == 0 {
            return Err(TransitionError::Conflict(current));
        }
        audit::append(
            c,
            &audit::Entry {
                actor: request.actor,
                action,
                workflow_id: Some(request.workflow_id),
                reason: Some(request.reason),
                detail: serde_json::json!({ "from": current, "to": to.as_str() }),
            },
        )?;
        Ok(())
    }
}
