//! Short-lived holds on offered meeting slots, one row per (rep, slot start): a
//! slot offered to one prospect is not offered to another until the hold expires.
//! A workflow's holds are its own: a re-run finds and keeps them.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::schema::slot_holds;
use super::{DbConn, StoreError, now};

/// A held span, UTC.
pub type Span = (NaiveDateTime, NaiveDateTime);

/// Picks the spans to hold from the workflow's own holds and everyone else's.
pub type Chooser<'a> = &'a dyn Fn(&[Span], &[Span]) -> Vec<Span>;

/// Active holds of `rep_id` that belong to other workflows.
pub fn held_by_others(
    conn: &mut DbConn,
    rep_id: &str,
    workflow_id: &str,
) -> Result<Vec<Span>, StoreError> {
    Ok(slot_holds::table
        .filter(slot_holds::rep_id.eq(rep_id))
        .filter(slot_holds::workflow_id.ne(workflow_id))
        .filter(slot_holds::expires_at.gt(now()))
        .order(slot_holds::slot_start.asc())
        .select((slot_holds::slot_start, slot_holds::slot_end))
        .load(conn)?)
}

/// The workflow's own active holds, in time order.
pub fn own(conn: &mut DbConn, rep_id: &str, workflow_id: &str) -> Result<Vec<Span>, StoreError> {
    Ok(slot_holds::table
        .filter(slot_holds::rep_id.eq(rep_id))
        .filter(slot_holds::workflow_id.eq(workflow_id))
        .filter(slot_holds::expires_at.gt(now()))
        .order(slot_holds::slot_start.asc())
        .select((slot_holds::slot_start, slot_holds::slot_end))
        .load(conn)?)
}

enum TxError {
    Taken,
    Store(StoreError),
}

impl From<DieselError> for TxError {
    fn from(error: DieselError) -> Self {
        match error {
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => TxError::Taken,
            other => TxError::Store(other.into()),
        }
    }
}

/// Chooses and holds slots in one transaction that no other workflow for the
/// same rep can interleave with (a per-rep advisory lock on PostgreSQL; on SQLite
/// the write lock is taken up front, see `DbConn::write_transaction`). `choose`
/// gets the workflow's own active holds and everyone else's, and returns the
/// spans to hold; they replace the workflow's earlier holds.
pub fn choose_and_hold(
    conn: &mut DbConn,
    rep_id: &str,
    workflow_id: &str,
    expires_at: NaiveDateTime,
    choose: Chooser<'_>,
) -> Result<Vec<Span>, StoreError> {
    conn.write_transaction::<_, StoreError, _>(|c| {
        if let DbConn::Postgres(pg) = c {
            diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext($1))")
                .bind::<diesel::sql_types::Text, _>(format!("slot_holds:{rep_id}"))
                .execute(pg)?;
        }
        let (own, others) = (
            own(c, rep_id, workflow_id)?,
            held_by_others(c, rep_id, workflow_id)?,
        );
        let spans = choose(&own, &others);
        if hold(c, rep_id, workflow_id, &spans, expires_at)? {
            Ok(spans)
        } else {
            Err(StoreError::Corrupt(
                "a slot held under the rep's lock was taken".into(),
            ))
        }
    })
}

/// Holds exactly `spans` for the workflow until `expires_at`, replacing its
/// earlier holds for the rep, in one transaction. False (and nothing changed)
/// when another workflow holds one of them: propose again around it.
pub fn hold(
    conn: &mut DbConn,
    rep_id: &str,
    workflow_id: &str,
    spans: &[Span],
    expires_at: NaiveDateTime,
) -> Result<bool, StoreError> {
    let result = conn.transaction::<_, TxError, _>(|c| {
        // Expired holds are free for anyone; clearing them keeps the key usable.
        diesel::delete(
            slot_holds::table
                .filter(slot_holds::rep_id.eq(rep_id))
                .filter(slot_holds::expires_at.le(now())),
        )
        .execute(c)?;
        diesel::delete(
            slot_holds::table
                .filter(slot_holds::rep_id.eq(rep_id))
                .filter(slot_holds::workflow_id.eq(workflow_id)),
        )
        .execute(c)?;
        for (start, end) in spans {
            diesel::insert_into(slot_holds::table)
                .values((
                    slot_holds::rep_id.eq(rep_id),
                    slot_holds::slot_start.eq(start),
                    slot_holds::slot_end.eq(end),
                    slot_holds::workflow_id.eq(workflow_id),
                    slot_holds::expires_at.eq(expires_at),
                ))
                .execute(c)?;
        }
        Ok(())
    });
    match result {
        Ok(()) => Ok(true),
        Err(TxError::Taken) => Ok(false),
        Err(TxError::Store(e)) => Err(e),
    }
}

/// Gives up every hold of the workflow (its meeting is booked, or the lead
/// ended): the slots are free for other prospects at once.
pub fn release(conn: &mut DbConn, workflow_id: &str) -> Result<usize, StoreError> {
    Ok(
        diesel::delete(slot_holds::table.filter(slot_holds::workflow_id.eq(workflow_id)))
            .execute(conn)?,
    )
}
