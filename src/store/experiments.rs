//! Experiments and their assignments. An assignment is unique per (experiment,
//! contact): the first workflow for a contact records it, later ones read it back,
//! so a re-run step or a second submission never moves a contact between arms.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde::Serialize;

use super::schema::{experiment_assignments as ea, experiments};
use super::{DbConn, StoreError, now};
use crate::domain::Variant;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Experiment {
    pub id: String,
    pub name: String,
    pub variants: Vec<Variant>,
    pub status: String,
    pub created_at: NaiveDateTime,
    pub created_by: String,
    pub stopped_at: Option<NaiveDateTime>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = experiments)]
struct ExperimentRow {
    id: String,
    name: String,
    variants: String,
    status: String,
    created_at: NaiveDateTime,
    created_by: String,
    stopped_at: Option<NaiveDateTime>,
}

impl ExperimentRow {
    fn into_experiment(self) -> Result<Experiment, StoreError> {
        Ok(Experiment {
            variants: serde_json::from_str(&self.variants)
                .map_err(|e| StoreError::Corrupt(format!("experiment variants: {e}")))?,
            id: self.id,
            name: self.name,
            status: self.status,
            created_at: self.created_at,
            created_by: self.created_by,
            stopped_at: self.stopped_at,
        })
    }
}

pub const RUNNING: &str = "running";
pub const STOPPED: &str = "stopped";

/// Creates a running experiment and returns it.
pub fn insert(
    conn: &mut DbConn,
    name: &str,
    variants: &[Variant],
    by: &str,
) -> Result<Experiment, StoreError> {
    let id = uuid::Uuid::new_v4().to_string();
    let variants_json = serde_json::to_string(variants)
        .map_err(|e| StoreError::Corrupt(format!("experiment variants: {e}")))?;
    diesel::insert_into(experiments::table)
        .values((
            experiments::id.eq(&id),
            experiments::name.eq(name),
            experiments::variants.eq(variants_json),
            experiments::status.eq(RUNNING),
            experiments::created_at.eq(now()),
            experiments::created_by.eq(by),
        ))
        .execute(conn)?;
    find(conn, &id)?.ok_or_else(|| StoreError::Corrupt("experiment vanished after insert".into()))
}

pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<Experiment>, StoreError> {
    experiments::table
        .find(id)
        .select(ExperimentRow::as_select())
        .first(conn)
        .optional()?
        .map(ExperimentRow::into_experiment)
        .transpose()
}

/// Every experiment, newest first.
pub fn list(conn: &mut DbConn) -> Result<Vec<Experiment>, StoreError> {
    experiments::table
        .order((experiments::created_at.desc(), experiments::id.asc()))
        .select(ExperimentRow::as_select())
        .load(conn)?
        .into_iter()
        .map(ExperimentRow::into_experiment)
        .collect()
}

/// Running experiments, oldest first (the order they are applied in).
pub fn list_running(conn: &mut DbConn) -> Result<Vec<Experiment>, StoreError> {
    experiments::table
        .filter(experiments::status.eq(RUNNING))
        .order((experiments::created_at.asc(), experiments::id.asc()))
        .select(ExperimentRow::as_select())
        .load(conn)?
        .into_iter()
        .map(ExperimentRow::into_experiment)
        .collect()
}

/// Stops a running experiment; false when it was not running.
pub fn stop(conn: &mut DbConn, id: &str) -> Result<bool, StoreError> {
    let changed = diesel::update(
        experiments::table
            .find(id)
            .filter(experiments::status.eq(RUNNING)),
    )
    .set((
        experiments::status.eq(STOPPED),
        experiments::stopped_at.eq(Some(now())),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Serialize)]
#[diesel(table_name = ea)]
pub struct Assignment {
    pub id: String,
    pub experiment_id: String,
    pub contact_email: String,
    pub variant: String,
    pub workflow_id: String,
    pub assigned_at: NaiveDateTime,
    pub replied_at: Option<NaiveDateTime>,
    pub meeting_at: Option<NaiveDateTime>,
    pub checked_at: Option<NaiveDateTime>,
}

pub fn find_assignment(
    conn: &mut DbConn,
    experiment_id: &str,
    email: &str,
) -> Result<Option<Assignment>, StoreError> {
    Ok(ea::table
        .filter(ea::experiment_id.eq(experiment_id))
        .filter(ea::contact_email.eq(email.trim().to_lowercase()))
        .select(Assignment::as_select())
        .first(conn)
        .optional()?)
}

/// The contact's assignment, recorded now if it is their first. Idempotent:
/// the unique (experiment, contact) key makes a racing second insert read back
/// the first.
pub fn assign(
    conn: &mut DbConn,
    experiment_id: &str,
    email: &str,
    variant: &str,
    workflow_id: &str,
) -> Result<Assignment, StoreError> {
    if let Some(existing) = find_assignment(conn, experiment_id, email)? {
        return Ok(existing);
    }
    let inserted = diesel::insert_into(ea::table)
        .values((
            ea::id.eq(uuid::Uuid::new_v4().to_string()),
            ea::experiment_id.eq(experiment_id),
            ea::contact_email.eq(email.trim().to_lowercase()),
            ea::variant.eq(variant),
            ea::workflow_id.eq(workflow_id),
            ea::assigned_at.eq(now()),
        ))
        .execute(conn);
    match inserted {
        Ok(_) | Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            find_assignment(conn, experiment_id, email)?
                .ok_or_else(|| StoreError::Corrupt("assignment vanished after insert".into()))
        }
        Err(e) => Err(e.into()),
    }
}

/// Every assignment of an experiment.
pub fn assignments(conn: &mut DbConn, experiment_id: &str) -> Result<Vec<Assignment>, StoreError> {
    Ok(ea::table
        .filter(ea::experiment_id.eq(experiment_id))
        .order(ea::assigned_at.asc())
        .select(Assignment::as_select())
        .load(conn)?)
}

/// The assignments a workflow made (one per experiment running then).
pub fn assignments_of_workflow(
    conn: &mut DbConn,
    workflow_id: &str,
) -> Result<Vec<Assignment>, StoreError> {
    Ok(ea::table
        .filter(ea::workflow_id.eq(workflow_id))
        .select(Assignment::as_select())
        .load(conn)?)
}

/// Assignments since `since` still missing a reply or a meeting: what the
/// outcome check looks at.
pub fn open_assignments(
    conn: &mut DbConn,
    since: NaiveDateTime,
    limit: i64,
) -> Result<Vec<Assignment>, StoreError> {
    Ok(ea::table
        .filter(ea::assigned_at.ge(since))
        .filter(ea::replied_at.is_null().or(ea::meeting_at.is_null()))
        .order(ea::checked_at.asc())
        .limit(limit)
        .select(Assignment::as_select())
        .load(conn)?)
}

/// Records what the check found; an outcome already recorded is kept.
pub fn record_outcome(
    conn: &mut DbConn,
    id: &str,
    replied_at: Option<NaiveDateTime>,
    meeting_at: Option<NaiveDateTime>,
) -> Result<(), StoreError> {
    let current: Assignment = ea::table
        .find(id)
        .select(Assignment::as_select())
        .first(conn)?;
    diesel::update(ea::table.find(id))
        .set((
            ea::replied_at.eq(current.replied_at.or(replied_at)),
            ea::meeting_at.eq(current.meeting_at.or(meeting_at)),
            ea::checked_at.eq(Some(now())),
        ))
        .execute(conn)?;
    Ok(())
}
