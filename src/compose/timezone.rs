//! Where the prospect probably is: an IANA time zone inferred from the form, with
//! how sure we are. Evidence is tried strongest first — an explicit zone field,
//! country (and state), phone prefix, the email domain's country TLD — and the
//! rep's own zone is the fallback.

use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::domain::Lead;

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
    /// Which evidence decided it, e.g. `time_zone field`, `country`, `phone +49`.
    pub source: String,
}

impl ZoneGuess {
    pub fn tz(&self) -> Tz {
        self.zone.parse().unwrap_or(Tz::UTC)
    }
}

/// Country (ISO code or common English name) → its main zone.
const COUNTRIES: &[(&[&str], &str)] = &[
    (
        &["us", "usa", "united states", "united states of america"],
        "America/New_York",
    ),
    (&["ca", "canada"], "America/Toronto"),
    (&["mx", "mexico"], "America/Mexico_City"),
    (&["br", "brazil", "brasil"], "America/Sao_Paulo"),
    (&["ar", "argentina"], "America/Argentina/Buenos_Aires"),
    (
        &[
            "gb",
            "uk",
            "united kingdom",
            "great britain",
            "england",
            "scotland",
            "wales",
        ],
        "Europe/London",
    ),
    (&["ie", "ireland"], "Europe/Dublin"),
    (&["pt", "portugal"], "Europe/Lisbon"),
    (&["es", "spain", "españa"], "Europe/Madrid"),
    (&["fr", "france"], "Europe/Paris"),
    (&["de", "germany", "deutschland"], "Europe/Berlin"),
    (
        &["nl", "netherlands", "the netherlands"],
        "Europe/Amsterdam",
    ),
    (&["be", "belgium"], "Europe/Brussels"),
    (&["ch", "switzerland", "schweiz", "suisse"], "Europe/Zurich"),
    (&["at", "austria", "österreich"], "Europe/Vienna"),
    (&["it", "italy", "italia"], "Europe/Rome"),
    (&["se", "sweden", "sverige"], "Europe/Stockholm"),
    (&["no", "norway", "norge"], "Europe/Oslo"),
    (&["dk", "denmark", "danmark"], "Europe/Copenhagen"),
    (&["fi", "finland", "suomi"], "Europe/Helsinki"),
    (&["pl", "poland", "polska"], "Europe/Warsaw"),
    (&["gr", "greece"], "Europe/Athens"),
    (&["tr", "turkey", "türkiye"], "Europe/Istanbul"),
    (&["ae", "uae", "united arab emirates"], "Asia/Dubai"),
    (&["in", "india"], "Asia/Kolkata"),
    (&["sg", "singapore"], "Asia/Singapore"),
    (&["cn", "china"], "Asia/Shanghai"),
    (&["hk", "hong kong"], "Asia/Hong_Kong"),
    (&["jp", "japan"], "Asia/Tokyo"),
    (&["kr", "south korea", "korea"], "Asia/Seoul"),
    (&["au", "australia"], "Australia/Sydney"),
    (&["nz", "new zealand"], "Pacific/Auckland"),
    (&["za", "south africa"], "Africa/Johannesburg"),
    (&["ng", "nigeria"], "Africa/Lagos"),
    (&["ke", "kenya"], "Africa/Nairobi"),
    (&["to", "tonga"], "Pacific/Tongatapu"),
];

/// Regions whose zone differs from their country's main zone, by the country's
/// ISO code (the first name in `COUNTRIES`): `WA` is a US state and an Australian one.
const REGIONS: &[(&str, &[&str], &str)] = &[
    (
        "us",
        &[
            "ca",
            "california",
            "wa",
            "washington",
            "or",
            "oregon",
            "nv",
            "nevada",
        ],
        "America/Los_Angeles",
    ),
    ("us", &["az", "arizona"], "America/Phoenix"),
    (
        "us",
        &[
            "co",
            "colorado",
            "ut",
            "utah",
            "nm",
            "new mexico",
            "mt",
            "montana",
            "id",
            "idaho",
            "wy",
            "wyoming",
        ],
        "America/Denver",
    ),
    (
        "us",
        &[
            "tx",
            "texas",
            "il",
            "illinois",
            "mn",
            "minnesota",
            "mo",
            "missouri",
            "wi",
            "wisconsin",
            "la",
            "louisiana",
            "ok",
            "oklahoma",
            "ks",
            "kansas",
            "ia",
            "iowa",
            "ne",
            "nebraska",
            "al",
            "alabama",
            "ms",
            "mississippi",
            "ar",
            "arkansas",
            "tn",
            "tennessee",
        ],
        "America/Chicago",
    ),
    ("us", &["hi", "hawaii"], "Pacific/Honolulu"),
    ("us", &["ak", "alaska"], "America/Anchorage"),
    ("ca", &["bc", "british columbia"], "America/Vancouver"),
    ("ca", &["ab", "alberta"], "America/Edmonton"),
    ("au", &["wa", "western australia"], "Australia/Perth"),
    ("au", &["qld", "queensland"], "Australia/Brisbane"),
];

/// Phone country calling codes → zone (longest prefix wins). `+1` is left out:
/// it spans six US zones, so it says too little.
const PHONE_PREFIXES: &[(&str, &str)] = &[
    ("44", "Europe/London"),
    ("353", "Europe/Dublin"),
    ("351", "Europe/Lisbon"),
    ("34", "Europe/Madrid"),
    ("33", "Europe/Paris"),
    ("49", "Europe/Berlin"),
    ("31", "Europe/Amsterdam"),
    ("32", "Europe/Brussels"),
    ("41", "Europe/Zurich"),
    ("43", "Europe/Vienna"),
    ("39", "Europe/Rome"),
    ("46", "Europe/Stockholm"),
    ("47", "Europe/Oslo"),
    ("45", "Europe/Copenhagen"),
    ("358", "Europe/Helsinki"),
    ("48", "Europe/Warsaw"),
    ("30", "Europe/Athens"),
    ("90", "Europe/Istanbul"),
    ("971", "Asia/Dubai"),
    ("91", "Asia/Kolkata"),
    ("65", "Asia/Singapore"),
    ("86", "Asia/Shanghai"),
    ("852", "Asia/Hong_Kong"),
    ("81", "Asia/Tokyo"),
    ("82", "Asia/Seoul"),
    ("61", "Australia/Sydney"),
    ("64", "Pacific/Auckland"),
    ("27", "Africa/Johannesburg"),
    ("234", "Africa/Lagos"),
    ("254", "Africa/Nairobi"),
    ("55", "America/Sao_Paulo"),
    ("52", "America/Mexico_City"),
    ("54", "America/Argentina/Buenos_Aires"),
    ("676", "Pacific/Tongatapu"),
];

/// Cities that settle a zone a country alone cannot (or that come without a
/// country): name, ISO country, zone.
const CITIES: &[(&str, &str, &str)] = &[
    ("honolulu", "us", "Pacific/Honolulu"),
    ("anchorage", "us", "America/Anchorage"),
    ("los angeles", "us", "America/Los_Angeles"),
    ("san francisco", "us", "America/Los_Angeles"),
    ("seattle", "us", "America/Los_Angeles"),
    ("denver", "us", "America/Denver"),
    ("phoenix", "us", "America/Phoenix"),
    ("chicago", "us", "America/Chicago"),
    ("austin", "us", "America/Chicago"),
    ("new york", "us", "America/New_York"),
    ("boston", "us", "America/New_York"),
    ("vancouver", "ca", "America/Vancouver"),
    ("toronto", "ca", "America/Toronto"),
    ("perth", "au", "Australia/Perth"),
    ("brisbane", "au", "Australia/Brisbane"),
    ("sydney", "au", "Australia/Sydney"),
    ("melbourne", "au", "Australia/Melbourne"),
    ("auckland", "nz", "Pacific/Auckland"),
    ("nuku'alofa", "to", "Pacific/Tongatapu"),
    ("apia", "ws", "Pacific/Apia"),
    ("london", "gb", "Europe/London"),
    ("berlin", "de", "Europe/Berlin"),
    ("paris", "fr", "Europe/Paris"),
    ("tokyo", "jp", "Asia/Tokyo"),
    ("singapore", "sg", "Asia/Singapore"),
];

/// The zone of a known city, and whether the form's country (if any) agrees.
fn city_zone(lead: &Lead) -> Option<(&'static str, bool)> {
    let city = lead.city.as_deref()?.trim().to_lowercase();
    let (_, code, zone) = CITIES.iter().find(|(name, _, _)| *name == city)?;
    let country = lead.country.as_deref().and_then(country_code);
    match country {
        Some(c) if c != *code => None,
        Some(_) => Some((zone, true)),
        None => Some((zone, false)),
    }
}

/// Infers the prospect's zone; `fallback` (the rep's zone) when nothing tells.
pub fn infer(lead: &Lead, fallback: &str) -> ZoneGuess {
    let guess = |zone: &str, confidence, source: String| ZoneGuess {
        zone: zone.to_string(),
        confidence,
        source,
    };
    if let Some(raw) = lead.time_zone.as_deref()
        && let Ok(tz) = raw.trim().parse::<Tz>()
    {
        return guess(tz.name(), Confidence::High, "time_zone field".into());
    }
    if let Some((zone, country_agrees)) = city_zone(lead) {
        let confidence = if country_agrees {
            Confidence::High
        } else {
            Confidence::Medium
        };
        return guess(zone, confidence, "city".into());
    }
    if let Some((code, country_zone)) = lead.country.as_deref().and_then(country) {
        let region = lead.state.as_deref().and_then(|state| {
            let key = state.trim().to_lowercase();
            REGIONS
                .iter()
                .find(|(c, names, _)| *c == code && names.contains(&key.as_str()))
                .map(|(_, _, zone)| *zone)
        });
        return match region {
            Some(zone) => guess(zone, Confidence::High, "country and state".into()),
            None => guess(country_zone, Confidence::Medium, "country".into()),
        };
    }
    if let Some((prefix, zone)) = lead.phone.as_deref().and_then(phone_zone) {
        return guess(zone, Confidence::Medium, format!("phone +{prefix}"));
    }
    let tld = lead.email_domain.rsplit('.').next().unwrap_or_default();
    if tld.len() == 2
        && let Some((_, zone)) = country(tld)
    {
        return guess(zone, Confidence::Low, format!("email domain .{tld}"));
    }
    guess(
        fallback,
        Confidence::None,
        "rep's zone (no evidence)".into(),
    )
}

/// A country's ISO code, by code or common English name (`Deutschland` → `de`).
pub fn country_code(raw: &str) -> Option<&'static str> {
    country(raw).map(|(code, _)| code)
}

/// A country's ISO code and main zone, by code or common English name.
fn country(raw: &str) -> Option<(&'static str, &'static str)> {
    let key = raw.trim().to_lowercase();
    COUNTRIES
        .iter()
        .find(|(names, _)| names.contains(&key.as_str()))
        .map(|(names, zone)| (names[0], *zone))
}

fn phone_zone(raw: &str) -> Option<(&'static str, &'static str)> {
    let compact: String = raw
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '+')
        .collect();
    let digits = compact
        .strip_prefix('+')
        .or_else(|| compact.strip_prefix("00"))?;
    PHONE_PREFIXES
        .iter()
        .filter(|(prefix, _)| digits.starts_with(prefix))
        .max_by_key(|(prefix, _)| prefix.len())
        .copied()
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
                Confidence::Medium,
            ),
            (
                &[("phone", "00353 1 555 0100")],
                "Europe/Dublin",
                Confidence::Medium,
            ),
            (
                &[("phone", "+1 415 555 0100"), ("domain", "acme.de")],
                "Europe/Berlin",
                Confidence::Low,
            ),
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
        let zones = COUNTRIES
            .iter()
            .map(|(_, z)| *z)
            .chain(REGIONS.iter().map(|(_, _, z)| *z))
            .chain(PHONE_PREFIXES.iter().map(|(_, z)| *z))
            .chain(CITIES.iter().map(|(_, _, z)| *z));
        for zone in zones {
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
}
