//! HubSpot engagements made at most once: a note, a task or a meeting on a
//! contact, each carrying a marker (`[sa:op=…]`) in its body. The ledger row is
//! read first; else, unless this attempt's own plan created the row, the
//! engagement is looked up on the contact by its marker (HubSpot's associations
//! are consistent, its search is not); else it is created, behind the
//! workflow's fence. Used by the record step (note, task)
//! and by booking (the meeting).

use crate::connectors::hubspot::{
    ASSOCIATIONS_LIST, Engagement, MEETINGS_CREATE, NOTES_CREATE, NewMeeting, NewNote, NewTask,
    TASKS_CREATE,
};
use crate::steps::StepError;
use crate::steps::once::{Earlier, Fence, find_or_create};
use crate::store::side_effects::{self, EffectKind, EffectState};

/// The engagement to create when none is found.
pub enum Write {
    Note(NewNote),
    Task(NewTask),
    Meeting(NewMeeting),
    /// The note recording a prospect's reply to a draft that went stale: a note
    /// with a ledger row of its own, apart from the record step's note.
    ReplyNote(NewNote),
}

impl Write {
    fn kind(&self) -> Engagement {
        match self {
            Write::Note(_) | Write::ReplyNote(_) => Engagement::Note,
            Write::Task(_) => Engagement::Task,
            Write::Meeting(_) => Engagement::Meeting,
        }
    }

    /// The ledger kind and audit action of the write.
    fn ledger(&self) -> (EffectKind, &'static str) {
        match self {
            Write::Note(_) => (EffectKind::HubspotNote, "hubspot.note_created"),
            Write::Task(_) => (EffectKind::HubspotTask, "hubspot.task_created"),
            Write::Meeting(_) => (EffectKind::HubspotMeeting, "hubspot.meeting_created"),
            Write::ReplyNote(_) => (EffectKind::HubspotReplyNote, "hubspot.reply_note_created"),
        }
    }
}

/// The engagement's id: from the ledger, else found on the contact by marker,
/// else created now; the ledger row is then done, with an audit entry giving
/// `reason`.
pub async fn ensure(
    fence: Fence<'_>,
    marker: &str,
    contact_id: &str,
    write: Write,
    reason: &'static str,
) -> Result<String, StepError> {
    let (services, workflow_id) = (fence.services(), fence.workflow_id());
    let kind = write.kind();
    let (effect_kind, action) = write.ledger();
    let (wf, key) = (workflow_id.to_string(), marker.to_string());
    // A meeting is one per booking: a cancelled booking's row gives way.
    let per_booking = matches!(write, Write::Meeting(_));
    let (effect, fresh) = services
        .store
        .run(move |c| {
            if per_booking {
                side_effects::plan_superseding(c, &wf, effect_kind, &key, None)
            } else {
                side_effects::plan_fresh(c, &wf, effect_kind, &key, None)
            }
        })
        .await?;
    if effect.state == EffectState::Done
        && let Some(id) = effect.external_id
    {
        return Ok(id);
    }
    // A row this very call created proves no earlier attempt wrote (each plans
    // first): the look-up on the contact, a HubSpot call, is skipped then.
    let earlier = Earlier::after_plan(fresh);
    let id = find_or_create(
        earlier,
        fence,
        || {
            let (contact, mark) = (contact_id.to_string(), marker.to_string());
            services.hubspot(&ASSOCIATIONS_LIST, move |h| {
                let (contact, mark) = (contact.clone(), mark.clone());
                async move { h.find_marked(&contact, kind, &mark).await }
            })
        },
        || async {
            let created = match &write {
                Write::Note(note) | Write::ReplyNote(note) => {
                    let note = note.clone();
                    services
                        .hubspot(&NOTES_CREATE, move |h| {
                            let note = note.clone();
                            async move { h.create_note(&note).await }
                        })
                        .await?
                }
                Write::Task(task) => {
                    let task = task.clone();
                    services
                        .hubspot(&TASKS_CREATE, move |h| {
                            let task = task.clone();
                            async move { h.create_task(&task).await }
                        })
                        .await?
                }
                Write::Meeting(meeting) => {
                    let meeting = meeting.clone();
                    services
                        .hubspot(&MEETINGS_CREATE, move |h| {
                            let meeting = meeting.clone();
                            async move { h.create_meeting(&meeting).await }
                        })
                        .await?
                }
            };
            Ok(created.id)
        },
    )
    .await?;
    let (wf, external, contact) = (workflow_id.to_string(), id.clone(), contact_id.to_string());
    services
        .store
        .run(move |c| {
            let audit = crate::store::audit::Entry {
                actor: "engine",
                action,
                workflow_id: Some(&wf),
                reason: Some(reason),
                detail: serde_json::json!({ "hubspot_id": external, "contact_id": contact }),
            };
            side_effects::done_and_audited(c, &wf, effect_kind, &external, None, &audit)
        })
        .await?;
    Ok(id)
}
