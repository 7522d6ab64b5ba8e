//! Erasing one person (GDPR Art. 17): every row this service holds about an
//! address goes in one transaction — their workflows with the raw events, step
//! results, ledger rows, slot holds and waits; their experiment assignments keep
//! only the variant and outcome under an anonymous key; audit entries about them
//! keep who, what and when but lose their detail — and the address stays
//! suppressed by its hash alone (`suppressions::keep_hash_only`).
//!
//! Workflows still in flight are cancelled by the same removal: their rows go,
//! so the actor working on one finds no lease at its next write and stops
//! (`step_runs::record`, `leases`). A call already on its way to Gmail or
//! HubSpot at that instant cannot be called back; a send checks the suppression
//! list inside its transaction, so none starts afterwards.

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};

use super::schema::{
    audit_log, experiment_assignments, inbound_events, side_effects, slot_holds, step_runs,
    workflow_waits, workflows,
};
use super::{DbConn, StoreError, audit, suppressions};
use crate::domain::WorkflowStatus;

/// What a redacted audit entry's detail becomes: the one change the audit log's
/// trigger allows (with clearing the reason).
pub const REDACTED: &str = r#"{"redacted":true}"#;

/// What went, by kind: the erasure's receipt and its audit entry's detail.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Erased {
    /// The suppression key that now stands for the person.
    pub email_sha256: String,
    pub workflows: usize,
    /// Of those, the ones still in flight, cancelled by the erasure.
    pub cancelled: usize,
    #[serde(flatten)]
    pub removed: Removed,
    pub audit_entries_redacted: usize,
    /// The address was on the suppression list in the clear (now only hashed).
    pub was_suppressed: bool,
    /// False when nothing was held any more: a repeated request changes nothing.
    pub changed: bool,
}

/// Rows removed with a set of workflows.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Removed {
    pub events: usize,
    pub step_runs: usize,
    pub side_effects: usize,
    pub slot_holds: usize,
    pub waits: usize,
    pub draft_watches: usize,
    pub experiment_assignments: usize,
}

/// Erases `email` everywhere and keeps it suppressed by hash, with an audit
/// entry by `actor` whose reason has the person's address and names taken out.
pub fn erase(
    conn: &mut DbConn,
    email: &str,
    actor: &str,
    reason: &str,
) -> Result<Erased, StoreError> {
    let email = email.trim().to_lowercase();
    let erased = conn.write_transaction(|c| {
        let held: Vec<(String, String, String, String)> = workflows::table
            .filter(workflows::email.eq(&email))
            .select((
                workflows::id,
                workflows::event_id,
                workflows::status,
                workflows::submission,
            ))
            .load(c)?;
        let ids: Vec<String> = held.iter().map(|w| w.0.clone()).collect();
        let event_ids: Vec<String> = held.iter().map(|w| w.1.clone()).collect();
        let unfinished: Vec<&str> = WorkflowStatus::UNFINISHED.map(|s| s.as_str()).to_vec();
        let cancelled = held
            .iter()
            .filter(|w| unfinished.contains(&w.2.as_str()))
            .count();
        let mut needles = vec![email.clone()];
        needles.extend(held.iter().flat_map(|w| names_in(&w.3)));
        needles.sort();
        needles.dedup();

        let mut removed = remove_workflows(c, &ids, &event_ids)?;
        // Assignments of this address whose workflow is already gone.
        let left: Vec<String> = experiment_assignments::table
            .filter(experiment_assignments::contact_email.eq(&email))
            .select(experiment_assignments::id)
            .load(c)?;
        removed.experiment_assignments += anonymise_assignments(c, &left)?;
        let audit_entries_redacted = redact_audit(c, &ids, &needles)?;
        let was_suppressed =
            suppressions::is_suppressed(c, &email)? && !suppressions::is_erased(c, &email)?;
        let newly_hashed = suppressions::keep_hash_only(c, &email, actor)?;
        let mut erased = Erased {
            email_sha256: suppressions::email_hash(&email),
            workflows: ids.len(),
            cancelled,
            removed,
            audit_entries_redacted,
            was_suppressed,
            changed: false,
        };
        erased.changed = newly_hashed
            || erased.workflows > 0
            || erased.audit_entries_redacted > 0
            || erased.removed.experiment_assignments > 0;
        if erased.changed {
            audit::append(
                c,
                &audit::Entry {
                    actor,
                    action: "contact.erased",
                    workflow_id: None,
                    reason: Some(&scrub(reason, &needles)),
                    detail: serde_json::to_value(&erased).unwrap_or_default(),
                },
            )?;
        }
        Ok::<_, StoreError>(erased)
    })?;
    forget_freed_pages(conn);
    Ok(erased)
}

/// Deletes the workflows `ids` (whose events are `event_ids`) with every row
/// that hangs off them; experiment assignments stay, anonymised, so results
/// keep their counts. Runs inside the caller's transaction.
pub(super) fn remove_workflows(
    c: &mut DbConn,
    ids: &[String],
    event_ids: &[String],
) -> Result<Removed, StoreError> {
    if ids.is_empty() {
        return Ok(Removed::default());
    }
    let assigned: Vec<String> = experiment_assignments::table
        .filter(experiment_assignments::workflow_id.eq_any(ids))
        .select(experiment_assignments::id)
        .load(c)?;
    let experiment_assignments = anonymise_assignments(c, &assigned)?;
    let slot_holds =
        diesel::delete(slot_holds::table.filter(slot_holds::workflow_id.eq_any(ids))).execute(c)?;
    let waits =
        diesel::delete(workflow_waits::table.filter(workflow_waits::workflow_id.eq_any(ids)))
            .execute(c)?;
    let draft_watches = super::draft_watches::delete_for(c, ids)?;
    let side_effects =
        diesel::delete(side_effects::table.filter(side_effects::workflow_id.eq_any(ids)))
            .execute(c)?;
    let step_runs =
        diesel::delete(step_runs::table.filter(step_runs::workflow_id.eq_any(ids))).execute(c)?;
    diesel::delete(workflows::table.filter(workflows::id.eq_any(ids))).execute(c)?;
    let events = diesel::delete(inbound_events::table.filter(inbound_events::id.eq_any(event_ids)))
        .execute(c)?;
    Ok(Removed {
        events,
        step_runs,
        side_effects,
        slot_holds,
        waits,
        draft_watches,
        experiment_assignments,
    })
}

/// Replaces the contact address of the assignments `ids` with `erased:<id>`:
/// unique as the address was, naming no one.
fn anonymise_assignments(c: &mut DbConn, ids: &[String]) -> Result<usize, StoreError> {
    let mut changed = 0;
    for chunk in ids.chunks(500) {
        changed += diesel::update(
            experiment_assignments::table.filter(experiment_assignments::id.eq_any(chunk)),
        )
        .set(experiment_assignments::contact_email.eq(sql::<Text>("'erased:' || id")))
        .execute(c)?;
    }
    Ok(changed)
}

/// Redacts the audit entries of the workflows `ids`, and any other entry whose
/// detail or reason names one of `needles` (the address, the person's names).
/// A scan of the log: an erasure is rare, and an entry about a person may sit
/// anywhere (a suppression added by hand names no workflow).
fn redact_audit(c: &mut DbConn, ids: &[String], needles: &[String]) -> Result<usize, StoreError> {
    let mut found: Vec<i64> = if ids.is_empty() {
        Vec::new()
    } else {
        audit_log::table
            .filter(audit_log::workflow_id.eq_any(ids))
            .select(audit_log::id)
            .load(c)?
    };
    for needle in needles {
        let pattern = super::admin_queries::contains_pattern(&needle.to_lowercase());
        let names = |column: &str| {
            sql::<Bool>(&format!("lower(coalesce({column}, '')) LIKE "))
                .bind::<Text, _>(pattern.clone())
                .sql(" ESCAPE '\\'")
        };
        found.extend(
            audit_log::table
                .filter(names("detail").or(names("reason")))
                .select(audit_log::id)
                .load::<i64>(c)?,
        );
    }
    found.sort_unstable();
    found.dedup();
    let mut redacted = 0;
    for chunk in found.chunks(500) {
        redacted += diesel::update(
            audit_log::table.filter(audit_log::id.eq_any(chunk)).filter(
                audit_log::detail
                    .ne(REDACTED)
                    .or(audit_log::reason.is_not_null()),
            ),
        )
        .set((
            audit_log::detail.eq(REDACTED),
            audit_log::reason.eq(None::<String>),
        ))
        .execute(c)?;
    }
    Ok(redacted)
}

/// The person's names in a stored submission ("first last", "full name"), the
/// way they may have been written into a reason; none shorter than 3 letters.
fn names_in(submission: &str) -> Vec<String> {
    let Ok(doc) = serde_json::from_str::<serde_json::Value>(submission) else {
        return Vec::new();
    };
    let field = |name: &str| {
        doc["fields"][name]
            .as_str()
            .unwrap_or("")
            .trim()
            .to_string()
    };
    let joined = format!("{} {}", field("first_name"), field("last_name"));
    [joined.trim().to_string(), field("full_name")]
        .into_iter()
        .filter(|n| n.chars().count() >= 3)
        .collect()
}

/// `text` with every `needle` (ASCII case-insensitive) replaced by `[erased]`.
pub(crate) fn scrub(text: &str, needles: &[String]) -> String {
    let mut out = text.to_string();
    for needle in needles.iter().filter(|n| !n.is_empty()) {
        let lower_needle = needle.to_ascii_lowercase();
        while let Some(at) = out.to_ascii_lowercase().find(&lower_needle) {
            out.replace_range(at..at + lower_needle.len(), "[erased]");
        }
    }
    out
}

/// SQLite keeps old page images in the write-ahead log until a checkpoint
/// rewrites it; truncating it leaves the erased rows only in pages that
/// `secure_delete` (set on every connection) has zeroed. Best effort: a reader
/// holding an old snapshot delays it to the next checkpoint.
fn forget_freed_pages(conn: &mut DbConn) {
    if let DbConn::Sqlite(sqlite) = conn {
        use diesel::connection::SimpleConnection;
        if let Err(error) = sqlite.batch_execute("PRAGMA wal_checkpoint(TRUNCATE)") {
            tracing::warn!(%error, "the write-ahead log could not be truncated after an erasure");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_takes_out_every_needle_whatever_its_case() {
        let needles = vec!["laura@x.example".to_string(), "Laura Martinez".to_string()];
        assert_eq!(
            scrub("LAURA MARTINEZ (Laura@X.example) asked twice", &needles),
            "[erased] ([erased]) asked twice"
        );
    }

    #[test]
    fn names_come_from_the_stored_fields() {
        let doc = r#"{"fields":{"first_name":"Ana","last_name":"Ruiz","full_name":"Ana M. Ruiz"}}"#;
        assert_eq!(names_in(doc), ["Ana Ruiz", "Ana M. Ruiz"]);
        assert!(names_in(r#"{"fields":{"first_name":"Al"}}"#).is_empty());
    }
}
