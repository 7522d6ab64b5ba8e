//! The meeting in the rep's calendar: `events.insert` with the booking's own
//! deterministic id (`calendar::event_id`), a Google Meet conference requested
//! under that same id, the prospect as attendee and Google sending the
//! invitation (`sendUpdates=all`). A retry after a crash or a lost answer hits
//! 409 on the id and reads the event back: never a second event. In pilot mode
//! the insert is recorded as the request it would have been, and nothing
//! reaches the calendar.

use super::BookingCx;
use crate::connectors::calendar::{
    EVENTS_DELETE, EVENTS_INSERT, EVENTS_PATCH, EventPatch, EventTime, NewEvent,
};
use crate::connectors::planned;
use crate::steps::{StepError, pilot};

/// Where the pilot record of a booking's writes is kept (beside the steps').
pub const PILOT_STEP: &str = "booking";

/// What the calendar made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Made {
    pub link: Option<String>,
    pub meet: Option<String>,
}

fn time(at: chrono::DateTime<chrono::Utc>, zone: &str) -> EventTime {
    EventTime {
        date_time: at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        time_zone: zone.to_string(),
    }
}

/// The event as the calendar should hold it.
pub fn new_event(cx: &BookingCx<'_>) -> NewEvent {
    let who = cx.contact_name().unwrap_or_else(|| cx.lead.email.clone());
    let summary = match cx.company() {
        Some(company) => format!("{who} ({company}) and {}", cx.rep.name),
        None => format!("{who} and {}", cx.rep.name),
    };
    NewEvent {
        id: cx.booking.event_id.clone(),
        summary,
        description: format!(
            "Booked by {who} from {}'s reply, through the booking link.",
            cx.rep.name
        ),
        start: time(cx.start(), &cx.rep.time_zone),
        end: time(cx.end(), &cx.rep.time_zone),
        attendees: vec![cx.lead.email.clone()],
        meet: true,
        send_updates: "all".into(),
    }
}

/// The booking's event: made now, or found (409) when an earlier attempt made it.
pub async fn ensure(cx: &BookingCx<'_>) -> Result<Made, StepError> {
    let event = new_event(cx);
    if cx.pilot {
        let write = planned::event_insert(&cx.rep.calendar_id, &event);
        pilot::record_as(
            cx.services,
            &cx.booking.workflow_id,
            PILOT_STEP,
            vec![write],
        )
        .await?;
        return Ok(Made::default());
    }
    let (account, calendar) = (cx.rep.email.clone(), cx.rep.calendar_id.clone());
    let made = cx
        .services
        .calendar(&cx.rep.email, &EVENTS_INSERT, move |c| {
            let (account, calendar, event) = (account.clone(), calendar.clone(), event.clone());
            async move { c.insert_event(&account, &calendar, &event).await }
        })
        .await?;
    Ok(Made {
        link: made.html_link,
        meet: made.hangout_link,
    })
}

/// Moves the event to the booking's (new) slot; Google tells the attendee.
pub async fn reschedule(cx: &BookingCx<'_>) -> Result<(), StepError> {
    let patch = EventPatch {
        start: Some(time(cx.start(), &cx.rep.time_zone)),
        end: Some(time(cx.end(), &cx.rep.time_zone)),
        send_updates: "all".into(),
        ..EventPatch::default()
    };
    patch_event(cx, patch).await
}

/// Replaces the event's description (the brief's link added to it).
pub async fn describe(cx: &BookingCx<'_>, description: String) -> Result<(), StepError> {
    let patch = EventPatch {
        description: Some(description),
        send_updates: "none".into(),
        ..EventPatch::default()
    };
    patch_event(cx, patch).await
}

async fn patch_event(cx: &BookingCx<'_>, patch: EventPatch) -> Result<(), StepError> {
    if cx.pilot {
        return Ok(());
    }
    let (account, calendar, id) = (
        cx.rep.email.clone(),
        cx.rep.calendar_id.clone(),
        cx.booking.event_id.clone(),
    );
    cx.services
        .calendar(&cx.rep.email, &EVENTS_PATCH, move |c| {
            let (account, calendar, id, patch) =
                (account.clone(), calendar.clone(), id.clone(), patch.clone());
            async move { c.patch_event(&account, &calendar, &id, &patch).await }
        })
        .await?;
    Ok(())
}

/// Cancels the event; Google tells the attendee. One already gone is cancelled.
pub async fn cancel(cx: &BookingCx<'_>) -> Result<(), StepError> {
    if cx.pilot {
        return Ok(());
    }
    let (account, calendar, id) = (
        cx.rep.email.clone(),
        cx.rep.calendar_id.clone(),
        cx.booking.event_id.clone(),
    );
    cx.services
        .calendar(&cx.rep.email, &EVENTS_DELETE, move |c| {
            let (account, calendar, id) = (account.clone(), calendar.clone(), id.clone());
            async move { c.delete_event(&account, &calendar, &id, "all").await }
        })
        .await?;
    Ok(())
}
