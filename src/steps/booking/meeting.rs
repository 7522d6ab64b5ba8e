//! The booked meeting in HubSpot: a meeting engagement (`SCHEDULED`, start and
//! end, owner, the calendar event as its external URL, the brief and event
//! linked from its body) associated with the contact and, when known, the
//! company — made at most once per booking (ledger, then the contact's meetings
//! searched for the booking's marker, then created; see `steps::engagement`);
//! moved with its booking and marked `CANCELED` when the prospect cancels, so a
//! new booking after a cancellation gets a meeting of its own. And the record step's
//! follow-up task, found in that workflow's ledger, marked completed: the
//! meeting is the follow-up. In pilot mode both are recorded, not made.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use html_escape::{encode_double_quoted_attribute as attr, encode_text as text};

use crate::connectors::ConnectorError;
use crate::connectors::hubspot::{MEETINGS_UPDATE, NewMeeting, TASKS_UPDATE, timestamp};
use crate::connectors::planned;
use crate::domain::Mode;
use crate::steps::StepError;
use crate::steps::engagement::{Write, ensure};
use crate::steps::once::Fence;
use crate::steps::pilot::{self, NOT_CREATED};
use crate::store::side_effects::{self, EffectKind, EffectState};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeetingFacts {
    /// The lead's workflow.
    pub workflow_id: String,
    /// The booking the meeting is for (its marker).
    pub booking_id: String,
    pub rep_email: String,
    pub contact_id: String,
    pub company_id: Option<String>,
    /// The rep's HubSpot owner id.
    pub owner_id: Option<String>,
    pub title: String,
    /// Plain text (escaped on the way into HubSpot's rich-text body).
    pub body: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub brief_link: Option<String>,
    pub event_link: Option<String>,
}

/// The HubSpot meeting's id ([`NOT_CREATED`] in pilot mode).
pub async fn ensure_meeting(fence: Fence<'_>, facts: &MeetingFacts) -> Result<String, StepError> {
    let services = fence.services();
    let marker = marker(&facts.booking_id);
    let meeting = NewMeeting {
        contact_id: facts.contact_id.clone(),
        company_id: facts.company_id.clone().filter(|c| !c.is_empty()),
        title: facts.title.clone(),
        body: body(&marker, facts),
        start: facts.start,
        end: facts.end,
        owner_id: facts.owner_id.clone().filter(|o| !o.is_empty()),
        external_url: facts
            .event_link
            .as_deref()
            .and_then(https)
            .map(str::to_string),
    };
    if pilot::mode_of(services, fence.workflow_id()).await? == Mode::Pilot {
        let write = planned::meeting(&meeting);
        pilot::record_as(
            services,
            fence.workflow_id(),
            "booking.meeting",
            vec![write],
        )
        .await?;
        return Ok(NOT_CREATED.into());
    }
    ensure(
        fence,
        &marker,
        &facts.contact_id,
        Write::Meeting(meeting),
        "a meeting was booked",
    )
    .await
}

/// The text that finds a booking's meeting on the contact again.
fn marker(booking_id: &str) -> String {
    format!("[sa:op={booking_id}:meeting]")
}

/// What happened to a booked meeting after it was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MeetingChange {
    Moved {
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    },
    Cancelled,
}

impl MeetingChange {
    fn properties(self) -> BTreeMap<String, String> {
        let at = |t: DateTime<Utc>| timestamp(&t);
        match self {
            MeetingChange::Moved { start, end } => BTreeMap::from([
                ("hs_meeting_start_time".to_string(), at(start)),
                ("hs_meeting_end_time".to_string(), at(end)),
                ("hs_timestamp".to_string(), at(start)),
            ]),
            MeetingChange::Cancelled => {
                BTreeMap::from([("hs_meeting_outcome".to_string(), "CANCELED".to_string())])
            }
        }
    }
}

/// Carries `change` to the HubSpot meeting made for `booking_id`, if one was
/// (the ledger's meeting row is that booking's). A PATCH of the same properties
/// twice leaves the meeting as once, so a retry is harmless; a meeting the rep
/// deleted is left deleted.
pub async fn update_meeting(
    fence: Fence<'_>,
    booking_id: &str,
    change: MeetingChange,
) -> Result<(), StepError> {
    let services = fence.services();
    let wf = fence.workflow_id().to_string();
    let made = services
        .store
        .run(move |c| side_effects::find(c, &wf, EffectKind::HubspotMeeting))
        .await?;
    let Some(meeting_id) = made
        .filter(|m| m.state == EffectState::Done && m.idempotency_key == marker(booking_id))
        .and_then(|m| m.external_id)
    else {
        return Ok(());
    };
    let properties = change.properties();
    if pilot::mode_of(services, fence.workflow_id()).await? == Mode::Pilot {
        let write = planned::meeting_update(&meeting_id, &properties);
        pilot::record_as(
            services,
            fence.workflow_id(),
            "booking.meeting_update",
            vec![write],
        )
        .await?;
        return Ok(());
    }
    let id = meeting_id.clone();
    let updated = services
        .hubspot(&MEETINGS_UPDATE, move |h| {
            let (id, properties) = (id.clone(), properties.clone());
            async move { h.update_meeting(&id, &properties).await }
        })
        .await;
    match updated {
        Ok(_) | Err(ConnectorError::NotFound(_)) => {}
        Err(error) => return Err(error.into()),
    }
    let action = match change {
        MeetingChange::Moved { .. } => "hubspot.meeting_moved",
        MeetingChange::Cancelled => "hubspot.meeting_cancelled",
    };
    services
        .audit(
            fence.workflow_id(),
            action,
            "the prospect changed the booking",
            serde_json::json!({ "meeting_id": meeting_id, "booking_id": booking_id }),
        )
        .await?;
    Ok(())
}

/// HubSpot shows `hs_meeting_body` as rich text: the text is escaped, and only
/// our own https links (the brief, the event) become links.
fn body(marker: &str, facts: &MeetingFacts) -> String {
    let mut out = format!("<p>{marker}</p>");
    for line in facts.body.lines().filter(|l| !l.trim().is_empty()) {
        out.push_str(&format!("<p>{}</p>", text(line)));
    }
    for (label, link) in [("Brief", &facts.brief_link), ("Event", &facts.event_link)] {
        if let Some(url) = link.as_deref().and_then(https) {
            out.push_str(&format!(
                "<p>{label}: <a href=\"{}\">{}</a></p>",
                attr(url),
                text(url)
            ));
        }
    }
    out
}

fn https(url: &str) -> Option<&str> {
    url::Url::parse(url)
        .ok()
        .filter(|u| u.scheme() == "https")
        .map(|_| url)
}

/// Marks the follow-up task the record step created for `workflow_id` (the
/// lead's) as completed. Nothing to do when that workflow made no task (pilot
/// run, no contact) or the rep deleted it.
pub async fn complete_follow_up_task(fence: Fence<'_>, workflow_id: &str) -> Result<(), StepError> {
    let services = fence.services();
    let id = workflow_id.to_string();
    let task = services
        .store
        .run(move |c| side_effects::find(c, &id, EffectKind::HubspotTask))
        .await?;
    let Some(task_id) = task
        .filter(|t| t.state == EffectState::Done)
        .and_then(|t| t.external_id)
    else {
        return Ok(());
    };
    let properties = BTreeMap::from([("hs_task_status".to_string(), "COMPLETED".to_string())]);
    if pilot::mode_of(services, fence.workflow_id()).await? == Mode::Pilot {
        let write = planned::task_update(&task_id, &properties);
        pilot::record_as(services, fence.workflow_id(), "booking.task", vec![write]).await?;
        return Ok(());
    }
    fence.hold().await?;
    let id = task_id.clone();
    let updated = services
        .hubspot(&TASKS_UPDATE, move |h| {
            let (id, properties) = (id.clone(), properties.clone());
            async move { h.update_task(&id, &properties).await }
        })
        .await;
    match updated {
        Ok(_) => {}
        Err(ConnectorError::NotFound(_)) => {
            tracing::info!(
                workflow.id = workflow_id,
                "the follow-up task is gone; nothing to complete"
            );
            return Ok(());
        }
        Err(error) => return Err(error.into()),
    }
    services
        .audit(
            fence.workflow_id(),
            "hubspot.task_completed",
            "a meeting was booked: the follow-up is done",
            serde_json::json!({ "task_id": task_id, "lead_workflow_id": workflow_id }),
        )
        .await?;
    Ok(())
}
