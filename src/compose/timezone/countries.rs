//! The curated tables: countries (ISO code or common name) with their main zone,
//! regions whose zone differs from their country's, and cities that settle a zone.

use crate::domain::Lead;

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
    (&["ru", "russia", "russian federation"], "Europe/Moscow"),
    (&["kz", "kazakhstan"], "Asia/Almaty"),
    (&["pr", "puerto rico"], "America/Puerto_Rico"),
    (&["gu", "guam"], "Pacific/Guam"),
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
    (
        "us",
        &["nd", "north dakota", "sd", "south dakota"],
        "America/Chicago",
    ),
    ("ca", &["bc", "british columbia"], "America/Vancouver"),
    ("ca", &["ab", "alberta"], "America/Edmonton"),
    ("ca", &["nt", "northwest territories"], "America/Edmonton"),
    ("ca", &["yt", "yukon"], "America/Whitehorse"),
    ("ca", &["sk", "saskatchewan"], "America/Regina"),
    ("ca", &["mb", "manitoba"], "America/Winnipeg"),
    (
        "ca",
        &["on", "ontario", "qc", "quebec", "québec"],
        "America/Toronto",
    ),
    (
        "ca",
        &[
            "nb",
            "new brunswick",
            "ns",
            "nova scotia",
            "pe",
            "prince edward island",
        ],
        "America/Halifax",
    ),
    (
        "ca",
        &["nl", "newfoundland and labrador", "newfoundland"],
        "America/St_Johns",
    ),
    ("ca", &["nu", "nunavut"], "America/Iqaluit"),
    ("au", &["wa", "western australia"], "Australia/Perth"),
    ("au", &["qld", "queensland"], "Australia/Brisbane"),
    ("au", &["sa", "south australia"], "Australia/Adelaide"),
    ("au", &["nt", "northern territory"], "Australia/Darwin"),
    (
        "au",
        &[
            "nsw",
            "new south wales",
            "act",
            "australian capital territory",
        ],
        "Australia/Sydney",
    ),
    ("au", &["vic", "victoria"], "Australia/Melbourne"),
    ("au", &["tas", "tasmania"], "Australia/Hobart"),
    ("mx", &["bc", "baja california"], "America/Tijuana"),
    ("mx", &["son", "sonora"], "America/Hermosillo"),
    ("br", &["am", "amazonas"], "America/Manaus"),
    ("us", &["pr", "puerto rico"], "America/Puerto_Rico"),
    ("us", &["gu", "guam"], "Pacific/Guam"),
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

/// A country's ISO code and main zone, by code or common English name.
pub fn country(raw: &str) -> Option<(&'static str, &'static str)> {
    let key = raw.trim().to_lowercase();
    COUNTRIES
        .iter()
        .find(|(names, _)| names.contains(&key.as_str()))
        .map(|(names, zone)| (names[0], *zone))
}

/// The zone of a state or region of the country with ISO code `code`.
pub fn region_zone(code: &str, state: &str) -> Option<&'static str> {
    let key = state.trim().to_lowercase();
    REGIONS
        .iter()
        .find(|(c, names, _)| *c == code && names.contains(&key.as_str()))
        .map(|(_, _, zone)| *zone)
}

/// The zone of a known city, and whether the form's country (if any) agrees;
/// `None` when the city is unknown or lies in another country.
pub fn city_zone(lead: &Lead) -> Option<(&'static str, bool)> {
    let city = lead.city.as_deref()?.trim().to_lowercase();
    let (_, code, zone) = CITIES.iter().find(|(name, _, _)| *name == city)?;
    let country = lead.country.as_deref().and_then(country).map(|(c, _)| c);
    match country {
        Some(c) if c != *code => None,
        Some(_) => Some((zone, true)),
        None => Some((zone, false)),
    }
}

/// Whether the tables name `zone` as the zone of a country, region or city: the
/// zone most people of an ambiguous phone prefix are in.
pub fn is_principal(zone: &str) -> bool {
    COUNTRIES.iter().any(|(_, z)| *z == zone)
        || REGIONS.iter().any(|(_, _, z)| *z == zone)
        || CITIES.iter().any(|(_, _, z)| *z == zone)
}

/// Every zone the tables name, for the test that they are all real.
#[cfg(test)]
pub fn all_zones() -> impl Iterator<Item = &'static str> {
    COUNTRIES
        .iter()
        .map(|(_, z)| *z)
        .chain(REGIONS.iter().map(|(_, _, z)| *z))
        .chain(CITIES.iter().map(|(_, _, z)| *z))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_region_of_a_multi_zone_country_names_its_own_zone() {
        for (country, state, zone) in [
            ("ca", "Manitoba", "America/Winnipeg"),
            ("ca", "SK", "America/Regina"),
            ("ca", "Québec", "America/Toronto"),
            ("ca", "Nova Scotia", "America/Halifax"),
            ("ca", "NL", "America/St_Johns"),
            ("au", "Tasmania", "Australia/Hobart"),
            ("au", "NSW", "Australia/Sydney"),
            ("au", "Northern Territory", "Australia/Darwin"),
            ("mx", "Baja California", "America/Tijuana"),
            ("us", "South Dakota", "America/Chicago"),
        ] {
            assert_eq!(region_zone(country, state), Some(zone), "{country} {state}");
            assert!(zone.parse::<chrono_tz::Tz>().is_ok(), "{zone}");
        }
        // A code means its own country's region only.
        assert_eq!(region_zone("us", "NL"), None);
    }
}
