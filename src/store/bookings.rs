//! Bookings: a prospect's confirmed slot, one row committed before anything is
//! written to the rep's calendar, then carried through its chain by whoever
//! holds the row's lease (`engine::booking`). The row is the chain's ledger:
//! `stage` says which writes are done, `status` how it ended.
//!
//! Two partial unique indexes (see the migration) make the races safe: one
//! active booking per rep and slot start — of two prospects confirming one slot
//! at once, the second insert fails — and one per workflow, so a second click
//! finds the first booking.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::schema::bookings;
use super::{DbConn, StoreError, now};

/// The chain still has work to do.
pub const PENDING: &str = "pending";
/// Accepted, but the calendar is left to the rep (`SALES_AGENT_BOOKING_CALENDAR=confirm`).
pub const AWAITING_REP: &str = "awaiting_rep";
pub const BOOKED: &str = "booked";
/// Ended without a meeting, with the reason (the slot was no longer free).
pub const SKIPPED: &str = "skipped";
/// Dead-lettered: a permanent error or too many attempts, with the reason.
pub const FAILED: &str = "failed";
pub const CANCELLED: &str = "cancelled";

/// The states that hold the slot (and the workflow's one booking).
pub const ACTIVE: [&str; 3] = [PENDING, AWAITING_REP, BOOKED];

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = bookings)]
pub struct Booking {
    pub id: String,
    pub workflow_id: String,
    pub rep_id: String,
    pub slot_start: NaiveDateTime,
    pub slot_end: NaiveDateTime,
    /// The zone the prospect saw the slot in (IANA).
    pub time_zone: String,
    pub status: String,
    /// The last link of the chain that is done (`engine::booking::Stage`).
    pub stage: String,
    /// Deterministic from the booking: a retried insert hits 409, never a second event.
    pub event_id: String,
    pub event_link: Option<String>,
    pub meet_link: Option<String>,
    pub brief_link: Option<String>,
    pub meeting_id: Option<String>,
    pub reason: Option<String>,
    pub attempts: i32,
    pub next_attempt_at: Option<NaiveDateTime>,
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub booked_at: Option<NaiveDateTime>,
}

impl Booking {
    pub fn is_active(&self) -> bool {
        ACTIVE.contains(&self.status.as_str())
    }
}

/// A booking to accept.
#[derive(Debug, Clone)]
pub struct NewBooking<'a> {
    pub id: &'a str,
    pub workflow_id: &'a str,
    pub rep_id: &'a str,
    pub slot_start: NaiveDateTime,
    pub slot_end: NaiveDateTime,
    pub time_zone: &'a str,
    pub status: &'a str,
    pub event_id: &'a str,
    /// Who runs the chain first (the page that accepted it), and until when:
    /// the supervisor leaves the row alone meanwhile.
    pub lease: Option<(&'a str, NaiveDateTime)>,
}

/// What accepting a booking came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Accepted {
    Created(Booking),
    /// The workflow already has an active booking (a second click, or a
    /// second slot while the first stands): that one, unchanged.
    Existing(Booking),
    /// Another workflow holds this rep's slot.
    SlotTaken,
}

/// Fields a chain link records; `None` leaves a column as it is.
#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = bookings)]
pub struct Progress {
    pub status: Option<String>,
    pub stage: Option<String>,
    pub event_link: Option<String>,
    pub meet_link: Option<String>,
    pub brief_link: Option<String>,
    pub meeting_id: Option<String>,
    pub reason: Option<String>,
    pub booked_at: Option<NaiveDateTime>,
}

/// Inserts the booking unless the workflow has one or the slot is taken, in
/// one transaction (see the module's note on the unique indexes).
pub fn accept(conn: &mut DbConn, new: &NewBooking<'_>) -> Result<Accepted, StoreError> {
    if let Some(existing) = active_for_workflow(conn, new.workflow_id)? {
        return Ok(Accepted::Existing(existing));
    }
    let at = now();
    let inserted = diesel::insert_into(bookings::table)
        .values((
            bookings::id.eq(new.id),
            bookings::workflow_id.eq(new.workflow_id),
            bookings::rep_id.eq(new.rep_id),
            bookings::slot_start.eq(new.slot_start),
            bookings::slot_end.eq(new.slot_end),
            bookings::time_zone.eq(new.time_zone),
            bookings::status.eq(new.status),
            bookings::stage.eq("accepted"),
            bookings::event_id.eq(new.event_id),
            bookings::attempts.eq(0),
            bookings::lease_owner.eq(new.lease.map(|(owner, _)| owner)),
            bookings::lease_expires_at.eq(new.lease.map(|(_, until)| until)),
            bookings::created_at.eq(at),
            bookings::updated_at.eq(at),
        ))
        .execute(conn);
    match inserted {
        Ok(_) => find(conn, new.id)?
            .map(Accepted::Created)
            .ok_or_else(|| StoreError::Corrupt("booking vanished after insert".into())),
        // Either index: the workflow's own booking made meanwhile (a double
        // click) wins over "taken", so the prospect sees their confirmation.
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            Ok(match active_for_workflow(conn, new.workflow_id)? {
                Some(existing) => Accepted::Existing(existing),
                None => Accepted::SlotTaken,
            })
        }
        Err(other) => Err(other.into()),
    }
}

pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<Booking>, StoreError> {
    Ok(bookings::table
        .find(id)
        .select(Booking::as_select())
        .first(conn)
        .optional()?)
}

pub fn active_for_workflow(
    conn: &mut DbConn,
    workflow_id: &str,
) -> Result<Option<Booking>, StoreError> {
    Ok(bookings::table
        .filter(bookings::workflow_id.eq(workflow_id))
        .filter(bookings::status.eq_any(ACTIVE))
        .select(Booking::as_select())
        .first(conn)
        .optional()?)
}

/// The workflow's bookings, newest first.
pub fn list_for_workflow(conn: &mut DbConn, workflow_id: &str) -> Result<Vec<Booking>, StoreError> {
    Ok(bookings::table
        .filter(bookings::workflow_id.eq(workflow_id))
        .order(bookings::created_at.desc())
        .select(Booking::as_select())
        .load(conn)?)
}

/// Slots of `rep_id` that active bookings hold, from `from` on: busy for
/// everyone else even before the calendar shows them.
pub fn booked_spans(
    conn: &mut DbConn,
    rep_id: &str,
    from: NaiveDateTime,
) -> Result<Vec<(NaiveDateTime, NaiveDateTime)>, StoreError> {
    Ok(bookings::table
        .filter(bookings::rep_id.eq(rep_id))
        .filter(bookings::status.eq_any(ACTIVE))
        .filter(bookings::slot_end.gt(from))
        .select((bookings::slot_start, bookings::slot_end))
        .load(conn)?)
}

/// Takes the booking's lease for `owner` when its chain has work due and no
/// one else holds it; false otherwise.
pub fn claim(
    conn: &mut DbConn,
    id: &str,
    owner: &str,
    lease: std::time::Duration,
) -> Result<bool, StoreError> {
    let at = now();
    let until = at + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::minutes(5));
    let changed = diesel::update(
        bookings::table
            .find(id)
            .filter(bookings::status.eq(PENDING))
            .filter(
                bookings::lease_expires_at
                    .is_null()
                    .or(bookings::lease_expires_at.lt(at))
                    .or(bookings::lease_owner.eq(owner)),
            ),
    )
    .set((
        bookings::lease_owner.eq(owner),
        bookings::lease_expires_at.eq(until),
        bookings::updated_at.eq(at),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Pending bookings whose next try is due and whose lease is free, oldest first.
pub fn list_due(conn: &mut DbConn, limit: i64) -> Result<Vec<String>, StoreError> {
    let at = now();
    Ok(bookings::table
        .filter(bookings::status.eq(PENDING))
        .filter(
            bookings::next_attempt_at
                .is_null()
                .or(bookings::next_attempt_at.le(at)),
        )
        .filter(
            bookings::lease_expires_at
                .is_null()
                .or(bookings::lease_expires_at.lt(at)),
        )
        .order(bookings::created_at.asc())
        .limit(limit)
        .select(bookings::id)
        .load(conn)?)
}

/// Records a link of the chain, only while `owner` holds the lease (and for
/// `None`, the rep confirming by hand, unconditionally). False: not ours.
pub fn record(
    conn: &mut DbConn,
    id: &str,
    owner: Option<&str>,
    progress: &Progress,
) -> Result<bool, StoreError> {
    let set = (progress, bookings::updated_at.eq(now()));
    let changed = match owner {
        Some(owner) => diesel::update(
            bookings::table
                .find(id)
                .filter(bookings::lease_owner.eq(owner)),
        )
        .set(set)
        .execute(conn)?,
        None => diesel::update(bookings::table.find(id))
            .set(set)
            .execute(conn)?,
    };
    Ok(changed == 1)
}

/// Counts an attempt and schedules the next one at `at`, giving up the lease.
pub fn retry_at(
    conn: &mut DbConn,
    id: &str,
    at: NaiveDateTime,
    reason: &str,
) -> Result<i32, StoreError> {
    diesel::update(bookings::table.find(id))
        .set((
            bookings::attempts.eq(bookings::attempts + 1),
            bookings::next_attempt_at.eq(at),
            bookings::reason.eq(reason),
            bookings::lease_owner.eq(None::<String>),
            bookings::lease_expires_at.eq(None::<NaiveDateTime>),
            bookings::updated_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(find(conn, id)?.map(|b| b.attempts).unwrap_or_default())
}

/// Gives up the lease (the chain ended, or stopped here for now).
pub fn release(conn: &mut DbConn, id: &str) -> Result<(), StoreError> {
    diesel::update(bookings::table.find(id))
        .set((
            bookings::lease_owner.eq(None::<String>),
            bookings::lease_expires_at.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    Ok(())
}

/// Moves an `awaiting_rep` booking to `pending` so the chain runs (the rep
/// confirmed it); false when it was not awaiting the rep.
pub fn confirm_by_rep(conn: &mut DbConn, id: &str) -> Result<bool, StoreError> {
    let changed = diesel::update(
        bookings::table
            .find(id)
            .filter(bookings::status.eq(AWAITING_REP)),
    )
    .set((
        bookings::status.eq(PENDING),
        bookings::next_attempt_at.eq(None::<NaiveDateTime>),
        bookings::lease_owner.eq(None::<String>),
        bookings::lease_expires_at.eq(None::<NaiveDateTime>),
        bookings::updated_at.eq(now()),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Moves the booking to another slot (a reschedule); false, and nothing
/// changed, when another active booking holds that slot of the rep.
pub fn move_to(
    conn: &mut DbConn,
    id: &str,
    start: NaiveDateTime,
    end: NaiveDateTime,
) -> Result<bool, StoreError> {
    let moved = diesel::update(bookings::table.find(id))
        .set((
            bookings::slot_start.eq(start),
            bookings::slot_end.eq(end),
            bookings::updated_at.eq(now()),
        ))
        .execute(conn);
    match moved {
        Ok(_) => Ok(true),
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => Ok(false),
        Err(other) => Err(other.into()),
    }
}
