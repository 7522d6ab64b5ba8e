//! Slot choice on fixed clocks: spread over days, both parties' hours, busy
//! blocks, DST gaps and repeats, and every zone the prospect may be in.

use super::*;
use chrono::Weekday;

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn tz(name: &str) -> Tz {
    name.parse().unwrap()
}

#[test]
fn slots_are_free_spread_over_days_and_inside_both_parties_hours() {
    let now = utc("2026-05-04T06:00:00Z"); // Monday
    let busy = [Interval {
        start: utc("2026-05-04T13:00:00Z"),
        end: utc("2026-05-04T15:00:00Z"),
    }];
    let slots = propose(
        now,
        tz("Europe/Berlin"),
        &WorkingHours::default(),
        &[tz("America/New_York")],
        &busy,
        &SlotRules::default(),
    );

    assert_eq!(slots.len(), 3);
    let days: std::collections::BTreeSet<_> = slots
        .iter()
        .map(|s| s.start.with_timezone(&tz("Europe/Berlin")).date_naive())
        .collect();
    assert_eq!(days.len(), 3, "one slot per day");
    for slot in &slots {
        let rep = slot.start.with_timezone(&tz("Europe/Berlin"));
        let prospect = slot.start.with_timezone(&tz("America/New_York"));
        assert!(
            rep.time() >= NaiveTime::from_hms_opt(9, 0, 0).unwrap()
                && rep.time() <= NaiveTime::from_hms_opt(16, 30, 0).unwrap()
        );
        assert!(
            prospect.time() >= NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
            "{prospect}"
        );
        assert!(
            busy.iter()
                .all(|b| slot.end + Duration::minutes(15) <= b.start
                    || slot.start - Duration::minutes(15) >= b.end)
        );
        assert!(slot.start >= now + Duration::hours(4));
    }
    // Monday's overlap (Berlin 14:00–17:00 = New York 08:00–11:00) is busy 15:00–17:00 Berlin,
    // and 14:00 ends at 14:30 — 30 minutes before the busy block: fine.
    assert_eq!(slots[0].start, utc("2026-05-04T12:00:00Z"));
}

#[test]
fn no_overlap_of_sensible_hours_means_no_slots() {
    let now = utc("2026-05-04T00:00:00Z");
    let slots = propose(
        now,
        tz("Europe/Berlin"),
        &WorkingHours::default(),
        &[tz("Pacific/Honolulu")],
        &[],
        &SlotRules::default(),
    );
    assert!(
        slots.is_empty(),
        "Berlin 9–17 is Honolulu 21:00–05:00: {slots:?}"
    );
    let slots = propose(
        now,
        tz("Asia/Tokyo"),
        &WorkingHours::default(),
        &[tz("Pacific/Honolulu")],
        &[],
        &SlotRules::default(),
    );
    assert!(
        !slots.is_empty(),
        "Tokyo 9–10 is Honolulu 14:00–15:00 the previous day"
    );
}

#[test]
fn a_fully_busy_calendar_yields_nothing() {
    let now = utc("2026-05-04T00:00:00Z");
    let busy = [Interval {
        start: utc("2026-05-01T00:00:00Z"),
        end: utc("2026-06-01T00:00:00Z"),
    }];
    let slots = propose(
        now,
        tz("Europe/Berlin"),
        &WorkingHours::default(),
        &[tz("Europe/Berlin")],
        &busy,
        &SlotRules::default(),
    );
    assert!(slots.is_empty());
}

#[test]
fn the_spring_forward_gap_is_skipped_and_the_repeated_hour_taken_once() {
    // A rep who works 01:00–04:00 in New York on the DST change days.
    let hours = WorkingHours {
        days: vec![Weekday::Sun],
        start: NaiveTime::from_hms_opt(1, 0, 0).unwrap(),
        end: NaiveTime::from_hms_opt(4, 0, 0).unwrap(),
    };
    let rules = SlotRules {
        min_lead: Duration::zero(),
        horizon_days: 1,
        prospect: WorkingHours {
            start: NaiveTime::MIN,
            end: NaiveTime::from_hms_opt(23, 59, 0).unwrap(),
            ..WorkingHours::default()
        },
        ..SlotRules::default()
    };
    let ny = tz("America/New_York");
    let spring = day_candidates(
        NaiveDate::from_ymd_opt(2026, 3, 8).unwrap(),
        ny,
        &hours,
        &rules,
    )
    .collect::<Vec<_>>();
    let local: Vec<String> = spring
        .iter()
        .map(|s| s.start.with_timezone(&ny).format("%H:%M %Z").to_string())
        .collect();
    assert_eq!(
        local,
        ["01:00 EST", "01:30 EST", "03:00 EDT", "03:30 EDT"],
        "02:00 and 02:30 do not exist"
    );
    let autumn = day_candidates(
        NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
        ny,
        &hours,
        &rules,
    )
    .collect::<Vec<_>>();
    let local: Vec<String> = autumn
        .iter()
        .map(|s| s.start.with_timezone(&ny).format("%H:%M %Z").to_string())
        .collect();
    assert_eq!(
        local,
        [
            "01:00 EDT",
            "01:30 EDT",
            "02:00 EST",
            "02:30 EST",
            "03:00 EST",
            "03:30 EST"
        ]
    );
    assert!(
        autumn.windows(2).all(|w| w[0].start < w[1].start),
        "instants strictly increase"
    );
    // Sunday is not a sensible day for the prospect, so `propose` offers none of these.
    let now = utc("2026-11-01T04:00:00Z");
    assert!(propose(now, ny, &hours, &[ny], &[], &rules).is_empty());
}

/// Local start times of one rep-local day's candidates, as the rep reads them.
fn local_starts(day: &str, zone: &str, from: u32, to: u32) -> Vec<String> {
    let tz = tz(zone);
    let hours = WorkingHours {
        days: vec![Weekday::Sun],
        start: NaiveTime::from_hms_opt(from, 0, 0).unwrap(),
        end: NaiveTime::from_hms_opt(to, 0, 0).unwrap(),
    };
    let rules = SlotRules {
        duration: Duration::minutes(30),
        ..SlotRules::default()
    };
    day_candidates(day.parse().unwrap(), tz, &hours, &rules)
        .map(|s| s.start.with_timezone(&tz).format("%H:%M %Z").to_string())
        .collect()
}

#[test]
fn new_york_2026_nonexistent_0230_is_skipped_and_ambiguous_0130_taken_once_as_edt() {
    let spring = local_starts("2026-03-08", "America/New_York", 2, 4);
    assert!(!spring.iter().any(|s| s.starts_with("02:30")), "{spring:?}");
    assert_eq!(spring, ["03:00 EDT", "03:30 EDT"]);
    let autumn = local_starts("2026-11-01", "America/New_York", 1, 2);
    assert_eq!(autumn, ["01:00 EDT", "01:30 EDT"], "the first 01:30, once");
    let ny = tz("America/New_York");
    let first = ny
        .from_local_datetime(&"2026-11-01T01:30:00".parse().unwrap())
        .earliest()
        .unwrap();
    assert_eq!(first.with_timezone(&Utc), utc("2026-11-01T05:30:00Z"));
}

#[test]
fn eu_2026_transitions_skip_the_gap_and_take_the_repeated_hour_once() {
    // 29 March 02:00 CET → 03:00 CEST; 25 October 03:00 CEST → 02:00 CET.
    let spring = local_starts("2026-03-29", "Europe/Berlin", 1, 4);
    assert_eq!(
        spring,
        ["01:00 CET", "01:30 CET", "03:00 CEST", "03:30 CEST"]
    );
    let autumn = local_starts("2026-10-25", "Europe/Berlin", 1, 4);
    assert_eq!(
        autumn,
        [
            "01:00 CEST",
            "01:30 CEST",
            "02:00 CEST",
            "02:30 CEST",
            "03:00 CET",
            "03:30 CET"
        ]
    );
    let london = local_starts("2026-03-29", "Europe/London", 0, 3);
    assert_eq!(london, ["00:00 GMT", "00:30 GMT", "02:00 BST", "02:30 BST"]);
}

#[test]
fn slots_across_a_dst_change_stay_in_both_parties_local_hours() {
    // A Berlin rep and a New York prospect in the weeks the offsets between
    // them change: 5 h until 28 March, 6 h from 30 March; 5 h again from 26
    // October until New York changes on 1 November.
    let (berlin, ny) = (tz("Europe/Berlin"), tz("America/New_York"));
    let hours = WorkingHours::default();
    let rules = SlotRules {
        count: 5,
        ..SlotRules::default()
    };
    for now in ["2026-03-26T06:00:00Z", "2026-10-22T06:00:00Z"] {
        let slots = propose(utc(now), berlin, &hours, &[ny], &[], &rules);
        assert_eq!(slots.len(), 5, "{now}");
        let mut days = std::collections::BTreeSet::new();
        for slot in &slots {
            let rep = slot.start.with_timezone(&berlin);
            let rep_end = slot.end.with_timezone(&berlin);
            assert!(
                rep.time() >= hours.start && rep_end.time() <= hours.end,
                "{rep}"
            );
            let prospect = slot.start.with_timezone(&ny);
            let prospect_end = slot.end.with_timezone(&ny);
            assert!(
                prospect.time() >= rules.prospect.start
                    && prospect_end.time() <= rules.prospect.end,
                "{prospect}"
            );
            assert!(days.insert(rep.date_naive()), "one slot per day");
        }
        let zones: Vec<String> = slots.iter().map(|s| render(s, berlin)).collect();
        let changed = if now.starts_with("2026-03") {
            zones.iter().any(|z| z.contains("CET ")) && zones.iter().any(|z| z.contains("CEST"))
        } else {
            zones.iter().any(|z| z.contains("CEST")) && zones.iter().any(|z| z.contains("CET "))
        };
        assert!(changed, "the proposals straddle the change: {zones:?}");
    }
}

#[test]
fn slots_render_in_the_prospects_zone_with_its_iana_name() {
    let slot = Interval {
        start: utc("2026-11-03T15:00:00Z"),
        end: utc("2026-11-03T15:30:00Z"),
    };
    assert_eq!(
        render(&slot, tz("America/New_York")),
        "Tue 3 Nov, 10:00–10:30 EST (America/New_York)"
    );
    assert_eq!(
        render(&slot, tz("Europe/Berlin")),
        "Tue 3 Nov, 16:00–16:30 CET (Europe/Berlin)"
    );
}

#[test]
fn every_zone_the_prospect_may_be_in_must_be_in_business_hours() {
    // Perth and Adelaide (shared Australian prefix) are 2.5 h apart in
    // December; a Singapore rep (Perth's clock) working 9–17.
    let now = utc("2026-12-07T00:00:00Z");
    let (sg, perth, adelaide) = (
        tz("Asia/Singapore"),
        tz("Australia/Perth"),
        tz("Australia/Adelaide"),
    );
    let rules = SlotRules {
        min_lead: Duration::zero(),
        count: 5,
        ..SlotRules::default()
    };
    let hours = WorkingHours::default();
    let both = propose(now, sg, &hours, &[perth, adelaide], &[], &rules);
    assert_eq!(both.len(), 5);
    for slot in &both {
        for zone in [perth, adelaide] {
            assert!(in_business_hours(slot, zone, &rules.prospect), "{slot:?}");
        }
        // Adelaide's 18:00 is Perth's 15:30: nothing later.
        assert!(
            slot.end.with_timezone(&perth).time() <= NaiveTime::from_hms_opt(15, 30, 0).unwrap()
        );
    }
    let rendered = render_in(&both[0], &[perth, adelaide]);
    assert_eq!(
        rendered,
        "Mon 7 Dec, 09:00–09:30 AWST (Australia/Perth) / 11:30–12:00 ACDT (Australia/Adelaide)"
    );
}

#[test]
fn the_prospects_business_days_and_hours_come_from_the_rules() {
    // A prospect who works Sunday to Thursday, 10:00–14:00 Dubai time; a rep in
    // Dubai who works every day 8–20.
    let dubai = tz("Asia/Dubai");
    let rules = SlotRules {
        min_lead: Duration::zero(),
        count: 7,
        horizon_days: 7,
        prospect: WorkingHours::parse("10:00-14:00", "sun-thu").unwrap(),
        ..SlotRules::default()
    };
    let hours = WorkingHours::parse("08:00-20:00", "mon-sun").unwrap();
    let slots = propose(
        utc("2026-12-05T00:00:00Z"),
        dubai,
        &hours,
        &[dubai],
        &[],
        &rules,
    );
    let days: Vec<String> = slots
        .iter()
        .map(|s| s.start.with_timezone(&dubai).format("%a %H:%M").to_string())
        .collect();
    assert_eq!(
        days,
        [
            "Sun 10:00",
            "Mon 10:00",
            "Tue 10:00",
            "Wed 10:00",
            "Thu 10:00"
        ]
    );
}
