//! The append-only audit log: every side effect and admin action, with who, when,
//! why and which workflow. The database refuses updates and deletes (triggers).

use diesel::prelude::*;

use super::schema::audit_log;
use super::{DbConn, StoreError, now};

/// One entry to append.
pub struct Entry<'a> {
    pub actor: &'a str,
    pub action: &'a str,
    pub workflow_id: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub detail: serde_json::Value,
}

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = audit_log)]
pub struct AuditRow {
    pub id: i64,
    pub at: chrono::NaiveDateTime,
    pub actor: String,
    pub action: String,
    pub workflow_id: Option<String>,
    pub reason: Option<String>,
    pub detail: String,
}

pub fn append(conn: &mut DbConn, entry: &Entry<'_>) -> Result<(), StoreError> {
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::at.eq(now()),
            audit_log::actor.eq(entry.actor),
            audit_log::action.eq(entry.action),
            audit_log::workflow_id.eq(entry.workflow_id),
            audit_log::reason.eq(entry.reason),
            audit_log::detail.eq(entry.detail.to_string()),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn list_for_workflow(
    conn: &mut DbConn,
    workflow_id: &str,
) -> Result<Vec<AuditRow>, StoreError> {
    Ok(audit_log::table
        .filter(audit_log::workflow_id.eq(workflow_id))
        .order(audit_log::id.asc())
        .select(AuditRow::as_select())
        .load(conn)?)
}

/// The newest entries first, optionally for one workflow, before entry `before`.
pub fn list_recent(
    conn: &mut DbConn,
    workflow_id: Option<&str>,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<AuditRow>, StoreError> {
    let mut query = audit_log::table.select(AuditRow::as_select()).into_boxed();
    if let Some(id) = workflow_id {
        query = query.filter(audit_log::workflow_id.eq(id.to_string()));
    }
    if let Some(before) = before {
        query = query.filter(audit_log::id.lt(before));
    }
    Ok(query.order(audit_log::id.desc()).limit(limit).load(conn)?)
}
