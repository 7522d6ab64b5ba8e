//! Consents in progress to connect a rep's mailbox: the nonce and PKCE
//! verifier of one trip to Google, the rep, and the console session that
//! started it, keyed by the SHA-256 of the `state` sent. Any process can finish
//! one (the callback may reach another process than the one that started it, or
//! this one after a restart). A consent is taken (read and deleted) once.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::rep_consents;
use super::sessions::hash_token;
use super::{DbConn, StoreError, now};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = rep_consents)]
pub struct ConsentRow {
    pub nonce: String,
    pub pkce_verifier: String,
    pub rep_id: String,
    /// SHA-256 of the starting session's CSRF token.
    pub session_hash: String,
    pub expires_at: NaiveDateTime,
}

/// What a new consent holds.
pub struct NewConsent<'a> {
    pub state: &'a str,
    pub nonce: &'a str,
    pub pkce_verifier: &'a str,
    pub rep_id: &'a str,
    /// The starting session's CSRF token (stored hashed).
    pub session: &'a str,
    pub expires_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConn, consent: &NewConsent<'_>) -> Result<(), StoreError> {
    // Abandoned consents (the admin closed the tab) are of no use once expired.
    diesel::delete(rep_consents::table.filter(rep_consents::expires_at.lt(now()))).execute(conn)?;
    diesel::insert_into(rep_consents::table)
        .values((
            rep_consents::state_hash.eq(hash_token(consent.state)),
            rep_consents::nonce.eq(consent.nonce),
            rep_consents::pkce_verifier.eq(consent.pkce_verifier),
            rep_consents::rep_id.eq(consent.rep_id),
            rep_consents::session_hash.eq(hash_token(consent.session)),
            rep_consents::created_at.eq(now()),
            rep_consents::expires_at.eq(consent.expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// The unexpired consent `state` names, deleted as it is read: whoever deletes
/// the row owns it, so two racing callbacks (in two processes) cannot both use it.
pub fn take(conn: &mut DbConn, state: &str) -> Result<Option<ConsentRow>, StoreError> {
    let key = hash_token(state);
    let found = rep_consents::table
        .find(&key)
        .filter(rep_consents::expires_at.gt(now()))
        .select(ConsentRow::as_select())
        .first(conn)
        .optional()?;
    let deleted = diesel::delete(rep_consents::table.find(&key)).execute(conn)?;
    Ok(found.filter(|_| deleted > 0))
}
