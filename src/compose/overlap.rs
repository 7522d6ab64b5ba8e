//! How much of a rep's working week meets the prospect's business hours: both
//! turned into UTC spans over the coming days (so DST and date lines need no
//! special case) and intersected. Routing prefers the rep with the most.

use chrono::{DateTime, Datelike, Duration, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::compose::slots::Interval;
use crate::domain::WorkingHours;

/// The spans of `hours`, kept in `tz`, that fall in `[from, from + days)`.
pub fn windows(hours: &WorkingHours, tz: Tz, from: DateTime<Utc>, days: i64) -> Vec<Interval> {
    let until = from + Duration::days(days);
    let first = from.with_timezone(&tz).date_naive() - Duration::days(1);
    (0..=days + 1)
        .filter_map(|offset| first.checked_add_signed(Duration::days(offset)))
        .filter(|day| hours.days.contains(&day.weekday()))
        .filter_map(|day| {
            let start = instant(tz, day.and_time(hours.start))?.max(from);
            let end = instant(tz, day.and_time(hours.end))?.min(until);
            (start < end).then_some(Interval { start, end })
        })
        .collect()
}

/// A local time as an instant: the first of a repeated hour; a time in the
/// spring-forward gap moves on by the gap (an hour everywhere that matters).
fn instant(tz: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    tz.from_local_datetime(&local)
        .earliest()
        .or_else(|| {
            tz.from_local_datetime(&(local + Duration::hours(1)))
                .earliest()
        })
        .map(|t| t.with_timezone(&Utc))
}

/// The parts of `a` that are also in `b`.
pub fn intersect(a: &[Interval], b: &[Interval]) -> Vec<Interval> {
    let mut out: Vec<Interval> = a
        .iter()
        .flat_map(|x| {
            b.iter().filter_map(move |y| {
                let (start, end) = (x.start.max(y.start), x.end.min(y.end));
                (start < end).then_some(Interval { start, end })
            })
        })
        .collect();
    out.sort();
    out
}

/// Minutes in the next `days` days when the rep works and it is business hours
/// in every zone the prospect may be in.
pub fn overlap_minutes(
    rep_hours: &WorkingHours,
    rep_tz: Tz,
    business: &WorkingHours,
    prospect_zones: &[Tz],
    from: DateTime<Utc>,
    days: i64,
) -> i64 {
    let mut common = windows(rep_hours, rep_tz, from, days);
    for tz in prospect_zones {
        common = intersect(&common, &windows(business, *tz, from, days));
    }
    common.iter().map(|i| (i.end - i.start).num_minutes()).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn tz(name: &str) -> Tz {
        name.parse().unwrap()
    }

    fn business() -> WorkingHours {
        WorkingHours::parse("08:00-18:00", "mon-fri").unwrap()
    }

    /// Hours a week a 9–17 rep in `rep` shares with an 8–18 prospect in `prospect`.
    fn weekly_hours(rep: &str, prospect: &[&str]) -> i64 {
        let zones: Vec<Tz> = prospect.iter().map(|z| tz(z)).collect();
        let from = utc("2026-12-07T00:00:00Z"); // a Monday, no DST change near
        overlap_minutes(
            &WorkingHours::default(),
            tz(rep),
            &business(),
            &zones,
            from,
            7,
        ) / 60
    }

    #[test]
    fn more_shared_hours_for_nearer_zones() {
        // New York 9–17 EST is 14–22 UTC; Los Angeles 8–18 PST is 16–02 UTC.
        assert_eq!(
            weekly_hours("America/New_York", &["America/Los_Angeles"]),
            30
        );
        // Berlin 9–17 CET is 8–16 UTC: no hour of it is business hours in LA.
        assert_eq!(weekly_hours("Europe/Berlin", &["America/Los_Angeles"]), 0);
        // Honolulu 8–18 is 18–04 UTC; Singapore 9–17 is 01–09 UTC (the next
        // day): Tuesday to Friday 01–04 UTC, 3 h × 4.
        assert_eq!(weekly_hours("Asia/Singapore", &["Pacific/Honolulu"]), 12);
        assert_eq!(weekly_hours("America/New_York", &["Pacific/Honolulu"]), 20);
        assert_eq!(weekly_hours("Europe/Berlin", &["Europe/Berlin"]), 40);
    }

    #[test]
    fn every_candidate_zone_must_be_in_business_hours() {
        // Berlin 9–17 CET meets London 8–18 GMT for all 8 h; London and New York
        // together leave 13–16 UTC (New York 8–11).
        assert_eq!(weekly_hours("Europe/Berlin", &["Europe/London"]), 40);
        assert_eq!(
            weekly_hours("Europe/Berlin", &["Europe/London", "America/New_York"]),
            15
        );
    }

    #[test]
    fn windows_follow_the_local_clock_across_a_dst_change() {
        // New York springs forward on Sunday 8 March 2026: 9:00 is 14:00 UTC on
        // Friday the 6th and 13:00 UTC on Monday the 9th.
        let w = windows(
            &WorkingHours::default(),
            tz("America/New_York"),
            utc("2026-03-06T00:00:00Z"),
            4,
        );
        let starts: Vec<String> = w.iter().map(|i| i.start.to_rfc3339()).collect();
        assert_eq!(
            starts,
            ["2026-03-06T14:00:00+00:00", "2026-03-09T13:00:00+00:00"]
        );
        assert!(w.iter().all(|i| i.end - i.start == Duration::hours(8)));
    }

    #[test]
    fn windows_are_clipped_to_the_period() {
        // From Monday 13:00 in Berlin to Tuesday 13:00: the rest of Monday and
        // Tuesday morning.
        let from = utc("2026-12-07T12:00:00Z");
        let w = windows(&WorkingHours::default(), tz("Europe/Berlin"), from, 1);
        assert_eq!(
            w,
            [
                Interval {
                    start: from,
                    end: utc("2026-12-07T16:00:00Z")
                },
                Interval {
                    start: utc("2026-12-08T08:00:00Z"),
                    end: from + Duration::days(1)
                }
            ]
        );
    }
}
