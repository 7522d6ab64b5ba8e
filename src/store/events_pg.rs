//! PostgreSQL's way of accepting a batch of deliveries: one statement writes every
//! new event, its workflow and its audit entry. A statement is atomic by itself,
//! so the batch needs no BEGIN/COMMIT round trips, and its cost does not grow by
//! three round trips per delivery. (SQLite runs in-process, where round trips
//! cost nothing; it takes the row-by-row path in `events`.)

use std::collections::HashMap;

use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Array, Nullable, Text, Timestamp};

use super::events::{Accepted, NewIntake, accepted_detail};
use super::schema::workflows;
use super::workflows::WorkflowStatus;
use super::{StoreError, now};

/// The statement, with the column arrays and the time bound where the `{}` are.
/// Input rows are unnested from arrays, one array per column. An event whose
/// idempotency key is already stored — or repeated earlier in the same batch —
/// is skipped by `ON CONFLICT DO NOTHING`, and so are its workflow and audit
/// entry, which are inserted only for the events that were. The text is the same
/// for every batch, so PostgreSQL plans it once per connection (a prepared
/// statement diesel caches): planning these four inserts took longer than
/// running them.
struct AcceptAll<'a> {
    at: chrono::NaiveDateTime,
    /// event_id, workflow_id, idempotency_key, source, signature_version,
    /// raw_body, email, submission, detail.
    text: [Vec<&'a str>; 9],
    /// portal_id, form_id, conversion_id.
    optional: [Vec<Option<&'a str>>; 3],
}

const INPUT: &str = "WITH input AS (SELECT t.*, ";
const COLUMNS: &str = ") AS t(event_id, workflow_id, idempotency_key, source, signature_version, \
                              raw_body, email, submission, detail, portal_id, form_id, conversion_id)),
event AS (
    INSERT INTO inbound_events (id, idempotency_key, source, signature_version,
                                portal_id, form_id, conversion_id, raw_body, received_at)
    SELECT event_id, idempotency_key, source, signature_version,
           portal_id, form_id, conversion_id, raw_body, at
    FROM input
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING id
),
workflow AS (
    INSERT INTO workflows (id, event_id, idempotency_key, email, submission, status,
                           attempts, next_run_at, created_at, updated_at)
    SELECT input.workflow_id, input.event_id, input.idempotency_key, input.email,
           input.submission, status, 0, at, at, at
    FROM input JOIN event ON event.id = input.event_id
    RETURNING id
),
audit AS (
    INSERT INTO audit_log (at, actor, action, workflow_id, detail)
    SELECT at, 'hubspot', 'webhook.accepted', input.workflow_id, input.detail
    FROM input JOIN workflow ON workflow.id = input.workflow_id
)
SELECT id FROM event";

impl QueryFragment<Pg> for AcceptAll<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(INPUT);
        out.push_bind_param::<Timestamp, _>(&self.at)?;
        out.push_sql("::timestamp AS at, ");
        out.push_bind_param::<Text, _>(WorkflowStatus::Pending.as_str())?;
        out.push_sql("::text AS status FROM unnest(");
        for (n, column) in self.text.iter().enumerate() {
            if n > 0 {
                out.push_sql(", ");
            }
            out.push_bind_param::<Array<Text>, _>(column)?;
            out.push_sql("::text[]");
        }
        for column in &self.optional {
            out.push_sql(", ");
            out.push_bind_param::<Array<Nullable<Text>>, _>(column)?;
            out.push_sql("::text[]");
        }
        out.push_sql(COLUMNS);
        Ok(())
    }
}

/// Marks the statement as always the same text, so diesel may cache it.
struct AcceptAllId;

impl QueryId for AcceptAll<'_> {
    type QueryId = AcceptAllId;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl Query for AcceptAll<'_> {
    type SqlType = Text;
}

impl RunQueryDsl<PgConnection> for AcceptAll<'_> {}

/// Accepts `intakes` in one statement; answers in the order given.
pub(super) fn accept_all(
    pg: &mut PgConnection,
    intakes: &[NewIntake],
) -> Result<Vec<Accepted>, StoreError> {
    let ids: Vec<(String, String)> = intakes
        .iter()
        .map(|_| {
            (
                uuid::Uuid::new_v4().to_string(),
                uuid::Uuid::new_v4().to_string(),
            )
        })
        .collect();
    let details: Vec<String> = intakes
        .iter()
        .zip(&ids)
        .map(|(intake, (event_id, _))| accepted_detail(event_id, intake).to_string())
        .collect();
    let column = |f: fn(&NewIntake) -> &str| intakes.iter().map(f).collect::<Vec<_>>();
    let optional = |f: fn(&NewIntake) -> Option<&str>| intakes.iter().map(f).collect::<Vec<_>>();
    let statement = AcceptAll {
        at: now(),
        text: [
            ids.iter().map(|(event, _)| event.as_str()).collect(),
            ids.iter().map(|(_, workflow)| workflow.as_str()).collect(),
            column(|i| &i.idempotency_key),
            column(|i| &i.source),
            column(|i| &i.signature_version),
            column(|i| &i.raw_body),
            column(|i| &i.email),
            column(|i| &i.submission),
            details.iter().map(String::as_str).collect(),
        ],
        optional: [
            optional(|i| i.portal_id.as_deref()),
            optional(|i| i.form_id.as_deref()),
            optional(|i| i.conversion_id.as_deref()),
        ],
    };
    let inserted: Vec<String> = statement.load(pg)?;
    let new_events: std::collections::HashSet<&str> = inserted.iter().map(String::as_str).collect();

    // Deliveries whose event was not inserted belong to a workflow stored
    // before, by this statement (a repeat within the batch) or by an earlier one.
    let repeated: Vec<&str> = intakes
        .iter()
        .zip(&ids)
        .filter(|(_, (event_id, _))| !new_events.contains(event_id.as_str()))
        .map(|(intake, _)| intake.idempotency_key.as_str())
        .collect();
    let existing: HashMap<String, String> = if repeated.is_empty() {
        HashMap::new()
    } else {
        workflows::table
            .filter(workflows::idempotency_key.eq_any(&repeated))
            .select((workflows::idempotency_key, workflows::id))
            .load::<(String, String)>(pg)?
            .into_iter()
            .collect()
    };
    intakes
        .iter()
        .zip(ids)
        .map(|(intake, (event_id, workflow_id))| {
            if new_events.contains(event_id.as_str()) {
                return Ok(Accepted {
                    workflow_id,
                    duplicate: false,
                });
            }
            let workflow_id = existing
                .get(&intake.idempotency_key)
                .cloned()
                .ok_or_else(|| {
                    StoreError::Corrupt("an event for the key but no workflow".into())
                })?;
            Ok(Accepted {
                workflow_id,
                duplicate: true,
            })
        })
        .collect()
}
