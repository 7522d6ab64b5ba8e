//! Syncing the catalogue: every allowlisted folder is listed on Drive (files only,
//! not trashed, all pages), each file is stored with its tags, and files that left
//! a folder are marked inactive. A file whose Drive link is not a real Drive link
//! is not stored at all.

use serde::Serialize;

use super::{Tags, is_drive_link};
use crate::connectors::ConnectorError;
use crate::connectors::drive::{FILES_LIST, File};
use crate::connectors::query::DriveQuery;
use crate::services::Services;
use crate::store::StoreError;
use crate::store::assets::{self as store, SyncDue, SyncedFile};

const FOLDER_MIME: &str = "application/vnd.google-apps.folder";
/// A folder of more than this many pages is cut short; the rest waits for the next sync.
const MAX_PAGES: usize = 20;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Drive(#[from] ConnectorError),
    /// Another caller is doing the catalogue's first sync.
    #[error("the asset catalogue's first sync is in progress")]
    FirstSyncInProgress,
}

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SyncReport {
    pub folders: usize,
    pub files: usize,
    pub deactivated: usize,
    /// Files left out because Drive gave them no usable link.
    pub skipped: usize,
}

/// Syncs every allowlisted folder through `account`'s Drive.
pub async fn sync(services: &Services, account: &str) -> Result<SyncReport, SyncError> {
    let configured = services.config.engine.asset_folders.clone();
    let folders = services
        .store
        .run(move |c| store::folders(c, &configured))
        .await?;
    let mut report = SyncReport::default();
    let mut listed: Vec<(String, Vec<SyncedFile>)> = Vec::new();
    for folder in folders {
        let files = list_folder(services, account, &folder.folder_id).await?;
        let mut synced = Vec::new();
        for f in files {
            let link = f.web_view_link.clone().unwrap_or_default();
            if f.mime_type.as_deref() == Some(FOLDER_MIME) || !is_drive_link(&link) {
                report.skipped += usize::from(f.mime_type.as_deref() != Some(FOLDER_MIME));
                continue;
            }
            let description = f.description.clone().unwrap_or_default();
            synced.push(SyncedFile {
                tags: Tags::from_drive(&f.app_properties, &f.properties, &description)
                    .with_defaults(&folder.tags),
                file_id: f.id,
                folder_id: folder.folder_id.clone(),
                name: f.name,
                mime_type: f.mime_type.unwrap_or_default(),
                web_view_link: link,
                description,
                modified_time: f.modified_time,
            });
        }
        report.folders += 1;
        report.files += synced.len();
        listed.push((folder.folder_id.clone(), synced));
    }
    // One transaction for every folder and the sync time: a workflow reading the
    // catalogue meanwhile sees the whole of the previous one or the whole of this
    // one, never a folder half written (which ranked only part of the material).
    report.deactivated += services
        .store
        .run(move |c| {
            c.write_transaction(|c| {
                let mut deactivated = 0;
                for (folder_id, synced) in &listed {
                    for file in synced {
                        store::upsert_synced(c, file)?;
                    }
                    let seen: Vec<String> = synced.iter().map(|f| f.file_id.clone()).collect();
                    deactivated += store::deactivate_missing(c, folder_id, &seen)?;
                }
                store::mark_synced(c)?;
                Ok::<_, StoreError>(deactivated)
            })
        })
        .await?;
    Ok(report)
}

/// Syncs when the catalogue is older than `SALES_AGENT_ASSET_SYNC_SECS` (or was
/// never synced). Of many workflows finding it stale at once, one syncs and the
/// others use the current catalogue — or, when there is none yet, wait for the
/// first sync; a failed sync over an existing catalogue keeps the old one and
/// leaves the sync due.
pub async fn ensure_fresh(services: &Services, account: &str) -> Result<(), SyncError> {
    let every = chrono::TimeDelta::from_std(services.config.engine.asset_sync_every)
        .unwrap_or(chrono::TimeDelta::MAX);
    let due = services
        .store
        .run(move |c| store::claim_sync(c, every))
        .await?;
    let previous = match due {
        SyncDue::Fresh | SyncDue::TakenByOther => return Ok(()),
        // After the allowlist changed the catalogue is stale but still usable.
        SyncDue::FirstInProgress => {
            return match services.store.run(store::list_linkable).await?.is_empty() {
                true => Err(SyncError::FirstSyncInProgress),
                false => Ok(()),
            };
        }
        SyncDue::First => None,
        SyncDue::Claimed { previous } => Some(previous),
    };
    match (sync(services, account).await, previous) {
        (Ok(report), _) => {
            tracing::info!(?report, "asset catalogue synced");
            Ok(())
        }
        (Err(error), Some(previous)) => {
            tracing::warn!(%error, "asset sync failed; using the previous catalogue");
            services
                .store
                .run(move |c| store::unclaim_sync(c, &previous))
                .await?;
            Ok(())
        }
        (Err(error), None) => {
            services.store.run(store::release_first_sync).await?;
            Err(error)
        }
    }
}

async fn list_folder(
    services: &Services,
    account: &str,
    folder_id: &str,
) -> Result<Vec<File>, ConnectorError> {
    let mut files = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let query = DriveQuery::new()
            .in_parent(folder_id)
            .mime_type_is_not(FOLDER_MIME);
        let (acct, page_token) = (account.to_string(), token.clone());
        let page = services
            .drive(account, &FILES_LIST, move |d| {
                let (acct, query, page_token) = (acct.clone(), query.clone(), page_token.clone());
                async move {
                    d.list_files(&acct, &query, 100, page_token.as_deref())
                        .await
                }
            })
            .await?;
        files.extend(page.files);
        match page.next_page_token {
            Some(next) => token = Some(next),
            None => break,
        }
    }
    Ok(files)
}
