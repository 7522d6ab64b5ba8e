//! The prospect's language, read from their message by `lingua` (chosen over
//! the smaller `whatlang` for its accuracy on the short texts forms carry:
//! whatlang read "We would like to schedule a demo for our sales team next
//! week." as French; only the 17 languages our prospects write most are
//! compiled in, to keep the build and the memory small) and, when the message
//! cannot say, from the form's language field, then their country, then the
//! team's default. A message says nothing when it is too short (fewer
//! than three words, or six characters in a script written without spaces),
//! when the detector is unsure, or when its sentences are in two languages.
//! The guess records its source, the detector's view and why.

use std::sync::LazyLock;

use lingua::{LanguageDetector, LanguageDetectorBuilder};

use crate::domain::Lead;
use crate::domain::language::{Lang, LanguageGuess, LanguageSource, is_code};

use super::timezone::country_code;

/// One detector for the process: its models load on first use.
static DETECTOR: LazyLock<LanguageDetector> =
    LazyLock::new(|| LanguageDetectorBuilder::from_all_languages().build());

/// The most likely language of `text` (ISO 639-1) and the detector's
/// confidence in it, 0–1 to two decimals.
fn detect(text: &str) -> Option<(String, f64)> {
    let (language, confidence) = DETECTOR
        .compute_language_confidence_values(text)
        .into_iter()
        .next()?;
    let code = language.iso_code_639_1().to_string();
    (confidence > 0.0).then(|| (code, (confidence * 100.0).round() / 100.0))
}

/// Below this the detector's answer is not used.
pub const MIN_CONFIDENCE: f64 = 0.5;
/// A second language holding this share of the message's sentences makes it mixed.
const MIXED_SHARE: f64 = 0.3;

/// What the message alone says, or why it says nothing.
#[derive(Debug, Clone, PartialEq)]
pub enum FromMessage {
    Detected {
        code: String,
        confidence: f64,
    },
    /// Not used: the detector's best guess, if any, and why not.
    Unclear {
        detected: Option<(String, f64)>,
        why: String,
    },
}

/// The prospect's language: the message's, else the fallbacks in order.
pub fn guess(lead: &Lead, team: Lang) -> LanguageGuess {
    let message = lead.message.as_deref().unwrap_or_default();
    let (detected, why) = match from_message(message) {
        FromMessage::Detected { code, confidence } => {
            return LanguageGuess {
                reason: format!("detected {code} in the message ({confidence:.2} confidence)"),
                detected: Some(code.clone()),
                code,
                source: LanguageSource::Message,
                confidence,
            };
        }
        FromMessage::Unclear { detected, why } => (detected, why),
    };
    let (fallback, source, from) = if let Some(code) = lead.language.as_deref().and_then(parse_code)
    {
        (code, LanguageSource::FormField, "the form's language field")
    } else if let Some(code) = lead
        .country
        .as_deref()
        .and_then(country_code)
        .and_then(country_language)
    {
        (code.to_string(), LanguageSource::Country, "the country")
    } else {
        (
            team.code().to_string(),
            LanguageSource::TeamDefault,
            "the team default",
        )
    };
    LanguageGuess {
        reason: format!("{why}: {fallback} from {from}"),
        code: fallback,
        source,
        confidence: detected.as_ref().map_or(0.0, |(_, c)| *c),
        detected: detected.map(|(code, _)| code),
    }
}

/// The message's language when it is long, clear and in one language.
pub fn from_message(message: &str) -> FromMessage {
    let text = message.trim();
    let detected = detect(text);
    let unclear = |why: String| FromMessage::Unclear {
        detected: detected.clone(),
        why,
    };
    if text.is_empty() {
        return unclear("no message".into());
    }
    let words = text.split_whitespace().count();
    let unspaced = text.chars().filter(|c| is_unspaced_script(*c)).count();
    if words < 3 && unspaced < 6 {
        let plural = if words == 1 { "" } else { "s" };
        return unclear(format!("message too short ({words} word{plural})"));
    }
    let Some((code, confidence)) = detected.clone() else {
        return unclear("no language detected in the message".into());
    };
    if confidence < MIN_CONFIDENCE {
        return unclear(format!(
            "message unclear ({code} at {confidence:.2} confidence)"
        ));
    }
    if let Some(mix) = mixed(text) {
        return unclear(format!("message mixes languages ({mix})"));
    }
    FromMessage::Detected { code, confidence }
}

/// Whether a model's text is written in `lang`: the detector must name it,
/// with confidence; otherwise why not.
pub fn written_in(text: &str, lang: Lang) -> Result<(), String> {
    match detect(text) {
        Some((code, confidence)) if confidence >= MIN_CONFIDENCE => {
            if code == lang.code() {
                Ok(())
            } else {
                Err(format!("written in {code}, not {}", lang.code()))
            }
        }
        _ => Err(format!(
            "its language could not be confirmed as {}",
            lang.code()
        )),
    }
}

/// `de 50%, en 50%` when the message's sentences are in more than one language.
fn mixed(text: &str) -> Option<String> {
    let mut counts: Vec<(String, usize)> = Vec::new();
    let mut total = 0;
    for sentence in text.split_inclusive(['.', '!', '?', '\n', '。', '！', '？']) {
        let letters = sentence.chars().filter(|c| c.is_alphabetic()).count();
        if sentence.split_whitespace().count() < 3 && letters < 6 {
            continue;
        }
        let Some((code, _)) = detect(sentence).filter(|(_, c)| *c >= MIN_CONFIDENCE) else {
            continue;
        };
        total += letters;
        match counts.iter_mut().find(|(c, _)| *c == code) {
            Some((_, n)) => *n += letters,
            None => counts.push((code, letters)),
        }
    }
    counts.sort_by_key(|c| std::cmp::Reverse(c.1));
    let share = |n: usize| n as f64 / total.max(1) as f64;
    (counts.len() > 1 && share(counts[1].1) >= MIXED_SHARE).then(|| {
        counts
            .iter()
            .map(|(code, n)| format!("{code} {:.0}%", share(*n) * 100.0))
            .collect::<Vec<_>>()
            .join(", ")
    })
}

/// Scripts written without spaces between words, where characters, not words,
/// say how long a message is.
fn is_unspaced_script(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF   // Hiragana, Katakana
        | 0x3400..=0x4DBF // CJK extension A
        | 0x4E00..=0x9FFF // CJK unified ideographs
        | 0xAC00..=0xD7AF // Hangul syllables
        | 0x0E00..=0x0E7F // Thai
    )
}

/// A form's language field as an ISO 639-1 code: `de`, `de-AT`, `pt_BR`, or
/// the language's name in English or in itself.
pub fn parse_code(raw: &str) -> Option<String> {
    let value = raw.trim().to_lowercase();
    let head: String = value.chars().take(2).collect();
    let rest = value.chars().nth(2);
    if is_code(&head) && rest.is_none_or(|c| c == '-' || c == '_') {
        return Some(head);
    }
    const NAMES: &[(&str, &str)] = &[
        ("english", "en"),
        ("german", "de"),
        ("deutsch", "de"),
        ("french", "fr"),
        ("français", "fr"),
        ("francais", "fr"),
        ("spanish", "es"),
        ("español", "es"),
        ("espanol", "es"),
        ("japanese", "ja"),
        ("日本語", "ja"),
        ("italian", "it"),
        ("italiano", "it"),
        ("portuguese", "pt"),
        ("português", "pt"),
        ("dutch", "nl"),
        ("nederlands", "nl"),
        ("chinese", "zh"),
        ("中文", "zh"),
    ];
    NAMES
        .iter()
        .find(|(name, _)| *name == value)
        .map(|(_, code)| code.to_string())
}

/// The language most people write business mail in, per country (ISO 3166-1).
pub fn country_language(country: &str) -> Option<&'static str> {
    const TABLE: &[(&str, &[&str])] = &[
        ("de", &["de", "at", "ch", "li"]),
        ("fr", &["fr", "mc", "lu", "sn", "ci"]),
        (
            "es",
            &[
                "es", "mx", "ar", "co", "cl", "pe", "ve", "ec", "gt", "cu", "bo", "do", "hn", "py",
                "sv", "ni", "cr", "pa", "uy",
            ],
        ),
        (
            "en",
            &[
                "us", "gb", "uk", "ie", "au", "nz", "ca", "za", "in", "sg", "ng", "ke", "ph",
            ],
        ),
        ("ja", &["jp"]),
        ("zh", &["cn", "tw", "hk"]),
        ("ko", &["kr"]),
        ("pt", &["pt", "br", "ao", "mz"]),
        ("it", &["it", "sm"]),
        ("nl", &["nl", "be"]),
        ("pl", &["pl"]),
        ("sv", &["se"]),
        ("da", &["dk"]),
        ("nb", &["no"]),
        ("fi", &["fi"]),
        ("tr", &["tr"]),
        ("ru", &["ru"]),
    ];
    let country = country.to_ascii_lowercase();
    TABLE
        .iter()
        .find(|(_, countries)| countries.contains(&country.as_str()))
        .map(|(code, _)| *code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::lead::{ValidationRules, validate};
    use crate::intake::parse;

    fn lead(values: &[(&str, &str)]) -> Lead {
        let values: Vec<_> = values
            .iter()
            .map(|(n, v)| serde_json::json!({"name": n, "value": v}))
            .collect();
        let s = parse(serde_json::json!({"values": values}).to_string().as_bytes()).unwrap();
        validate(&s, &ValidationRules::default()).unwrap()
    }

    fn read(message: &str) -> LanguageGuess {
        guess(
            &lead(&[("email", "a@acme.com"), ("message", message)]),
            Lang::En,
        )
    }

    #[test]
    fn clear_messages_are_read_in_their_language() {
        for (message, code) in [
            (
                "We would like to schedule a demo for our sales team next week.",
                "en",
            ),
            (
                "Wir möchten eine Demo für unser Vertriebsteam vereinbaren.",
                "de",
            ),
            (
                "Nous souhaitons organiser une démonstration pour notre équipe commerciale.",
                "fr",
            ),
            (
                "Nos gustaría programar una demostración para nuestro equipo de ventas.",
                "es",
            ),
            ("営業チームのために製品のデモをお願いしたいです。", "ja"),
        ] {
            let g = read(message);
            assert_eq!(
                (g.code.as_str(), g.source),
                (code, LanguageSource::Message),
                "{message}: {g:?}"
            );
            assert!(g.confidence >= MIN_CONFIDENCE, "{g:?}");
        }
    }

    #[test]
    fn a_short_or_mixed_message_falls_back_field_then_country_then_team() {
        let one_word = guess(
            &lead(&[
                ("email", "a@acme.com"),
                ("message", "Demo"),
                ("hs_language", "fr-FR"),
                ("country", "Germany"),
            ]),
            Lang::En,
        );
        assert_eq!(
            (one_word.code.as_str(), one_word.source),
            ("fr", LanguageSource::FormField)
        );
        assert!(
            one_word.reason.contains("too short (1 word)"),
            "{one_word:?}"
        );
        let by_country = guess(
            &lead(&[
                ("email", "a@acme.com"),
                ("message", "Preisliste?"),
                ("country", "Deutschland"),
            ]),
            Lang::En,
        );
        assert_eq!(
            (by_country.code.as_str(), by_country.source),
            ("de", LanguageSource::Country)
        );
        let team = guess(
            &lead(&[("email", "a@acme.com"), ("message", "Hola")]),
            Lang::Fr,
        );
        assert_eq!(
            (team.code.as_str(), team.source),
            ("fr", LanguageSource::TeamDefault)
        );
        let mix = guess(
            &lead(&[
                ("email", "a@acme.com"),
                (
                    "message",
                    "Wir möchten gerne eine Demo für unser ganzes Vertriebsteam vereinbaren. Could you please send us the pricing for the enterprise plan as well?",
                ),
                ("country", "Spain"),
            ]),
            Lang::En,
        );
        assert_eq!(
            (mix.code.as_str(), mix.source),
            ("es", LanguageSource::Country),
            "{mix:?}"
        );
        assert!(mix.reason.contains("mixes languages"), "{mix:?}");
    }

    #[test]
    fn form_language_fields_read_as_codes_or_names() {
        for (raw, code) in [
            ("de", Some("de")),
            ("pt_BR", Some("pt")),
            ("Deutsch", Some("de")),
            ("Japanese", Some("ja")),
            ("Klingon", None),
            ("deu", None),
        ] {
            assert_eq!(parse_code(raw).as_deref(), code, "{raw}");
        }
    }
}
