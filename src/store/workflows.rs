//! Workflows: one per accepted submission, with its status and lease.

use diesel::prelude::*;

use super::schema::workflows;
use super::{DbConn, StoreError};

pub use crate::domain::WorkflowStatus;

/// A workflow row as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = workflows)]
pub struct WorkflowRow {
    pub id: String,
    pub event_id: String,
    pub idempotency_key: String,
    pub email: String,
    pub submission: String,
    pub status: String,
    pub current_step: Option<String>,
    pub attempts: i32,
    pub next_run_at: chrono::NaiveDateTime,
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<chrono::NaiveDateTime>,
    pub last_error: Option<String>,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
    pub finished_at: Option<chrono::NaiveDateTime>,
}

pub fn find_by_id(conn: &mut DbConn, id: &str) -> Result<Option<WorkflowRow>, StoreError> {
    Ok(workflows::table
        .find(id)
        .select(WorkflowRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn find_id_by_key(conn: &mut DbConn, key: &str) -> Result<Option<String>, StoreError> {
    Ok(workflows::table
        .filter(workflows::idempotency_key.eq(key))
        .select(workflows::id)
        .first(conn)
        .optional()?)
}

pub fn count(conn: &mut DbConn) -> Result<i64, StoreError> {
    Ok(workflows::table.count().get_result(conn)?)
}

/// Other workflows for the same address created in `[since, until)` that did not
/// end skipped or cancelled, newest first: the cool-down check of the dedupe step.
/// Only earlier workflows count, so two submissions in flight do not skip each other.
pub fn recent_for_email(
    conn: &mut DbConn,
    email: &str,
    since: chrono::NaiveDateTime,
    until: chrono::NaiveDateTime,
    excluding: &str,
) -> Result<Vec<String>, StoreError> {
    let ignored = [
        WorkflowStatus::Skipped.as_str(),
        WorkflowStatus::Cancelled.as_str(),
    ];
    Ok(workflows::table
        .filter(workflows::email.eq(email))
        .filter(workflows::created_at.ge(since))
        .filter(workflows::created_at.lt(until))
        .filter(workflows::id.ne(excluding))
        .filter(workflows::status.ne_all(ignored))
        .order(workflows::created_at.desc())
        .select(workflows::id)
        .load(conn)?)
}
