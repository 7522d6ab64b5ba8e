//! The suppression list: addresses that must never receive mail. Consulted inside
//! the send transaction, right before the API call.

use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::schema::suppressions;
use super::{DbConn, StoreError, now};

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize, utoipa::ToSchema)]
#[diesel(table_name = suppressions)]
pub struct SuppressionRow {
    pub email: String,
    pub reason: String,
    pub source: String,
    pub created_at: chrono::NaiveDateTime,
    pub created_by: String,
}

/// Adds `email` (normalised to lower case); returns false when it was already
/// there. Idempotent, so a repeated one-click unsubscribe changes nothing.
pub fn insert(
    conn: &mut DbConn,
    email: &str,
    reason: &str,
    source: &str,
    by: &str,
) -> Result<bool, StoreError> {
    let email = email.trim().to_lowercase();
    let inserted = diesel::insert_into(suppressions::table)
        .values((
            suppressions::email.eq(&email),
            suppressions::reason.eq(reason),
            suppressions::source.eq(source),
            suppressions::created_at.eq(now()),
            suppressions::created_by.eq(by),
        ))
        .execute(conn);
    match inserted {
        Ok(_) => Ok(true),
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

pub fn is_suppressed(conn: &mut DbConn, email: &str) -> Result<bool, StoreError> {
    let email = email.trim().to_lowercase();
    let found: i64 = suppressions::table
        .filter(suppressions::email.eq(email))
        .count()
        .get_result(conn)?;
    Ok(found > 0)
}

/// Removes `email`; returns whether it was there.
pub fn delete(conn: &mut DbConn, email: &str) -> Result<bool, StoreError> {
    let email = email.trim().to_lowercase();
    Ok(diesel::delete(suppressions::table.find(email)).execute(conn)? == 1)
}

/// A page of the list, ordered by address, starting after `after`.
pub fn list(
    conn: &mut DbConn,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<SuppressionRow>, StoreError> {
    search(conn, None, after, limit)
}

/// [`list`], only the addresses containing `text` (case-insensitive: addresses
/// are stored in lower case).
pub fn search(
    conn: &mut DbConn,
    text: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<SuppressionRow>, StoreError> {
    let mut query = suppressions::table
        .select(SuppressionRow::as_select())
        .order(suppressions::email.asc())
        .into_boxed();
    if let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) {
        query = query.filter(
            suppressions::email
                .like(super::admin_queries::contains_pattern(&text.to_lowercase()))
                .escape('\\'),
        );
    }
    if let Some(after) = after {
        query = query.filter(suppressions::email.gt(after.to_string()));
    }
    Ok(query.limit(limit).load(conn)?)
}
