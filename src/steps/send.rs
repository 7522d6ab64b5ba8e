//! Sending a draft exactly once (API_FACTS §6.6), shared by the deliver step and
//! the admin's approve-and-send.
//!
//! 1. Quiet hours in the prospect's zone defer the send.
//! 2. The ledger row for the send says what happened before: `done` → already
//!    sent; `unknown` → a send may have happened, so look in Sent for our
//!    Message-ID first, and only if it is not there and the draft still exists
//!    send again; a vanished draft with nothing in Sent goes to a human.
//! 3. In one transaction: a stale draft (the prospect wrote first, or booked:
//!    `store::draft_watches`), the suppression list, the mailbox's rolling daily
//!    limit, and the claim (`planned` → `unknown`) so that two callers never both send.
//! 4. `drafts.send`, then the row is `done` with the sent message's id.

use chrono::{Datelike, Timelike, Utc, Weekday};
use chrono_tz::Tz;

use super::StepError;
use crate::connectors::ConnectorError;
use crate::connectors::gmail::{DRAFTS_GET, DRAFTS_SEND, Format, THREADS_LIST};
use crate::domain::StaleReason;
use crate::services::Services;
use crate::store::draft_watches;
use crate::store::side_effects::{self, EffectKind, EffectState};
use crate::store::{StoreError, audit, now, suppressions};

/// Why a draft made without a one-click unsubscribe link (the public URL is not
/// https) is never sent, by the engine or by an approval.
pub const HELD_WITHOUT_UNSUBSCRIBE: &str =
    "not sent: SALES_AGENT_PUBLIC_URL must be https for one-click unsubscribe links";

/// What to send.
pub struct SendRequest<'a> {
    pub workflow_id: &'a str,
    pub mailbox: &'a str,
    pub draft_id: &'a str,
    pub message_id: &'a str,
    pub recipient: &'a str,
    pub prospect_zone: Tz,
    /// Who asked (the engine, or the admin who approved), for the audit log.
    pub actor: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    Sent {
        message_id: String,
    },
    Suppressed,
    /// The draft went stale before it was sent: it never will be.
    Stale(StaleReason),
}

/// What a delivery and a refused approval say about a stale draft.
pub fn stale_refusal(reason: StaleReason) -> String {
    format!(
        "not sent: the draft is stale ({}); answer the prospect's latest message instead",
        reason.describe()
    )
}

pub async fn send_once(
    services: &Services,
    request: &SendRequest<'_>,
) -> Result<SendOutcome, StepError> {
    let (start, end) = services.config.engine.quiet_hours;
    let weekends = services.config.engine.quiet_weekends;
    if let Some(wait) = quiet_wait(
        Utc::now().with_timezone(&request.prospect_zone),
        start,
        end,
        weekends,
    ) {
        return Err(StepError::Defer {
            after: wait,
            reason: "quiet hours where the prospect is".into(),
        });
    }
    let key = format!("{}#send", request.message_id);
    let (wf, mailbox) = (request.workflow_id.to_string(), request.mailbox.to_string());
    let effect = services
        .store
        .run(move |c| side_effects::plan(c, &wf, EffectKind::GmailSend, &key, Some(&mailbox)))
        .await?;
    match effect.state {
        EffectState::Done => {
            return Ok(SendOutcome::Sent {
                message_id: effect.external_id.unwrap_or_default(),
            });
        }
        EffectState::Unknown => {
            // A claim this recent may belong to a send still in flight (another
            // click, another process): wait it out rather than race it.
            let in_flight = chrono::TimeDelta::from_std(services.config.connectors.timeout * 2)
                .unwrap_or(chrono::TimeDelta::MAX);
            if now() - effect.updated_at < in_flight {
                return Err(StepError::transient(
                    "a send of this draft may still be in flight",
                ));
            }
            if let Some(sent) = find_sent(services, request).await? {
                mark_sent(services, request, &sent).await?;
                return Ok(SendOutcome::Sent { message_id: sent });
            }
            if !draft_exists(services, request).await? {
                return Err(StepError::Permanent(
                    "send outcome unknown: the draft is gone and nothing is in Sent; a person must check".into(),
                ));
            }
        }
        EffectState::Planned => {}
    }
    match claim(services, request).await? {
        Claim::Stale(reason) => return Ok(SendOutcome::Stale(reason)),
        Claim::Suppressed => return Ok(SendOutcome::Suppressed),
        Claim::OverLimit => {
            return Err(StepError::Defer {
                after: std::time::Duration::from_secs(3600),
                reason: "mailbox reached its daily send limit".into(),
            });
        }
        Claim::Taken if effect.state == EffectState::Planned => {
            return Err(StepError::transient(
                "another send of this draft is in progress",
            ));
        }
        Claim::Taken | Claim::Won => {}
    }
    let (mailbox, draft_id) = (request.mailbox.to_string(), request.draft_id.to_string());
    let sent = services
        .gmail(request.mailbox, &DRAFTS_SEND, move |g| {
            let (mailbox, draft_id) = (mailbox.clone(), draft_id.clone());
            async move { g.drafts_send(&mailbox, &draft_id).await }
        })
        .await;
    match sent {
        Ok(message) => {
            mark_sent(services, request, &message.id).await?;
            Ok(SendOutcome::Sent {
                message_id: message.id,
            })
        }
        // Sent already (by us before a crash, or by the rep): find it.
        Err(ConnectorError::NotFound(_)) => match find_sent(services, request).await? {
            Some(sent) => {
                mark_sent(services, request, &sent).await?;
                Ok(SendOutcome::Sent { message_id: sent })
            }
            None => Err(StepError::Permanent(
                "the draft vanished before it was sent; a person must check".into(),
            )),
        },
        Err(error) => Err(error.into()),
    }
}

enum Claim {
    Won,
    Taken,
    Stale(StaleReason),
    Suppressed,
    OverLimit,
}

/// Staleness, suppression, the daily limit and the claim, in one transaction.
async fn claim(services: &Services, request: &SendRequest<'_>) -> Result<Claim, StoreError> {
    let (wf, mailbox, recipient) = (
        request.workflow_id.to_string(),
        request.mailbox.to_string(),
        request.recipient.to_string(),
    );
    let limit = services.config.engine.daily_send_limit;
    services
        .store
        .run(move |conn| {
            diesel::Connection::transaction(conn, |c| {
                if let Some(reason) = draft_watches::stale_for_send(c, &wf)? {
                    return Ok(Claim::Stale(reason));
                }
                if suppressions::is_suppressed(c, &recipient)? {
                    return Ok(Claim::Suppressed);
                }
                if side_effects::count_sent_since(
                    c,
                    &mailbox,
                    now() - chrono::TimeDelta::hours(24),
                )? >= limit
                {
                    return Ok(Claim::OverLimit);
                }
                Ok(if side_effects::claim(c, &wf, EffectKind::GmailSend)? {
                    Claim::Won
                } else {
                    Claim::Taken
                })
            })
        })
        .await
}

async fn mark_sent(
    services: &Services,
    request: &SendRequest<'_>,
    sent_id: &str,
) -> Result<(), StoreError> {
    let (wf, sent_id, actor) = (
        request.workflow_id.to_string(),
        sent_id.to_string(),
        request.actor.to_string(),
    );
    let newly_sent = services
        .store
        .run(move |conn| {
            diesel::Connection::transaction(conn, |c| {
                // Recorded once: a caller that finds the send already done adds nothing.
                let current = side_effects::find(c, &wf, EffectKind::GmailSend)?;
                if current.is_some_and(|e| e.state == EffectState::Done) {
                    return Ok(false);
                }
                side_effects::update(
                    c,
                    &wf,
                    EffectKind::GmailSend,
                    EffectState::Done,
                    Some(&sent_id),
                    None,
                )?;
                draft_watches::settle_sent(c, &wf)?;
                audit::append(
                    c,
                    &audit::Entry {
                        actor: &actor,
                        action: "email.sent",
                        workflow_id: Some(&wf),
                        reason: Some(if actor == "engine" {
                            "send mode"
                        } else {
                            "draft approved"
                        }),
                        detail: serde_json::json!({ "gmail_message_id": sent_id }),
                    },
                )?;
                Ok(true)
            })
        })
        .await?;
    if newly_sent {
        services.metrics.emails_sent.inc();
    }
    Ok(())
}

/// The id of our message in Sent, found by its Message-ID.
async fn find_sent(
    services: &Services,
    request: &SendRequest<'_>,
) -> Result<Option<String>, StepError> {
    let (mailbox, message_id) = (request.mailbox.to_string(), request.message_id.to_string());
    let thread = services
        .gmail(request.mailbox, &THREADS_LIST, move |g| {
            let (mailbox, message_id) = (mailbox.clone(), message_id.clone());
            async move { g.find_sent_thread(&mailbox, &message_id).await }
        })
        .await?;
    Ok(thread)
}

async fn draft_exists(services: &Services, request: &SendRequest<'_>) -> Result<bool, StepError> {
    let (mailbox, draft_id) = (request.mailbox.to_string(), request.draft_id.to_string());
    let found = services
        .gmail(request.mailbox, &DRAFTS_GET, move |g| {
            let (mailbox, draft_id) = (mailbox.clone(), draft_id.clone());
            async move { g.drafts_get(&mailbox, &draft_id, Format::Minimal).await }
        })
        .await;
    match found {
        Ok(_) => Ok(true),
        Err(ConnectorError::NotFound(_)) => Ok(false),
        Err(error) => Err(error.into()),
    }
}

/// How long until the quiet hours `[start, end)` (wrapping midnight) and, when
/// `weekends`, the weekend are over at `local`; `None` when sending is fine now.
fn quiet_wait(
    local: chrono::DateTime<Tz>,
    start: u32,
    end: u32,
    weekends: bool,
) -> Option<std::time::Duration> {
    let quiet = |at: chrono::DateTime<Tz>| {
        let h = at.hour();
        let quiet_hour = if start > end {
            h >= start || h < end
        } else {
            h >= start && h < end
        };
        quiet_hour || (weekends && matches!(at.weekday(), Weekday::Sat | Weekday::Sun))
    };
    if !quiet(local) {
        return None;
    }
    // Step forward an hour at a time (DST-safe, at most a few days).
    let mut at = local;
    for _ in 0..24 * 4 {
        at += chrono::Duration::hours(1);
        if !quiet(at) {
            let top_of_hour = at
                .with_minute(0)
                .and_then(|t| t.with_second(0))
                .unwrap_or(at);
            return (top_of_hour - local).to_std().ok();
        }
    }
    Some(std::time::Duration::from_secs(3600))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn quiet_hours_and_weekends_wait_until_the_next_working_hour() {
        let ny: Tz = "America/New_York".parse().unwrap();
        let at = |y, m, d, h, min| ny.with_ymd_and_hms(y, m, d, h, min, 0).unwrap();
        let hours = |d: Option<std::time::Duration>| d.map(|d| d.as_secs_f64() / 3600.0);
        assert_eq!(
            quiet_wait(at(2026, 11, 24, 10, 0), 20, 8, true),
            None,
            "Tuesday morning"
        );
        assert_eq!(
            hours(quiet_wait(at(2026, 11, 24, 21, 30), 20, 8, true)),
            Some(10.5),
            "until 08:00"
        );
        assert_eq!(
            hours(quiet_wait(at(2026, 11, 28, 12, 0), 20, 8, true)),
            Some(44.0),
            "Saturday noon until Monday 08:00"
        );
        assert_eq!(
            quiet_wait(at(2026, 11, 28, 12, 0), 20, 8, false),
            None,
            "weekends allowed"
        );
        assert_eq!(
            hours(quiet_wait(at(2026, 11, 28, 3, 0), 0, 0, true)),
            Some(45.0),
            "no quiet hours, but Saturday"
        );
    }
}
