//! Inbound events: the raw delivery and its workflow, committed together.

use diesel::prelude::*;

use super::schema::{inbound_events, workflows};
use super::workflows::{WorkflowStatus, find_id_by_key};
use super::{DbConn, StoreError, audit, now};
use crate::domain::{FormSubmission, idempotency_key};

/// A verified, parsed delivery ready to be persisted.
#[derive(Debug, Clone)]
pub struct NewIntake {
    pub idempotency_key: String,
    pub source: String,
    pub signature_version: String,
    pub portal_id: Option<String>,
    pub form_id: Option<String>,
    pub conversion_id: Option<String>,
    pub raw_body: String,
    pub email: String,
    /// The parsed submission as JSON.
    pub submission: String,
}

impl NewIntake {
    /// The row for a delivery whose signature (`signature_version`) was verified
    /// and whose `body` parsed as `submission`.
    pub fn from_delivery(
        submission: &FormSubmission,
        body: &[u8],
        signature_version: &str,
    ) -> Self {
        NewIntake {
            idempotency_key: idempotency_key(submission),
            source: submission.shape.as_str().to_string(),
            signature_version: signature_version.to_string(),
            portal_id: submission.portal_id.clone(),
            form_id: submission.form_id.clone(),
            conversion_id: submission.conversion_id.clone(),
            raw_body: String::from_utf8_lossy(body).into_owned(),
            email: submission.email.trim().to_lowercase(),
            submission: serde_json::to_string(submission).expect("a submission serialises"),
        }
    }
}

/// The audit detail of an accepted delivery, the same on both backends.
pub(super) fn accepted_detail(event_id: &str, intake: &NewIntake) -> serde_json::Value {
    serde_json::json!({ "event_id": event_id, "signature": intake.signature_version })
}

/// The workflow a delivery belongs to, and whether it already existed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub workflow_id: String,
    pub duplicate: bool,
}

/// Stores the raw event, its workflow and an audit entry in one transaction. A
/// second delivery with the same idempotency key, even a concurrent one, finds
/// the event already there and gets the existing workflow back; nothing new is
/// written.
pub fn accept(conn: &mut DbConn, intake: &NewIntake) -> Result<Accepted, StoreError> {
    let mut accepted = accept_all(conn, std::slice::from_ref(intake))?;
    Ok(accepted.remove(0))
}

/// [`accept`] for several deliveries in one transaction — one commit for all of
/// them (group commit). Answers in the order given; a delivery whose key came
/// earlier in the same batch is a duplicate of that one. Either every delivery
/// of the batch is committed or none is.
pub fn accept_all(conn: &mut DbConn, intakes: &[NewIntake]) -> Result<Vec<Accepted>, StoreError> {
    if let DbConn::Postgres(pg) = conn {
        return super::events_pg::accept_all(pg, intakes);
    }
    conn.write_transaction(|conn| {
        intakes
            .iter()
            .map(|intake| accept_in_transaction(conn, intake))
            .collect()
    })
}

/// Row by row, the path SQLite takes (PostgreSQL writes a whole batch in one
/// statement, see `events_pg`). The event row goes first with `ON CONFLICT DO
/// NOTHING` on its idempotency
/// key: a new delivery costs no lookup, and a duplicate (also one committed
/// concurrently by another node, which the insert waits for) writes nothing and
/// does not abort the transaction the rest of its batch shares.
fn accept_in_transaction(conn: &mut DbConn, intake: &NewIntake) -> Result<Accepted, StoreError> {
    let event_id = uuid::Uuid::new_v4().to_string();
    let workflow_id = uuid::Uuid::new_v4().to_string();
    let at = now();
    let event = (
        inbound_events::id.eq(&event_id),
        inbound_events::idempotency_key.eq(&intake.idempotency_key),
        inbound_events::source.eq(&intake.source),
        inbound_events::signature_version.eq(&intake.signature_version),
        inbound_events::portal_id.eq(&intake.portal_id),
        inbound_events::form_id.eq(&intake.form_id),
        inbound_events::conversion_id.eq(&intake.conversion_id),
        inbound_events::raw_body.eq(&intake.raw_body),
        inbound_events::received_at.eq(at),
    );
    // Both backends speak `ON CONFLICT DO NOTHING`; diesel builds it per backend.
    macro_rules! insert_new {
        ($conn:expr) => {
            diesel::insert_into(inbound_events::table)
                .values(event)
                .on_conflict(inbound_events::idempotency_key)
                .do_nothing()
                .execute($conn)?
        };
    }
    let inserted = match conn {
        DbConn::Postgres(pg) => insert_new!(pg),
        DbConn::Sqlite(sqlite) => insert_new!(sqlite),
    };
    if inserted == 0 {
        let existing = find_id_by_key(conn, &intake.idempotency_key)?
            .ok_or_else(|| StoreError::Corrupt("an event for the key but no workflow".into()))?;
        return Ok(Accepted {
            workflow_id: existing,
            duplicate: true,
        });
    }
    diesel::insert_into(workflows::table)
        .values((
            workflows::id.eq(&workflow_id),
            workflows::event_id.eq(&event_id),
            workflows::idempotency_key.eq(&intake.idempotency_key),
            workflows::email.eq(&intake.email),
            workflows::submission.eq(&intake.submission),
            workflows::status.eq(WorkflowStatus::Pending.as_str()),
            workflows::attempts.eq(0),
            workflows::next_run_at.eq(at),
            workflows::created_at.eq(at),
            workflows::updated_at.eq(at),
        ))
        .execute(conn)?;
    audit::append(
        conn,
        &audit::Entry {
            actor: "hubspot",
            action: "webhook.accepted",
            workflow_id: Some(&workflow_id),
            reason: None,
            detail: accepted_detail(&event_id, intake),
        },
    )?;
    Ok(Accepted {
        workflow_id,
        duplicate: false,
    })
}

/// Number of stored events (for tests and the admin API).
pub fn count(conn: &mut DbConn) -> Result<i64, StoreError> {
    Ok(inbound_events::table.count().get_result(conn)?)
}
