//! Stored grants: one sealed token per (provider, account), whether each
//! account is connected, and the workflows waiting for one to be reconnected.
//! This module moves sealed values only; sealing and opening belong to
//! [`crate::secrets`].

use diesel::prelude::*;

use super::schema::{account_grants, account_status, workflow_waits, workflows};
use super::workflows::WorkflowStatus;
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

/// Whether the service can act for an account, and since when.
#[derive(
    Debug, Clone, PartialEq, Eq, Queryable, Selectable, serde::Serialize, utoipa::ToSchema,
)]
#[diesel(table_name = account_status)]
pub struct StatusRow {
    pub provider: String,
    pub account: String,
    pub connected: bool,
    /// Why it is not: `invalid_grant`, `scope_removed`, `disconnected`, `no_grant`.
    pub reason: Option<String>,
    pub since: chrono::NaiveDateTime,
}

/// Records whether the account is connected; `since` moves only when that
/// changes. Returns whether it changed.
pub fn set_status(
    conn: &mut DbConn,
    provider: &str,
    account: &str,
    connected: bool,
    reason: Option<&str>,
) -> Result<bool, StoreError> {
    let account = account.to_lowercase();
    conn.write_transaction(|c| {
        let before = find_status(c, provider, &account)?;
        if before.as_ref().is_some_and(|b| b.connected == connected) {
            return Ok(false);
        }
        let at = now();
        let changed = diesel::update(account_status::table.find((provider, &account)))
            .set((
                account_status::connected.eq(connected),
                account_status::reason.eq(reason),
                account_status::since.eq(at),
            ))
            .execute(c)?;
        if changed == 0 {
            diesel::insert_into(account_status::table)
                .values((
                    account_status::provider.eq(provider),
                    account_status::account.eq(&account),
                    account_status::connected.eq(connected),
                    account_status::reason.eq(reason),
                    account_status::since.eq(at),
                ))
                .execute(c)?;
        }
        Ok(true)
    })
}

pub fn find_status(
    conn: &mut DbConn,
    provider: &str,
    account: &str,
) -> Result<Option<StatusRow>, StoreError> {
    Ok(account_status::table
        .find((provider, account.to_lowercase()))
        .select(StatusRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn list_status(conn: &mut DbConn) -> Result<Vec<StatusRow>, StoreError> {
    Ok(account_status::table
        .order((account_status::provider, account_status::account))
        .select(StatusRow::as_select())
        .load(conn)?)
}

/// The accounts of `provider` known to need reconnecting.
pub fn disconnected(conn: &mut DbConn, provider: &str) -> Result<Vec<StatusRow>, StoreError> {
    Ok(account_status::table
        .filter(account_status::provider.eq(provider))
        .filter(account_status::connected.eq(false))
        .order(account_status::account)
        .select(StatusRow::as_select())
        .load(conn)?)
}

/// Notes that the workflow waits for the account (it was just set `waiting`).
pub fn wait(
    conn: &mut DbConn,
    workflow_id: &str,
    provider: &str,
    account: &str,
) -> Result<(), StoreError> {
    diesel::delete(workflow_waits::table.find(workflow_id)).execute(conn)?;
    diesel::insert_into(workflow_waits::table)
        .values((
            workflow_waits::workflow_id.eq(workflow_id),
            workflow_waits::provider.eq(provider),
            workflow_waits::account.eq(account.to_lowercase()),
            workflow_waits::since.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Makes every workflow waiting for the account pending and due now; returns
/// their ids. Run in the transaction that reconnects the account.
pub fn wake(conn: &mut DbConn, provider: &str, account: &str) -> Result<Vec<String>, StoreError> {
    let waits = workflow_waits::table
        .filter(workflow_waits::provider.eq(provider))
        .filter(workflow_waits::account.eq(account.to_lowercase()));
    let ids: Vec<String> = waits.select(workflow_waits::workflow_id).load(conn)?;
    if ids.is_empty() {
        return Ok(ids);
    }
    let at = now();
    let woken: Vec<String> = workflows::table
        .filter(workflows::id.eq_any(&ids))
        .filter(workflows::status.eq(WorkflowStatus::Waiting.as_str()))
        .select(workflows::id)
        .load(conn)?;
    diesel::update(workflows::table.filter(workflows::id.eq_any(&woken)))
        .set((
            workflows::status.eq(WorkflowStatus::Pending.as_str()),
            workflows::next_run_at.eq(at),
            workflows::updated_at.eq(at),
        ))
        .execute(conn)?;
    diesel::delete(workflow_waits::table.filter(workflow_waits::workflow_id.eq_any(&ids)))
        .execute(conn)?;
    Ok(woken)
}

/// Wakes the workflows waiting for accounts that are connected again (a sweep
/// behind [`wake`], for a reconnection that raced a workflow starting to wait).
pub fn wake_connected(conn: &mut DbConn) -> Result<Vec<String>, StoreError> {
    let waiting: Vec<(String, String)> = workflow_waits::table
        .select((workflow_waits::provider, workflow_waits::account))
        .distinct()
        .load(conn)?;
    let mut woken = Vec::new();
    for (provider, account) in waiting {
        if find_status(conn, &provider, &account)?.is_some_and(|s| s.connected) {
            woken.extend(conn.write_transaction(|c| wake(c, &provider, &account))?);
        }
    }
    Ok(woken)
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

/// The stored grant of one account, still sealed.
pub fn find(
    conn: &mut DbConn,
    provider: &str,
    account: &str,
) -> Result<Option<GrantRow>, StoreError> {
    Ok(account_grants::table
        .find((provider, account.to_lowercase()))
        .select(GrantRow::as_select())
        .first(conn)
        .optional()?)
}

/// Deletes the account's grant only while it is still `sealed` (the one the
/// caller revoked, not one stored since), and its status with it, so the
/// account reads as never connected. Returns whether the grant was deleted.
pub fn delete(
    conn: &mut DbConn,
    provider: &str,
    account: &str,
    sealed: &Sealed,
) -> Result<bool, StoreError> {
    let account = account.to_lowercase();
    let deleted = diesel::delete(
        account_grants::table
            .filter(account_grants::provider.eq(provider))
            .filter(account_grants::account.eq(&account))
            .filter(account_grants::key_id.eq(&sealed.key_id))
            .filter(account_grants::sealed.eq(&sealed.data)),
    )
    .execute(conn)?;
    if deleted == 0 {
        return Ok(false);
    }
    diesel::delete(account_status::table.find((provider, &account))).execute(conn)?;
    Ok(true)
}
