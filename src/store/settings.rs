//! Runtime settings that ops switch through the admin API, such as the mode
//! (pilot, draft-only, send).

use diesel::prelude::*;

use super::schema::settings;
use super::{DbConn, StoreError, now};
use crate::domain::Mode;

const MODE: &str = "mode";
/// Where the mode lived while it was a boolean; still read when `mode` was never set.
const DRAFT_ONLY: &str = "draft_only";

/// The mode: draft-only unless an admin has switched it. A missing or unreadable
/// value counts as draft-only, the default.
pub fn mode(conn: &mut DbConn) -> Result<Mode, StoreError> {
    if let Some(value) = read(conn, MODE)? {
        return Ok(Mode::parse(&value).unwrap_or_default());
    }
    // A database whose mode was last switched as a boolean keeps that choice.
    Ok(Mode::from_draft_only(
        read(conn, DRAFT_ONLY)?.as_deref() != Some("false"),
    ))
}

/// Whether nothing is sent without a person: true in draft-only and pilot mode.
pub fn draft_only(conn: &mut DbConn) -> Result<bool, StoreError> {
    Ok(mode(conn)?.draft_only())
}

pub fn set_mode(conn: &mut DbConn, mode: Mode, by: &str) -> Result<(), StoreError> {
    write(conn, MODE, mode.as_str(), by)?;
    // Kept in step for a process of the previous release reading the boolean
    // during a rolling upgrade: it sends only when the mode is send.
    write(conn, DRAFT_ONLY, &mode.draft_only().to_string(), by)
}

/// Draft-only on (`true`) or send mode (`false`): the boolean's old setter.
pub fn set_draft_only(conn: &mut DbConn, on: bool, by: &str) -> Result<(), StoreError> {
    set_mode(conn, Mode::from_draft_only(on), by)
}

fn read(conn: &mut DbConn, key: &str) -> Result<Option<String>, StoreError> {
    Ok(settings::table
        .find(key)
        .select(settings::value)
        .first(conn)
        .optional()?)
}

fn write(conn: &mut DbConn, key: &str, value: &str, by: &str) -> Result<(), StoreError> {
    let updated = diesel::update(settings::table.find(key))
        .set((
            settings::value.eq(value),
            settings::updated_at.eq(now()),
            settings::updated_by.eq(by),
        ))
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(settings::table)
            .values((
                settings::key.eq(key),
                settings::value.eq(value),
                settings::updated_at.eq(now()),
                settings::updated_by.eq(by),
            ))
            .execute(conn)?;
    }
    Ok(())
}

const UNSUBSCRIBE_SECRET: &str = "unsubscribe_secret";
const BOOKING_SECRET: &str = "booking_secret";

/// The secret that signs unsubscribe links, created on first use and kept, so
/// links in mail already sent keep working across restarts.
pub fn unsubscribe_secret(conn: &mut DbConn) -> Result<String, StoreError> {
    stored_secret(conn, UNSUBSCRIBE_SECRET)
}

/// The secret that signs booking links (`compose::booking_link`): its own key,
/// so one kind of link can never be passed off as the other.
pub fn booking_secret(conn: &mut DbConn) -> Result<String, StoreError> {
    stored_secret(conn, BOOKING_SECRET)
}

/// A random secret under `key`, created on first use and kept.
fn stored_secret(conn: &mut DbConn, key: &str) -> Result<String, StoreError> {
    if let Some(secret) = read(conn, key)? {
        return Ok(secret);
    }
    let fresh = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    // Two processes may race here; the primary key keeps the first, both read it back.
    let _ = diesel::insert_into(settings::table)
        .values((
            settings::key.eq(key),
            settings::value.eq(&fresh),
            settings::updated_at.eq(now()),
            settings::updated_by.eq("system"),
        ))
        .execute(conn);
    read(conn, key)?.ok_or_else(|| StoreError::Corrupt(format!("{key} missing after insert")))
}
