//! One-time sign-in links: a random token that opens one console session, once,
//! before it expires (`sales-agent demo --serve` prints one). As for sessions,
//! only the token's SHA-256 is stored. Spending a link is one conditional
//! UPDATE, so two sign-ins racing on the same link cannot both win.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::console_signin_links;
use super::sessions::hash_token;
use super::{DbConn, StoreError, now};

/// Who a link signs in: the session's role and audit name.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = console_signin_links)]
pub struct LinkGrant {
    pub role: String,
    pub actor: String,
}

/// Stores a link for `token` that signs in as `role` / `actor` until `expires_at`.
pub fn insert(
    conn: &mut DbConn,
    token: &str,
    role: &str,
    actor: &str,
    expires_at: NaiveDateTime,
) -> Result<(), StoreError> {
    diesel::insert_into(console_signin_links::table)
        .values((
            console_signin_links::token_hash.eq(hash_token(token)),
            console_signin_links::role.eq(role),
            console_signin_links::actor.eq(actor),
            console_signin_links::created_at.eq(now()),
            console_signin_links::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// What the link for `token` grants, if it is unused and unexpired; reading does
/// not spend it (a mail scanner's GET must not use up the reader's link).
pub fn find_usable(conn: &mut DbConn, token: &str) -> Result<Option<LinkGrant>, StoreError> {
    Ok(usable(token)
        .select(LinkGrant::as_select())
        .first(conn)
        .optional()?)
}

/// Spends the link for `token`: what it grants, or `None` when it was already
/// used, has expired or never existed. Call inside the transaction that creates
/// the session, so a failed sign-in leaves the link usable.
pub fn spend(conn: &mut DbConn, token: &str) -> Result<Option<LinkGrant>, StoreError> {
    let spent = diesel::update(usable(token))
        .set(console_signin_links::used_at.eq(now()))
        .execute(conn)?;
    if spent == 0 {
        return Ok(None);
    }
    Ok(console_signin_links::table
        .find(hash_token(token))
        .select(LinkGrant::as_select())
        .first(conn)
        .optional()?)
}

type Usable = diesel::dsl::Filter<
    diesel::dsl::Filter<
        diesel::dsl::Find<console_signin_links::table, String>,
        diesel::dsl::IsNull<console_signin_links::used_at>,
    >,
    diesel::dsl::Gt<console_signin_links::expires_at, NaiveDateTime>,
>;

fn usable(token: &str) -> Usable {
    console_signin_links::table
        .find(hash_token(token))
        .filter(console_signin_links::used_at.is_null())
        .filter(console_signin_links::expires_at.gt(now()))
}
