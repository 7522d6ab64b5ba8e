//! Drafts left in a rep's mailbox and what became of them (`draft_watches`).
//!
//! A draft is adopted from the side-effect ledger (a `gmail_draft` row that is
//! done) and stays `open` until it is settled: `sent` (by the rep, or by the
//! service in send mode), `gone` (the rep deleted it) or `stale` (the prospect
//! wrote first, or booked a meeting). A stale draft is never sent: the send
//! claim (`steps::send`) reads the row in the same transaction as it claims the
//! send, and marking stale refuses once the send is done. On PostgreSQL both
//! lock the workflow's row first, so one of the two always sees the other. A
//! send that went out while its outcome was unknown settles the row as sent
//! when it is recorded: sent wins, since it is what the prospect received.
//!
//! The watcher claims due rows under a short lease (`claim_due`): two processes
//! never read the same thread at once, and every change is conditional on the
//! row's state, so a check repeated after a lost lease changes nothing.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{draft_watches as dw, side_effects, workflows};
use super::side_effects::{EffectKind, EffectState};
use super::{DbConn, StoreError, now};
use crate::domain::StaleReason;

/// Where a watched draft stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchState {
    Open,
    Sent,
    Gone,
    Stale,
}

impl WatchState {
    pub fn as_str(self) -> &'static str {
        match self {
            WatchState::Open => "open",
            WatchState::Sent => "sent",
            WatchState::Gone => "gone",
            WatchState::Stale => "stale",
        }
    }
}

/// One watched draft.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = dw)]
pub struct Watch {
    pub workflow_id: String,
    pub mailbox: String,
    pub draft_id: String,
    /// Our `Message-ID`, with its angle brackets.
    pub message_id: String,
    pub thread_id: Option<String>,
    pub contact_email: String,
    pub drafted_at: NaiveDateTime,
    pub state: String,
    pub stale_reason: Option<String>,
    pub stale_at: Option<NaiveDateTime>,
    pub replied_at: Option<NaiveDateTime>,
    pub reply_recorded_at: Option<NaiveDateTime>,
    pub checked_at: NaiveDateTime,
    pub lease_owner: Option<String>,
    pub lease_until: Option<NaiveDateTime>,
    pub closed_at: Option<NaiveDateTime>,
}

impl Watch {
    /// Why the draft is stale, when it is.
    pub fn stale(&self) -> Option<StaleReason> {
        (self.state == WatchState::Stale.as_str())
            .then(|| self.stale_reason.as_deref().and_then(StaleReason::parse))
            .flatten()
    }

    /// A reply was found whose HubSpot record and experiment outcome are not
    /// written yet.
    pub fn reply_pending(&self) -> bool {
        self.replied_at.is_some() && self.reply_recorded_at.is_none()
    }
}

/// A draft as the ledger holds it: workflow, Message-ID, mailbox, draft id, when.
type LedgerDraft = (
    String,
    String,
    Option<String>,
    Option<String>,
    NaiveDateTime,
);

/// Starts watching drafts the ledger shows made since `since` and not watched
/// yet, up to `limit`; how many. A draft whose email is already sent is
/// recorded as `sent` straight away, so it is never read from Gmail.
pub fn adopt(conn: &mut DbConn, since: NaiveDateTime, limit: i64) -> Result<usize, StoreError> {
    let drafts: Vec<LedgerDraft> = side_effects::table
        .filter(side_effects::kind.eq(EffectKind::GmailDraft.as_str()))
        .filter(side_effects::state.eq(EffectState::Done.as_str()))
        .filter(side_effects::updated_at.ge(since))
        .filter(diesel::dsl::not(diesel::dsl::exists(
            dw::table.filter(dw::workflow_id.eq(side_effects::workflow_id)),
        )))
        .order(side_effects::updated_at.asc())
        .limit(limit)
        .select((
            side_effects::workflow_id,
            side_effects::idempotency_key,
            side_effects::mailbox,
            side_effects::external_id,
            side_effects::updated_at,
        ))
        .load(conn)?;
    let mut adopted = 0;
    for (workflow_id, message_id, mailbox, draft_id, drafted_at) in drafts {
        let (Some(mailbox), Some(draft_id)) = (mailbox, draft_id) else {
            continue;
        };
        adopted += usize::from(insert(
            conn,
            &workflow_id,
            &mailbox,
            &draft_id,
            &message_id,
            drafted_at,
        )?);
    }
    Ok(adopted)
}

/// Starts watching one workflow's draft, if the ledger has one and it is not
/// watched yet; whether a row was added.
fn adopt_one(conn: &mut DbConn, workflow_id: &str) -> Result<bool, StoreError> {
    let Some(draft) = super::side_effects::find(conn, workflow_id, EffectKind::GmailDraft)? else {
        return Ok(false);
    };
    let (Some(mailbox), Some(draft_id)) = (draft.mailbox, draft.external_id) else {
        return Ok(false);
    };
    if draft.state != EffectState::Done {
        return Ok(false);
    }
    insert(
        conn,
        workflow_id,
        &mailbox,
        &draft_id,
        &draft.idempotency_key,
        draft.updated_at,
    )
}

/// Inserts the watch row (open, or sent when the email is sent already);
/// false when another process inserted it first.
fn insert(
    conn: &mut DbConn,
    workflow_id: &str,
    mailbox: &str,
    draft_id: &str,
    message_id: &str,
    drafted_at: NaiveDateTime,
) -> Result<bool, StoreError> {
    let Some(contact) = workflows::table
        .find(workflow_id)
        .select(workflows::email)
        .first::<String>(conn)
        .optional()?
    else {
        return Ok(false);
    };
    let state = if sent(conn, workflow_id)? {
        WatchState::Sent
    } else {
        WatchState::Open
    };
    // A savepoint inside a caller's transaction: a row another process
    // inserted first must not abort the rest of it on PostgreSQL.
    let inserted = conn.transaction(|c| {
        diesel::insert_into(dw::table)
            .values((
                dw::workflow_id.eq(workflow_id),
                dw::mailbox.eq(mailbox),
                dw::draft_id.eq(draft_id),
                dw::message_id.eq(message_id),
                dw::contact_email.eq(contact.to_lowercase()),
                dw::drafted_at.eq(drafted_at),
                dw::state.eq(state.as_str()),
                // Never checked: due before anything checked since.
                dw::checked_at.eq(drafted_at),
                dw::closed_at.eq((state != WatchState::Open).then(now)),
            ))
            .execute(c)
    });
    match inserted.map_err(StoreError::from) {
        Ok(n) => Ok(n == 1),
        Err(e) if e.is_unique_violation() => Ok(false),
        Err(e) => Err(e),
    }
}

/// Whether the workflow's email is known to be sent: the draft is then done,
/// never stale. A send whose outcome is unknown (refused, timed out, in
/// flight) does not count: a stale mark then stops its retry in the claim, and
/// if it did go out after all, `settle_sent` says so when it is found.
fn sent(conn: &mut DbConn, workflow_id: &str) -> Result<bool, StoreError> {
    Ok(
        super::side_effects::find(conn, workflow_id, EffectKind::GmailSend)?
            .is_some_and(|e| e.state == EffectState::Done),
    )
}

/// The workflow's email was sent: its draft is done — and not stale, even if
/// it was marked so while a send's outcome was unknown. Runs inside the
/// transaction that records the send.
pub fn settle_sent(conn: &mut DbConn, workflow_id: &str) -> Result<(), StoreError> {
    diesel::update(
        dw::table
            .find(workflow_id)
            .filter(dw::state.ne(WatchState::Sent.as_str())),
    )
    .set((
        dw::state.eq(WatchState::Sent.as_str()),
        dw::stale_reason.eq(None::<String>),
        dw::stale_at.eq(None::<NaiveDateTime>),
        dw::closed_at.eq(now()),
    ))
    .execute(conn)?;
    Ok(())
}

/// The rows due a check, oldest-checked first — open drafts made since
/// `since`, and stale ones whose reply is not recorded yet — each now leased to
/// `owner` for `lease`. A row another process holds is skipped.
pub fn claim_due(
    conn: &mut DbConn,
    owner: &str,
    lease: std::time::Duration,
    since: NaiveDateTime,
    limit: i64,
) -> Result<Vec<Watch>, StoreError> {
    let at = now();
    let until = at + chrono::TimeDelta::from_std(lease).unwrap_or(chrono::TimeDelta::minutes(5));
    let free = dw::lease_until.is_null().or(dw::lease_until.lt(at));
    let candidates: Vec<String> = dw::table
        .filter(
            dw::state
                .eq(WatchState::Open.as_str())
                .and(dw::drafted_at.ge(since))
                .or(dw::replied_at
                    .is_not_null()
                    .and(dw::reply_recorded_at.is_null())),
        )
        .filter(free)
        .order((dw::checked_at.asc(), dw::workflow_id.asc()))
        .limit(limit)
        .select(dw::workflow_id)
        .load(conn)?;
    let mut claimed = Vec::new();
    for id in candidates {
        let free = dw::lease_until.is_null().or(dw::lease_until.lt(at));
        let won = diesel::update(dw::table.find(&id).filter(free))
            .set((dw::lease_owner.eq(owner), dw::lease_until.eq(until)))
            .execute(conn)?;
        if won == 1
            && let Some(watch) = find(conn, &id)?
        {
            claimed.push(watch);
        }
    }
    Ok(claimed)
}

/// Records a check of `workflow_id` by `owner`: when, the thread found (if
/// any), and the lease released.
pub fn checked(
    conn: &mut DbConn,
    workflow_id: &str,
    owner: &str,
    thread_id: Option<&str>,
) -> Result<(), StoreError> {
    let row = dw::table
        .find(workflow_id)
        .filter(dw::lease_owner.eq(owner));
    match thread_id {
        Some(thread) => diesel::update(row)
            .set((
                dw::checked_at.eq(now()),
                dw::thread_id.eq(thread),
                dw::lease_owner.eq(None::<String>),
                dw::lease_until.eq(None::<NaiveDateTime>),
            ))
            .execute(conn)?,
        None => diesel::update(row)
            .set((
                dw::checked_at.eq(now()),
                dw::lease_owner.eq(None::<String>),
                dw::lease_until.eq(None::<NaiveDateTime>),
            ))
            .execute(conn)?,
    };
    Ok(())
}

/// Settles an open draft as `sent` or `gone`; false when it was not open.
pub fn close(conn: &mut DbConn, workflow_id: &str, state: WatchState) -> Result<bool, StoreError> {
    let changed = diesel::update(
        dw::table
            .find(workflow_id)
            .filter(dw::state.eq(WatchState::Open.as_str())),
    )
    .set((dw::state.eq(state.as_str()), dw::closed_at.eq(now())))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Marks the workflow's draft stale for `reason` (with the prospect's reply
/// time, when that is the reason); true when this call changed it. Refused
/// (false) once the email is sent — a sent draft is done, not stale — and
/// when the draft is settled already. A draft not watched yet is adopted first.
pub fn mark_stale(
    conn: &mut DbConn,
    workflow_id: &str,
    reason: StaleReason,
    replied_at: Option<NaiveDateTime>,
) -> Result<bool, StoreError> {
    conn.write_transaction(|c| {
        lock_workflow(c, workflow_id)?;
        if sent(c, workflow_id)? {
            return Ok(false);
        }
        adopt_one(c, workflow_id)?;
        let at = now();
        let changed = diesel::update(
            dw::table
                .find(workflow_id)
                .filter(dw::state.eq(WatchState::Open.as_str())),
        )
        .set((
            dw::state.eq(WatchState::Stale.as_str()),
            dw::stale_reason.eq(reason.as_str()),
            dw::stale_at.eq(at),
            dw::replied_at.eq(replied_at),
            dw::closed_at.eq(at),
        ))
        .execute(c)?;
        Ok(changed == 1)
    })
}

/// Why the workflow's draft is stale, if it is. Called inside the send
/// claim's transaction: on PostgreSQL it locks the workflow's row first, as
/// [`mark_stale`] does, so the two never pass each other.
pub fn stale_for_send(
    conn: &mut DbConn,
    workflow_id: &str,
) -> Result<Option<StaleReason>, StoreError> {
    lock_workflow(conn, workflow_id)?;
    Ok(find(conn, workflow_id)?.and_then(|w| w.stale()))
}

/// The reply's HubSpot record and experiment outcome are written.
pub fn reply_recorded(conn: &mut DbConn, workflow_id: &str) -> Result<(), StoreError> {
    diesel::update(
        dw::table
            .find(workflow_id)
            .filter(dw::reply_recorded_at.is_null()),
    )
    .set(dw::reply_recorded_at.eq(now()))
    .execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConn, workflow_id: &str) -> Result<Option<Watch>, StoreError> {
    Ok(dw::table
        .find(workflow_id)
        .select(Watch::as_select())
        .first(conn)
        .optional()?)
}

/// The watches of the workflows `ids` (those that have one).
pub fn find_many(conn: &mut DbConn, ids: &[String]) -> Result<Vec<Watch>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(dw::table
        .filter(dw::workflow_id.eq_any(ids))
        .select(Watch::as_select())
        .load(conn)?)
}

/// Deletes the watches of the workflows `ids` (retention, erasure); how many.
pub fn delete_for(conn: &mut DbConn, ids: &[String]) -> Result<usize, StoreError> {
    Ok(diesel::delete(dw::table.filter(dw::workflow_id.eq_any(ids))).execute(conn)?)
}

/// On PostgreSQL, locks the workflow's row until the transaction ends; SQLite's
/// write transaction already excludes every other writer.
fn lock_workflow(conn: &mut DbConn, workflow_id: &str) -> Result<(), StoreError> {
    if let DbConn::Postgres(pg) = conn {
        workflows::table
            .find(workflow_id)
            .select(workflows::id)
            .for_update()
            .load::<String>(pg)?;
    }
    Ok(())
}
