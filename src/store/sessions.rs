//! Console sessions: who signed in to the web console, as what role, until when.
//! The cookie carries a random token; only its SHA-256 is stored, so a copy of the
//! database cannot be used to sign in. A session ends when it expires or is revoked
//! (sign-out), whichever comes first.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use super::schema::console_sessions;
use super::{DbConn, StoreError, now};

/// A live session as the console needs it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = console_sessions)]
pub struct SessionRow {
    pub token_hash: String,
    pub role: String,
    pub actor: String,
    pub csrf_token: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
    /// Where the session was opened from, when known (shown beside it, never trusted).
    pub client_ip: Option<String>,
    pub user_agent: Option<String>,
}

/// Where a sign-in came from, as the console shows it.
#[derive(Debug, Clone, Default)]
pub struct Client {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// The stored form of a cookie token.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Stores a new session for `token` (the cookie value) and returns it.
pub fn insert(
    conn: &mut DbConn,
    token: &str,
    role: &str,
    actor: &str,
    csrf_token: &str,
    expires_at: NaiveDateTime,
) -> Result<SessionRow, StoreError> {
    insert_from(
        conn,
        token,
        role,
        actor,
        csrf_token,
        expires_at,
        &Client::default(),
    )
}

/// [`insert`], recording where the sign-in came from.
pub fn insert_from(
    conn: &mut DbConn,
    token: &str,
    role: &str,
    actor: &str,
    csrf_token: &str,
    expires_at: NaiveDateTime,
    client: &Client,
) -> Result<SessionRow, StoreError> {
    let row = SessionRow {
        token_hash: hash_token(token),
        role: role.to_string(),
        actor: actor.to_string(),
        csrf_token: csrf_token.to_string(),
        created_at: now(),
        expires_at,
        revoked_at: None,
        client_ip: client.ip.clone(),
        user_agent: client.user_agent.clone(),
    };
    diesel::insert_into(console_sessions::table)
        .values((
            console_sessions::token_hash.eq(&row.token_hash),
            console_sessions::role.eq(&row.role),
            console_sessions::actor.eq(&row.actor),
            console_sessions::csrf_token.eq(&row.csrf_token),
            console_sessions::created_at.eq(row.created_at),
            console_sessions::expires_at.eq(row.expires_at),
            console_sessions::client_ip.eq(&row.client_ip),
            console_sessions::user_agent.eq(&row.user_agent),
        ))
        .execute(conn)?;
    Ok(row)
}

/// The session for a cookie token, when it exists, is not revoked and has not expired.
pub fn find_live(conn: &mut DbConn, token: &str) -> Result<Option<SessionRow>, StoreError> {
    Ok(console_sessions::table
        .find(hash_token(token))
        .filter(console_sessions::revoked_at.is_null())
        .filter(console_sessions::expires_at.gt(now()))
        .select(SessionRow::as_select())
        .first(conn)
        .optional()?)
}

/// Ends a session at once; returns whether a live one was revoked.
pub fn revoke(conn: &mut DbConn, token: &str) -> Result<bool, StoreError> {
    let changed = diesel::update(
        console_sessions::table
            .find(hash_token(token))
            .filter(console_sessions::revoked_at.is_null()),
    )
    .set(console_sessions::revoked_at.eq(now()))
    .execute(conn)?;
    Ok(changed > 0)
}

/// Live sessions, newest first (at most `limit`), for the people page.
pub fn list_live(conn: &mut DbConn, limit: i64) -> Result<Vec<SessionRow>, StoreError> {
    Ok(console_sessions::table
        .filter(console_sessions::revoked_at.is_null())
        .filter(console_sessions::expires_at.gt(now()))
        .order(console_sessions::created_at.desc())
        .limit(limit)
        .select(SessionRow::as_select())
        .load(conn)?)
}

/// Ends the live session stored as `token_hash` (an admin revoking someone's
/// session: the page knows the hash, never the cookie); returns its actor.
pub fn revoke_by_hash(conn: &mut DbConn, token_hash: &str) -> Result<Option<String>, StoreError> {
    let actor = console_sessions::table
        .find(token_hash)
        .filter(console_sessions::revoked_at.is_null())
        .select(console_sessions::actor)
        .first::<String>(conn)
        .optional()?;
    if actor.is_some() {
        diesel::update(console_sessions::table.find(token_hash))
            .set(console_sessions::revoked_at.eq(now()))
            .execute(conn)?;
    }
    Ok(actor)
}

/// Ends every live session of one person (their role changed or was removed).
pub fn revoke_actor(conn: &mut DbConn, actor: &str) -> Result<usize, StoreError> {
    Ok(diesel::update(
        console_sessions::table
            .filter(console_sessions::actor.eq(actor))
            .filter(console_sessions::revoked_at.is_null()),
    )
    .set(console_sessions::revoked_at.eq(now()))
    .execute(conn)?)
}

/// Ends every live session of a role (say, after the viewer token was rotated).
pub fn revoke_role(conn: &mut DbConn, role: &str) -> Result<usize, StoreError> {
    Ok(diesel::update(
        console_sessions::table
            .filter(console_sessions::role.eq(role))
            .filter(console_sessions::revoked_at.is_null()),
    )
    .set(console_sessions::revoked_at.eq(now()))
    .execute(conn)?)
}

/// Forgets sessions that ended before `before`; returns how many.
pub fn delete_ended(conn: &mut DbConn, before: NaiveDateTime) -> Result<usize, StoreError> {
    Ok(diesel::delete(
        console_sessions::table.filter(
            console_sessions::expires_at
                .lt(before)
                .or(console_sessions::revoked_at.lt(before)),
        ),
    )
    .execute(conn)?)
}
