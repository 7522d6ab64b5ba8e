//! The rep's next free times for a workflow's prospect (the booking page's
//! "more times", and what a prospect who lost a slot is offered): the same
//! rules as the proposed slots (`compose::slots`), clear of the calendar's busy
//! blocks, of other prospects' holds and of active bookings.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use crate::compose::slots::{self, Interval, SlotRules};
use crate::connectors::calendar::FREEBUSY_QUERY;
use crate::domain::Rep;
use crate::services::Services;
use crate::steps::StepError;
use crate::store::{bookings, slot_holds};

/// How many times the page offers.
pub const OFFERED: usize = 6;

/// Up to [`OFFERED`] free slots of `rep` that fit the prospect's `zones`.
pub async fn next_free(
    services: &Services,
    rep: &Rep,
    workflow_id: &str,
    zones: &[Tz],
) -> Result<Vec<Interval>, StepError> {
    let rules = SlotRules {
        count: OFFERED,
        prospect: services.config.engine.prospect_hours.clone(),
        ..SlotRules::default()
    };
    let now = Utc::now();
    let until = now + Duration::days(rules.horizon_days + 1);
    let (account, calendar) = (rep.email.clone(), rep.calendar_id.clone());
    let busy = services
        .calendar(&rep.email, &FREEBUSY_QUERY, move |c| {
            let (account, calendar) = (account.clone(), calendar.clone());
            async move { c.busy(&account, &calendar, now, until).await }
        })
        .await?;
    let (rep_id, workflow) = (rep.id.clone(), workflow_id.to_string());
    let taken = services
        .store
        .run(move |c| {
            let mut spans = slot_holds::held_by_others(c, &rep_id, &workflow)?;
            spans.extend(bookings::booked_spans(c, &rep_id, now.naive_utc())?);
            Ok(spans)
        })
        .await?;
    let utc = |n: chrono::NaiveDateTime| DateTime::<Utc>::from_naive_utc_and_offset(n, Utc);
    let blocked: Vec<Interval> = busy
        .into_iter()
        .map(|b| Interval {
            start: b.start,
            end: b.end,
        })
        .chain(taken.into_iter().map(|(start, end)| Interval {
            start: utc(start),
            end: utc(end),
        }))
        .collect();
    Ok(slots::propose(
        now,
        rep.tz(),
        &rep.working_hours,
        zones,
        &blocked,
        &rules,
    ))
}
