//! Stored grants: one sealed token per (provider, account). This module moves
//! sealed values only; sealing and opening belong to [`crate::secrets`].

use diesel::prelude::*;

use super::schema::account_grants;
use super::{DbConn, StoreError, now};
use crate::secrets::Sealed;

/// A stored grant, still sealed.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = account_grants)]
pub struct GrantRow {
    pub provider: String,
    pub account: String,
    pub key_id: String,
    pub sealed: String,
}

impl GrantRow {
    pub fn sealed(&self) -> Sealed {
        Sealed {
            key_id: self.key_id.clone(),
            data: self.sealed.clone(),
        }
    }
}

pub fn count(conn: &mut DbConn) -> Result<i64, StoreError> {
    Ok(account_grants::table.count().get_result(conn)?)
}

pub fn list(conn: &mut DbConn) -> Result<Vec<GrantRow>, StoreError> {
    Ok(account_grants::table
        .order((account_grants::provider, account_grants::account))
        .select(GrantRow::as_select())
        .load(conn)?)
}

/// Stores the grant, replacing any earlier one for the account.
pub fn put(
    conn: &mut DbConn,
    provider: &str,
    account: &str,
    sealed: &Sealed,
) -> Result<(), StoreError> {
    let at = now();
    let row = (
        account_grants::provider.eq(provider),
        account_grants::account.eq(account),
        account_grants::key_id.eq(&sealed.key_id),
        account_grants::sealed.eq(&sealed.data),
        account_grants::updated_at.eq(at),
    );
    let change = (
        account_grants::key_id.eq(&sealed.key_id),
        account_grants::sealed.eq(&sealed.data),
        account_grants::updated_at.eq(at),
    );
    // Both backends speak `ON CONFLICT`; diesel builds it per backend.
    macro_rules! upsert {
        ($conn:expr) => {
            diesel::insert_into(account_grants::table)
                .values(row)
                .on_conflict((account_grants::provider, account_grants::account))
                .do_update()
                .set(change)
                .execute($conn)?
        };
    }
    match conn {
        DbConn::Postgres(pg) => upsert!(pg),
        DbConn::Sqlite(sqlite) => upsert!(sqlite),
    };
    Ok(())
}

/// Stores the grant only when the account has none; returns whether it did.
pub fn put_if_absent(
    conn: &mut DbConn,
    provider: &str,
    account: &str,
    sealed: &Sealed,
) -> Result<bool, StoreError> {
    let row = (
        account_grants::provider.eq(provider),
        account_grants::account.eq(account),
        account_grants::key_id.eq(&sealed.key_id),
        account_grants::sealed.eq(&sealed.data),
        account_grants::updated_at.eq(now()),
    );
    macro_rules! insert_new {
        ($conn:expr) => {
            diesel::insert_into(account_grants::table)
                .values(row)
                .on_conflict((account_grants::provider, account_grants::account))
                .do_nothing()
                .execute($conn)?
        };
    }
    let inserted = match conn {
        DbConn::Postgres(pg) => insert_new!(pg),
        DbConn::Sqlite(sqlite) => insert_new!(sqlite),
    };
    Ok(inserted == 1)
}

/// Removes `provider`'s grants other than `keep` (a provider with one
/// connection at a time, such as HubSpot, replaces the old one).
pub fn delete_others(conn: &mut DbConn, provider: &str, keep: &str) -> Result<usize, StoreError> {
    Ok(diesel::delete(
        account_grants::table
            .filter(account_grants::provider.eq(provider))
            .filter(account_grants::account.ne(keep)),
    )
    .execute(conn)?)
}
