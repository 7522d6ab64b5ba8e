//! Step 13, record: a HubSpot note describing what was done and a follow-up task
//! for the rep, both on the contact. Each carries a marker (`[sa:op=…]`) and is
//! looked up by it before it is created, so a re-run never makes a second one.
//! In pilot mode both are recorded as the requests that would make them.

use chrono::{Datelike, Duration, NaiveTime, TimeZone, Utc};

use crate::connectors::hubspot::{NewNote, NewTask};
use crate::connectors::planned;
use crate::domain::{Rep, Step};
use crate::steps::engagement::{Write, ensure};
use crate::steps::once::Fence;
use crate::steps::pilot::{self, NOT_CREATED};
use crate::steps::state::RecordInfo;
use crate::steps::{StepCx, StepDone, StepError};

/// The audit reason of both writes.
const WHY: &str = "what the reply did, and a follow-up for the rep";

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
    let note_id = ensure(fence, &note_marker, &contact.id, Write::Note(note), WHY).await?;
    let task_id = ensure(fence, &task_marker, &contact.id, Write::Task(task), WHY).await?;
    Ok(StepDone::ok(RecordInfo { note_id, task_id }))
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
