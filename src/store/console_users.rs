//! People named in the console by an admin, with their role (`admin` or
//! `viewer`). Google sign-in reads this table; admins named in
//! `SALES_AGENT_CONSOLE_ADMINS` need no row.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::console_users;
use super::{DbConn, StoreError, now};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = console_users)]
pub struct ConsoleUser {
    pub email: String,
    pub role: String,
    pub added_by: String,
    pub added_at: NaiveDateTime,
}

/// The row for `email` (lowercased by the caller), if one exists.
pub fn find(conn: &mut DbConn, email: &str) -> Result<Option<ConsoleUser>, StoreError> {
    Ok(console_users::table
        .find(email)
        .select(ConsoleUser::as_select())
        .first(conn)
        .optional()?)
}

pub fn list(conn: &mut DbConn) -> Result<Vec<ConsoleUser>, StoreError> {
    Ok(console_users::table
        .order(console_users::email.asc())
        .select(ConsoleUser::as_select())
        .load(conn)?)
}

/// Names `email` with `role`, or changes the role of one already named; returns
/// the previous role. Read-then-write inside the caller's transaction.
pub fn upsert(
    conn: &mut DbConn,
    email: &str,
    role: &str,
    added_by: &str,
) -> Result<Option<String>, StoreError> {
    let before = find(conn, email)?.map(|u| u.role);
    if before.is_some() {
        diesel::update(console_users::table.find(email))
            .set((
                console_users::role.eq(role),
                console_users::added_by.eq(added_by),
                console_users::added_at.eq(now()),
            ))
            .execute(conn)?;
    } else {
        diesel::insert_into(console_users::table)
            .values((
                console_users::email.eq(email),
                console_users::role.eq(role),
                console_users::added_by.eq(added_by),
                console_users::added_at.eq(now()),
            ))
            .execute(conn)?;
    }
    Ok(before)
}

/// Forgets `email`; returns whether a row was removed.
pub fn remove(conn: &mut DbConn, email: &str) -> Result<bool, StoreError> {
    Ok(diesel::delete(console_users::table.find(email)).execute(conn)? > 0)
}
