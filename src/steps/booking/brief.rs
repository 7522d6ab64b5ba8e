//! The meeting brief: at booking, a Google Doc in the configured Drive folder
//! (`SALES_AGENT_BRIEF_FOLDER_ID`), created in the rep's Drive with the rep's
//! grant by a multipart upload Drive converts from HTML, saying what the
//! workflow learnt (see `content`). It carries the lead's workflow id and the
//! booking's id in its `appProperties`, so a re-run finds it (`files.list` with
//! `appProperties has` and `trashed = false`) instead of making a second; the
//! ledger row says whether an earlier attempt may have made it. A new booking
//! after a cancellation gets a brief of its own, with its own time. Before it is linked anywhere its
//! permissions are read: a brief readable by anyone with the link or a whole
//! domain (inherited from the folder) is refused. In pilot mode the upload is
//! recorded, not made.

mod content;

use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::connectors::drive::{
    FILES_CREATE, FILES_LIST, File, NewDoc, PERMISSIONS_LIST, Permission,
};
use crate::connectors::planned;
use crate::connectors::query::DriveQuery;
use crate::domain::Mode;
use crate::steps::StepError;
use crate::steps::once::{Earlier, Fence, find_or_create};
use crate::steps::pilot;
use crate::store::side_effects::{self, EffectKind, EffectState};

pub use content::agenda;

/// The app property that names a brief's lead: its value is the lead's workflow id.
pub const BRIEF_PROPERTY: &str = "salesAgentBrief";
/// The app property a brief is found by: its value is the booking's id.
pub const BOOKING_PROPERTY: &str = "salesAgentBooking";

/// What the brief says. The prospect's fields (`contact_name`, `company`,
/// `message`, `conversation_summary`) are text and stay text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BriefFacts {
    /// The lead's workflow (what the brief is about).
    pub workflow_id: String,
    /// The booking the brief is for.
    pub booking_id: String,
    pub rep_email: String,
    pub rep_name: String,
    pub contact_name: String,
    pub contact_email: String,
    pub company: Option<String>,
    pub message: String,
    pub conversation_summary: Option<String>,
    pub intent: String,
    /// `(title, url)` of each asset the reply linked.
    pub assets: Vec<(String, String)>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// IANA zone the meeting time is shown in (UTC when unknown).
    pub time_zone: String,
}

/// The brief in Drive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BriefDoc {
    pub file_id: String,
    pub link: String,
}

/// The workflow's brief: from the ledger, else found in Drive, else created
/// now. `None` when no brief folder is configured, or in pilot mode (the upload
/// is recorded instead).
pub async fn ensure_brief(
    fence: Fence<'_>,
    facts: &BriefFacts,
) -> Result<Option<BriefDoc>, StepError> {
    let services = fence.services();
    let Some(folder) = services.config.engine.brief_folder.clone() else {
        return Ok(None);
    };
    let html = content::html(facts)
        .map_err(|e| StepError::Permanent(format!("the brief cannot be rendered: {e}")))?;
    let doc = NewDoc {
        name: content::title(facts),
        folder_id: folder,
        app_properties: [
            (BRIEF_PROPERTY.to_string(), facts.workflow_id.clone()),
            (BOOKING_PROPERTY.to_string(), facts.booking_id.clone()),
        ]
        .into(),
        html,
    };
    if pilot::mode_of(services, fence.workflow_id()).await? == Mode::Pilot {
        let write = planned::doc_upload(&doc);
        pilot::record_as(services, fence.workflow_id(), "booking.brief", vec![write]).await?;
        return Ok(None);
    }
    let rep = facts.rep_email.to_ascii_lowercase();
    let (wf, owner) = (fence.workflow_id().to_string(), rep.clone());
    // Unique across the ledger: one brief per booking.
    let key = format!("drive-brief:{}", facts.booking_id);
    let (effect, fresh) = services
        .store
        .run(move |c| {
            side_effects::plan_superseding(c, &wf, EffectKind::DriveBrief, &key, Some(&owner))
        })
        .await?;
    if effect.state == EffectState::Done
        && let Some(file_id) = effect.external_id
    {
        let link = effect.detail["link"]
            .as_str()
            .map_or_else(|| doc_link(&file_id), str::to_string);
        return Ok(Some(BriefDoc { file_id, link }));
    }
    let earlier = Earlier::after_plan(fresh);
    let seen: Mutex<Option<File>> = Mutex::new(None);
    let keep = |file: File| {
        let id = file.id.clone();
        *seen.lock().unwrap_or_else(|p| p.into_inner()) = Some(file);
        id
    };
    let file_id = find_or_create(
        earlier,
        fence,
        || async {
            let found = find(fence, &rep, &facts.booking_id).await?;
            Ok(found.map(keep))
        },
        || async {
            let (account, doc) = (rep.clone(), doc.clone());
            let created = services
                .drive(&rep, &FILES_CREATE, move |d| {
                    let (account, doc) = (account.clone(), doc.clone());
                    async move { d.create_doc(&account, &doc).await }
                })
                .await?;
            Ok(keep(created))
        },
    )
    .await?;
    let link = seen
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
        .and_then(|f| f.web_view_link)
        .unwrap_or_else(|| doc_link(&file_id));
    refuse_if_exposed(fence, &rep, &file_id).await?;
    let (wf, id) = (fence.workflow_id().to_string(), file_id.clone());
    let detail = serde_json::json!({ "link": link, "lead_workflow_id": facts.workflow_id });
    services
        .store
        .run(move |c| {
            let audit = crate::store::audit::Entry {
                actor: "engine",
                action: "drive.brief_created",
                workflow_id: Some(&wf),
                reason: Some("a meeting was booked: the rep's brief"),
                detail: serde_json::json!({ "file_id": id }),
            };
            side_effects::done_and_audited(
                c,
                &wf,
                EffectKind::DriveBrief,
                &id,
                Some(&detail),
                &audit,
            )
        })
        .await?;
    Ok(Some(BriefDoc { file_id, link }))
}

/// The brief an earlier attempt made for the booking, if any.
async fn find(
    fence: Fence<'_>,
    rep: &str,
    booking_id: &str,
) -> Result<Option<File>, crate::connectors::ConnectorError> {
    let query = DriveQuery::new().app_property(BOOKING_PROPERTY, booking_id);
    let account = rep.to_string();
    let page = fence
        .services()
        .drive(rep, &FILES_LIST, move |d| {
            let (account, query) = (account.clone(), query.clone());
            async move { d.list_files(&account, &query, 10, None).await }
        })
        .await?;
    Ok(page.files.into_iter().next())
}

/// A brief someone outside could open (anyone with the link, a whole domain)
/// must not be linked from an invitation the prospect receives.
async fn refuse_if_exposed(fence: Fence<'_>, rep: &str, file_id: &str) -> Result<(), StepError> {
    let (account, id) = (rep.to_string(), file_id.to_string());
    let permissions = fence
        .services()
        .drive(rep, &PERMISSIONS_LIST, move |d| {
            let (account, id) = (account.clone(), id.clone());
            async move { d.list_permissions(&account, &id).await }
        })
        .await?;
    match permissions.iter().find(|p| exposed(p)) {
        None => Ok(()),
        Some(p) => Err(StepError::Permanent(format!(
            "the brief folder shares its files with {} ({}): set SALES_AGENT_BRIEF_FOLDER_ID to a folder shared with the reps only",
            p.kind.as_deref().unwrap_or("?"),
            p.role.as_deref().unwrap_or("?"),
        ))),
    }
}

fn exposed(permission: &Permission) -> bool {
    matches!(permission.kind.as_deref(), Some("anyone" | "domain"))
}

/// A Google Doc's address, when Drive's answer did not give it.
fn doc_link(file_id: &str) -> String {
    format!("https://docs.google.com/document/d/{file_id}/edit")
}
