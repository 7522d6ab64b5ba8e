//! Runtime settings that ops switch through the admin API, such as draft-only mode.

use diesel::prelude::*;

use super::schema::settings;
use super::{DbConn, StoreError, now};

const DRAFT_ONLY: &str = "draft_only";

/// Draft-only mode: on unless an admin has switched it off. A missing or unreadable
/// value counts as on, the safe side.
pub fn draft_only(conn: &mut DbConn) -> Result<bool, StoreError> {
    let value: Option<String> = settings::table
        .find(DRAFT_ONLY)
        .select(settings::value)
        .first(conn)
        .optional()?;
    Ok(value.as_deref() != Some("false"))
}

pub fn set_draft_only(conn: &mut DbConn, on: bool, by: &str) -> Result<(), StoreError> {
    let updated = diesel::update(settings::table.find(DRAFT_ONLY))
        .set((
            settings::value.eq(on.to_string()),
            settings::updated_at.eq(now()),
            settings::updated_by.eq(by),
        ))
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(settings::table)
            .values((
                settings::key.eq(DRAFT_ONLY),
                settings::value.eq(on.to_string()),
                settings::updated_at.eq(now()),
                settings::updated_by.eq(by),
            ))
            .execute(conn)?;
    }
    Ok(())
}
