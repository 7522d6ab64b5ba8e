//! Step 13, record: a HubSpot note describing what was done and a follow-up task
//! for the rep, both on the contact. Each carries a marker (`[sa:op=…]`) and is
//! looked up by it before it is created, so a re-run never makes a second one.
//! In pilot mode both are recorded as the requests that would make them.

use chrono::{Datelike, Duration, NaiveTime, TimeZone, Utc};

use crate::connectors::hubspot::{
    ASSOCIATIONS_LIST, Engagement, NOTES_CREATE, NewNote, NewTask, TASKS_CREATE,
};
use crate::connectors::planned;
use crate::domain::{Rep, Step};
use crate::steps::once::Fence;
use crate::steps::pilot::{self, NOT_CREATED};
use crate::steps::state::RecordInfo;
use crate::steps::{StepCx, StepDone, StepError};
use crate::store::side_effects::{self, EffectKind, EffectState};

pub async fn run(cx: &StepCx<'_>) -> Result<StepDone, StepError> {
    let rep = cx.rep().await?;
    let contact = cx
        .state
        .contact
        .as_ref()
        .ok_or_else(|| StepError::Permanent("no HubSpot contact".into()))?;
    let qualification = cx.state.qualification.as_ref();
    let intent = qualification
        .map(|q| q.intent.as_str())
        .unwrap_or("question");
    let score = qualification.map(|q| q.score).unwrap_or(0);
    let subject = cx
        .state
        .draft
        .as_ref()
        .map(|d| d.subject.as_str())
        .unwrap_or("(no reply)");
    let delivery = cx.state.delivery.as_ref();
    let how = match delivery {
        Some(d) if d.sent_message_id.is_some() => "sent".to_string(),
        Some(d) if d.draft_id.is_none() => format!(
            "not delivered ({})",
            d.held.as_deref().unwrap_or("no draft was made")
        ),
        Some(d) => format!(
            "left as a Gmail draft ({})",
            d.held.as_deref().unwrap_or("awaiting the rep")
        ),
        None => "not delivered".to_string(),
    };
    let slots = cx
        .state
        .slots
        .as_ref()
        .map(|s| s.rendered.join("; "))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "none".into());
    let note_marker = format!("[sa:op={}:note]", cx.workflow.id);
    let task_marker = format!("[sa:op={}:task]", cx.workflow.id);
    let note = NewNote {
        contact_id: contact.id.clone(),
        body: format!(
            "{note_marker} Sales Agent answered a {intent} inquiry (score {score}). Reply \"{subject}\" was {how}. Rep: {}. Times offered: {slots}.",
            rep.name
        ),
        timestamp: Utc::now(),
        owner_id: rep.hubspot_owner_id.clone(),
    };
    let task = NewTask {
        contact_id: contact.id.clone(),
        subject: format!("Follow up: {subject}"),
        body: format!("{task_marker} Check for a reply and follow up on the {intent} inquiry."),
        due: next_business_morning(&rep),
        priority: if score >= 70 { "HIGH" } else { "MEDIUM" }.into(),
        task_type: "EMAIL".into(),
        owner_id: rep.hubspot_owner_id.clone(),
    };
    if pilot::is_pilot(cx).await? {
        let writes = vec![planned::note(&note), planned::task(&task)];
        pilot::record(cx, Step::Record, writes).await?;
        return Ok(StepDone::ok(RecordInfo {
            note_id: NOT_CREATED.into(),
            task_id: NOT_CREATED.into(),
        }));
    }
    let fence = Fence::of(cx);
    let note_id = ensure(fence, NOTE, &note_marker, &contact.id, Write::Note(note)).await?;
    let task_id = ensure(fence, TASK, &task_marker, &contact.id, Write::Task(task)).await?;
    Ok(StepDone::ok(RecordInfo { note_id, task_id }))
}

pub(crate) enum Write {
    Note(NewNote),
    Task(NewTask),
}

/// A HubSpot engagement a workflow writes once: its kind, its ledger row, and
/// the audit entry made when it is created.
#[derive(Clone, Copy)]
pub(crate) struct Target {
    pub kind: Engagement,
    pub effect: EffectKind,
    pub action: &'static str,
    pub reason: &'static str,
}

const WHY: &str = "what the reply did, and a follow-up for the rep";
const NOTE: Target = Target {
    kind: Engagement::Note,
    effect: EffectKind::HubspotNote,
    action: "hubspot.note_created",
    reason: WHY,
};
const TASK: Target = Target {
    kind: Engagement::Task,
    effect: EffectKind::HubspotTask,
    action: "hubspot.task_created",
    reason: WHY,
};

/// The engagement's id: from the ledger, else found on the contact by marker,
/// else created now.
pub(crate) async fn ensure(
    fence: Fence<'_>,
    target: Target,
    marker: &str,
    contact_id: &str,
    write: Write,
) -> Result<String, StepError> {
    let (services, workflow_id) = (fence.services(), fence.workflow_id());
    let (kind, effect_kind) = (target.kind, target.effect);
    let (wf, key) = (workflow_id.to_string(), marker.to_string());
    let effect = services
        .store
        .run(move |c| side_effects::plan(c, &wf, effect_kind, &key, None))
        .await?;
    if effect.state == EffectState::Done
        && let Some(id) = effect.external_id
    {
        return Ok(id);
    }
    let id = crate::steps::once::find_or_create(
        crate::steps::once::Earlier::Possible,
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
                Write::Note(note) => {
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
            };
            Ok(created.id)
        },
    )
    .await?;
    let (wf, external, contact) = (workflow_id.to_string(), id.clone(), contact_id.to_string());
    let (action, reason) = (target.action, target.reason);
    services
        .store
        .run(move |conn| {
            diesel::Connection::transaction(conn, |c| {
                side_effects::update(
                    c,
                    &wf,
                    effect_kind,
                    EffectState::Done,
                    Some(&external),
                    None,
                )?;
                let detail = serde_json::json!({ "hubspot_id": external, "contact_id": contact });
                crate::store::audit::append(
                    c,
                    &crate::store::audit::Entry {
                        actor: "engine",
                        action,
                        workflow_id: Some(&wf),
                        reason: Some(reason),
                        detail,
                    },
                )
            })
        })
        .await?;
    Ok(id)
}

/// 10:00 on the rep's next working day, in their zone.
fn next_business_morning(rep: &Rep) -> chrono::DateTime<Utc> {
    let tz = rep.tz();
    let mut day = Utc::now().with_timezone(&tz).date_naive() + Duration::days(1);
    for _ in 0..7 {
        if rep.working_hours.days.contains(&day.weekday()) {
            break;
        }
        day += Duration::days(1);
    }
    let ten = NaiveTime::from_hms_opt(10, 0, 0).expect("valid time");
    tz.from_local_datetime(&day.and_time(ten))
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| Utc::now() + Duration::days(1))
}
