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

const UNSUBSCRIBE_SECRET: &str = "unsubscribe_secret";

/// The secret that signs unsubscribe links, created on first use and kept, so
/// links in mail already sent keep working across restarts.
pub fn unsubscribe_secret(conn: &mut DbConn) -> Result<String, StoreError> {
    let read = |conn: &mut DbConn| -> Result<Option<String>, StoreError> {
        Ok(settings::table
            .find(UNSUBSCRIBE_SECRET)
            .select(settings::value)
            .first(conn)
            .optional()?)
    };
    if let Some(secret) = read(conn)? {
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
            settings::key.eq(UNSUBSCRIBE_SECRET),
            settings::value.eq(&fresh),
            settings::updated_at.eq(now()),
            settings::updated_by.eq("system"),
        ))
        .execute(conn);
    read(conn)?.ok_or_else(|| StoreError::Corrupt("unsubscribe secret missing after insert".into()))
}
