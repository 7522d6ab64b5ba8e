//! A slot as a person reads it in their language: weekday and month names
//! from CLDR (chrono's `unstable-locales`, which compiles the CLDR patterns
//! in through pure-rust-locales), the 24-hour clock these locales use, and the
//! zone under the name people there give it (`MEZ` in German) beside its IANA
//! name. English keeps the compact form the replies always used.

use chrono::{DateTime, Locale};
use chrono_tz::Tz;

use super::slots::Interval;
use crate::domain::Lang;

/// The slot line of a reply in `lang`: the slot in the prospect's zone, then
/// in each other zone they may be in, e.g.
/// `Donnerstag, 3. Dezember, 15:00–15:30 Uhr MEZ (Europe/Berlin)`.
pub fn slot_line(slot: &Interval, zones: &[Tz], lang: Lang) -> String {
    let Some((first, others)) = zones.split_first() else {
        return in_zone(slot, Tz::UTC, lang, true);
    };
    let mut text = in_zone(slot, *first, lang, true);
    let first_day = slot.start.with_timezone(first).date_naive();
    for tz in others {
        let same_day = slot.start.with_timezone(tz).date_naive() == first_day;
        text.push_str(" / ");
        text.push_str(&in_zone(slot, *tz, lang, !same_day));
    }
    text
}

/// The slot in one zone, with its day unless `with_day` is false.
pub fn in_zone(slot: &Interval, tz: Tz, lang: Lang, with_day: bool) -> String {
    let start = slot.start.with_timezone(&tz);
    let end = slot.end.with_timezone(&tz);
    let day = if with_day {
        day(&start, lang)
    } else {
        String::new()
    };
    let (from, to) = (start.format("%H:%M"), end.format("%H:%M"));
    let zone = zone_name(&start.format("%Z").to_string(), lang);
    let hours = match lang {
        Lang::De => format!("{from}–{to} Uhr"),
        _ => format!("{from}–{to}"),
    };
    format!("{day}{hours} {zone} ({})", tz.name())
}

/// The date part, ending where the time begins: `Tue 3 Nov, `.
fn day(at: &DateTime<Tz>, lang: Lang) -> String {
    let (pattern, locale) = match lang {
        Lang::En => return at.format("%a %-d %b, ").to_string(),
        Lang::De => ("%A, %-d. %B, ", Locale::de_DE),
        Lang::Fr => ("%A %-d %B, ", Locale::fr_FR),
        Lang::Es => ("%A %-d de %B, ", Locale::es_ES),
    };
    at.format_localized(pattern, locale).to_string()
}

/// The zone's abbreviation as people of `lang` write it: German readers know
/// Central European Time as MEZ/MESZ; French and Spanish business mail keeps
/// the international abbreviation. Zones the tz database only names by
/// offset (`+03`) keep it.
fn zone_name(abbrev: &str, lang: Lang) -> String {
    let local = match (lang, abbrev) {
        (Lang::De, "CET") => "MEZ",
        (Lang::De, "CEST") => "MESZ",
        (Lang::De, "EET") => "OEZ",
        (Lang::De, "EEST") => "OESZ",
        (Lang::De, "WET") => "WEZ",
        (Lang::De, "WEST") => "WESZ",
        _ => abbrev,
    };
    local.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn slot(start: &str, minutes: i64) -> Interval {
        let start: DateTime<Utc> = start.parse().unwrap();
        Interval {
            start,
            end: start + chrono::Duration::minutes(minutes),
        }
    }

    #[test]
    fn each_language_names_days_months_and_zones_its_own_way() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        let thu = slot("2026-12-03T14:00:00Z", 30);
        assert_eq!(
            slot_line(&thu, &[berlin], Lang::De),
            "Donnerstag, 3. Dezember, 15:00–15:30 Uhr MEZ (Europe/Berlin)"
        );
        assert_eq!(
            slot_line(&thu, &[berlin], Lang::En),
            "Thu 3 Dec, 15:00–15:30 CET (Europe/Berlin)"
        );
        let paris: Tz = "Europe/Paris".parse().unwrap();
        assert_eq!(
            slot_line(&thu, &[paris], Lang::Fr),
            "jeudi 3 décembre, 15:00–15:30 CET (Europe/Paris)"
        );
        let madrid: Tz = "Europe/Madrid".parse().unwrap();
        let summer = slot("2026-07-01T07:30:00Z", 30);
        assert_eq!(
            slot_line(&summer, &[madrid], Lang::Es),
            "miércoles 1 de julio, 09:30–10:00 CEST (Europe/Madrid)"
        );
        assert_eq!(
            slot_line(&summer, &[berlin], Lang::De),
            "Mittwoch, 1. Juli, 09:30–10:00 Uhr MESZ (Europe/Berlin)"
        );
    }

    #[test]
    fn other_possible_zones_follow_with_their_day_when_it_differs() {
        let zones: Vec<Tz> = ["Europe/Madrid", "Atlantic/Canary"]
            .iter()
            .map(|z| z.parse().unwrap())
            .collect();
        let s = slot("2026-12-03T09:00:00Z", 30);
        assert_eq!(
            slot_line(&s, &zones, Lang::Es),
            "jueves 3 de diciembre, 10:00–10:30 CET (Europe/Madrid) / 09:00–09:30 WET (Atlantic/Canary)"
        );
    }
}
