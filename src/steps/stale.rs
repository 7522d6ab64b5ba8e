//! Stale drafts: a draft left for the rep goes stale when the prospect writes
//! first or books a meeting (`mark_stale`, also called by the booking flow),
//! and is then never sent. A reply is recorded once in HubSpot, as a note on
//! the contact found by its marker before it is made, and once as the
//! experiment outcome of the lead's assignments (`record_reply`). The watcher
//! that finds replies is `engine::stale`.

use chrono::{NaiveDateTime, Utc};

use super::StepError;
use super::engagement::{Write, ensure};
use super::once::Fence;
use crate::connectors::hubspot::NewNote;
use crate::domain::{Mode, StaleReason};
use crate::services::Services;
use crate::store::{StoreError, audit, draft_watches, experiments, reps, settings, step_runs};

/// Why the reply note was written, in its audit entry.
const REPLY_NOTE_REASON: &str = "the prospect replied before the rep sent the draft";

/// Marks the workflow's draft stale for `reason`; true when this call changed
/// it. Idempotent: a draft already stale, settled (sent, deleted) or whose send
/// is claimed is left as it is, and false is answered. Audited and counted
/// once, by the call that changed it.
pub async fn mark_stale(
    services: &Services,
    workflow_id: &str,
    reason: StaleReason,
) -> Result<bool, StoreError> {
    mark_stale_at(services, workflow_id, reason, None).await
}

/// [`mark_stale`] with when the prospect's reply arrived, for a reply.
pub(crate) async fn mark_stale_at(
    services: &Services,
    workflow_id: &str,
    reason: StaleReason,
    replied_at: Option<NaiveDateTime>,
) -> Result<bool, StoreError> {
    let wf = workflow_id.to_string();
    let changed = services
        .store
        .run(move |c| {
            let changed = draft_watches::mark_stale(c, &wf, reason, replied_at)?;
            if changed {
                audit::append(
                    c,
                    &audit::Entry {
                        actor: "engine",
                        action: "draft.stale",
                        workflow_id: Some(&wf),
                        reason: Some(reason.describe()),
                        detail: serde_json::json!({ "reason": reason.as_str() }),
                    },
                )?;
            }
            Ok(changed)
        })
        .await?;
    if changed {
        services
            .metrics
            .drafts_stale
            .with_label_values(&[reason.as_str()])
            .inc();
    }
    Ok(changed)
}

/// Writes down a reply found on a stale draft: the HubSpot note (found by its
/// marker before it is made, so never twice) and the `replied` outcome of the
/// lead's experiment assignments (only ever added); then the watch says so.
/// In pilot mode nothing is written to HubSpot, and the reply waits.
pub async fn record_reply(
    services: &Services,
    workflow_id: &str,
    replied_at: NaiveDateTime,
) -> Result<(), StepError> {
    let wf = workflow_id.to_string();
    let (mode, runs) = services
        .store
        .run(move |c| Ok((settings::mode(c)?, step_runs::list_for_workflow(c, &wf)?)))
        .await?;
    if mode == Mode::Pilot {
        return Ok(());
    }
    let output = |step: &str| -> serde_json::Value {
        runs.iter()
            .find(|r| r.step == step)
            .and_then(|r| r.output.as_deref())
            .and_then(|o| serde_json::from_str(o).ok())
            .unwrap_or_default()
    };
    if let Some(contact_id) = output("resolve_contact")["id"].as_str() {
        let marker = format!("[sa:op={workflow_id}:reply]");
        let note = NewNote {
            contact_id: contact_id.to_string(),
            body: format!(
                "{marker} The prospect replied at {} UTC before the rep sent Sales Agent's draft; the draft is stale and will not be sent.",
                replied_at.format("%Y-%m-%d %H:%M")
            ),
            timestamp: Utc::now(),
            owner_id: rep_owner(services, output("route")["rep_id"].as_str()).await?,
        };
        let fence = Fence::unleased(services, workflow_id);
        ensure(
            fence,
            &marker,
            contact_id,
            Write::ReplyNote(note),
            REPLY_NOTE_REASON,
        )
        .await?;
    }
    let wf = workflow_id.to_string();
    services
        .store
        .run(move |c| {
            for assignment in experiments::assignments_of_workflow(c, &wf)? {
                experiments::record_outcome(c, &assignment.id, Some(replied_at), None)?;
            }
            draft_watches::reply_recorded(c, &wf)
        })
        .await?;
    Ok(())
}

/// The HubSpot owner id of the rep the workflow routed to, if any.
async fn rep_owner(
    services: &Services,
    rep_id: Option<&str>,
) -> Result<Option<String>, StoreError> {
    let Some(rep_id) = rep_id.map(str::to_string) else {
        return Ok(None);
    };
    let rep = services
        .store
        .run(move |c| reps::find_by_id(c, &rep_id))
        .await?;
    Ok(rep.and_then(|r| r.hubspot_owner_id))
}
