//! Pilot writes: the requests a workflow would have made outside (HubSpot, Gmail,
//! Drive) had it not run in pilot mode — method, path, JSON body and, for mail,
//! the MIME message — kept with the workflow for the console and the admin API.
//! A step that runs again replaces what it recorded before, so a re-run never
//! doubles the record.

use chrono::NaiveDateTime;
use diesel::dsl::exists;
use diesel::prelude::*;

use super::schema::pilot_writes;
use super::{DbConn, StoreError, now};
use crate::domain::Step;

/// One request a step would have made.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPilotWrite {
    /// The endpoint's stable id, e.g. `hubspot.notes.create`.
    pub endpoint: String,
    pub method: String,
    /// The path and query as they would be requested, without the provider's host.
    pub path: String,
    pub body: Option<serde_json::Value>,
    /// The RFC 5322 message, for mail.
    pub message: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = pilot_writes)]
pub struct PilotWriteRow {
    pub workflow_id: String,
    pub step: String,
    pub seq: i32,
    pub endpoint: String,
    pub method: String,
    pub path: String,
    pub body: Option<String>,
    pub message: Option<String>,
    pub planned_at: NaiveDateTime,
}

/// Replaces what `step` of the workflow recorded with `writes`, in one transaction.
pub fn replace(
    conn: &mut DbConn,
    workflow_id: &str,
    step: &str,
    writes: &[NewPilotWrite],
) -> Result<(), StoreError> {
    conn.write_transaction(|c| {
        diesel::delete(
            pilot_writes::table
                .filter(pilot_writes::workflow_id.eq(workflow_id))
                .filter(pilot_writes::step.eq(step)),
        )
        .execute(c)?;
        let at = now();
        for (seq, write) in writes.iter().enumerate() {
            let body = write.body.as_ref().map(|b| b.to_string());
            // One row per insert: multi-row inserts do not compile through the
            // two-backend connection.
            diesel::insert_into(pilot_writes::table)
                .values((
                    pilot_writes::workflow_id.eq(workflow_id),
                    pilot_writes::step.eq(step),
                    pilot_writes::seq.eq(i32::try_from(seq).unwrap_or(i32::MAX)),
                    pilot_writes::endpoint.eq(&write.endpoint),
                    pilot_writes::method.eq(&write.method),
                    pilot_writes::path.eq(&write.path),
                    pilot_writes::body.eq(body),
                    pilot_writes::message.eq(&write.message),
                    pilot_writes::planned_at.eq(at),
                ))
                .execute(c)?;
        }
        Ok(())
    })
}

/// Everything the workflow recorded, in the steps' order.
pub fn list_for_workflow(
    conn: &mut DbConn,
    workflow_id: &str,
) -> Result<Vec<PilotWriteRow>, StoreError> {
    let mut rows: Vec<PilotWriteRow> = pilot_writes::table
        .filter(pilot_writes::workflow_id.eq(workflow_id))
        .select(PilotWriteRow::as_select())
        .load(conn)?;
    rows.sort_by_key(|r| (Step::parse(&r.step), r.seq));
    Ok(rows)
}

/// Whether the workflow has recorded any write: it is then a pilot run to its end.
pub fn any_for_workflow(conn: &mut DbConn, workflow_id: &str) -> Result<bool, StoreError> {
    Ok(diesel::select(exists(
        pilot_writes::table.filter(pilot_writes::workflow_id.eq(workflow_id)),
    ))
    .get_result(conn)?)
}
