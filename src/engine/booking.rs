//! The booking chain, a second short workflow after the reply: one accepted
//! booking row (`store::bookings`) is carried, under the row's lease, through
//! its links in order — the slot checked free again, the event in the rep's
//! calendar, the brief in Drive (linked from the event), the HubSpot meeting,
//! the follow-up task completed, the workflow's slot holds released — each link's completion
//! recorded on the row (`stage`) before the next starts. A crash loses at most
//! the link in flight, which looks for its earlier attempt when run again.
//!
//! Every accepted booking ends booked, skipped with a reason (the slot was
//! taken in the calendar meanwhile) or failed (dead-lettered with a reason).
//! A transient failure schedules another attempt with backoff; the supervisor
//! runs due bookings at start and on its tick (`resume_due`).

use std::time::Duration;

use crate::domain::StaleReason;
use crate::services::Services;
use crate::steps::StepError;
use crate::steps::booking::{BookingCx, check, event, follow_up, release};
use crate::steps::stale;
use crate::store::bookings::{self, Booking, Progress};
use crate::store::{StoreError, audit, now};

/// The links of the chain, in order; the row's `stage` names the last one done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    Accepted,
    Checked,
    Event,
    Brief,
    Meeting,
    Task,
    Released,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Accepted => "accepted",
            Stage::Checked => "checked",
            Stage::Event => "event",
            Stage::Brief => "brief",
            Stage::Meeting => "meeting",
            Stage::Task => "task",
            Stage::Released => "released",
        }
    }

    pub fn parse(raw: &str) -> Stage {
        match raw {
            "checked" => Stage::Checked,
            "event" => Stage::Event,
            "brief" => Stage::Brief,
            "meeting" => Stage::Meeting,
            "task" => Stage::Task,
            "released" => Stage::Released,
            _ => Stage::Accepted,
        }
    }
}

/// Why the slot could not be booked, as the row records it.
pub const SLOT_GONE: &str = "the slot is no longer free in the rep's calendar";

/// Runs the booking's chain to its end (or to its next retry) if `owner` can
/// take its lease; the row as it is afterwards (`None`: it does not exist).
pub async fn run(
    services: &Services,
    booking_id: &str,
    owner: &str,
) -> Result<Option<Booking>, StoreError> {
    let (id, who, lease) = (
        booking_id.to_string(),
        owner.to_string(),
        services.config.engine.lease,
    );
    let claimed = services
        .store
        .run(move |c| {
            Ok(if bookings::claim(c, &id, &who, lease)? {
                bookings::find(c, &id)?
            } else {
                None
            })
        })
        .await?;
    if let Some(booking) = claimed {
        let outcome = walk(services, booking.clone(), owner).await;
        settle(services, &booking, owner, outcome).await?;
    }
    let id = booking_id.to_string();
    services.store.run(move |c| bookings::find(c, &id)).await
}

/// Runs every booking whose chain is due (new, retry due, lease lapsed),
/// one after another; how many were run.
pub async fn resume_due(services: &Services, owner: &str) -> Result<usize, StoreError> {
    let due = services.store.run(|c| bookings::list_due(c, 50)).await?;
    for id in &due {
        run(services, id, owner).await?;
    }
    Ok(due.len())
}

/// How a walk down the chain ended.
enum Walked {
    Booked,
    SlotGone,
    Failed(StepError),
}

async fn walk(services: &Services, booking: Booking, owner: &str) -> Walked {
    match walk_links(services, booking, owner).await {
        Ok(walked) => walked,
        Err(error) => Walked::Failed(error),
    }
}

async fn walk_links(
    services: &Services,
    booking: Booking,
    owner: &str,
) -> Result<Walked, StepError> {
    let mut stage = Stage::parse(&booking.stage);
    let (mut event_link, mut brief_link) = (booking.event_link.clone(), booking.brief_link.clone());
    let cx = BookingCx::load(services, booking).await?;
    if stage < Stage::Checked {
        if !check::slot_is_free(&cx).await? {
            return Ok(Walked::SlotGone);
        }
        stage = advance(&cx, owner, Stage::Checked, Progress::default()).await?;
    }
    if stage < Stage::Event {
        let made = event::ensure(&cx).await?;
        event_link = made.link.clone();
        let progress = Progress {
            event_link: made.link,
            meet_link: made.meet,
            ..Progress::default()
        };
        stage = advance(&cx, owner, Stage::Event, progress).await?;
    }
    if stage < Stage::Brief {
        brief_link = follow_up::brief(&cx).await?.map(|doc| doc.link);
        let progress = Progress {
            brief_link: brief_link.clone(),
            ..Progress::default()
        };
        stage = advance(&cx, owner, Stage::Brief, progress).await?;
    }
    if stage < Stage::Meeting {
        let meeting_id = follow_up::meeting(&cx, brief_link, event_link).await?;
        let progress = Progress {
            meeting_id,
            ..Progress::default()
        };
        stage = advance(&cx, owner, Stage::Meeting, progress).await?;
    }
    if stage < Stage::Task {
        follow_up::task(&cx).await?;
        stage = advance(&cx, owner, Stage::Task, Progress::default()).await?;
    }
    if stage < Stage::Released {
        release::holds(&cx).await?;
        // The draft still waiting for the rep proposes times the prospect no
        // longer needs: it goes stale and is never sent (idempotent on a re-run).
        stale::mark_stale(
            services,
            &cx.booking.workflow_id,
            StaleReason::MeetingBooked,
        )
        .await?;
        advance(&cx, owner, Stage::Released, Progress::default()).await?;
    }
    Ok(Walked::Booked)
}

/// Records that `stage` is done, while the lease is still `owner`'s.
async fn advance(
    cx: &BookingCx<'_>,
    owner: &str,
    stage: Stage,
    mut progress: Progress,
) -> Result<Stage, StepError> {
    progress.stage = Some(stage.as_str().into());
    let (id, who) = (cx.booking.id.clone(), owner.to_string());
    let ours = cx
        .services
        .store
        .run(move |c| bookings::record(c, &id, Some(&who), &progress))
        .await?;
    if ours {
        Ok(stage)
    } else {
        Err(StepError::LeaseLost)
    }
}

/// Ends the booking (booked, skipped, failed) or schedules its next attempt.
async fn settle(
    services: &Services,
    booking: &Booking,
    owner: &str,
    walked: Walked,
) -> Result<(), StoreError> {
    let (status, reason, action): (&str, Option<String>, &str) = match walked {
        Walked::Booked => (bookings::BOOKED, None, "booking.booked"),
        Walked::SlotGone => (bookings::SKIPPED, Some(SLOT_GONE.into()), "booking.skipped"),
        Walked::Failed(StepError::LeaseLost) => return Ok(()),
        Walked::Failed(StepError::Permanent(reason)) => {
            (bookings::FAILED, Some(reason), "booking.dead_lettered")
        }
        Walked::Failed(error) => {
            let attempts = booking.attempts + 1;
            if attempts < services.config.engine.max_attempts {
                return schedule_retry(services, booking, attempts, &error).await;
            }
            let reason = format!("gave up after {attempts} attempts: {error}");
            (bookings::FAILED, Some(reason), "booking.dead_lettered")
        }
    };
    let booked_at = (status == bookings::BOOKED).then(now);
    let progress = Progress {
        status: Some(status.into()),
        reason: reason.clone(),
        booked_at,
        ..Progress::default()
    };
    let (id, who, workflow_id) = (
        booking.id.clone(),
        owner.to_string(),
        booking.workflow_id.clone(),
    );
    let ended = services
        .store
        .run(move |c| {
            c.write_transaction(|c| {
                if !bookings::record(c, &id, Some(&who), &progress)? {
                    return Ok(false);
                }
                bookings::release(c, &id)?;
                audit::append(
                    c,
                    &audit::Entry {
                        actor: "engine",
                        action,
                        workflow_id: Some(&workflow_id),
                        reason: reason.as_deref(),
                        detail: serde_json::json!({ "booking_id": id }),
                    },
                )?;
                Ok(true)
            })
        })
        .await?;
    if ended && status == bookings::BOOKED {
        let workflow_id = booking.workflow_id.clone();
        let workflow = services
            .store
            .run(move |c| crate::store::workflows::find_by_id(c, &workflow_id))
            .await?;
        let since = workflow.map_or(0.0, |w| {
            (now() - w.created_at).num_milliseconds() as f64 / 1000.0
        });
        services.metrics.observe_meeting(since);
    }
    Ok(())
}

/// The next attempt after an exponential backoff from the configured base (or
/// the provider's Retry-After when longer), at most the configured maximum.
async fn schedule_retry(
    services: &Services,
    booking: &Booking,
    attempts: i32,
    error: &StepError,
) -> Result<(), StoreError> {
    let engine = &services.config.engine;
    let retry_after = match error {
        StepError::Transient { retry_after, .. } => *retry_after,
        StepError::Defer { after, .. } => Some(*after),
        _ => None,
    };
    let backoff = engine
        .retry_base
        .saturating_mul(2u32.saturating_pow(attempts.clamp(0, 16) as u32))
        .min(engine.retry_max);
    let wait: Duration = retry_after.map_or(backoff, |r| r.max(backoff));
    let at = now() + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::minutes(5));
    let (id, reason) = (booking.id.clone(), error.to_string());
    tracing::warn!(booking.id = %booking.id, error = %reason, "booking retries later");
    services
        .store
        .run(move |c| bookings::retry_at(c, &id, at, &reason).map(|_| ()))
        .await
}
