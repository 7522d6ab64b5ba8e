//! Leases of provider quota shared by every process on one PostgreSQL database
//! (the limiter's side is `connectors::shared`).
//!
//! A row is one process's lease of `units` from the quota `quota_key`, counted
//! from its grant until `expires_at`, on the database's clock. [`take`] grants a
//! lease only if the rows still active at that instant plus the new one fit
//! under the limit, with the key's advisory lock held so that two takers cannot
//! both see the same room. Active periods are intervals starting at their grant,
//! and a row's period is only ever shortened (or, by [`extend`], lengthened
//! while it is still active), so at any instant the rows active then were all
//! active at the grant of the latest of them, when the sum was checked: the
//! active rows never sum to more than the limit.
//!
//! SQLite serves one process: its limiter keeps the quotas in memory, and
//! these functions answer that there is nothing to share.

use std::time::Duration;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Nullable, Text, Timestamp};

use super::{DbConn, StoreError};

/// The database's clock as a naive UTC timestamp, like every stored time.
const NOW: &str = "(clock_timestamp() AT TIME ZONE 'UTC')";

/// A lease granted by [`take`].
#[derive(Debug, Clone, PartialEq)]
pub struct Granted {
    pub id: i64,
    pub units: i64,
    pub granted_at: chrono::NaiveDateTime,
    pub expires_at: chrono::NaiveDateTime,
}

/// What [`take`] answers: a lease, or how long until the next active row expires.
#[derive(Debug, Clone, PartialEq)]
pub enum Taken {
    Granted(Granted),
    /// No room now; the earliest expiry is this far away (rows may also be
    /// shrunk by their owners sooner).
    Full {
        next_expiry: Duration,
    },
}

#[derive(QueryableByName)]
struct Room {
    #[diesel(sql_type = BigInt)]
    used: i64,
    #[diesel(sql_type = Nullable<Double>)]
    next: Option<f64>,
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = BigInt)]
    units: i64,
    #[diesel(sql_type = Timestamp)]
    granted_at: chrono::NaiveDateTime,
    #[diesel(sql_type = Timestamp)]
    expires_at: chrono::NaiveDateTime,
}

fn postgres(conn: &mut DbConn) -> Result<&mut PgConnection, StoreError> {
    match conn {
        DbConn::Postgres(pg) => Ok(pg),
        DbConn::Sqlite(_) => Err(StoreError::Corrupt(
            "shared quota leases need PostgreSQL; SQLite keeps its quotas in process".into(),
        )),
    }
}

/// Takes up to `want` units (at least `least`) of the quota `key`, which allows
/// `limit` active units, for `hold` from now; or says when to ask again.
pub fn take(
    conn: &mut DbConn,
    key: &str,
    owner: &str,
    want: i64,
    least: i64,
    limit: i64,
    hold: Duration,
) -> Result<Taken, StoreError> {
    let pg = postgres(conn)?;
    pg.transaction(|c| {
        // One taker per key at a time; the lock ends with the transaction.
        diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 1310))")
            .bind::<Text, _>(key)
            .execute(c)?;
        diesel::sql_query(format!(
            "DELETE FROM quota_leases WHERE quota_key = $1 AND expires_at <= {NOW}"
        ))
        .bind::<Text, _>(key)
        .execute(c)?;
        let room: Room = diesel::sql_query(format!(
            "SELECT COALESCE(SUM(units), 0)::BIGINT AS used,
                    EXTRACT(EPOCH FROM MIN(expires_at) - {NOW})::FLOAT8 AS next
               FROM quota_leases WHERE quota_key = $1 AND expires_at > {NOW}"
        ))
        .bind::<Text, _>(key)
        .get_result(c)?;
        let free = limit - room.used;
        if free < least {
            let next = room.next.unwrap_or(0.0).max(0.0);
            return Ok(Taken::Full {
                next_expiry: Duration::from_secs_f64(next),
            });
        }
        let row: Row = diesel::sql_query(format!(
            "INSERT INTO quota_leases (quota_key, owner, units, granted_at, expires_at)
             SELECT $1, $2, $3, t, t + make_interval(secs => $4) FROM (SELECT {NOW} AS t) now
             RETURNING id, units, granted_at, expires_at"
        ))
        .bind::<Text, _>(key)
        .bind::<Text, _>(owner)
        .bind::<BigInt, _>(want.min(free))
        .bind::<Double, _>(hold.as_secs_f64())
        .get_result(c)?;
        Ok(Taken::Granted(row.into()))
    })
}

/// Closes lease `id`: it counts `spent` units from its grant until `tail` from
/// now at most (never later than it was to); a lease that spent nothing, or a
/// slot (`tail` zero), is removed. Returns the row as it now stands, if any.
pub fn close(
    conn: &mut DbConn,
    id: i64,
    spent: i64,
    tail: Duration,
) -> Result<Option<Granted>, StoreError> {
    let pg = postgres(conn)?;
    if spent == 0 || tail.is_zero() {
        diesel::sql_query("DELETE FROM quota_leases WHERE id = $1")
            .bind::<BigInt, _>(id)
            .execute(pg)?;
        return Ok(None);
    }
    let row: Option<Row> = diesel::sql_query(format!(
        "UPDATE quota_leases
            SET units = LEAST(units, $2),
                expires_at = LEAST(expires_at, {NOW} + make_interval(secs => $3))
          WHERE id = $1
      RETURNING id, units, granted_at, expires_at"
    ))
    .bind::<BigInt, _>(id)
    .bind::<BigInt, _>(spent)
    .bind::<Double, _>(tail.as_secs_f64())
    .get_result(pg)
    .optional()?;
    Ok(row.map(Granted::from))
}

/// Keeps lease `id` active until at least `hold` from now, if it still is (a
/// lapsed lease is not revived: its room may have been granted since). True
/// when it was extended.
pub fn extend(conn: &mut DbConn, id: i64, hold: Duration) -> Result<bool, StoreError> {
    let pg = postgres(conn)?;
    let extended = diesel::sql_query(format!(
        "UPDATE quota_leases
            SET expires_at = GREATEST(expires_at, {NOW} + make_interval(secs => $2))
          WHERE id = $1 AND expires_at > {NOW}"
    ))
    .bind::<BigInt, _>(id)
    .bind::<Double, _>(hold.as_secs_f64())
    .execute(pg)?;
    Ok(extended == 1)
}

/// Units of `key` active now, across every process.
pub fn active_units(conn: &mut DbConn, key: &str) -> Result<i64, StoreError> {
    let pg = postgres(conn)?;
    let room: Room = diesel::sql_query(format!(
        "SELECT COALESCE(SUM(units), 0)::BIGINT AS used, NULL::FLOAT8 AS next
           FROM quota_leases WHERE quota_key = $1 AND expires_at > {NOW}"
    ))
    .bind::<Text, _>(key)
    .get_result(pg)?;
    Ok(room.used)
}

impl From<Row> for Granted {
    fn from(row: Row) -> Self {
        Granted {
            id: row.id,
            units: row.units,
            granted_at: row.granted_at,
            expires_at: row.expires_at,
        }
    }
}
