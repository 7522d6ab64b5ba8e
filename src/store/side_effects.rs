//! The side-effect ledger: every external write a workflow makes (Gmail draft and
//! send, HubSpot note, task and meeting, calendar event, Drive brief) gets a row *before* the call, keyed
//! by (workflow, kind), and is marked done with the external id after it. A re-run
//! step reads its row first, so it finds the earlier attempt instead of repeating it.
//! `unknown` means the call's outcome was not seen (timeout, crash): reconcile
//! against the provider before anything else.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::side_effects;
use super::{DbConn, StoreError, now};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EffectKind {
    GmailDraft,
    GmailSend,
    HubspotNote,
    HubspotTask,
    CalendarEvent,
    /// The note recording the prospect's reply to a draft that went stale.
    HubspotReplyNote,
    HubspotMeeting,
    DriveBrief,
}

impl EffectKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EffectKind::GmailDraft => "gmail_draft",
            EffectKind::GmailSend => "gmail_send",
            EffectKind::HubspotNote => "hubspot_note",
            EffectKind::HubspotTask => "hubspot_task",
            EffectKind::CalendarEvent => "calendar_event",
            EffectKind::HubspotReplyNote => "hubspot_reply_note",
            EffectKind::HubspotMeeting => "hubspot_meeting",
            EffectKind::DriveBrief => "drive_brief",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EffectState {
    Planned,
    Unknown,
    Done,
}

impl EffectState {
    pub fn as_str(self) -> &'static str {
        match self {
            EffectState::Planned => "planned",
            EffectState::Unknown => "unknown",
            EffectState::Done => "done",
        }
    }

    fn parse(raw: &str) -> Result<Self, StoreError> {
        match raw {
            "planned" => Ok(EffectState::Planned),
            "unknown" => Ok(EffectState::Unknown),
            "done" => Ok(EffectState::Done),
            other => Err(StoreError::Corrupt(format!("side effect state {other:?}"))),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Effect {
    pub workflow_id: String,
    pub kind: String,
    pub state: EffectState,
    /// Deterministic per workflow and kind, e.g. the email's Message-ID.
    pub idempotency_key: String,
    pub mailbox: Option<String>,
    pub external_id: Option<String>,
    pub detail: serde_json::Value,
    pub updated_at: NaiveDateTime,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = side_effects)]
struct EffectRow {
    workflow_id: String,
    kind: String,
    state: String,
    idempotency_key: String,
    mailbox: Option<String>,
    external_id: Option<String>,
    detail: String,
    updated_at: NaiveDateTime,
}

impl EffectRow {
    fn into_effect(self) -> Result<Effect, StoreError> {
        Ok(Effect {
            state: EffectState::parse(&self.state)?,
            detail: serde_json::from_str(&self.detail)
                .map_err(|e| StoreError::Corrupt(format!("side effect detail: {e}")))?,
            workflow_id: self.workflow_id,
            kind: self.kind,
            idempotency_key: self.idempotency_key,
            mailbox: self.mailbox,
            external_id: self.external_id,
            updated_at: self.updated_at,
        })
    }
}

/// The ledger row for (workflow, kind), creating it as `planned` if absent.
pub fn plan(
    conn: &mut DbConn,
    workflow_id: &str,
    kind: EffectKind,
    idempotency_key: &str,
    mailbox: Option<&str>,
) -> Result<Effect, StoreError> {
    plan_fresh(conn, workflow_id, kind, idempotency_key, mailbox).map(|(effect, _)| effect)
}

/// [`plan`], also saying whether this call created the row: then no earlier
/// attempt can have made the write (every attempt plans before it writes), and
/// the caller need not look for one. A row another caller inserts at the same
/// moment fails this insert on its primary key, so only one of them is fresh.
pub fn plan_fresh(
    conn: &mut DbConn,
    workflow_id: &str,
    kind: EffectKind,
    idempotency_key: &str,
    mailbox: Option<&str>,
) -> Result<(Effect, bool), StoreError> {
    if let Some(existing) = find(conn, workflow_id, kind)? {
        return Ok((existing, false));
    }
    let at = now();
    diesel::insert_into(side_effects::table)
        .values((
            side_effects::workflow_id.eq(workflow_id),
            side_effects::kind.eq(kind.as_str()),
            side_effects::state.eq(EffectState::Planned.as_str()),
            side_effects::idempotency_key.eq(idempotency_key),
            side_effects::mailbox.eq(mailbox),
            side_effects::detail.eq("{}"),
            side_effects::created_at.eq(at),
            side_effects::updated_at.eq(at),
        ))
        .execute(conn)?;
    let effect = find(conn, workflow_id, kind)?
        .ok_or_else(|| StoreError::Corrupt("side effect vanished after insert".into()))?;
    Ok((effect, true))
}

/// [`plan_fresh`] for a write a workflow makes once per booking, one booking
/// at a time (the HubSpot meeting, the brief): a row left by an earlier key (a
/// cancelled booking's) gives way to a fresh row for `key`. No attempt under
/// `key` can have written before a row carried it, so that row is fresh.
pub fn plan_superseding(
    conn: &mut DbConn,
    workflow_id: &str,
    kind: EffectKind,
    idempotency_key: &str,
    mailbox: Option<&str>,
) -> Result<(Effect, bool), StoreError> {
    let earlier = find(conn, workflow_id, kind)?;
    if earlier.is_some_and(|e| e.idempotency_key != idempotency_key) {
        diesel::delete(side_effects::table.find((workflow_id, kind.as_str()))).execute(conn)?;
    }
    plan_fresh(conn, workflow_id, kind, idempotency_key, mailbox)
}

pub fn find(
    conn: &mut DbConn,
    workflow_id: &str,
    kind: EffectKind,
) -> Result<Option<Effect>, StoreError> {
    side_effects::table
        .find((workflow_id, kind.as_str()))
        .select(EffectRow::as_select())
        .first(conn)
        .optional()?
        .map(EffectRow::into_effect)
        .transpose()
}

/// Moves the row to `state`, recording the external id and detail when given.
pub fn update(
    conn: &mut DbConn,
    workflow_id: &str,
    kind: EffectKind,
    state: EffectState,
    external_id: Option<&str>,
    detail: Option<&serde_json::Value>,
) -> Result<(), StoreError> {
    let current = find(conn, workflow_id, kind)?.ok_or_else(|| {
        StoreError::Corrupt(format!("no {} side effect for the workflow", kind.as_str()))
    })?;
    let external_id = external_id.map(str::to_string).or(current.external_id);
    let detail = detail.cloned().unwrap_or(current.detail);
    diesel::update(side_effects::table.find((workflow_id, kind.as_str())))
        .set((
            side_effects::state.eq(state.as_str()),
            side_effects::external_id.eq(external_id),
            side_effects::detail.eq(detail.to_string()),
            side_effects::updated_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Marks the engine's write done with its external id (and `detail`, when
/// given) and appends its audit entry, in one transaction: the ledger and the
/// audit log never disagree about a write.
pub fn done_and_audited(
    conn: &mut DbConn,
    workflow_id: &str,
    kind: EffectKind,
    external_id: &str,
    detail: Option<&serde_json::Value>,
    audit: &super::audit::Entry<'_>,
) -> Result<(), StoreError> {
    diesel::Connection::transaction(conn, |c| {
        update(
            c,
            workflow_id,
            kind,
            EffectState::Done,
            Some(external_id),
            detail,
        )?;
        super::audit::append(c, audit)
    })
}

/// Emails sent from `mailbox` since `since` (the rolling daily send limit).
pub fn count_sent_since(
    conn: &mut DbConn,
    mailbox: &str,
    since: NaiveDateTime,
) -> Result<i64, StoreError> {
    Ok(side_effects::table
        .filter(side_effects::mailbox.eq(mailbox))
        .filter(side_effects::kind.eq(EffectKind::GmailSend.as_str()))
        .filter(side_effects::state.ne(EffectState::Planned.as_str()))
        .filter(side_effects::updated_at.ge(since))
        .count()
        .get_result(conn)?)
}

/// Claims a planned effect for execution (`planned` → `unknown`); false when it
/// was not planned any more (done, or another caller claimed it). Whoever claims
/// makes the call; after a crash the `unknown` row says "reconcile first".
pub fn claim(conn: &mut DbConn, workflow_id: &str, kind: EffectKind) -> Result<bool, StoreError> {
    let changed = diesel::update(
        side_effects::table
            .find((workflow_id, kind.as_str()))
            .filter(side_effects::state.eq(EffectState::Planned.as_str())),
    )
    .set((
        side_effects::state.eq(EffectState::Unknown.as_str()),
        side_effects::updated_at.eq(now()),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}
