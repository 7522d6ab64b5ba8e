//! Speed to lead per day for the console's overview: how long from a lead's
//! arrival (its workflow's creation) to its reply drafted or sent (the deliver
//! step's commit), as `workflows.draft_ms`, written with that commit. The
//! median and 95th percentile of each day are picked by the database (window
//! functions over the `(created_at, draft_ms)` index), so the page reads at most
//! two rows a day however many leads came in.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};

use super::{DbConn, StoreError};

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
fn query(day: &str, placeholder: &str) -> String {
    format!(
        "SELECT day, n, rn, draft_ms FROM ( \
           SELECT {day} AS day, draft_ms, \
                  row_number() OVER (PARTITION BY {day} ORDER BY draft_ms) AS rn, \
                  count(*) OVER (PARTITION BY {day}) AS n \
             FROM workflows \
            WHERE created_at >= {placeholder} AND draft_ms IS NOT NULL) ranked \
         WHERE rn = (n * 50 + 99) / 100 OR rn = (n * 95 + 99) / 100 \
         ORDER BY day, rn"
    )
}

/// Each day since `since` with at least one lead whose reply was drafted or
/// sent, oldest first.
pub fn speed_days(conn: &mut DbConn, since: NaiveDateTime) -> Result<Vec<SpeedDay>, StoreError> {
    let rows: Vec<Ranked> = match conn {
        DbConn::Postgres(c) => diesel::sql_query(query("to_char(created_at, 'YYYY-MM-DD')", "$1"))
            .bind::<Timestamp, _>(since)
            .load(c)?,
        DbConn::Sqlite(c) => diesel::sql_query(query("strftime('%Y-%m-%d', created_at)", "?"))
            .bind::<Timestamp, _>(since)
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
