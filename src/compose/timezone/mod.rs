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
pub use phone::{PhoneZones, warm};

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
mod tests;
