//! Zone inference from the form's evidence: which wins, how sure, and what
//! happens when pieces disagree.

use super::*;

fn lead(fields: &[(&str, &str)]) -> Lead {
    let mut lead = Lead {
        email: "a@b.com".into(),
        email_domain: "b.com".into(),
        first_name: None,
        last_name: None,
        company: None,
        job_title: None,
        phone: None,
        website: None,
        industry: None,
        company_size: None,
        country: None,
        state: None,
        city: None,
        time_zone: None,
        intent: None,
        message: None,
        language: None,
        truncated: vec![],
        withheld: vec![],
    };
    for (name, value) in fields {
        let value = value.to_string();
        match *name {
            "time_zone" => lead.time_zone = Some(value),
            "country" => lead.country = Some(value),
            "state" => lead.state = Some(value),
            "phone" => lead.phone = Some(value),
            "city" => lead.city = Some(value),
            "domain" => lead.email_domain = value,
            other => panic!("unknown field {other}"),
        }
    }
    lead
}

#[test]
fn evidence_is_used_strongest_first() {
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, Confidence);
    let cases: &[Case] = &[
        (
            &[("time_zone", "Asia/Kolkata"), ("country", "Germany")],
            "Asia/Kolkata",
            Confidence::High,
        ),
        (
            &[("country", "United States"), ("state", "CA")],
            "America/Los_Angeles",
            Confidence::High,
        ),
        (
            &[("country", "Australia"), ("state", "WA")],
            "Australia/Perth",
            Confidence::High,
        ),
        (
            &[("country", "US"), ("state", "Queensland")],
            "America/New_York",
            Confidence::Medium,
        ),
        (
            &[("country", "Canada"), ("state", "CA")],
            "America/Toronto",
            Confidence::Medium,
        ),
        (
            &[("country", "Deutschland"), ("phone", "+44 20 7946 0000")],
            "Europe/Berlin",
            Confidence::Low,
        ),
        (
            &[("phone", "00353 1 555 0100")],
            "Europe/Dublin",
            Confidence::Medium,
        ),
        (
            &[("phone", "+1 415 555 0100"), ("domain", "acme.de")],
            "America/Los_Angeles",
            Confidence::Low,
        ),
        (&[("domain", "acme.de")], "Europe/Berlin", Confidence::Low),
        (
            &[("time_zone", "Mars/Olympus"), ("domain", "acme.com")],
            "Europe/Zurich",
            Confidence::None,
        ),
    ];
    for (fields, zone, confidence) in cases {
        let guess = infer(&lead(fields), "Europe/Zurich");
        assert_eq!(
            (guess.zone.as_str(), guess.confidence),
            (*zone, *confidence),
            "{fields:?}: {}",
            guess.source
        );
    }
}

#[test]
fn every_zone_in_the_tables_is_a_real_iana_zone() {
    for zone in countries::all_zones() {
        assert!(zone.parse::<Tz>().is_ok(), "{zone}");
    }
}

#[test]
fn a_known_city_settles_the_zone_unless_the_country_disagrees() {
    let honolulu = infer(
        &lead(&[("city", "Honolulu"), ("country", "United States")]),
        "UTC",
    );
    assert_eq!(
        (honolulu.zone.as_str(), honolulu.confidence),
        ("Pacific/Honolulu", Confidence::High)
    );
    let apia = infer(&lead(&[("city", "Apia")]), "UTC");
    assert_eq!(
        (apia.zone.as_str(), apia.confidence),
        ("Pacific/Apia", Confidence::Medium)
    );
    let mismatch = infer(
        &lead(&[("city", "Perth"), ("country", "United Kingdom")]),
        "UTC",
    );
    assert_eq!(
        mismatch.zone, "Europe/London",
        "the country wins over a city elsewhere"
    );
}

/// (zone, confidence, candidates) inferred for `fields`.
fn inferred(fields: &[(&str, &str)]) -> (String, Confidence, Vec<String>) {
    let guess = infer(&lead(fields), "Europe/Zurich");
    (guess.zone, guess.confidence, guess.candidates)
}

fn zones(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| n.to_string()).collect()
}

#[test]
fn the_phones_area_code_refines_the_country() {
    use Confidence::*;
    let us = |phone| inferred(&[("country", "US"), ("phone", phone)]);
    assert_eq!(
        us("+1 808 555 0100"),
        (
            "Pacific/Honolulu".into(),
            High,
            zones(&["Pacific/Honolulu"])
        )
    );
    assert_eq!(
        us("(808) 555-0100").0,
        "Pacific/Honolulu",
        "national number"
    );
    assert_eq!(us("+1 415 555 0100").0, "America/Los_Angeles");
    assert_eq!(us("+1 671 555 0100").0, "Pacific/Guam");
    assert_eq!(
        us("+1 907 555 0100"),
        (
            "America/Anchorage".into(),
            Low,
            zones(&["America/Anchorage", "America/Adak"])
        ),
        "Alaska spans two zones"
    );
    let pr = infer(
        &lead(&[("country", "United States"), ("phone", "+1 787 555 0100")]),
        "UTC",
    );
    assert_eq!(pr.zone, "America/Puerto_Rico");
    let au = |phone| inferred(&[("country", "Australia"), ("phone", phone)]);
    assert_eq!(au("+61 2 9374 4000").0, "Australia/Sydney");
    let perth = au("+61 8 9225 1234");
    assert_eq!((perth.0.as_str(), perth.1), ("Australia/Perth", Low));
    assert!(perth.2.contains(&"Australia/Adelaide".to_string()));
    assert_eq!(
        inferred(&[("country", "Brazil"), ("phone", "+55 92 3000 0000")]),
        ("America/Manaus".into(), High, zones(&["America/Manaus"]))
    );
    // +7 alone spans eleven time zones: the country decides.
    assert_eq!(
        inferred(&[("country", "Russia"), ("phone", "+7 300 000 0000")]),
        ("Europe/Moscow".into(), Medium, zones(&["Europe/Moscow"]))
    );
}

#[test]
fn disagreeing_evidence_lowers_confidence_and_keeps_both_zones_possible() {
    let guess = infer(
        &lead(&[("country", "Germany"), ("phone", "+1 808 555 0100")]),
        "UTC",
    );
    assert_eq!(guess.zone, "Europe/Berlin");
    assert_eq!(guess.confidence, Confidence::Low);
    assert_eq!(
        guess.candidates,
        zones(&["Europe/Berlin", "Pacific/Honolulu"])
    );
    assert_eq!(
        guess.evidence,
        [
            "country DE → Europe/Berlin",
            "phone +1 808 → Pacific/Honolulu"
        ]
    );
    let tz: Vec<&str> = guess.candidate_tzs().iter().map(|t| t.name()).collect();
    assert_eq!(tz, ["Europe/Berlin", "Pacific/Honolulu"]);
    // A phone alone, then a country TLD elsewhere.
    let guess = infer(
        &lead(&[("phone", "+1 808 555 0100"), ("domain", "acme.de")]),
        "UTC",
    );
    assert_eq!(
        (guess.zone.as_str(), guess.confidence),
        ("Pacific/Honolulu", Confidence::Low)
    );
    assert!(guess.source.contains(".de disagrees"), "{}", guess.source);
}
