//! The voice_profiles table: one profile per rep, with where it came from
//! (`seed`, `admin`, `import`, `trained`). A rep without a row writes in the voice
//! of their reps-file entry; seeding copies that in so the admin API shows it.

use diesel::prelude::*;
use serde::Serialize;

use super::schema::voice_profiles;
use super::{DbConn, StoreError, now};
use crate::domain::VoiceProfile;

/// A stored profile as the admin API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct StoredProfile {
    pub rep_id: String,
    pub profile: VoiceProfile,
    pub source: String,
    pub updated_at: chrono::NaiveDateTime,
    pub updated_by: String,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = voice_profiles)]
struct Row {
    rep_id: String,
    profile: String,
    source: String,
    updated_at: chrono::NaiveDateTime,
    updated_by: String,
}

impl Row {
    fn into_stored(self) -> Result<StoredProfile, StoreError> {
        let profile = serde_json::from_str(&self.profile)
            .map_err(|e| StoreError::Corrupt(format!("voice profile of {}: {e}", self.rep_id)))?;
        Ok(StoredProfile {
            rep_id: self.rep_id,
            profile,
            source: self.source,
            updated_at: self.updated_at,
            updated_by: self.updated_by,
        })
    }
}

pub fn find_by_rep(conn: &mut DbConn, rep_id: &str) -> Result<Option<StoredProfile>, StoreError> {
    voice_profiles::table
        .find(rep_id)
        .select(Row::as_select())
        .first(conn)
        .optional()?
        .map(Row::into_stored)
        .transpose()
}

/// Every stored profile, by rep id.
pub fn list(conn: &mut DbConn) -> Result<Vec<StoredProfile>, StoreError> {
    voice_profiles::table
        .order(voice_profiles::rep_id.asc())
        .select(Row::as_select())
        .load(conn)?
        .into_iter()
        .map(Row::into_stored)
        .collect()
}

/// Stores `profile` for the rep, replacing any earlier one.
pub fn upsert(
    conn: &mut DbConn,
    rep_id: &str,
    profile: &VoiceProfile,
    source: &str,
    actor: &str,
) -> Result<(), StoreError> {
    let at = now();
    let json = serde_json::to_string(profile).expect("plain data serialises");
    conn.write_transaction(|c| {
        let values = (
            voice_profiles::profile.eq(&json),
            voice_profiles::source.eq(source),
            voice_profiles::updated_at.eq(at),
            voice_profiles::updated_by.eq(actor),
        );
        let updated = diesel::update(voice_profiles::table.find(rep_id))
            .set(values)
            .execute(c)?;
        if updated == 0 {
            diesel::insert_into(voice_profiles::table)
                .values((
                    voice_profiles::rep_id.eq(rep_id),
                    voice_profiles::created_at.eq(at),
                    values,
                ))
                .execute(c)?;
        }
        Ok(())
    })
}

/// Stores `profile` only when the rep has none yet (seeding never overwrites an
/// edited or trained profile). True when it was stored.
pub fn seed_if_absent(
    conn: &mut DbConn,
    rep_id: &str,
    profile: &VoiceProfile,
) -> Result<bool, StoreError> {
    if find_by_rep(conn, rep_id)?.is_some() {
        return Ok(false);
    }
    upsert(conn, rep_id, profile, "seed", "seed")?;
    Ok(true)
}

/// Removes the rep's profile; they write in their reps-file voice again.
pub fn delete(conn: &mut DbConn, rep_id: &str) -> Result<bool, StoreError> {
    Ok(diesel::delete(voice_profiles::table.find(rep_id)).execute(conn)? > 0)
}
