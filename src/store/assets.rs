//! The asset allowlist (Drive folders) and the catalogue of their files. The
//! allowlist starts from `SALES_AGENT_ASSET_FOLDERS` the first time it is read and
//! is the admins' to edit from then on. Tags an admin set survive later syncs.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde::Serialize;

use super::schema::{asset_folders, assets, settings};
use super::{DbConn, StoreError, now};
use crate::domain::Tags;

const SEEDED: &str = "asset_folders_seeded";
const SYNCED_AT: &str = "assets_synced_at";
/// Held by the one caller doing the catalogue's first sync (its start time).
const FIRST_SYNC: &str = "assets_first_sync";
/// A first-sync claim older than this is taken over: its process most likely died
/// (a first sync is a few Drive list calls), and a second sync is harmless — it
/// only costs Drive calls — while waiting on a dead claim holds every new lead.
const FIRST_SYNC_STALE_SECS: i64 = 15;

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Folder {
    pub folder_id: String,
    /// Defaults for files of this folder that carry no tags of their own.
    pub tags: Tags,
    pub added_at: NaiveDateTime,
    pub added_by: String,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = asset_folders)]
struct FolderRow {
    folder_id: String,
    tags: String,
    added_at: NaiveDateTime,
    added_by: String,
}

fn parse_tags(raw: &str) -> Result<Tags, StoreError> {
    serde_json::from_str(raw).map_err(|e| StoreError::Corrupt(format!("asset tags: {e}")))
}

fn tags_json(tags: &Tags) -> String {
    serde_json::to_string(tags).unwrap_or_else(|_| "{}".into())
}

fn setting(conn: &mut DbConn, key: &str) -> Result<Option<String>, StoreError> {
    Ok(settings::table
        .find(key)
        .select(settings::value)
        .first(conn)
        .optional()?)
}

fn put_setting(conn: &mut DbConn, key: &str, value: &str) -> Result<(), StoreError> {
    let updated = diesel::update(settings::table.find(key))
        .set((settings::value.eq(value), settings::updated_at.eq(now())))
        .execute(conn)?;
    if updated == 0 {
        let inserted = diesel::insert_into(settings::table)
            .values((
                settings::key.eq(key),
                settings::value.eq(value),
                settings::updated_at.eq(now()),
                settings::updated_by.eq("system"),
            ))
            .execute(conn);
        match inserted {
            Ok(_) | Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Adds a folder; false when it was already allowlisted.
pub fn add_folder(
    conn: &mut DbConn,
    folder_id: &str,
    tags: &Tags,
    by: &str,
) -> Result<bool, StoreError> {
    let inserted = diesel::insert_into(asset_folders::table)
        .values((
            asset_folders::folder_id.eq(folder_id),
            asset_folders::tags.eq(tags_json(tags)),
            asset_folders::added_at.eq(now()),
            asset_folders::added_by.eq(by),
        ))
        .execute(conn);
    match inserted {
        Ok(_) => Ok(true),
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Removes a folder from the allowlist; its files stop being linked at once.
pub fn remove_folder(conn: &mut DbConn, folder_id: &str) -> Result<bool, StoreError> {
    Ok(diesel::delete(asset_folders::table.find(folder_id)).execute(conn)? == 1)
}

/// The allowlist, seeded once from the configured folders.
pub fn folders(conn: &mut DbConn, configured: &[String]) -> Result<Vec<Folder>, StoreError> {
    if setting(conn, SEEDED)?.is_none() {
        for folder in configured {
            add_folder(conn, folder, &Tags::default(), "config")?;
        }
        put_setting(conn, SEEDED, "true")?;
    }
    asset_folders::table
        .order(asset_folders::folder_id.asc())
        .select(FolderRow::as_select())
        .load(conn)?
        .into_iter()
        .map(|r| {
            Ok(Folder {
                tags: parse_tags(&r.tags)?,
                folder_id: r.folder_id,
                added_at: r.added_at,
                added_by: r.added_by,
            })
        })
        .collect()
}

/// A catalogue row.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Asset {
    pub file_id: String,
    pub folder_id: String,
    pub name: String,
    pub mime_type: String,
    pub web_view_link: String,
    pub description: String,
    pub tags: Tags,
    /// Tags were set by an admin; syncs keep them.
    pub tags_edited: bool,
    pub active: bool,
    pub modified_time: Option<String>,
    pub synced_at: NaiveDateTime,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = assets)]
struct AssetRow {
    file_id: String,
    folder_id: String,
    name: String,
    mime_type: String,
    web_view_link: String,
    description: String,
    tags: String,
    tags_edited: bool,
    active: bool,
    modified_time: Option<String>,
    synced_at: NaiveDateTime,
}

impl AssetRow {
    fn into_asset(self) -> Result<Asset, StoreError> {
        Ok(Asset {
            tags: parse_tags(&self.tags)?,
            file_id: self.file_id,
            folder_id: self.folder_id,
            name: self.name,
            mime_type: self.mime_type,
            web_view_link: self.web_view_link,
            description: self.description,
            tags_edited: self.tags_edited,
            active: self.active,
            modified_time: self.modified_time,
            synced_at: self.synced_at,
        })
    }
}

/// A file as a sync saw it on Drive.
#[derive(Debug, Clone)]
pub struct SyncedFile {
    pub file_id: String,
    pub folder_id: String,
    pub name: String,
    pub mime_type: String,
    pub web_view_link: String,
    pub description: String,
    pub tags: Tags,
    pub modified_time: Option<String>,
}

pub fn find(conn: &mut DbConn, file_id: &str) -> Result<Option<Asset>, StoreError> {
    assets::table
        .find(file_id)
        .select(AssetRow::as_select())
        .first(conn)
        .optional()?
        .map(AssetRow::into_asset)
        .transpose()
}

/// Inserts or refreshes a file; an admin's tags are kept.
pub fn upsert_synced(conn: &mut DbConn, file: &SyncedFile) -> Result<(), StoreError> {
    let at = now();
    match find(conn, &file.file_id)? {
        Some(existing) => {
            let tags = if existing.tags_edited {
                existing.tags
            } else {
                file.tags.clone()
            };
            diesel::update(assets::table.find(&file.file_id))
                .set((
                    assets::folder_id.eq(&file.folder_id),
                    assets::name.eq(&file.name),
                    assets::mime_type.eq(&file.mime_type),
                    assets::web_view_link.eq(&file.web_view_link),
                    assets::description.eq(&file.description),
                    assets::tags.eq(tags_json(&tags)),
                    assets::active.eq(true),
                    assets::modified_time.eq(&file.modified_time),
                    assets::synced_at.eq(at),
                ))
                .execute(conn)?;
        }
        None => {
            diesel::insert_into(assets::table)
                .values((
                    assets::file_id.eq(&file.file_id),
                    assets::folder_id.eq(&file.folder_id),
                    assets::name.eq(&file.name),
                    assets::mime_type.eq(&file.mime_type),
                    assets::web_view_link.eq(&file.web_view_link),
                    assets::description.eq(&file.description),
                    assets::tags.eq(tags_json(&file.tags)),
                    assets::tags_edited.eq(false),
                    assets::active.eq(true),
                    assets::modified_time.eq(&file.modified_time),
                    assets::synced_at.eq(at),
                ))
                .execute(conn)?;
        }
    }
    Ok(())
}

/// Marks the files of `folder_id` not in `seen` inactive (gone, trashed or moved).
pub fn deactivate_missing(
    conn: &mut DbConn,
    folder_id: &str,
    seen: &[String],
) -> Result<usize, StoreError> {
    Ok(diesel::update(
        assets::table
            .filter(assets::folder_id.eq(folder_id))
            .filter(assets::file_id.ne_all(seen)),
    )
    .set(assets::active.eq(false))
    .execute(conn)?)
}

/// The whole catalogue (active or not), by name.
pub fn list(conn: &mut DbConn) -> Result<Vec<Asset>, StoreError> {
    assets::table
        .order((assets::name.asc(), assets::file_id.asc()))
        .select(AssetRow::as_select())
        .load(conn)?
        .into_iter()
        .map(AssetRow::into_asset)
        .collect()
}

/// Files that may be linked now: active and in a folder still allowlisted.
pub fn list_linkable(conn: &mut DbConn) -> Result<Vec<Asset>, StoreError> {
    let allowed: Vec<String> = asset_folders::table
        .select(asset_folders::folder_id)
        .load(conn)?;
    assets::table
        .filter(assets::active.eq(true))
        .filter(assets::folder_id.eq_any(allowed))
        .order(assets::file_id.asc())
        .select(AssetRow::as_select())
        .load(conn)?
        .into_iter()
        .map(AssetRow::into_asset)
        .collect()
}

/// An admin sets a file's tags; later syncs keep them. False when no such file.
pub fn set_tags(conn: &mut DbConn, file_id: &str, tags: &Tags) -> Result<bool, StoreError> {
    Ok(diesel::update(assets::table.find(file_id))
        .set((
            assets::tags.eq(tags_json(tags)),
            assets::tags_edited.eq(true),
        ))
        .execute(conn)?
        == 1)
}

/// When the catalogue was last synced in full.
pub fn synced_at(conn: &mut DbConn) -> Result<Option<NaiveDateTime>, StoreError> {
    Ok(setting(conn, SYNCED_AT)?
        .and_then(|v| NaiveDateTime::parse_from_str(&v, "%Y-%m-%dT%H:%M:%S%.f").ok()))
}

fn stamp(at: NaiveDateTime) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
}

pub fn mark_synced(conn: &mut DbConn) -> Result<(), StoreError> {
    put_setting(conn, SYNCED_AT, &stamp(now()))?;
    release_first_sync(conn)
}

/// Gives up the first-sync claim (after a failed first sync), so the next caller
/// takes it.
pub fn release_first_sync(conn: &mut DbConn) -> Result<(), StoreError> {
    diesel::delete(settings::table.find(FIRST_SYNC)).execute(conn)?;
    Ok(())
}

/// Claims the first sync: true for the one caller that inserted the claim, or
/// that took over a claim left stale by a dead process.
fn claim_first_sync(conn: &mut DbConn) -> Result<bool, StoreError> {
    let inserted = diesel::insert_into(settings::table)
        .values((
            settings::key.eq(FIRST_SYNC),
            settings::value.eq(stamp(now())),
            settings::updated_at.eq(now()),
            settings::updated_by.eq("system"),
        ))
        .execute(conn);
    match inserted {
        Ok(_) => return Ok(true),
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {}
        Err(e) => return Err(e.into()),
    }
    let Some(held_since) = setting(conn, FIRST_SYNC)? else {
        // Released a moment ago: the catalogue is synced or the claim is free.
        return Ok(false);
    };
    let stale = NaiveDateTime::parse_from_str(&held_since, "%Y-%m-%dT%H:%M:%S%.f")
        .map_or(true, |at| {
            now() - at > chrono::TimeDelta::seconds(FIRST_SYNC_STALE_SECS)
        });
    if !stale {
        return Ok(false);
    }
    let taken = diesel::update(
        settings::table
            .filter(settings::key.eq(FIRST_SYNC))
            .filter(settings::value.eq(&held_since)),
    )
    .set((
        settings::value.eq(stamp(now())),
        settings::updated_at.eq(now()),
    ))
    .execute(conn)?;
    Ok(taken == 1)
}

/// Whether this caller should sync the catalogue now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncDue {
    /// Synced within the interval.
    Fresh,
    /// Never synced, and this caller claimed the first sync.
    First,
    /// Never synced, and another caller is doing the first sync: there is no
    /// catalogue to fall back on yet, so wait for it.
    FirstInProgress,
    /// Due, and this caller claimed it; `previous` is restored if the sync fails.
    Claimed { previous: String },
    /// Due, but another caller claimed it a moment ago: use the current catalogue.
    TakenByOther,
}

/// Claims a due re-sync by moving the sync time forward only if it is still
/// the value read (compare-and-set), so one of many workflows syncs, not all.
pub fn claim_sync(conn: &mut DbConn, every: chrono::TimeDelta) -> Result<SyncDue, StoreError> {
    let Some(raw) = setting(conn, SYNCED_AT)? else {
        return Ok(if claim_first_sync(conn)? {
            SyncDue::First
        } else if setting(conn, SYNCED_AT)?.is_some() {
            SyncDue::Fresh
        } else {
            SyncDue::FirstInProgress
        });
    };
    let at = NaiveDateTime::parse_from_str(&raw, "%Y-%m-%dT%H:%M:%S%.f")
        .map_err(|e| StoreError::Corrupt(format!("asset sync time: {e}")))?;
    if now() - at < every {
        return Ok(SyncDue::Fresh);
    }
    let moved = diesel::update(
        settings::table
            .filter(settings::key.eq(SYNCED_AT))
            .filter(settings::value.eq(&raw)),
    )
    .set((
        settings::value.eq(stamp(now())),
        settings::updated_at.eq(now()),
    ))
    .execute(conn)?;
    Ok(if moved == 1 {
        SyncDue::Claimed { previous: raw }
    } else {
        SyncDue::TakenByOther
    })
}

/// Puts back the sync time a failed claimed sync moved, so the next caller retries.
pub fn unclaim_sync(conn: &mut DbConn, previous: &str) -> Result<(), StoreError> {
    put_setting(conn, SYNCED_AT, previous)
}

/// Forgets the last sync, so the next read syncs (after the allowlist changed).
pub fn mark_stale(conn: &mut DbConn) -> Result<(), StoreError> {
    Ok(diesel::delete(settings::table.find(SYNCED_AT))
        .execute(conn)
        .map(|_| ())?)
}
