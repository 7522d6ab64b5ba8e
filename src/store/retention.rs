//! Retention: what the janitor removes once it is older than its setting
//! (`config::RetentionConfig`). Each call does one batch in one short
//! transaction and says how many rows it changed; [`purge_expired`] repeats
//! them until nothing is left, handing the connection back between batches.
//!
//! Only finished workflows are touched. Blanking (messages, step outputs) spares
//! dead letters, which an admin may still retry from their committed steps;
//! deletion after the submissions' retention takes them too.

use chrono::NaiveDateTime;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::Bool;

use super::erasure::{REDACTED, Removed, remove_workflows};
use super::schema::{audit_log, step_runs, workflows};
use super::{DbConn, Store, StoreError, now};
use crate::domain::{Step, WorkflowStatus};

/// The cut-off of each kind: rows older than it go (`None`: kept for good).
#[derive(Debug, Clone, Default)]
pub struct Cutoffs {
    pub submissions: Option<NaiveDateTime>,
    pub step_outputs: Option<NaiveDateTime>,
    pub messages: Option<NaiveDateTime>,
    pub audit_details: Option<NaiveDateTime>,
}

impl Cutoffs {
    /// The cut-offs of `config` as of `at`.
    pub fn of(config: &crate::config::RetentionConfig, at: NaiveDateTime) -> Self {
        let before = |age: Option<std::time::Duration>| {
            age.and_then(|a| chrono::TimeDelta::from_std(a).ok())
                .and_then(|a| at.checked_sub_signed(a))
        };
        Cutoffs {
            submissions: before(config.submissions),
            step_outputs: before(config.step_outputs),
            messages: before(config.messages),
            audit_details: before(config.audit_details),
        }
    }
}

/// What one pass removed or blanked.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Purged {
    pub workflows_deleted: usize,
    pub messages_blanked: usize,
    pub outputs_blanked: usize,
    pub audit_details_blanked: usize,
}

impl Purged {
    pub fn is_empty(&self) -> bool {
        *self == Purged::default()
    }
}

/// Steps whose output carries message text: the reply, and the summary of
/// earlier mail.
const MESSAGE_STEPS: [Step; 2] = [Step::Compose, Step::ConversationContext];

/// At most this many batches of each kind per pass, so one pass over a large
/// backlog ends and the next takes over.
const MAX_BATCHES: usize = 200;

/// One pass of the janitor: every kind, batch after batch.
pub async fn purge_expired(
    store: &Store,
    cutoffs: &Cutoffs,
    batch: i64,
) -> Result<Purged, StoreError> {
    let mut purged = Purged::default();
    if let Some(before) = cutoffs.submissions {
        purged.workflows_deleted = repeat(store, batch, move |c| {
            Ok(delete_workflows(c, before, batch)?.0)
        })
        .await?;
    }
    if let Some(before) = cutoffs.step_outputs {
        purged.outputs_blanked =
            repeat(store, batch, move |c| blank_outputs(c, before, batch)).await?;
    }
    if let Some(before) = cutoffs.messages {
        purged.messages_blanked =
            repeat(store, batch, move |c| blank_messages(c, before, batch)).await?;
    }
    if let Some(before) = cutoffs.audit_details {
        purged.audit_details_blanked =
            repeat(store, batch, move |c| blank_audit_details(c, before, batch)).await?;
    }
    Ok(purged)
}

/// Runs `one` until a batch comes back short (or the pass's limit); the total.
async fn repeat<F>(store: &Store, batch: i64, one: F) -> Result<usize, StoreError>
where
    F: Fn(&mut DbConn) -> Result<usize, StoreError> + Clone + Send + 'static,
{
    let mut total = 0;
    for _ in 0..MAX_BATCHES {
        let done = store.run(one.clone()).await?;
        total += done;
        if (done as i64) < batch {
            break;
        }
    }
    Ok(total)
}

fn finished() -> Vec<&'static str> {
    WorkflowStatus::ALL
        .iter()
        .filter(|s| !WorkflowStatus::UNFINISHED.contains(s))
        .map(|s| s.as_str())
        .collect()
}

/// Finished and not a dead letter: what may be blanked.
fn settled() -> Vec<&'static str> {
    let dead = WorkflowStatus::DeadLettered.as_str();
    finished().into_iter().filter(|s| *s != dead).collect()
}

/// Deletes up to `batch` finished workflows created before `before`, with
/// everything that hangs off them; how many, and what went with them.
pub fn delete_workflows(
    conn: &mut DbConn,
    before: NaiveDateTime,
    batch: i64,
) -> Result<(usize, Removed), StoreError> {
    conn.write_transaction(|c| {
        let found: Vec<(String, String)> = workflows::table
            .filter(workflows::created_at.lt(before))
            .filter(workflows::status.eq_any(finished()))
            .order(workflows::created_at.asc())
            .limit(batch)
            .select((workflows::id, workflows::event_id))
            .load(c)?;
        let (ids, events): (Vec<String>, Vec<String>) = found.into_iter().unzip();
        let removed = remove_workflows(c, &ids, &events)?;
        Ok((ids.len(), removed))
    })
}

/// Blanks the message text of up to `batch` settled workflows created before
/// `before`; how many workflows.
pub fn blank_messages(
    conn: &mut DbConn,
    before: NaiveDateTime,
    batch: i64,
) -> Result<usize, StoreError> {
    conn.write_transaction(|c| {
        let ids: Vec<String> = workflows::table
            .filter(workflows::messages_purged_at.is_null())
            .filter(workflows::created_at.lt(before))
            .filter(workflows::status.eq_any(settled()))
            .order(workflows::created_at.asc())
            .limit(batch)
            .select(workflows::id)
            .load(c)?;
        diesel::update(
            step_runs::table
                .filter(step_runs::workflow_id.eq_any(&ids))
                .filter(step_runs::step.eq_any(MESSAGE_STEPS.map(Step::as_str))),
        )
        .set(step_runs::output.eq(None::<String>))
        .execute(c)?;
        diesel::update(workflows::table.filter(workflows::id.eq_any(&ids)))
            .set(workflows::messages_purged_at.eq(now()))
            .execute(c)?;
        Ok(ids.len())
    })
}

/// Blanks every step's output and error of up to `batch` settled workflows
/// created before `before`; how many workflows.
pub fn blank_outputs(
    conn: &mut DbConn,
    before: NaiveDateTime,
    batch: i64,
) -> Result<usize, StoreError> {
    conn.write_transaction(|c| {
        let ids: Vec<String> = workflows::table
            .filter(workflows::outputs_purged_at.is_null())
            .filter(workflows::created_at.lt(before))
            .filter(workflows::status.eq_any(settled()))
            .order(workflows::created_at.asc())
            .limit(batch)
            .select(workflows::id)
            .load(c)?;
        diesel::update(step_runs::table.filter(step_runs::workflow_id.eq_any(&ids)))
            .set((
                step_runs::output.eq(None::<String>),
                step_runs::error.eq(None::<String>),
            ))
            .execute(c)?;
        let at = now();
        diesel::update(workflows::table.filter(workflows::id.eq_any(&ids)))
            .set((
                workflows::outputs_purged_at.eq(at),
                workflows::messages_purged_at.eq(at),
            ))
            .execute(c)?;
        Ok(ids.len())
    })
}

/// Replaces the detail of up to `batch` audit entries written before `before`
/// with the redaction marker; how many. The literal condition is the partial
/// index's own, so both databases read only entries still to do.
pub fn blank_audit_details(
    conn: &mut DbConn,
    before: NaiveDateTime,
    batch: i64,
) -> Result<usize, StoreError> {
    let unredacted = || sql::<Bool>(&format!("detail <> '{REDACTED}'"));
    conn.write_transaction(|c| {
        let ids: Vec<i64> = audit_log::table
            .filter(unredacted())
            .filter(audit_log::at.lt(before))
            .order(audit_log::at.asc())
            .limit(batch)
            .select(audit_log::id)
            .load(c)?;
        diesel::update(audit_log::table.filter(audit_log::id.eq_any(&ids)))
            .set(audit_log::detail.eq(REDACTED))
            .execute(c)?;
        Ok(ids.len())
    })
}
