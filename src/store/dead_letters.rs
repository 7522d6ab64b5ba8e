//! Dead letters grouped by their reason as ops read it (`domain::reason`): the
//! same failure for different leads is one group, with how many, when it was
//! first and last seen (the time the workflow was dead-lettered) and one lead to
//! look at. The database groups by the exact reason; the groups whose reasons
//! normalise alike are merged here, so the work grows with the dead letters only.

use chrono::NaiveDateTime;
use diesel::dsl::{count_star, max, min};
use diesel::prelude::*;
use serde::Serialize;

use super::schema::workflows;
use super::workflows::WorkflowStatus;
use super::{DbConn, StoreError};
use crate::domain::reason::normalise_reason;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeadLetterGroup {
    /// The normalised reason: the group's name and key.
    pub reason_group: String,
    pub count: i64,
    pub first_seen: NaiveDateTime,
    pub last_seen: NaiveDateTime,
    /// One lead of the group, from among those dead-lettered last.
    pub sample_workflow_id: String,
}

/// Every group, the largest first (then the most recent).
pub fn groups(conn: &mut DbConn) -> Result<Vec<DeadLetterGroup>, StoreError> {
    type Row = (
        Option<String>,
        i64,
        Option<NaiveDateTime>,
        Option<NaiveDateTime>,
        Option<String>,
    );
    let rows: Vec<Row> = workflows::table
        .filter(workflows::status.eq(WorkflowStatus::DeadLettered.as_str()))
        .group_by(workflows::last_error)
        .select((
            workflows::last_error,
            count_star(),
            min(workflows::updated_at),
            max(workflows::updated_at),
            max(workflows::id),
        ))
        .load(conn)?;
    let mut merged: Vec<DeadLetterGroup> = Vec::new();
    for (reason, count, first, last, sample) in rows {
        let (Some(first), Some(last), Some(sample)) = (first, last, sample) else {
            continue;
        };
        let key = normalise_reason(reason.as_deref());
        match merged.iter_mut().find(|g| g.reason_group == key) {
            Some(group) => {
                group.count += count;
                group.first_seen = group.first_seen.min(first);
                if last > group.last_seen {
                    group.last_seen = last;
                    group.sample_workflow_id = sample;
                }
            }
            None => merged.push(DeadLetterGroup {
                reason_group: key,
                count,
                first_seen: first,
                last_seen: last,
                sample_workflow_id: sample,
            }),
        }
    }
    merged.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then(b.last_seen.cmp(&a.last_seen))
            .then_with(|| a.reason_group.cmp(&b.reason_group))
    });
    Ok(merged)
}

/// The dead letters of one group, oldest first, at most `limit`; and how many the
/// group holds in all.
pub fn ids_in_group(
    conn: &mut DbConn,
    reason_group: &str,
    limit: usize,
) -> Result<(Vec<String>, usize), StoreError> {
    let rows: Vec<(String, Option<String>)> = workflows::table
        .filter(workflows::status.eq(WorkflowStatus::DeadLettered.as_str()))
        .order((workflows::updated_at.asc(), workflows::id.asc()))
        .select((workflows::id, workflows::last_error))
        .load(conn)?;
    let in_group: Vec<String> = rows
        .into_iter()
        .filter(|(_, reason)| normalise_reason(reason.as_deref()) == reason_group)
        .map(|(id, _)| id)
        .collect();
    let total = in_group.len();
    Ok((in_group.into_iter().take(limit).collect(), total))
}
