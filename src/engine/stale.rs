//! The stale-draft watcher, run by the supervisor every
//! `SALES_AGENT_STALE_CHECK_INTERVAL`: it adopts new drafts from the ledger,
//! then reads the Gmail thread of a small batch of open drafts, oldest-checked
//! first (`users.threads.get`, `format=metadata`, through the Gmail connector's
//! limiter and breaker), and settles each:
//!
//! - our message carries `SENT`: the rep (or send mode) sent it — done;
//! - our draft is no longer in the thread: the rep deleted it — done;
//! - a message from the prospect arrived after the draft was made: the draft
//!   is stale (`steps::stale`), and the reply is recorded in HubSpot and as the
//!   experiment outcome;
//! - otherwise it stays open and goes to the back of the queue.
//!
//! Several processes may run it: each row is leased to one process while it is
//! read (`store::draft_watches::claim_due`), and every change it makes is
//! conditional on the row's state, so a check repeated after a lost lease
//! writes nothing twice (the HubSpot note is looked up by its marker first).

use chrono::{DateTime, NaiveDateTime, Utc};

use crate::connectors::ConnectorError;
use crate::connectors::gmail::{Format, THREADS_GET, Thread};
use crate::domain::StaleReason;
use crate::experiments::outcomes::{address, thread_of};
use crate::services::Services;
use crate::steps::StepError;
use crate::steps::stale::{mark_stale_at, record_reply};
use crate::store::draft_watches::{self, Watch, WatchState};
use crate::store::{StoreError, now};

/// Drafts older than this are no longer watched.
const WINDOW_DAYS: i64 = 30;
/// New drafts adopted per check at most; the next check continues.
const ADOPT: i64 = 500;
/// How long a process holds the rows it reads.
const LEASE: std::time::Duration = std::time::Duration::from_secs(120);

/// What one check did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CheckReport {
    pub adopted: usize,
    pub checked: usize,
    pub stale: usize,
    pub sent: usize,
    pub gone: usize,
    /// Drafts whose thread could not be read this time (tried again later).
    pub failed: usize,
}

/// What the thread says about one draft.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Found {
    Sent,
    Gone,
    Replied(NaiveDateTime),
    Open,
}

/// Checks one batch of due drafts as `owner` (this process's name).
pub async fn check(services: &Services, owner: &str) -> Result<CheckReport, StoreError> {
    let since = now() - chrono::TimeDelta::days(WINDOW_DAYS);
    let batch = services.config.engine.stale_check_batch;
    let mut report = CheckReport {
        adopted: services
            .store
            .run(move |c| draft_watches::adopt(c, since, ADOPT))
            .await?,
        ..CheckReport::default()
    };
    let who = owner.to_string();
    let due = services
        .store
        .run(move |c| draft_watches::claim_due(c, &who, LEASE, since, batch))
        .await?;
    for watch in due {
        report.checked += 1;
        match check_one(services, owner, &watch).await {
            Ok(Some(Found::Sent)) => report.sent += 1,
            Ok(Some(Found::Gone)) => report.gone += 1,
            Ok(Some(Found::Replied(_))) => report.stale += 1,
            Ok(Some(Found::Open) | None) => {}
            Err(error) => {
                report.failed += 1;
                tracing::warn!(workflow.id = %watch.workflow_id, %error, "stale-draft check failed");
            }
        }
    }
    Ok(report)
}

/// Reads and settles one draft; `None` when only a pending reply was recorded.
async fn check_one(
    services: &Services,
    owner: &str,
    watch: &Watch,
) -> Result<Option<Found>, StepError> {
    if watch.state != WatchState::Open.as_str() {
        if let Some(replied_at) = watch.replied_at.filter(|_| watch.reply_pending()) {
            record_reply(services, &watch.workflow_id, replied_at).await?;
        }
        release(services, watch, owner, None).await?;
        return Ok(None);
    }
    let thread_id = match &watch.thread_id {
        Some(id) => Some(id.clone()),
        None => thread_of(services, &watch.mailbox, &watch.message_id).await?,
    };
    let thread = match &thread_id {
        Some(id) => read_thread(services, &watch.mailbox, id).await?,
        None => None,
    };
    let found = thread.as_ref().map_or(Found::Gone, |t| settle(watch, t));
    let wf = watch.workflow_id.clone();
    match &found {
        Found::Sent | Found::Gone => {
            let state = if found == Found::Sent {
                WatchState::Sent
            } else {
                WatchState::Gone
            };
            services
                .store
                .run(move |c| draft_watches::close(c, &wf, state))
                .await?;
        }
        Found::Replied(at) => {
            let changed =
                mark_stale_at(services, &wf, StaleReason::ProspectReplied, Some(*at)).await?;
            if changed {
                record_reply(services, &wf, *at).await?;
            }
        }
        Found::Open => {}
    }
    release(services, watch, owner, thread_id.as_deref()).await?;
    Ok(Some(found))
}

/// Marks the row checked now and gives up its lease.
async fn release(
    services: &Services,
    watch: &Watch,
    owner: &str,
    thread_id: Option<&str>,
) -> Result<(), StoreError> {
    let (wf, who, thread) = (
        watch.workflow_id.clone(),
        owner.to_string(),
        thread_id.map(str::to_string),
    );
    services
        .store
        .run(move |c| draft_watches::checked(c, &wf, &who, thread.as_deref()))
        .await
}

/// The thread in metadata form; `None` when Gmail no longer has it.
async fn read_thread(
    services: &Services,
    mailbox: &str,
    thread_id: &str,
) -> Result<Option<Thread>, ConnectorError> {
    let (m, id) = (mailbox.to_string(), thread_id.to_string());
    let thread = services
        .gmail(mailbox, &THREADS_GET, move |g| {
            let (m, id) = (m.clone(), id.clone());
            async move { g.threads_get(&m, &id, Format::Metadata).await }
        })
        .await;
    match thread {
        Ok(thread) => Ok(Some(thread)),
        Err(ConnectorError::NotFound(_)) => Ok(None),
        Err(error) => Err(error),
    }
}

/// What the thread says about the watched draft. Our message is found by its
/// Message-ID; the reply must come from the prospect's own address and after
/// our draft was made (the draft's `internalDate`, Gmail's clock, else ours).
fn settle(watch: &Watch, thread: &Thread) -> Found {
    let ours: Vec<_> = thread
        .messages
        .iter()
        .filter(|m| {
            m.payload
                .as_ref()
                .and_then(|p| p.header("Message-ID"))
                .is_some_and(|id| same_id(id, &watch.message_id))
        })
        .collect();
    let has = |m: &&crate::connectors::gmail::Message, label: &str| {
        m.label_ids.iter().any(|l| l == label)
    };
    if ours.iter().any(|m| has(m, "SENT")) {
        return Found::Sent;
    }
    let Some(draft) = ours.iter().find(|m| has(m, "DRAFT")) else {
        return Found::Gone;
    };
    let drafted = received(draft).unwrap_or_else(|| watch.drafted_at.and_utc());
    thread
        .messages
        .iter()
        .filter(|m| !has(m, "DRAFT") && !has(m, "SENT"))
        .filter(|m| {
            m.payload
                .as_ref()
                .and_then(|p| p.header("From"))
                .is_some_and(|from| address(from) == watch.contact_email)
        })
        .filter_map(received)
        .filter(|at| *at > drafted)
        .min()
        .map_or(Found::Open, |at| Found::Replied(at.naive_utc()))
}

/// When Gmail received the message (`internalDate`, epoch milliseconds).
fn received(m: &crate::connectors::gmail::Message) -> Option<DateTime<Utc>> {
    let ms = m.internal_date.as_deref()?.parse::<i64>().ok()?;
    DateTime::<Utc>::from_timestamp_millis(ms)
}

/// Message-IDs compare without their angle brackets and surrounding space.
fn same_id(a: &str, b: &str) -> bool {
    let bare = |s: &str| s.trim().trim_matches(['<', '>']).to_string();
    bare(a) == bare(b)
}

#[cfg(test)]
mod tests;
