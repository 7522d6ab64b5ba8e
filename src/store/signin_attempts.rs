//! Sign-in attempts with Google: the state, nonce and PKCE verifier of one trip
//! to the provider, keyed by the SHA-256 of a random cookie so the callback only
//! completes in the browser that started it. An attempt is taken (read and
//! deleted) once; a second callback with the same cookie finds nothing.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::console_signin_attempts;
use super::sessions::hash_token;
use super::{DbConn, StoreError, now};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = console_signin_attempts)]
pub struct Attempt {
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
    pub expires_at: NaiveDateTime,
}

pub fn insert(
    conn: &mut DbConn,
    cookie: &str,
    state: &str,
    nonce: &str,
    pkce_verifier: &str,
    expires_at: NaiveDateTime,
) -> Result<(), StoreError> {
    // Abandoned attempts (the person closed the tab) are of no use once expired.
    diesel::delete(
        console_signin_attempts::table.filter(console_signin_attempts::expires_at.lt(now())),
    )
    .execute(conn)?;
    diesel::insert_into(console_signin_attempts::table)
        .values((
            console_signin_attempts::cookie_hash.eq(hash_token(cookie)),
            console_signin_attempts::state.eq(state),
            console_signin_attempts::nonce.eq(nonce),
            console_signin_attempts::pkce_verifier.eq(pkce_verifier),
            console_signin_attempts::created_at.eq(now()),
            console_signin_attempts::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// The unexpired attempt for `cookie`, deleted as it is read: whoever deletes
/// the row owns the attempt, so two racing callbacks cannot both use it.
pub fn take(conn: &mut DbConn, cookie: &str) -> Result<Option<Attempt>, StoreError> {
    let key = hash_token(cookie);
    let found = console_signin_attempts::table
        .find(&key)
        .filter(console_signin_attempts::expires_at.gt(now()))
        .select(Attempt::as_select())
        .first(conn)
        .optional()?;
    let deleted = diesel::delete(console_signin_attempts::table.find(&key)).execute(conn)?;
    Ok(found.filter(|_| deleted > 0))
}
