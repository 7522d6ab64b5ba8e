//! The reps table: seeded from a file, managed while running through the admin
//! API and the console, read by the route step on every lead.

use diesel::prelude::*;

use super::schema::reps;
use super::{DbConn, StoreError, now};
use crate::domain::Rep;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = reps)]
struct RepRow {
    id: String,
    name: String,
    email: String,
    calendar_id: String,
    time_zone: String,
    working_hours: String,
    hubspot_owner_id: Option<String>,
    territories: String,
    voice: String,
    booking_link: Option<String>,
    active: bool,
    languages: String,
}

impl RepRow {
    fn into_rep(self) -> Result<Rep, StoreError> {
        let corrupt = |what: &str, e: serde_json::Error| {
            StoreError::Corrupt(format!("rep {}: {what}: {e}", self.id))
        };
        Ok(Rep {
            working_hours: serde_json::from_str(&self.working_hours)
                .map_err(|e| corrupt("working_hours", e))?,
            territories: serde_json::from_str(&self.territories)
                .map_err(|e| corrupt("territories", e))?,
            voice: serde_json::from_str(&self.voice).map_err(|e| corrupt("voice", e))?,
            languages: serde_json::from_str(&self.languages)
                .map_err(|e| corrupt("languages", e))?,
            id: self.id,
            name: self.name,
            email: self.email,
            calendar_id: self.calendar_id,
            time_zone: self.time_zone,
            hubspot_owner_id: self.hubspot_owner_id,
            booking_link: self.booking_link,
            active: self.active,
        })
    }
}

/// Inserts the rep or replaces the stored one with the same id.
pub fn upsert(conn: &mut DbConn, rep: &Rep) -> Result<(), StoreError> {
    let at = now();
    conn.write_transaction(|c| {
        let values = (
            reps::name.eq(&rep.name),
            reps::email.eq(rep.email.to_lowercase()),
            reps::calendar_id.eq(&rep.calendar_id),
            reps::time_zone.eq(&rep.time_zone),
            reps::working_hours.eq(to_json(&rep.working_hours)),
            reps::hubspot_owner_id.eq(&rep.hubspot_owner_id),
            reps::territories.eq(to_json(&rep.territories)),
            reps::voice.eq(to_json(&rep.voice)),
            reps::booking_link.eq(&rep.booking_link),
            reps::active.eq(rep.active),
            reps::updated_at.eq(at),
            reps::languages.eq(to_json(&rep.languages)),
        );
        let updated = diesel::update(reps::table.find(&rep.id))
            .set(values.clone())
            .execute(c)?;
        if updated == 0 {
            diesel::insert_into(reps::table)
                .values((reps::id.eq(&rep.id), reps::created_at.eq(at), values))
                .execute(c)?;
        }
        super::voice_profiles::seed_if_absent(c, &rep.id, &rep.voice)?;
        Ok(())
    })
}

/// Inserts the rep only when no rep has its id; returns whether it did. The seed
/// file goes through here, so edits made while running survive a restart.
pub fn insert_if_absent(conn: &mut DbConn, rep: &Rep) -> Result<bool, StoreError> {
    if find_by_id(conn, &rep.id)?.is_some() {
        return Ok(false);
    }
    match upsert(conn, rep) {
        Ok(()) => Ok(true),
        // Another process inserted it between the look and the insert.
        Err(e) if e.is_unique_violation() => Ok(false),
        Err(e) => Err(e),
    }
}

/// Activates or deactivates a rep; false when there is no such rep.
pub fn set_active(conn: &mut DbConn, id: &str, active: bool) -> Result<bool, StoreError> {
    let changed = diesel::update(reps::table.find(id))
        .set((reps::active.eq(active), reps::updated_at.eq(now())))
        .execute(conn)?;
    Ok(changed == 1)
}

/// Every rep, active or not, by id.
pub fn list_all(conn: &mut DbConn) -> Result<Vec<Rep>, StoreError> {
    reps::table
        .order(reps::id.asc())
        .select(RepRow::as_select())
        .load(conn)?
        .into_iter()
        .map(RepRow::into_rep)
        .collect()
}

/// The rep (active or not) whose mailbox is `email`, compared case-blind.
pub fn find_by_email(conn: &mut DbConn, email: &str) -> Result<Option<Rep>, StoreError> {
    reps::table
        .filter(reps::email.eq(email.to_lowercase()))
        .select(RepRow::as_select())
        .first(conn)
        .optional()?
        .map(RepRow::into_rep)
        .transpose()
}

/// Every active rep, by id.
pub fn list_active(conn: &mut DbConn) -> Result<Vec<Rep>, StoreError> {
    reps::table
        .filter(reps::active.eq(true))
        .order(reps::id.asc())
        .select(RepRow::as_select())
        .load(conn)?
        .into_iter()
        .map(RepRow::into_rep)
        .collect()
}

pub fn find_by_id(conn: &mut DbConn, id: &str) -> Result<Option<Rep>, StoreError> {
    reps::table
        .find(id)
        .select(RepRow::as_select())
        .first(conn)
        .optional()?
        .map(RepRow::into_rep)
        .transpose()
}

/// The JSON columns hold plain data, which always serialises.
fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("plain data serialises")
}
