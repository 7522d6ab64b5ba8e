//! Step 10, propose slots: the rep's real free/busy for the next two weeks, slots
//! inside their working hours and the prospect's sensible hours, rendered in the
//! prospect's inferred zone (and in the rep's when that guess is weak). A calendar
//! that cannot be read yields no slots, never "all free".

use chrono::{Duration, Utc};

use crate::compose::slots::{self, Interval, SlotRules};
use crate::compose::timezone::{self, Confidence};
use crate::connectors::calendar::FREEBUSY_QUERY;
use crate::engine::state::SlotsInfo;
use crate::engine::{StepCx, StepDone, StepError};

pub async fn run(cx: &StepCx<'_>) -> Result<StepDone, StepError> {
    let rep = cx.rep().await?;
    let guess = timezone::infer(cx.lead()?, &rep.time_zone);
    let rules = SlotRules {
        count: rep.voice.slots_offered.max(1),
        ..SlotRules::default()
    };
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
    let proposed = slots::propose(now, rep.tz(), &rep.working_hours, guess.tz(), &busy, &rules);
    let rendered = proposed
        .iter()
        .map(|s| slots::render(s, guess.tz()))
        .collect();
    let rendered_in_rep_zone =
        if guess.confidence < Confidence::Medium && guess.zone != rep.time_zone {
            proposed
                .iter()
                .map(|s| slots::render(s, rep.tz()))
                .collect()
        } else {
            Vec::new()
        };
    Ok(StepDone::ok(SlotsInfo {
        prospect_zone: guess,
        slots: proposed,
        rendered,
        rendered_in_rep_zone,
    }))
}
