//! Meeting slots that are really free: inside the rep's working hours in the rep's
//! IANA zone, clear of busy blocks (and of slots held for other prospects) with a
//! buffer, at least a lead time away, inside business hours in every zone the
//! prospect may be in, and spread over different days. Computed in UTC, rendered in the prospect's zone.
//!
//! DST: a local time that does not exist (spring forward) is skipped; one that
//! happens twice (fall back) takes its first occurrence. Every slot is an instant,
//! so rendering it in any zone is unambiguous.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

pub use crate::domain::rep::WorkingHours;

/// How slots are chosen.
#[derive(Debug, Clone)]
pub struct SlotRules {
    pub duration: Duration,
    /// Free time kept before and after every busy block.
    pub buffer: Duration,
    /// No slot starts sooner than this after now.
    pub min_lead: Duration,
    /// How many days ahead to look.
    pub horizon_days: i64,
    /// Candidate starts are this far apart.
    pub step: Duration,
    pub count: usize,
    /// The prospect's business hours and days, in their zone
    /// (`SALES_AGENT_PROSPECT_HOURS`, `SALES_AGENT_PROSPECT_DAYS`).
    pub prospect: WorkingHours,
}

impl Default for SlotRules {
    fn default() -> Self {
        SlotRules {
            duration: Duration::minutes(30),
            buffer: Duration::minutes(15),
            min_lead: Duration::hours(4),
            horizon_days: 14,
            step: Duration::minutes(30),
            count: 3,
            prospect: WorkingHours {
                start: NaiveTime::from_hms_opt(8, 0, 0).expect("valid time"),
                end: NaiveTime::from_hms_opt(18, 0, 0).expect("valid time"),
                ..WorkingHours::default()
            },
        }
    }
}

/// A span of time, as an instant range in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Interval {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Interval {
    fn overlaps(&self, other: &Interval) -> bool {
        self.start < other.end && other.start < self.end
    }
}

/// Up to `rules.count` free slots, at most one per rep-local day, earliest first.
/// `busy` holds the calendar's busy blocks and any slots held for others; every
/// slot lies in business hours in each of `prospect_zones`.
pub fn propose(
    now: DateTime<Utc>,
    rep_tz: Tz,
    hours: &WorkingHours,
    prospect_zones: &[Tz],
    busy: &[Interval],
    rules: &SlotRules,
) -> Vec<Interval> {
    let earliest = now + rules.min_lead;
    let first_day = now.with_timezone(&rep_tz).date_naive();
    let mut slots = Vec::new();
    for offset in 0..rules.horizon_days {
        if slots.len() >= rules.count {
            break;
        }
        let Some(day) = first_day.checked_add_signed(Duration::days(offset)) else {
            break;
        };
        if !hours.days.contains(&day.weekday()) {
            continue;
        }
        let found = day_candidates(day, rep_tz, hours, rules)
            .filter(|slot| slot.start >= earliest)
            .filter(|slot| {
                prospect_zones
                    .iter()
                    .all(|tz| in_business_hours(slot, *tz, &rules.prospect))
            })
            .find(|slot| is_free(slot, busy, rules.buffer));
        slots.extend(found);
    }
    slots
}

/// Every candidate slot of one rep-local day, as instants.
fn day_candidates(
    day: NaiveDate,
    tz: Tz,
    hours: &WorkingHours,
    rules: &SlotRules,
) -> impl Iterator<Item = Interval> {
    let (duration, step) = (rules.duration, rules.step);
    let last_start = hours.end - duration;
    let mut at = hours.start;
    let mut done = hours.start > last_start || step <= Duration::zero();
    std::iter::from_fn(move || {
        while !done {
            let local = day.and_time(at);
            let next = at + step;
            done = next > last_start || next <= at;
            at = next;
            // `earliest()` skips the spring-forward gap and picks the first of a repeated hour.
            if let Some(start) = tz.from_local_datetime(&local).earliest() {
                let start = start.with_timezone(&Utc);
                return Some(Interval {
                    start,
                    end: start + duration,
                });
            }
        }
        None
    })
}

/// Whether `slot` lies within `hours` on one of its days, read in `tz`.
pub fn in_business_hours(slot: &Interval, tz: Tz, hours: &WorkingHours) -> bool {
    let start = slot.start.with_timezone(&tz);
    let end = slot.end.with_timezone(&tz);
    hours.days.contains(&start.weekday())
        && start.date_naive() == end.date_naive()
        && start.time() >= hours.start
        && end.time() <= hours.end
}

fn is_free(slot: &Interval, busy: &[Interval], buffer: Duration) -> bool {
    let padded = Interval {
        start: slot.start - buffer,
        end: slot.end + buffer,
    };
    !busy.iter().any(|b| b.overlaps(&padded))
}

/// A slot as a person in `tz` reads it, e.g. `Tue 3 Nov, 10:00–10:30 EST (America/New_York)`.
pub fn render(slot: &Interval, tz: Tz) -> String {
    let start = slot.start.with_timezone(&tz);
    let end = slot.end.with_timezone(&tz);
    format!(
        "{}–{} {} ({})",
        start.format("%a %-d %b, %H:%M"),
        end.format("%H:%M"),
        start.format("%Z"),
        tz.name()
    )
}

/// A slot in the prospect's zone, then in each other zone they may be in:
/// `Tue 3 Nov, 10:30–11:00 ACDT (Australia/Adelaide) / 08:00–08:30 AWST (Australia/Perth)`.
pub fn render_in(slot: &Interval, zones: &[Tz]) -> String {
    let Some((first, others)) = zones.split_first() else {
        return render(slot, Tz::UTC);
    };
    let mut text = render(slot, *first);
    for tz in others {
        let start = slot.start.with_timezone(tz);
        let end = slot.end.with_timezone(tz);
        let same_day = start.date_naive() == slot.start.with_timezone(first).date_naive();
        let day = if same_day {
            String::new()
        } else {
            start.format("%a %-d %b, ").to_string()
        };
        text.push_str(&format!(
            " / {day}{}–{} {} ({})",
            start.format("%H:%M"),
            end.format("%H:%M"),
            start.format("%Z"),
            tz.name()
        ));
    }
    text
}

#[cfg(test)]
#[path = "slots_tests.rs"]
mod tests;
