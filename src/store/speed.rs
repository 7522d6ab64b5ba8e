//! Speed to lead per day for the console's overview: how long from a lead's
//! arrival (its workflow's creation) to its reply drafted or sent (the deliver
//! step's commit), as `workflows.draft_ms`, written with that commit. The
//! median and 95th percentile of each day are picked by the database (window
//! functions over the `(created_at, draft_ms)` index), so the page reads at most
//! two rows a day however many leads came in. A day's figures are kept in
//! `speed_days` once it ended more than [`SETTLE`] ago (a lead answered later
//! than that no longer moves it), so a view computes only the newest day or two.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, TimeDelta};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};

use super::schema::speed_days;
use super::{DbConn, StoreError};

/// How long after a day ends its figures are taken as final.
pub const SETTLE: TimeDelta = TimeDelta::hours(1);

/// One day (UTC) of speed to lead.
#[derive(Debug, Clone, PartialEq)]
pub struct SpeedDay {
    pub day: NaiveDate,
    pub leads: i64,
    pub p50_ms: i64,
    pub p95_ms: i64,
}

#[derive(QueryableByName)]
struct Ranked {
    #[diesel(sql_type = Text)]
    day: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
    #[diesel(sql_type = BigInt)]
    rn: i64,
    #[diesel(sql_type = BigInt)]
    draft_ms: i64,
}

/// The rank of the `percent`th percentile among `n` sorted values, from 1: the
/// nearest-rank definition, ceil(n × percent / 100), in whole numbers.
pub fn rank(n: i64, percent: i64) -> i64 {
    (n * percent + 99) / 100
}

/// The SQL of both backends; only the day of a timestamp and the placeholder
/// differ.
fn query(day: &str, from: &str, to: &str) -> String {
    format!(
        "SELECT day, n, rn, draft_ms FROM ( \
           SELECT {day} AS day, draft_ms, \
                  row_number() OVER (PARTITION BY {day} ORDER BY draft_ms) AS rn, \
                  count(*) OVER (PARTITION BY {day}) AS n \
             FROM workflows \
            WHERE created_at >= {from} AND created_at < {to} AND draft_ms IS NOT NULL) ranked \
         WHERE rn = (n * 50 + 99) / 100 OR rn = (n * 95 + 99) / 100 \
         ORDER BY day, rn"
    )
}

/// Each day from `first` (UTC) to today with at least one lead whose reply was
/// drafted or sent, oldest first: the settled days from `speed_days` (computed
/// and stored the first time they are asked for), the rest from the leads.
pub fn speed_days(conn: &mut DbConn, first: NaiveDate) -> Result<Vec<SpeedDay>, StoreError> {
    let settled = (super::now() - SETTLE).date();
    let key = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
    let kept: Vec<(String, i64, i64, i64)> = speed_days::table
        .filter(speed_days::day.ge(key(first)))
        .filter(speed_days::day.lt(key(settled)))
        .select((
            speed_days::day,
            speed_days::leads,
            speed_days::p50_ms,
            speed_days::p95_ms,
        ))
        .load(conn)?;
    let mut days: Vec<SpeedDay> = kept
        .into_iter()
        .filter_map(|(day, leads, p50_ms, p95_ms)| {
            let day = NaiveDate::parse_from_str(&day, "%Y-%m-%d").ok()?;
            Some(SpeedDay {
                day,
                leads,
                p50_ms,
                p95_ms,
            })
        })
        .collect();
    let missing: Vec<NaiveDate> = first
        .iter_days()
        .take_while(|d| *d < settled)
        .filter(|d| !days.iter().any(|k| k.day == *d))
        .collect();
    let midnight = |d: NaiveDate| d.and_time(NaiveTime::MIN);
    if let (Some(from), Some(last)) = (missing.first(), missing.last()) {
        let found = compute(conn, midnight(*from), midnight(*last + TimeDelta::days(1)))?;
        for day in &missing {
            // A settled day without answered leads is kept too, as zero.
            let figures = found.iter().find(|f| f.day == *day).cloned();
            let figures = figures.unwrap_or(SpeedDay {
                day: *day,
                leads: 0,
                p50_ms: 0,
                p95_ms: 0,
            });
            keep(conn, &figures)?;
            days.push(figures);
        }
    }
    // Leads are never created in the future; the bound keeps the query a range.
    let tomorrow = super::now().date() + TimeDelta::days(1);
    days.extend(compute(conn, midnight(settled), midnight(tomorrow))?);
    days.retain(|d| d.leads > 0);
    days.sort_by_key(|d| d.day);
    Ok(days)
}

/// Stores a settled day; a concurrent view that stored it first wins (same figures).
fn keep(conn: &mut DbConn, day: &SpeedDay) -> Result<(), StoreError> {
    let row = (
        speed_days::day.eq(day.day.format("%Y-%m-%d").to_string()),
        speed_days::leads.eq(day.leads),
        speed_days::p50_ms.eq(day.p50_ms),
        speed_days::p95_ms.eq(day.p95_ms),
        speed_days::computed_at.eq(super::now()),
    );
    macro_rules! insert {
        ($conn:expr) => {
            diesel::insert_into(speed_days::table)
                .values(row)
                .on_conflict_do_nothing()
                .execute($conn)?
        };
    }
    match conn {
        DbConn::Postgres(c) => insert!(c),
        DbConn::Sqlite(c) => insert!(c),
    };
    Ok(())
}

/// The figures of each day of leads created in `[from, to)`, from the leads.
fn compute(
    conn: &mut DbConn,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Result<Vec<SpeedDay>, StoreError> {
    let rows: Vec<Ranked> = match conn {
        DbConn::Postgres(c) => {
            diesel::sql_query(query("to_char(created_at, 'YYYY-MM-DD')", "$1", "$2"))
                .bind::<Timestamp, _>(from)
                .bind::<Timestamp, _>(to)
                .load(c)?
        }
        DbConn::Sqlite(c) => diesel::sql_query(query("strftime('%Y-%m-%d', created_at)", "?", "?"))
            .bind::<Timestamp, _>(from)
            .bind::<Timestamp, _>(to)
            .load(c)?,
    };
    let mut days: Vec<SpeedDay> = Vec::new();
    for row in rows {
        let Ok(day) = NaiveDate::parse_from_str(&row.day, "%Y-%m-%d") else {
            continue;
        };
        if days.last().is_none_or(|d| d.day != day) {
            days.push(SpeedDay {
                day,
                leads: row.n,
                p50_ms: 0,
                p95_ms: 0,
            });
        }
        let last = days.last_mut().expect("pushed above");
        // One row can be both (a day of one or two leads).
        if row.rn == rank(row.n, 50) {
            last.p50_ms = row.draft_ms;
        }
        if row.rn == rank(row.n, 95) {
            last.p95_ms = row.draft_ms;
        }
    }
    Ok(days)
}

#[cfg(test)]
mod tests {
    use super::rank;

    #[test]
    fn nearest_rank_is_the_ceiling_of_n_times_the_fraction() {
        assert_eq!(rank(1, 50), 1);
        assert_eq!(rank(1, 95), 1);
        assert_eq!(rank(2, 50), 1);
        assert_eq!(rank(2, 95), 2);
        assert_eq!(rank(20, 50), 10);
        assert_eq!(rank(20, 95), 19);
        assert_eq!(rank(21, 95), 20);
        assert_eq!(rank(100, 95), 95);
        assert_eq!(rank(101, 95), 96);
    }
}
