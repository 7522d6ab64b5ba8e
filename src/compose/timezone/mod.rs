//! Where the prospect probably is: an IANA time zone inferred from the form, how
//! sure we are, and the evidence. Evidence, strongest first: a zone field the form
//! sends; a known city; the country with its state; the phone number (its area
//! code, through libphonenumber's published prefix table, read with the country);
//! the country alone; the email domain's country TLD. The rep's zone is the
//! fallback. Evidence that disagrees (a phone from another country, a country TLD
//! elsewhere) lowers the confidence, so the reply shows a second zone, and the
//! zones still possible are kept as candidates: slots must suit every one.

mod countries;
mod phone;

use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::domain::Lead;

pub use countries::country;
pub use phone::PhoneZones;

/// How much to trust an inferred zone. Below `Medium`, times are shown in the
/// rep's zone as well.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    None,
    Low,
    Medium,
    High,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoneGuess {
    pub zone: String,
    pub confidence: Confidence,
    /// Which evidence decided it, e.g. `time_zone field`, `country`, `phone +1 808`.
    pub source: String,
    /// Every zone the prospect may be in, `zone` first: slots must fall inside
    /// business hours in each.
    #[serde(default)]
    pub candidates: Vec<String>,
    /// What each piece of evidence said, e.g. `phone +1 808 → Pacific/Honolulu`.
    #[serde(default)]
    pub evidence: Vec<String>,
}

impl ZoneGuess {
    pub fn tz(&self) -> Tz {
        self.zone.parse().unwrap_or(Tz::UTC)
    }

    /// The candidate zones, `zone` first (just `zone` when none were recorded).
    pub fn candidate_tzs(&self) -> Vec<Tz> {
        let mut zones = vec![self.tz()];
        for zone in self.candidates.iter().filter_map(|z| z.parse::<Tz>().ok()) {
            if !zones.contains(&zone) {
                zones.push(zone);
            }
        }
        zones
    }
}

/// A prefix spanning more zones than this (`+7` alone, `+1` alone) says only
/// which country: it does not constrain the slots.
const MAX_CANDIDATES: usize = 3;

/// What one rule decided.
struct Decision {
    zone: &'static str,
    confidence: Confidence,
    source: String,
    candidates: Vec<&'static str>,
}

impl Decision {
    fn new(zone: &'static str, confidence: Confidence, source: impl Into<String>) -> Self {
        Decision {
            zone,
            confidence,
            source: source.into(),
            candidates: vec![zone],
        }
    }
}

/// Infers the prospect's zone; `fallback` (the rep's zone) when nothing tells.
pub fn infer(lead: &Lead, fallback: &str) -> ZoneGuess {
    let country = lead.country.as_deref().and_then(countries::country);
    let phone = lead
        .phone
        .as_deref()
        .and_then(|p| phone::zones(p, country.map(|(code, _)| code)));
    let tld = lead.email_domain.rsplit('.').next().unwrap_or_default();
    let tld_country = (tld.len() == 2).then(|| countries::country(tld)).flatten();
    let explicit = lead
        .time_zone
        .as_deref()
        .and_then(|raw| raw.trim().parse::<Tz>().ok());

    let mut evidence = Vec::new();
    if let Some(tz) = explicit {
        evidence.push(format!("time_zone field → {}", tz.name()));
    }
    if let Some((code, zone)) = country {
        evidence.push(format!("country {} → {zone}", code.to_uppercase()));
    }
    if let Some(p) = &phone {
        evidence.push(format!("phone {} → {}", p.prefix, p.zones.join(" | ")));
    }
    if let Some((code, zone)) = tld_country {
        evidence.push(format!("email domain .{code} → {zone}"));
    }

    let decided = explicit
        .map(|tz| Decision::new(tz.name(), Confidence::High, "time_zone field"))
        .or_else(|| {
            countries::city_zone(lead).map(|(zone, agrees)| {
                let confidence = if agrees {
                    Confidence::High
                } else {
                    Confidence::Medium
                };
                Decision::new(zone, confidence, "city")
            })
        })
        .or_else(|| {
            let (code, _) = country?;
            let zone = countries::region_zone(code, lead.state.as_deref()?)?;
            Some(Decision::new(zone, Confidence::High, "country and state"))
        })
        .or_else(|| from_phone(phone.as_ref()?, country))
        .or_else(|| {
            let (_, zone) = country?;
            Some(Decision::new(zone, Confidence::Medium, "country"))
        })
        .or_else(|| {
            let (code, zone) = tld_country?;
            Some(Decision::new(
                zone,
                Confidence::Low,
                format!("email domain .{code}"),
            ))
        });
    let Some(mut decided) = decided else {
        return ZoneGuess {
            zone: fallback.to_string(),
            confidence: Confidence::None,
            source: "rep's zone (no evidence)".into(),
            candidates: vec![fallback.to_string()],
            evidence,
        };
    };
    // A country TLD elsewhere casts doubt on a guess no stronger evidence settled
    // (many firms use a foreign TLD, so it only lowers the confidence).
    if let Some((code, zone)) = tld_country
        && decided.confidence == Confidence::Medium
        && !decided.candidates.contains(&zone)
        && country.is_none_or(|(c, _)| c != code)
        && phone
            .as_ref()
            .is_none_or(|p| p.region.as_deref() != Some(code))
    {
        decided.confidence = Confidence::Low;
        decided.source = format!("{} (email domain .{code} disagrees)", decided.source);
    }
    ZoneGuess {
        zone: decided.zone.to_string(),
        confidence: decided.confidence,
        source: decided.source,
        candidates: decided.candidates.iter().map(|z| z.to_string()).collect(),
        evidence,
    }
}

/// What the phone number decides, given the form's country (ISO code, main zone).
/// `None` when it says no more than the country does.
fn from_phone(phone: &PhoneZones, country: Option<(&str, &'static str)>) -> Option<Decision> {
    let specific = phone.zones.len() <= MAX_CANDIDATES;
    let source = format!("phone {}", phone.prefix);
    let Some((code, main)) = country else {
        // Without a country, even a prefix spanning a whole continent beats
        // nothing; only a specific one constrains the slots.
        let (confidence, candidates) = match phone.zones.len() {
            1 => (Confidence::Medium, phone.zones.clone()),
            n if n <= MAX_CANDIDATES => (Confidence::Low, phone.zones.clone()),
            _ => (Confidence::Low, vec![phone.zones[0]]),
        };
        return Some(Decision {
            candidates,
            ..Decision::new(phone.zones[0], confidence, source)
        });
    };
    if phone::calling_code(code) != Some(phone.calling_code) {
        // A number from another country: trust the country, but keep the
        // phone's zone possible.
        let mut candidates = vec![main];
        if specific && !phone.zones.contains(&main) {
            candidates.push(phone.zones[0]);
        }
        return Some(Decision {
            candidates,
            ..Decision::new(
                main,
                Confidence::Low,
                format!("country ({source} disagrees)"),
            )
        });
    }
    if !specific {
        return None;
    }
    let source = format!("country and {source}");
    if let [zone] = phone.zones[..] {
        // Same numbering plan; a number the plan places in another country
        // (a Canadian number for a US company) is a little less sure.
        let confidence = match phone.region.as_deref() {
            Some(region) if region != code => Confidence::Medium,
            _ => Confidence::High,
        };
        return Some(Decision::new(zone, confidence, source));
    }
    let mut candidates = phone.zones.clone();
    if let Some(at) = candidates.iter().position(|z| *z == main) {
        candidates[..=at].rotate_right(1);
    }
    Some(Decision {
        candidates: candidates.clone(),
        ..Decision::new(candidates[0], Confidence::Low, source)
    })
}

/// A country's ISO code, by code or common English name (`Deutschland` → `de`).
pub fn country_code(raw: &str) -> Option<&'static str> {
    countries::country(raw).map(|(code, _)| code)
}

#[cfg(test)]
mod tests {
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
}
