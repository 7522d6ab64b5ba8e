//! `POST /book/{token}`: the prospect confirms a slot. The booking row is
//! committed first (accepted input: the chain must then finish, skip with a
//! reason or dead-letter, across crashes); the chain then runs here, so the
//! answer can say "booked", and the supervisor finishes it if this process
//! cannot. A second click finds the first booking; a slot another prospect
//! holds, or one the rep's calendar filled meanwhile, gets the next free times.
//! Every POST is recorded in the audit log.

use std::time::Duration;

use actix_web::{HttpResponse, web};
use chrono::Utc;

use super::view::{Visit, booked_page, gone_workflow, message, times_page};
use super::{AppState, Checked, PageQuery, check, unavailable};
use crate::compose::booking_link::Target;
use crate::compose::slots::Interval;
use crate::config::BookingCalendar;
use crate::engine::booking;
use crate::store::bookings::{self, Accepted, NewBooking};
use crate::store::{StoreError, audit};

/// How long the answer waits for the chain before saying "being booked".
const WAIT: Duration = Duration::from_secs(20);

pub async fn confirm(
    token: web::Path<String>,
    query: web::Query<PageQuery>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let (workflow_id, slot) = match check(&state, &token).await {
        Ok(Checked::Genuine(Target::Slot { workflow_id, slot })) => (workflow_id, slot),
        Ok(Checked::Genuine(Target::Times { .. })) => {
            return message(
                HttpResponse::MethodNotAllowed(),
                "Pick a time first",
                "Choose one of the times on the page.",
                None,
            );
        }
        Ok(Checked::Refused(response)) => return response,
        Err(error) => return unavailable(error),
    };
    let visit = match Visit::load(&state, &workflow_id, &query).await {
        Ok(Some(visit)) => visit,
        Ok(None) => return gone_workflow(),
        Err(error) => return unavailable(error),
    };
    if slot.start <= Utc::now() {
        return message(
            HttpResponse::Gone(),
            "This time has passed",
            "The link was for a time that is no longer offered.",
            Some(visit.times_token()),
        );
    }
    let outcome = if query.rescheduling() && visit.active().is_some() {
        super::cancel::reschedule(&state, &visit, slot).await
    } else {
        accept(&state, &visit, slot).await
    };
    let (outcome, label) = match outcome {
        Ok(outcome) => {
            let label = outcome.label();
            (outcome, label)
        }
        Err(error) => return unavailable(error),
    };
    if let Err(error) = record(&state, &workflow_id, "booking.confirm_requested", label).await {
        return unavailable(error);
    }
    match outcome {
        Outcome::Booking(row) if row.status == bookings::SKIPPED => {
            times_page(&state, HttpResponse::Conflict(), &visit, true, false).await
        }
        Outcome::Booking(row) if row.status == bookings::FAILED => message(
            HttpResponse::ServiceUnavailable(),
            "We could not book this time",
            "Something went wrong on our side; the rep will be in touch to find a time.",
            None,
        ),
        Outcome::Booking(row) => booked_page(HttpResponse::Ok(), &visit, &row),
        Outcome::Taken => times_page(&state, HttpResponse::Conflict(), &visit, true, false).await,
    }
}

/// What a confirmation came to.
pub enum Outcome {
    /// The workflow's booking (new, earlier, or moved) as it stands now.
    Booking(Box<bookings::Booking>),
    /// Another prospect holds the slot.
    Taken,
}

impl Outcome {
    fn label(&self) -> &'static str {
        match self {
            Outcome::Booking(b) if b.status == bookings::BOOKED => "booked",
            Outcome::Booking(b) if b.status == bookings::SKIPPED => "slot_gone",
            Outcome::Booking(b) if b.status == bookings::FAILED => "failed",
            Outcome::Booking(b) if b.status == bookings::AWAITING_REP => "awaiting_rep",
            Outcome::Booking(_) => "pending",
            Outcome::Taken => "taken",
        }
    }
}

/// Commits the booking (or finds the workflow's), then runs its chain.
async fn accept(state: &AppState, visit: &Visit, slot: Interval) -> Result<Outcome, StoreError> {
    let id = uuid::Uuid::new_v4().to_string();
    let status = match state.config.engine.booking_calendar {
        BookingCalendar::Auto => bookings::PENDING,
        BookingCalendar::Confirm => bookings::AWAITING_REP,
    };
    let (workflow_id, rep_id, zone) = (
        visit.workflow_id.clone(),
        visit.rep.id.clone(),
        visit.zone.name().to_string(),
    );
    let event_id = crate::connectors::calendar::event_id(&format!("booking:{id}"));
    let owner = format!(
        "web-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    );
    let lease_owner = owner.clone();
    let until = crate::store::now()
        + chrono::Duration::from_std(state.config.engine.lease)
            .unwrap_or(chrono::Duration::minutes(5));
    let accepted = state
        .store
        .run(move |c| {
            bookings::accept(
                c,
                &NewBooking {
                    id: &id,
                    workflow_id: &workflow_id,
                    rep_id: &rep_id,
                    slot_start: slot.start.naive_utc(),
                    slot_end: slot.end.naive_utc(),
                    time_zone: &zone,
                    status,
                    event_id: &event_id,
                    // Only a booking whose chain runs now is leased to this page.
                    lease: (status == bookings::PENDING).then_some((lease_owner.as_str(), until)),
                },
            )
        })
        .await?;
    match accepted {
        Accepted::Created(row) if row.status == bookings::PENDING => Ok(Outcome::Booking(
            Box::new(run_chain(state, row, owner).await?),
        )),
        Accepted::Created(row) | Accepted::Existing(row) => Ok(Outcome::Booking(Box::new(row))),
        Accepted::SlotTaken => Ok(Outcome::Taken),
    }
}

/// Runs the booking's chain (as `owner`, who took its lease at insert) for up
/// to [`WAIT`]; the row as it then stands. Past the wait the chain goes on
/// elsewhere: the row is committed, the supervisor resumes it.
pub async fn run_chain(
    state: &AppState,
    row: bookings::Booking,
    owner: String,
) -> Result<bookings::Booking, StoreError> {
    let started = tokio::time::Instant::now();
    let engine = state.engine.clone();
    let id = row.id.clone();
    // Spawned, so a slow chain goes on after the answer instead of being dropped.
    let chain = actix_web::rt::spawn(async move { booking::run(&engine, &id, &owner).await });
    let mut latest = match tokio::time::timeout(WAIT, chain).await {
        Ok(Ok(Ok(Some(now)))) => now,
        Ok(Ok(Err(error))) => return Err(error),
        Ok(Ok(Ok(None)) | Err(_)) | Err(_) => row,
    };
    // Someone else runs it (the supervisor, after a retry was scheduled): wait
    // for their end within the same bound.
    while latest.status == bookings::PENDING && started.elapsed() < WAIT {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let id = latest.id.clone();
        match state.store.run(move |c| bookings::find(c, &id)).await? {
            Some(now) => latest = now,
            None => break,
        }
    }
    Ok(latest)
}

/// The audit entry every public POST leaves (no address, no prospect text).
pub async fn record(
    state: &AppState,
    workflow_id: &str,
    action: &'static str,
    outcome: &'static str,
) -> Result<(), StoreError> {
    let workflow_id = workflow_id.to_string();
    state
        .store
        .run(move |c| {
            audit::append(
                c,
                &audit::Entry {
                    actor: "prospect",
                    action,
                    workflow_id: Some(&workflow_id),
                    reason: Some("booking page"),
                    detail: serde_json::json!({ "outcome": outcome }),
                },
            )
        })
        .await
}
