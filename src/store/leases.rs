//! Leases: how a process claims runnable workflows so that no workflow runs in two
//! places at once, even with several processes on one PostgreSQL database.
//!
//! A workflow is runnable when it is `pending` or `retry_wait` and due, or
//! `running` with an expired lease (its process died). Claiming sets
//! `running`, the owner and an expiry; the owner renews while it works and every
//! write it makes is fenced on still holding the lease.
//!
//! PostgreSQL claims with `FOR UPDATE SKIP LOCKED`, so concurrent claimers take
//! different rows without waiting; SQLite serialises writers, so an immediate
//! transaction makes the read-then-write atomic.

use std::time::Duration;

use diesel::prelude::*;

use super::schema::workflows;
use super::slot_holds;
use super::workflows::WorkflowStatus;
use super::{DbConn, StoreError, now};

/// The runnable workflows, written once for both backends.
macro_rules! runnable {
    ($now:expr) => {
        workflows::table.filter(
            workflows::status
                .eq_any([
                    WorkflowStatus::Pending.as_str(),
                    WorkflowStatus::RetryWait.as_str(),
                ])
                .and(workflows::next_run_at.le($now))
                .or(workflows::status
                    .eq(WorkflowStatus::Running.as_str())
                    .and(workflows::lease_expires_at.lt($now))),
        )
    };
}

/// The ids of the first `limit` runnable workflows, oldest due first.
macro_rules! runnable_ids {
    ($now:expr, $limit:expr) => {
        runnable!($now)
            .order((workflows::next_run_at.asc(), workflows::id.asc()))
            .select(workflows::id)
            .limit($limit)
    };
}

/// How many workflows are runnable now: the backlog.
pub fn count_runnable(conn: &mut DbConn) -> Result<i64, StoreError> {
    let at = now();
    Ok(runnable!(at).count().get_result(conn)?)
}

/// Claims up to `limit` runnable workflows for `owner` and returns their ids.
pub fn claim_runnable(
    conn: &mut DbConn,
    owner: &str,
    lease: Duration,
    limit: i64,
) -> Result<Vec<String>, StoreError> {
    let at = now();
    let expires = at + lease_delta(lease);
    macro_rules! claim {
        ($conn:expr, $query:expr) => {{
            let ids: Vec<String> = $query.load($conn)?;
            if !ids.is_empty() {
                diesel::update(workflows::table.filter(workflows::id.eq_any(&ids)))
                    .set((
                        workflows::status.eq(WorkflowStatus::Running.as_str()),
                        workflows::lease_owner.eq(owner),
                        workflows::lease_expires_at.eq(expires),
                        workflows::updated_at.eq(at),
                    ))
                    .execute($conn)?;
            }
            Ok::<_, StoreError>(ids)
        }};
    }
    match conn {
        DbConn::Postgres(pg) => {
            pg.transaction(|c| claim!(c, runnable_ids!(at, limit).for_update().skip_locked()))
        }
        DbConn::Sqlite(sqlite) => {
            sqlite.immediate_transaction(|c| claim!(c, runnable_ids!(at, limit)))
        }
    }
}

/// Extends the lease on the workflows `owner` still holds; returns those ids.
pub fn renew(
    conn: &mut DbConn,
    owner: &str,
    ids: &[String],
    lease: Duration,
) -> Result<Vec<String>, StoreError> {
    let at = now();
    conn.write_transaction(|c| {
        diesel::update(
            workflows::table
                .filter(workflows::id.eq_any(ids))
                .filter(workflows::lease_owner.eq(owner))
                .filter(workflows::status.eq(WorkflowStatus::Running.as_str())),
        )
        .set((
            workflows::lease_expires_at.eq(at + lease_delta(lease)),
            workflows::updated_at.eq(at),
        ))
        .execute(c)?;
        Ok(workflows::table
            .filter(workflows::id.eq_any(ids))
            .filter(workflows::lease_owner.eq(owner))
            .filter(workflows::status.eq(WorkflowStatus::Running.as_str()))
            .select(workflows::id)
            .load(c)?)
    })
}

/// True when `owner` still holds the lease on `id` (the fence before any write).
pub fn holds(conn: &mut DbConn, owner: &str, id: &str) -> Result<bool, StoreError> {
    let held: i64 = workflows::table
        .filter(workflows::id.eq(id))
        .filter(workflows::lease_owner.eq(owner))
        .filter(workflows::status.eq(WorkflowStatus::Running.as_str()))
        .filter(workflows::lease_expires_at.ge(now()))
        .count()
        .get_result(conn)?;
    Ok(held == 1)
}

/// The fence before an external write: true when `owner` still holds the lease on
/// `id`, which is then stretched to a full `lease` from now, in one statement. A
/// lease that lapsed (another process may have claimed the workflow since) is not
/// revived, so the caller makes no write; one that holds cannot be claimed by
/// anyone else for `lease`, which covers the write that follows.
pub fn hold_for_write(
    conn: &mut DbConn,
    owner: &str,
    id: &str,
    lease: Duration,
) -> Result<bool, StoreError> {
    let at = now();
    let held = diesel::update(
        workflows::table
            .filter(workflows::id.eq(id))
            .filter(workflows::lease_owner.eq(owner))
            .filter(workflows::status.eq(WorkflowStatus::Running.as_str()))
            .filter(workflows::lease_expires_at.ge(at)),
    )
    .set((
        workflows::lease_expires_at.eq(at + lease_delta(lease)),
        workflows::updated_at.eq(at),
    ))
    .execute(conn)?;
    Ok(held == 1)
}

/// Ends the workflow's run: sets its status (finished, or `retry_wait` with a due
/// time) and drops the lease — only if `owner` still holds it. Returns whether it did.
/// A lead that ends for good without an answer (skipped) gives its slot holds back.
pub fn release(
    conn: &mut DbConn,
    owner: &str,
    id: &str,
    status: WorkflowStatus,
    retry_after: Option<Duration>,
    error: Option<&str>,
) -> Result<bool, StoreError> {
    let at = now();
    let finished = (!WorkflowStatus::UNFINISHED.contains(&status)).then_some(at);
    let next_run = at + lease_delta(retry_after.unwrap_or_default());
    let updated = diesel::update(
        workflows::table
            .filter(workflows::id.eq(id))
            .filter(workflows::lease_owner.eq(owner))
            .filter(workflows::status.eq(WorkflowStatus::Running.as_str())),
    )
    .set((
        workflows::status.eq(status.as_str()),
        workflows::lease_owner.eq(None::<String>),
        workflows::lease_expires_at.eq(None::<chrono::NaiveDateTime>),
        workflows::next_run_at.eq(next_run),
        workflows::attempts
            .eq(workflows::attempts + i32::from(status == WorkflowStatus::RetryWait)),
        workflows::last_error.eq(error),
        workflows::finished_at.eq(finished),
        workflows::updated_at.eq(at),
    ))
    .execute(conn)?;
    if updated == 1 && status.gives_up_holds() {
        slot_holds::release(conn, id)?;
    }
    Ok(updated == 1)
}

/// Lets go of every workflow `owner` still runs (a process shutting down): their
/// leases expire now, so another process claims them at once instead of after
/// the lease. Any write this process still tries is refused by the fence.
pub fn let_go(conn: &mut DbConn, owner: &str) -> Result<usize, StoreError> {
    let at = now();
    Ok(diesel::update(
        workflows::table
            .filter(workflows::lease_owner.eq(owner))
            .filter(workflows::status.eq(WorkflowStatus::Running.as_str())),
    )
    .set((
        workflows::lease_expires_at.eq(at - chrono::TimeDelta::milliseconds(1)),
        workflows::updated_at.eq(at),
    ))
    .execute(conn)?)
}

fn lease_delta(duration: Duration) -> chrono::TimeDelta {
    chrono::TimeDelta::from_std(duration).unwrap_or(chrono::TimeDelta::MAX)
}
