//! The chain's writes after the event, from what the lead's workflow learnt:
//! the meeting brief in Drive (linked from the event's description), the
//! HubSpot meeting on the contact (and company), and the follow-up task
//! completed. Each is made once (`brief`, `meeting`: ledger and look-up first).
//!
//! The writes pass a [`Fence`] without an owner: the booking row's lease
//! (`store::bookings::claim`) is what keeps a second runner off this chain;
//! the lead's workflow lease ended with the workflow.

use super::brief::{BriefDoc, BriefFacts, ensure_brief};
use super::meeting::{
    MeetingChange, MeetingFacts, complete_follow_up_task, ensure_meeting, update_meeting,
};
use super::{BookingCx, event};
use crate::steps::StepError;
use crate::steps::once::Fence;

fn fence<'a>(cx: &'a BookingCx<'_>) -> Fence<'a> {
    Fence::new(cx.services, &cx.booking.workflow_id, None)
}

/// The brief, made or found, and the event's description pointing at it.
pub async fn brief(cx: &BookingCx<'_>) -> Result<Option<BriefDoc>, StepError> {
    let state = &cx.state;
    let facts = BriefFacts {
        workflow_id: cx.booking.workflow_id.clone(),
        booking_id: cx.booking.id.clone(),
        rep_email: cx.rep.email.clone(),
        rep_name: cx.rep.name.clone(),
        contact_name: cx.contact_name().unwrap_or_else(|| cx.lead.email.clone()),
        contact_email: cx.lead.email.clone(),
        company: cx.company(),
        message: cx.lead.message.clone().unwrap_or_default(),
        conversation_summary: state
            .conversation
            .as_ref()
            .map(|c| c.summary.join("\n"))
            .filter(|s| !s.is_empty()),
        intent: state
            .qualification
            .as_ref()
            .and_then(|q| serde_json::to_value(q.intent).ok())
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| "question".into()),
        assets: state
            .assets
            .iter()
            .flatten()
            .map(|a| (a.title.clone(), a.url.clone()))
            .collect(),
        start: cx.start(),
        end: cx.end(),
        time_zone: cx.booking.time_zone.clone(),
    };
    let doc = ensure_brief(fence(cx), &facts).await?;
    if let Some(doc) = &doc {
        let description = format!(
            "{}\n\nMeeting brief: {}",
            event::new_event(cx).description,
            doc.link
        );
        event::describe(cx, description).await?;
    }
    Ok(doc)
}

/// The HubSpot meeting's id; `None` when the lead has no HubSpot contact.
pub async fn meeting(
    cx: &BookingCx<'_>,
    brief_link: Option<String>,
    event_link: Option<String>,
) -> Result<Option<String>, StepError> {
    let Some(contact) = cx.state.contact.as_ref() else {
        return Ok(None);
    };
    let new_event = event::new_event(cx);
    let facts = MeetingFacts {
        workflow_id: cx.booking.workflow_id.clone(),
        booking_id: cx.booking.id.clone(),
        rep_email: cx.rep.email.clone(),
        contact_id: contact.id.clone(),
        company_id: cx.state.company.as_ref().map(|c| c.id.clone()),
        owner_id: cx.rep.hubspot_owner_id.clone(),
        title: new_event.summary,
        body: new_event.description,
        start: cx.start(),
        end: cx.end(),
        brief_link,
        event_link,
    };
    ensure_meeting(fence(cx), &facts).await.map(Some)
}

/// The booking's HubSpot meeting after the prospect moved or cancelled it. The
/// calendar has already changed and stays the record: a HubSpot that cannot be
/// reached now is logged, not allowed to undo the prospect's change.
pub async fn meeting_changed(cx: &BookingCx<'_>, change: MeetingChange) {
    if let Err(error) = update_meeting(fence(cx), &cx.booking.id, change).await {
        tracing::warn!(
            workflow.id = %cx.booking.workflow_id,
            booking.id = %cx.booking.id,
            %error,
            "the HubSpot meeting was not updated after the booking changed"
        );
    }
}

/// The lead's follow-up task, done: the meeting is booked.
pub async fn task(cx: &BookingCx<'_>) -> Result<(), StepError> {
    complete_follow_up_task(fence(cx), &cx.booking.workflow_id).await
}
