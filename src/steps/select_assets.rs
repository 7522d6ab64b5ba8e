//! Step 9, select assets: the catalogue of the allowlisted Drive folders (synced
//! first when stale), ranked against the lead's intent, industry, role and words
//! (`assets::rank`). Links are the files' own `webViewLink`s and nothing else.
//! With `SALES_AGENT_ASSET_SHARE` the prospect is granted read access to each
//! linked file, without Drive's notification email; granting the same reader again
//! changes nothing, so a re-run step is harmless. Files already linked in the
//! thread the reply goes into are kept apart, to be named rather than re-sent.
//! In pilot mode the shares are recorded, not made.

use crate::assets::rank::{Candidate, LeadProfile, rank};
use crate::assets::sync::{self, SyncError};
use crate::compose::template::AssetLink;
use crate::connectors::drive::PERMISSIONS_CREATE;
use crate::connectors::planned;
use crate::domain::Step;
use crate::steps::pilot;
use crate::steps::qualify::Intent;
use crate::steps::{StepCx, StepDone, StepError};
use crate::store::assets;

/// At most this many files are linked.
const MAX_ASSETS: usize = 2;

impl From<SyncError> for StepError {
    fn from(error: SyncError) -> Self {
        match error {
            SyncError::Store(e) => e.into(),
            SyncError::Drive(e) => e.into(),
            // Not an attempt: the catalogue appears within a sync's time.
            error @ SyncError::FirstSyncInProgress => StepError::Defer {
                after: std::time::Duration::from_secs(2),
                reason: error.to_string(),
            },
        }
    }
}

pub async fn run(cx: &StepCx<'_>) -> Result<StepDone, StepError> {
    let rep = cx.rep().await?;
    sync::ensure_fresh(cx.services, &rep.email).await?;
    let catalogue = cx.services.store.run(assets::list_linkable).await?;
    if catalogue.is_empty() {
        return Ok(StepDone::skipped(Vec::<AssetLink>::new()));
    }
    let lead = cx.lead()?;
    let intent = cx
        .state
        .qualification
        .as_ref()
        .map(|q| q.intent)
        .unwrap_or(Intent::Question);
    let industry = cx
        .state
        .company
        .as_ref()
        .and_then(|c| c.industry.clone())
        .or_else(|| lead.industry.clone());
    let candidates: Vec<Candidate> = catalogue
        .into_iter()
        .map(|a| Candidate {
            file_id: a.file_id,
            name: a.name,
            description: a.description,
            web_view_link: a.web_view_link,
            tags: a.tags,
        })
        .collect();
    let profile = LeadProfile {
        intent,
        industry: industry.as_deref(),
        job_title: lead.job_title.as_deref(),
        message: lead.message.as_deref().unwrap_or_default(),
    };
    // Files already linked in the reply's thread are named, not linked again;
    // the fresh ones fill the places.
    let shared = cx
        .state
        .conversation
        .as_ref()
        .map(|c| c.shared_files.clone())
        .unwrap_or_default();
    let (before, fresh): (Vec<Candidate>, Vec<Candidate>) = rank(&candidates, &profile)
        .into_iter()
        .map(|(_, c)| c)
        .partition(|c| shared.contains(&c.file_id));
    let picked: Vec<Candidate> = fresh.into_iter().take(MAX_ASSETS).collect();
    let share = cx.services.config.engine.asset_share && !picked.is_empty();
    if share && pilot::is_pilot(cx).await? {
        let writes = picked
            .iter()
            .map(|file| planned::share_with_reader(&file.file_id, &lead.email))
            .collect();
        pilot::record(cx, Step::SelectAssets, writes).await?;
    } else if share {
        for file in &picked {
            let (account, file_id, email) =
                (rep.email.clone(), file.file_id.clone(), lead.email.clone());
            cx.services
                .drive(&rep.email, &PERMISSIONS_CREATE, move |d| {
                    let (account, file_id, email) =
                        (account.clone(), file_id.clone(), email.clone());
                    async move { d.share_with_reader(&account, &file_id, &email).await }
                })
                .await?;
        }
    }
    let mentioned = before.into_iter().take(MAX_ASSETS).map(|c| AssetLink {
        already_shared: true,
        ..link(c)
    });
    Ok(StepDone::ok(
        picked
            .into_iter()
            .map(link)
            .chain(mentioned)
            .collect::<Vec<AssetLink>>(),
    ))
}

/// The reply's link: the file's name without its extension, and Drive's own link.
fn link(file: Candidate) -> AssetLink {
    let title = match file.name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && (1..=4).contains(&ext.len()) => stem.to_string(),
        _ => file.name.clone(),
    };
    AssetLink {
        title,
        url: file.web_view_link,
        already_shared: false,
    }
}
