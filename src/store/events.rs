//! Inbound events: the raw delivery and its workflow, committed together.

use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::schema::{inbound_events, workflows};
use super::workflows::{WorkflowStatus, find_id_by_key};
use super::{DbConn, StoreError, audit, now};

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

/// The workflow a delivery belongs to, and whether it already existed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub workflow_id: String,
    pub duplicate: bool,
}

/// Stores the raw event, its workflow and an audit entry in one transaction. A
/// second delivery with the same idempotency key, even a concurrent one, hits the
/// unique constraint and gets the existing workflow back; nothing new is written.
pub fn accept(conn: &mut DbConn, intake: &NewIntake) -> Result<Accepted, StoreError> {
    if let Some(existing) = find_id_by_key(conn, &intake.idempotency_key)? {
        return Ok(Accepted {
            workflow_id: existing,
            duplicate: true,
        });
    }
    let event_id = uuid::Uuid::new_v4().to_string();
    let workflow_id = uuid::Uuid::new_v4().to_string();
    let at = now();
    let inserted = conn.transaction(|conn| {
        diesel::insert_into(inbound_events::table)
            .values((
                inbound_events::id.eq(&event_id),
                inbound_events::idempotency_key.eq(&intake.idempotency_key),
                inbound_events::source.eq(&intake.source),
                inbound_events::signature_version.eq(&intake.signature_version),
                inbound_events::portal_id.eq(&intake.portal_id),
                inbound_events::form_id.eq(&intake.form_id),
                inbound_events::conversion_id.eq(&intake.conversion_id),
                inbound_events::raw_body.eq(&intake.raw_body),
                inbound_events::received_at.eq(at),
            ))
            .execute(conn)?;
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
                detail: serde_json::json!({ "event_id": event_id, "signature": intake.signature_version }),
            },
        )?;
        Ok::<_, StoreError>(())
    });
    match inserted {
        Ok(()) => Ok(Accepted {
            workflow_id,
            duplicate: false,
        }),
        Err(StoreError::Query(DieselError::DatabaseError(
            DatabaseErrorKind::UniqueViolation,
            _,
        ))) => {
            let existing = find_id_by_key(conn, &intake.idempotency_key)?.ok_or_else(|| {
                StoreError::Corrupt("unique violation but no workflow for the key".into())
            })?;
            Ok(Accepted {
                workflow_id: existing,
                duplicate: true,
            })
        }
        Err(other) => Err(other),
    }
}

/// Number of stored events (for tests and the admin API).
pub fn count(conn: &mut DbConn) -> Result<i64, StoreError> {
    Ok(inbound_events::table.count().get_result(conn)?)
}
