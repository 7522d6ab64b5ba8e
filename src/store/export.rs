//! Everything held about one address, as one JSON document (GDPR Art. 15, the
//! `GET /api/contacts/{email}/export` route): each workflow with its submission,
//! raw event, step results, ledger rows, slot holds, wait and audit trail; the
//! person's experiment assignments; and whether, and how, they are suppressed.
//! Stored JSON is given back as JSON, anything else as text.

use diesel::prelude::*;
use serde_json::{Value, json};

use super::schema::{
    experiment_assignments as ea, inbound_events, side_effects, slot_holds, workflow_waits,
    workflows,
};
use super::suppressions::{self, SuppressionRow};
use super::workflows::WorkflowRow;
use super::{DbConn, StoreError, audit, now, step_runs};

pub fn export(conn: &mut DbConn, email: &str) -> Result<Value, StoreError> {
    let email = email.trim().to_lowercase();
    conn.transaction(|c| {
        let rows: Vec<WorkflowRow> = workflows::table
            .filter(workflows::email.eq(&email))
            .order((workflows::created_at.asc(), workflows::id.asc()))
            .select(WorkflowRow::as_select())
            .load(c)?;
        let mut held = Vec::with_capacity(rows.len());
        for row in &rows {
            held.push(workflow(c, row)?);
        }
        let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
        let assignments: Vec<(String, String, String, String, chrono::NaiveDateTime)> = ea::table
            .filter(
                ea::contact_email
                    .eq(&email)
                    .or(ea::workflow_id.eq_any(&ids)),
            )
            .select((
                ea::id,
                ea::experiment_id,
                ea::variant,
                ea::workflow_id,
                ea::assigned_at,
            ))
            .load(c)?;
        let clear: Option<SuppressionRow> = super::schema::suppressions::table
            .find(&email)
            .select(SuppressionRow::as_select())
            .first(c)
            .optional()?;
        Ok(json!({
            "email": email,
            "exported_at": now(),
            "suppression": {
                "suppressed": clear.is_some() || suppressions::is_erased(c, &email)?,
                "listed": clear,
                "erased_hash": suppressions::is_erased(c, &email)?
                    .then(|| suppressions::email_hash(&email)),
            },
            "workflows": held,
            "experiment_assignments": assignments.into_iter().map(|a| json!({
                "id": a.0, "experiment_id": a.1, "variant": a.2, "workflow_id": a.3,
                "assigned_at": a.4,
            })).collect::<Vec<_>>(),
        }))
    })
}

fn workflow(c: &mut DbConn, row: &WorkflowRow) -> Result<Value, StoreError> {
    let event: Option<(String, String, chrono::NaiveDateTime)> = inbound_events::table
        .find(&row.event_id)
        .select((
            inbound_events::source,
            inbound_events::raw_body,
            inbound_events::received_at,
        ))
        .first(c)
        .optional()?;
    let steps: Vec<Value> = step_runs::list_for_workflow(c, &row.id)?
        .into_iter()
        .map(|s| {
            json!({
                "step": s.step, "outcome": s.outcome, "attempts": s.attempts,
                "output": s.output.as_deref().map(parsed), "error": s.error,
                "started_at": s.started_at, "finished_at": s.finished_at,
            })
        })
        .collect();
    type Effect = (String, String, Option<String>, Option<String>, String);
    let effects: Vec<Effect> = side_effects::table
        .filter(side_effects::workflow_id.eq(&row.id))
        .select((
            side_effects::kind,
            side_effects::state,
            side_effects::mailbox,
            side_effects::external_id,
            side_effects::detail,
        ))
        .load(c)?;
    let holds: Vec<(String, chrono::NaiveDateTime, chrono::NaiveDateTime)> = slot_holds::table
        .filter(slot_holds::workflow_id.eq(&row.id))
        .select((
            slot_holds::rep_id,
            slot_holds::slot_start,
            slot_holds::slot_end,
        ))
        .load(c)?;
    let wait: Option<(String, String, chrono::NaiveDateTime)> = workflow_waits::table
        .find(&row.id)
        .select((
            workflow_waits::provider,
            workflow_waits::account,
            workflow_waits::since,
        ))
        .first(c)
        .optional()?;
    let trail = audit::list_for_workflow(c, &row.id)?;
    Ok(json!({
        "id": row.id,
        "status": row.status,
        "created_at": row.created_at,
        "finished_at": row.finished_at,
        "last_error": row.last_error,
        "submission": parsed(&row.submission),
        "event": event.map(|(source, raw, at)| json!({
            "source": source, "received_at": at, "raw_body": parsed(&raw),
        })),
        "steps": steps,
        "side_effects": effects.into_iter().map(|e| json!({
            "kind": e.0, "state": e.1, "mailbox": e.2, "external_id": e.3, "detail": parsed(&e.4),
        })).collect::<Vec<_>>(),
        "slot_holds": holds.into_iter().map(|h| json!({
            "rep_id": h.0, "start": h.1, "end": h.2,
        })).collect::<Vec<_>>(),
        "waiting_for": wait.map(|w| json!({ "provider": w.0, "account": w.1, "since": w.2 })),
        "audit": trail,
    }))
}

/// Stored JSON as JSON; anything else as the text it is.
fn parsed(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
}
