//! The suppression list: addresses that must never receive mail. Consulted inside
//! the send transaction, right before the API call, and by the dedupe step.
//!
//! Two tables: `suppressions` holds addresses in the clear (an admin can read and
//! search them); `suppression_hashes` holds only the SHA-256 of the address of
//! each person erased on request, who must stay unmailed without being named.
//! [`is_suppressed`] asks both.

use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use sha2::{Digest, Sha256};

use super::schema::{suppression_hashes, suppressions};
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

/// The key of an erased address: hex SHA-256 of the trimmed, lowercased address.
/// Unkeyed on purpose: a key that was lost or rotated would silently let erased
/// people be mailed again. It names no one by itself, but anyone holding a
/// guessed address can test it — which is exactly the check it exists for.
pub fn email_hash(email: &str) -> String {
    hex::encode(Sha256::digest(email.trim().to_lowercase().as_bytes()))
}

/// True when `email` is on the list, in the clear or as an erased person's hash.
pub fn is_suppressed(conn: &mut DbConn, email: &str) -> Result<bool, StoreError> {
    let email = email.trim().to_lowercase();
    let found: i64 = suppressions::table
        .filter(suppressions::email.eq(&email))
        .count()
        .get_result(conn)?;
    Ok(found > 0 || is_erased(conn, &email)?)
}

/// True when `email` belongs to a person erased on request.
pub fn is_erased(conn: &mut DbConn, email: &str) -> Result<bool, StoreError> {
    let found: i64 = suppression_hashes::table
        .find(email_hash(email))
        .count()
        .get_result(conn)?;
    Ok(found > 0)
}

/// Keeps `email` suppressed by its hash only: its clear row, if any, goes (its
/// reason and source carried over), the hash row stays. Returns whether the hash
/// was new. Run inside the erasure's transaction.
pub fn keep_hash_only(conn: &mut DbConn, email: &str, by: &str) -> Result<bool, StoreError> {
    let email = email.trim().to_lowercase();
    let clear: Option<(String, String)> = suppressions::table
        .find(&email)
        .select((suppressions::reason, suppressions::source))
        .first(conn)
        .optional()?;
    diesel::delete(suppressions::table.find(&email)).execute(conn)?;
    // Looked up rather than caught: a failed insert would abort the whole
    // erasure transaction on PostgreSQL.
    if is_erased(conn, &email)? {
        return Ok(false);
    }
    let (reason, source) = clear.unwrap_or_else(|| ("erasure".into(), "erasure".into()));
    diesel::insert_into(suppression_hashes::table)
        .values((
            suppression_hashes::email_hash.eq(email_hash(&email)),
            suppression_hashes::reason.eq(reason),
            suppression_hashes::source.eq(source),
            suppression_hashes::created_at.eq(now()),
            suppression_hashes::created_by.eq(by),
        ))
        .execute(conn)?;
    Ok(true)
}

/// How many erased people are suppressed by hash (the console shows the count).
pub fn count_hashed(conn: &mut DbConn) -> Result<i64, StoreError> {
    Ok(suppression_hashes::table.count().get_result(conn)?)
}

/// Removes `email` from the list, in the clear and as a hash: an admin lifting
/// the suppression of someone who asked to hear from us again; returns whether
/// it was there.
pub fn delete(conn: &mut DbConn, email: &str) -> Result<bool, StoreError> {
    let email = email.trim().to_lowercase();
    let clear = diesel::delete(suppressions::table.find(&email)).execute(conn)?;
    let hashed =
        diesel::delete(suppression_hashes::table.find(email_hash(&email))).execute(conn)?;
    Ok(clear + hashed > 0)
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
