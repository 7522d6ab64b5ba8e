//! Phone number → the time zones it may be in. Numbers are parsed with the
//! `phonenumber` crate (libphonenumber's metadata), so a national number such as
//! `(808) 555-0100` or `030 1234 5678` is read relative to the form's country; the
//! zones come from libphonenumber's published prefix table (`map_data.txt`, see the
//! README beside it), looked up by longest prefix.

use std::collections::HashMap;
use std::sync::LazyLock;

use phonenumber::country;

use super::countries;

/// What a phone number says about where the prospect is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneZones {
    /// The matched prefix as a person reads it, e.g. `+1 808`.
    pub prefix: String,
    pub calling_code: u16,
    /// The numbering plan's country for the number (lower-case ISO), when it can tell.
    pub region: Option<String>,
    /// Possible zones, most likely first.
    pub zones: Vec<&'static str>,
}

/// The table, parsed once: prefix digits → zones, and how many prefixes name
/// each zone alone (how much of a calling code's numbering lies in it).
struct PrefixTable {
    zones: HashMap<&'static str, Vec<&'static str>>,
    sole: HashMap<&'static str, usize>,
    longest: usize,
}

static TABLE: LazyLock<PrefixTable> = LazyLock::new(|| parse_table(include_str!("map_data.txt")));

fn parse_table(text: &'static str) -> PrefixTable {
    let mut table = PrefixTable {
        zones: HashMap::new(),
        sole: HashMap::new(),
        longest: 0,
    };
    let rows = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('|'));
    for (prefix, zones) in rows {
        let zones: Vec<&'static str> = zones.split('&').map(str::trim).collect();
        if let [only] = zones[..] {
            *table.sole.entry(only).or_default() += 1;
        }
        table.longest = table.longest.max(prefix.len());
        table.zones.insert(prefix, zones);
    }
    table
}

/// The zones of `raw`, read as an international number or, failing that, as a
/// national number of `country` (lower-case ISO). `None` when it is no number.
/// Loads the numbering metadata and the prefix table now, off the request path:
/// the first parse builds them (seconds in a debug build), which would
/// otherwise land on the first lead's qualify step.
pub fn warm() {
    let _ = zones("+1 808 555 0134", Some("us"));
}

pub fn zones(raw: &str, country: Option<&str>) -> Option<PhoneZones> {
    // `00` is the international prefix almost everywhere; the crate needs a
    // region to know that, and a form may give none.
    let trimmed = raw.trim();
    let raw = match trimmed.strip_prefix("00") {
        Some(rest) if country.is_none() => format!("+{rest}"),
        _ => trimmed.to_string(),
    };
    let hint = country.and_then(|c| c.to_uppercase().parse::<country::Id>().ok());
    let number = phonenumber::parse(hint, &raw).ok()?;
    let calling_code = number.code().value();
    let digits = format!("{calling_code}{}", number.national());
    let table = &*TABLE;
    let prefix = (1..=digits.len().min(table.longest))
        .rev()
        .map(|n| &digits[..n])
        .find(|p| table.zones.contains_key(p))?;
    let mut zones = table.zones[prefix].clone();
    // Most likely first: a zone the curated tables name, then the one most of the
    // calling code's numbering lies in alone; the table's order breaks ties.
    zones.sort_by_key(|z| {
        std::cmp::Reverse((
            countries::is_principal(z),
            table.sole.get(z).copied().unwrap_or(0),
        ))
    });
    let code_len = calling_code.to_string().len();
    let region = number
        .country()
        .id()
        .map(|id| id.as_ref().to_lowercase())
        .or_else(|| sole_region(calling_code));
    // Matched on the calling code alone, the table says only which country; where
    // it leaves out the country's own zone (`+353` lists London, not Dublin), the
    // curated country table knows better.
    if prefix.len() == code_len
        && let Some((_, main)) = region.as_deref().and_then(countries::country)
        && !zones.contains(&main)
    {
        zones = vec![main];
    }
    Some(PhoneZones {
        prefix: format!("+{} {}", &prefix[..code_len], &prefix[code_len..])
            .trim_end()
            .to_string(),
        calling_code,
        region,
        zones,
    })
}

/// The one country a calling code belongs to, when it belongs to only one.
fn sole_region(calling_code: u16) -> Option<String> {
    match phonenumber::metadata::DATABASE.by_code(&calling_code)?[..] {
        [only] => Some(only.id().to_lowercase()),
        _ => None,
    }
}

/// The calling code of a country (lower-case ISO), e.g. `de` → 49.
pub fn calling_code(country: &str) -> Option<u16> {
    phonenumber::metadata::DATABASE
        .by_id(country.to_uppercase().as_str())
        .map(|m| m.country_code())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zones_of(raw: &str, country: Option<&str>) -> Vec<&'static str> {
        zones(raw, country)
            .unwrap_or_else(|| panic!("{raw} parses"))
            .zones
    }

    #[test]
    fn area_codes_far_from_the_main_zone_get_their_own_zone() {
        let cases = [
            ("+1 808 555 0100", "Pacific/Honolulu"),
            ("+1 671 555 0100", "Pacific/Guam"),
            ("+1 787 555 0100", "America/Puerto_Rico"),
            ("+1 415 555 0100", "America/Los_Angeles"),
            ("+1 212 555 0100", "America/New_York"),
            ("+61 2 9374 4000", "Australia/Sydney"),
            ("+55 92 3000 0000", "America/Manaus"),
            ("+49 30 1234567", "Europe/Berlin"),
        ];
        for (raw, zone) in cases {
            assert_eq!(zones_of(raw, None), [zone], "{raw}");
        }
    }

    #[test]
    fn a_prefix_spanning_zones_lists_them_most_likely_first() {
        // Alaska: Anchorage (which the region table names) before Adak.
        assert_eq!(
            zones_of("+1 907 555 0100", None),
            ["America/Anchorage", "America/Adak"]
        );
        // Perth numbers are shared with Adelaide in the published table.
        let perth = zones_of("+61 8 9225 1234", None);
        assert_eq!(perth[0], "Australia/Perth", "{perth:?}");
        assert!(perth.contains(&"Australia/Adelaide"));
        // A Russian number the table cannot place more precisely than +7.
        let russia = zones(" +7 (300) 000-00-00", None).unwrap();
        assert!(russia.zones.len() > 10, "{russia:?}");
        assert_eq!(russia.prefix, "+7");
        assert_eq!(russia.zones[0], "Europe/Moscow");
    }

    #[test]
    fn national_numbers_are_read_in_the_forms_country() {
        assert_eq!(zones_of("(808) 555-0100", Some("us")), ["Pacific/Honolulu"]);
        assert_eq!(zones_of("030 1234567", Some("de")), ["Europe/Berlin"]);
        assert_eq!(zones_of("02 9374 4000", Some("au")), ["Australia/Sydney"]);
        assert_eq!(zones_of("0044 20 7946 0000", None), ["Europe/London"]);
        // The published table lists only London's zones for +353: the country's own wins.
        assert_eq!(zones_of("00353 1 555 0100", None), ["Europe/Dublin"]);
        assert!(zones("not a phone", Some("us")).is_none());
        assert!(
            zones("555 0100", None).is_none(),
            "national without a country"
        );
        let hawaii = zones("+1 808 555 0100", Some("us")).unwrap();
        assert_eq!((hawaii.prefix.as_str(), hawaii.calling_code), ("+1 808", 1));
    }

    #[test]
    fn odd_input_is_no_number_rather_than_a_panic() {
        let long = "9".repeat(400);
        for raw in [
            "",
            "+",
            "++1",
            "00",
            "+0",
            "+999 123",
            "call me",
            "+1 808 555 0100 ext. 12",
            "٠٥٥ ١٢٣٤",
            "+1\u{2028}808",
            &long,
        ] {
            for country in [None, Some("us"), Some("xx")] {
                let _ = zones(raw, country);
            }
        }
        assert_eq!(
            zones_of("+1 808 555 0100 ext. 12", None),
            ["Pacific/Honolulu"],
            "an extension does not change the place"
        );
    }

    #[test]
    fn calling_codes_come_from_the_numbering_metadata() {
        assert_eq!(calling_code("us"), Some(1));
        assert_eq!(calling_code("pr"), Some(1));
        assert_eq!(calling_code("de"), Some(49));
        assert_eq!(calling_code("ru"), Some(7));
        assert_eq!(calling_code("xx"), None);
    }

    #[test]
    fn every_zone_in_the_published_table_is_a_real_iana_zone() {
        let table = &*TABLE;
        assert!(table.zones.len() > 3000, "{}", table.zones.len());
        for zones in table.zones.values() {
            for zone in zones {
                assert!(zone.parse::<chrono_tz::Tz>().is_ok(), "{zone}");
            }
        }
    }
}
