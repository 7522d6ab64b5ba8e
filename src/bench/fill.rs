//! A million leads for `bench admin`, on SQLite or PostgreSQL, in a few SQL
//! statements: inbound events, workflows, the step runs the console reads and
//! the draft ledger rows and an audit entry each, shaped like a real run's (`fill_sample.json` holds one
//! completed demo workflow's submission and step outputs, captured from
//! `sales-agent demo`).
//!
//! One workflow every 7 s, the newest a minute ago (so the overview's "today" and
//! "7 days" hold ~12,000 and ~86,000 leads): 90% completed with a draft waiting
//! for approval, 4% dead-lettered (after qualify and route), 3% skipped, 2%
//! pending, 1% cancelled; 200,000 addresses over 97 domains, each with its own
//! last name, ten to a company; replies drafted 2–21 s after arrival. Completed workflows
//! carry 4 of the 13 step runs (qualify, route, compose, deliver: the ones list
//! and draft pages read), so the step table holds ~3.8 million rows.

use chrono::{NaiveDateTime, TimeDelta, Timelike};
use diesel::RunQueryDsl;
use serde::Deserialize;

use crate::store::{DbConn, StoreError};

/// One real completed workflow's rows, with `@@EMAIL@@` where its address was.
#[derive(Debug, Deserialize)]
struct Sample {
    submission: String,
    qualify: String,
    route: String,
    compose: String,
    deliver: String,
}

const SAMPLE: &str = include_str!("fill_sample.json");

/// SQL for the company of row `i`: "Prospect 4242 Ltd" is the company of the
/// addresses `lead42420@…` to `lead42429@…`.
pub const COMPANY: &str = "'Prospect ' || ((i % 200000) / 10) || ' Ltd'";

/// SQL for the seconds from a completed lead's arrival to its draft: 2–21 s.
const DRAFT_SECS: &str = "(2 + i % 20)";

/// The two dialects differ only in how a row number becomes a time or a padded id.
struct Dialect {
    /// SQL for `newest - i * 7 s`.
    at: fn(&str, &str) -> String,
    /// SQL for `i` as 8 digits.
    pad: fn(&str) -> String,
}

const POSTGRES: Dialect = Dialect {
    at: |newest, seconds| format!("(TIMESTAMP '{newest}' - ({seconds}) * INTERVAL '1 second')"),
    pad: |i| format!("lpad(({i})::text, 8, '0')"),
};

const SQLITE: Dialect = Dialect {
    at: |newest, seconds| format!("datetime('{newest}', '-' || ({seconds}) || ' seconds')"),
    pad: |i| format!("printf('%08d', {i})"),
};

fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The newest filled workflow's creation time: a minute ago, in whole seconds.
pub fn newest() -> NaiveDateTime {
    let now = crate::store::now() - TimeDelta::minutes(1);
    now.with_nanosecond(0).unwrap_or(now)
}

/// Fills `rows` workflows, the newest created at `newest`.
pub fn fill(conn: &mut DbConn, rows: usize, newest: NaiveDateTime) -> Result<(), StoreError> {
    let sample: Sample = serde_json::from_str(SAMPLE).expect("fill_sample.json is valid");
    let dialect = match conn {
        DbConn::Postgres(_) => &POSTGRES,
        DbConn::Sqlite(_) => &SQLITE,
    };
    let newest = newest.format("%Y-%m-%d %H:%M:%S").to_string();
    let at = |extra: &str| (dialect.at)(&newest, &format!("i * 7 - {extra}"));
    let id = (dialect.pad)("i");
    let email = "'lead' || (i % 200000) || '@prospect' || (i % 97) || '.example'";
    let series =
        format!("WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {rows})");
    // Each address has its own last name, and every ten addresses share a
    // company (20,000 companies, ~50 leads each), so searches by name or
    // company find a realistic handful, not every row.
    let submission = format!(
        "replace(replace(replace({}, '@@EMAIL@@', {email}), 'PacificRoute Shipping', {COMPANY}), \
         'Watanabe', 'Watanabe' || (i % 200000))",
        literal(&sample.submission)
    );
    let status = "CASE WHEN i % 100 < 90 THEN 'completed' WHEN i % 100 < 94 THEN 'dead_lettered' \
                  WHEN i % 100 < 97 THEN 'skipped' WHEN i % 100 < 99 THEN 'pending' ELSE 'cancelled' END";
    let mut statements = vec![
        format!(
            "{series} INSERT INTO inbound_events (id, idempotency_key, source, signature_version, raw_body, received_at) \
             SELECT 'ev' || i, 'key' || i, 'hubspot', 'v3', {submission}, {} FROM s",
            at("0")
        ),
        format!(
            "{series} INSERT INTO workflows (id, event_id, idempotency_key, email, submission, status, attempts, \
                                    next_run_at, last_error, created_at, updated_at, finished_at, draft_ms) \
             SELECT 'wf' || {id}, 'ev' || i, 'key' || i, {email}, {submission}, {status}, 1, {created}, \
                    CASE WHEN i % 100 BETWEEN 90 AND 93 THEN 'hubspot: 400 invalid email' \
                         WHEN i % 100 BETWEEN 94 AND 96 THEN 'suppressed: unsubscribed' END, \
                    {created}, {created}, CASE WHEN i % 100 < 97 OR i % 100 = 99 THEN {done} END, \
                    CASE WHEN i % 100 < 90 THEN {DRAFT_SECS} * 1000 END FROM s",
            created = at("0"),
            done = at(DRAFT_SECS),
        ),
    ];
    let steps = [
        ("qualify", &sample.qualify, "i % 100 < 94", "1"),
        ("route", &sample.route, "i % 100 < 94", "1"),
        ("compose", &sample.compose, "i % 100 < 90", "1"),
        ("deliver", &sample.deliver, "i % 100 < 90", DRAFT_SECS),
    ];
    for (step, output, which, secs) in steps {
        statements.push(format!(
            "{series} INSERT INTO step_runs (workflow_id, step, outcome, attempts, output, started_at, finished_at, duration_ms) \
             SELECT 'wf' || {id}, '{step}', 'ok', 1, replace({}, '@@EMAIL@@', {email}), {}, {}, 400 FROM s WHERE {which}",
            literal(output),
            at(secs),
            at(secs),
        ));
    }
    statements.push(format!(
        "{series} INSERT INTO side_effects (workflow_id, kind, state, idempotency_key, mailbox, external_id, detail, created_at, updated_at) \
         SELECT 'wf' || {id}, 'gmail_draft', 'done', 'draft-' || i, 'rep@northwind.example', 'r' || i, '{{}}', {at}, {at} \
         FROM s WHERE i % 100 < 90",
        at = at(DRAFT_SECS),
    ));
    statements.push(format!(
        "{series} INSERT INTO audit_log (at, actor, action, workflow_id, detail) \
         SELECT {}, 'webhook', 'webhook.accepted', 'wf' || {id}, '{{\"signature\":\"v3\"}}' FROM s",
        at("0"),
    ));
    for sql in statements {
        execute(conn, &sql)?;
    }
    execute(conn, "ANALYZE")?;
    Ok(())
}

fn execute(conn: &mut DbConn, sql: &str) -> Result<usize, StoreError> {
    Ok(match conn {
        DbConn::Postgres(c) => diesel::sql_query(sql).execute(c)?,
        DbConn::Sqlite(c) => diesel::sql_query(sql).execute(c)?,
    })
}
