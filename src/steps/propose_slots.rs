//! Step 10, propose slots: the rep's real free/busy for the next two weeks, slots
//! inside their working hours and the prospect's business hours
//! (`SALES_AGENT_PROSPECT_HOURS` / `_DAYS`) in every zone the prospect may be in,
//! rendered in the prospect's inferred zone (with the other possible zones beside
//! it, and in the rep's zone when the guess is weak), in the reply's language. A calendar that cannot be
//! read yields no slots, never "all free"; when no slot fits, the output says why
//! and the reply asks for times instead.
//!
//! Offered slots are held (`store::slot_holds`) for `SALES_AGENT_SLOT_HOLD_MINS`:
//! slots other workflows hold count as busy, so two prospects are not offered the
//! same time at once. Reading the holds, choosing and holding happen in one
//! transaction under a per-rep lock. A re-run of this step gets its own holds
//! back while they are still free.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};

use crate::compose::dates;
use crate::compose::slots::{self, Interval, SlotRules};
use crate::compose::timezone::{self, Confidence};
use crate::connectors::calendar::FREEBUSY_QUERY;
use crate::steps::state::SlotsInfo;
use crate::steps::{StepCx, StepDone, StepError};
use crate::store::slot_holds::{self, Span};

pub async fn run(cx: &StepCx<'_>) -> Result<StepDone, StepError> {
    let rep = cx.rep().await?;
    let guess = timezone::infer(cx.lead()?, &rep.time_zone);
    let rules = SlotRules {
        count: rep.voice.slots_offered.max(1),
        prospect: cx.services.config.engine.prospect_hours.clone(),
        ..SlotRules::default()
    };
    let (business, horizon_days) = (rules.prospect.clone(), rules.horizon_days);
    let now = Utc::now();
    let until = now + Duration::days(rules.horizon_days + 1);
    let (account, calendar) = (rep.email.clone(), rep.calendar_id.clone());
    let busy = cx
        .services
        .calendar(&rep.email, &FREEBUSY_QUERY, move |c| {
            let (account, calendar) = (account.clone(), calendar.clone());
            async move { c.busy(&account, &calendar, now, until).await }
        })
        .await?;
    let busy: Vec<Interval> = busy
        .into_iter()
        .map(|b| Interval {
            start: b.start,
            end: b.end,
        })
        .collect();
    let hold_for = Duration::from_std(cx.services.config.engine.slot_hold)
        .map_err(|e| StepError::Permanent(format!("slot hold: {e}")))?;
    let (rep_id, workflow_id) = (rep.id.clone(), cx.workflow.id.clone());
    let expires = (now + hold_for).naive_utc();
    let (rep_tz, hours, prospect_zones) =
        (rep.tz(), rep.working_hours.clone(), guess.candidate_tzs());
    let zones = prospect_zones.clone();
    let spans = cx
        .services
        .store
        .run(move |c| {
            let choose = |own: &[Span], others: &[Span]| -> Vec<Span> {
                let own: Vec<Interval> = own.iter().map(interval).collect();
                let own_still_free = !own.is_empty()
                    && own
                        .iter()
                        .all(|s| s.start > now && !busy.iter().any(|b| overlaps(s, b)));
                if own_still_free {
                    return own.iter().map(span).collect();
                }
                let mut blocked = busy.clone();
                blocked.extend(others.iter().map(interval));
                slots::propose(now, rep_tz, &hours, &zones, &blocked, &rules)
                    .iter()
                    .map(span)
                    .collect()
            };
            slot_holds::choose_and_hold(c, &rep_id, &workflow_id, expires, &choose)
        })
        .await?;
    let proposed: Vec<Interval> = spans.iter().map(interval).collect();
    // Slots are written in the reply's language, with its day and month names.
    let lang = super::compose::language_of_reply(cx, &rep);
    let rendered = proposed
        .iter()
        .map(|s| dates::slot_line(s, &prospect_zones, lang))
        .collect();
    let rendered_in_rep_zone =
        if guess.confidence < Confidence::Medium && guess.zone != rep.time_zone {
            proposed
                .iter()
                .map(|s| dates::in_zone(s, rep.tz(), lang, true))
                .collect()
        } else {
            Vec::new()
        };
    let note = proposed.is_empty().then(|| {
        format!(
            "no free slot in the next {} days fits both {}'s working hours and the prospect's business hours ({}–{} {}, in {}): the reply asks for times",
            horizon_days,
            rep.id,
            business.start.format("%H:%M"),
            business.end.format("%H:%M"),
            days_label(&business.days),
            prospect_zones.iter().map(|z| z.name()).collect::<Vec<_>>().join(", "),
        )
    });
    Ok(StepDone::ok(SlotsInfo {
        prospect_zone: guess,
        slots: proposed,
        rendered,
        rendered_in_rep_zone,
        note,
    }))
}

/// Days as a person reads them: `Mon, Tue, Wed`.
fn days_label(days: &[chrono::Weekday]) -> String {
    days.iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn overlaps(a: &Interval, b: &Interval) -> bool {
    a.start < b.end && b.start < a.end
}

fn interval((start, end): &(NaiveDateTime, NaiveDateTime)) -> Interval {
    Interval {
        start: DateTime::from_naive_utc_and_offset(*start, Utc),
        end: DateTime::from_naive_utc_and_offset(*end, Utc),
    }
}

fn span(i: &Interval) -> Span {
    (i.start.naive_utc(), i.end.naive_utc())
}
