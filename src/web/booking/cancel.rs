//! Changing a booked meeting from the confirmation's links: `GET
//! /book/{token}/cancel` asks, `POST` cancels (`events.delete` with
//! `sendUpdates=all`, so Google tells the prospect); a time picked from the
//! "Reschedule" page moves the booking and the event (`events.patch`). The
//! booking's HubSpot meeting follows: moved, or marked `CANCELED`. A booking
//! whose chain is still running is left to finish first.

use actix_web::{HttpResponse, web};
use minijinja::context;

use super::confirm::{Outcome, record};
use super::view::{Visit, booked_page, gone_workflow, message, page};
use super::{AppState, Checked, PageQuery, check, unavailable};
use crate::compose::slots::Interval;
use crate::steps::StepError;
use crate::steps::booking::meeting::MeetingChange;
use crate::steps::booking::{BookingCx, event, follow_up};
use crate::store::StoreError;
use crate::store::bookings::{self, Booking, Progress};

/// The visit, or the answer already given (bad token, workflow gone).
async fn visit_for(
    state: &AppState,
    token: &str,
    query: &PageQuery,
) -> Result<Visit, HttpResponse> {
    let target = match check(state, token).await {
        Ok(Checked::Genuine(target)) => target,
        Ok(Checked::Refused(response)) => return Err(response),
        Err(error) => return Err(unavailable(error)),
    };
    match Visit::load(state, target.workflow_id(), query).await {
        Ok(Some(visit)) => Ok(visit),
        Ok(None) => Err(gone_workflow()),
        Err(error) => Err(unavailable(error)),
    }
}

fn nothing_booked() -> HttpResponse {
    message(
        HttpResponse::NotFound(),
        "No meeting is booked",
        "There is no meeting on this link to change.",
        None,
    )
}

pub async fn ask(
    token: web::Path<String>,
    query: web::Query<PageQuery>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let visit = match visit_for(&state, &token, &query).await {
        Ok(visit) => visit,
        Err(response) => return response,
    };
    let Some(active) = visit.active() else {
        return nothing_booked();
    };
    let slot = span(active);
    let own = context! {
        token => token.as_str(),
        when => visit.when(&slot),
        start_iso => slot.start.to_rfc3339(),
    };
    page(
        HttpResponse::Ok(),
        "cancel.html",
        context! { ..own, ..visit.base() },
    )
}

pub async fn cancel(
    token: web::Path<String>,
    query: web::Query<PageQuery>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let visit = match visit_for(&state, &token, &query).await {
        Ok(visit) => visit,
        Err(response) => return response,
    };
    let Some(active) = visit.active().cloned() else {
        return nothing_booked();
    };
    let outcome = if active.status == bookings::PENDING {
        Err(Busy)
    } else {
        Ok(cancel_booking(&state, active).await)
    };
    let label = match &outcome {
        Ok(Ok(_)) => "cancelled",
        Ok(Err(_)) => "failed",
        Err(Busy) => "still_booking",
    };
    if let Err(error) = record(
        &state,
        &visit.workflow_id,
        "booking.cancel_requested",
        label,
    )
    .await
    {
        return unavailable(error);
    }
    match outcome {
        Ok(Ok(row)) => booked_page(HttpResponse::Ok(), &visit, &row),
        Ok(Err(error)) => unavailable(error),
        Err(Busy) => still_booking(),
    }
}

/// The booking's chain is still running: change it once it has finished.
struct Busy;

fn still_booking() -> HttpResponse {
    message(
        HttpResponse::Conflict(),
        "Your meeting is still being booked",
        "Please try again in a minute.",
        None,
    )
}

/// Deletes the event (when one was made), then marks the booking cancelled.
async fn cancel_booking(state: &AppState, booking: Booking) -> Result<Booking, String> {
    let id = booking.id.clone();
    if booking.status == bookings::BOOKED {
        let cx = BookingCx::load(&state.engine, booking)
            .await
            .map_err(|e| e.to_string())?;
        event::cancel(&cx).await.map_err(|e| e.to_string())?;
        follow_up::meeting_changed(&cx, MeetingChange::Cancelled).await;
    }
    let progress = Progress {
        status: Some(bookings::CANCELLED.into()),
        reason: Some("cancelled by the prospect".into()),
        ..Progress::default()
    };
    state
        .store
        .run(move |c| {
            bookings::record(c, &id, None, &progress)?;
            bookings::find(c, &id)
        })
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| "the booking vanished".to_string())
}

/// Moves the workflow's booking to `slot`: the row first (the database keeps
/// two prospects off one slot), then the event; if the calendar refuses, the
/// row goes back.
pub async fn reschedule(
    state: &AppState,
    visit: &Visit,
    slot: Interval,
) -> Result<Outcome, StoreError> {
    let Some(active) = visit.active().cloned() else {
        return Ok(Outcome::Taken);
    };
    let unchanged = active.slot_start == slot.start.naive_utc();
    if unchanged || active.status == bookings::PENDING {
        return Ok(Outcome::Booking(Box::new(active)));
    }
    let (id, start, end) = (
        active.id.clone(),
        slot.start.naive_utc(),
        slot.end.naive_utc(),
    );
    let moved = state
        .store
        .run(move |c| bookings::move_to(c, &id, start, end))
        .await?;
    if !moved {
        return Ok(Outcome::Taken);
    }
    let id = active.id.clone();
    let row = state
        .store
        .run(move |c| bookings::find(c, &id))
        .await?
        .ok_or_else(|| StoreError::Corrupt("the booking vanished".into()))?;
    if row.status == bookings::BOOKED
        && let Err(error) = move_event(state, row.clone()).await
    {
        let (id, start, end) = (active.id.clone(), active.slot_start, active.slot_end);
        state
            .store
            .run(move |c| bookings::move_to(c, &id, start, end))
            .await?;
        return Err(StoreError::Corrupt(format!(
            "the calendar did not move the event: {error}"
        )));
    }
    Ok(Outcome::Booking(Box::new(row)))
}

async fn move_event(state: &AppState, row: Booking) -> Result<(), StepError> {
    let cx = BookingCx::load(&state.engine, row).await?;
    event::reschedule(&cx).await?;
    let moved = MeetingChange::Moved {
        start: cx.start(),
        end: cx.end(),
    };
    follow_up::meeting_changed(&cx, moved).await;
    Ok(())
}

fn span(b: &Booking) -> Interval {
    Interval {
        start: b.slot_start.and_utc(),
        end: b.slot_end.and_utc(),
    }
}
