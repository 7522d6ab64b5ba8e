//! Languages: the prospect's (an ISO 639-1 code, any language), where that came
//! from (the message, the form's language field, the country, the team
//! default) and the languages the built-in composer writes ([`Lang`]). Reps
//! list the codes they speak, the first being the one they write by default.

use serde::{Deserialize, Serialize};

/// A language the built-in composer writes: every intent's template, the
/// frame around a model's text and the guardrails' words exist in each.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    En,
    De,
    Fr,
    Es,
}

impl Lang {
    pub const ALL: [Lang; 4] = [Lang::En, Lang::De, Lang::Fr, Lang::Es];

    /// The ISO 639-1 code, e.g. `de`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::De => "de",
            Lang::Fr => "fr",
            Lang::Es => "es",
        }
    }

    /// The composer language for an ISO 639-1 code; `None` for the others.
    pub fn from_code(code: &str) -> Option<Lang> {
        Lang::ALL
            .into_iter()
            .find(|l| l.code().eq_ignore_ascii_case(code.trim()))
    }

    /// The language's name in English, for prompts and pages.
    pub fn name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::De => "German",
            Lang::Fr => "French",
            Lang::Es => "Spanish",
        }
    }
}

/// Whether `code` is written as an ISO 639-1 code: two lower-case ASCII letters.
pub fn is_code(code: &str) -> bool {
    code.len() == 2 && code.chars().all(|c| c.is_ascii_lowercase())
}

/// Where the prospect's language was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LanguageSource {
    /// Detected in their message.
    Message,
    /// The form's own language field.
    FormField,
    /// The main language of their country.
    Country,
    /// The team's default (`SALES_AGENT_DEFAULT_LANGUAGE`).
    TeamDefault,
}

/// The prospect's language as qualify read it, with how and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LanguageGuess {
    /// ISO 639-1 code, e.g. `de`, `ja`.
    pub code: String,
    pub source: LanguageSource,
    /// What the detector made of the message (ISO 639-1), used or not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detected: Option<String>,
    /// The detector's confidence in `detected`, 0–1 (0 without a message).
    pub confidence: f64,
    /// The detection, or why it was not used and the fallback taken.
    pub reason: String,
}

/// The language a reply is written in: the prospect's when the rep speaks it
/// and the composer writes it, else the rep's default (the first of their
/// languages the composer writes), else the team's.
pub fn reply_language(prospect: Option<&str>, rep_languages: &[String], team: Lang) -> Lang {
    prospect
        .filter(|code| speaks(rep_languages, team, code))
        .and_then(Lang::from_code)
        .or_else(|| rep_languages.iter().find_map(|l| Lang::from_code(l)))
        .unwrap_or(team)
}

/// Whether a rep with `languages` (empty: the team's language only) speaks `code`.
pub fn speaks(languages: &[String], team: Lang, code: &str) -> bool {
    if languages.is_empty() {
        code.eq_ignore_ascii_case(team.code())
    } else {
        languages.iter().any(|l| l.eq_ignore_ascii_case(code))
    }
}

/// Checks a rep's language list: ISO 639-1 codes, each once, at most 20.
pub fn check_list(languages: &[String]) -> Result<(), String> {
    if languages.len() > 20 {
        return Err("languages: at most 20".into());
    }
    for (i, code) in languages.iter().enumerate() {
        if !is_code(code) {
            return Err(format!(
                "languages: {code:?} is not an ISO 639-1 code (two lower-case letters, e.g. de)"
            ));
        }
        if languages[..i].contains(code) {
            return Err(format!("languages: {code} is listed twice"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn langs(codes: &[&str]) -> Vec<String> {
        codes.iter().map(|c| c.to_string()).collect()
    }

    #[test]
    fn the_reply_is_in_the_prospects_language_when_the_rep_speaks_it_else_the_reps_default() {
        let berlin = langs(&["de", "en"]);
        assert_eq!(reply_language(Some("de"), &berlin, Lang::En), Lang::De);
        assert_eq!(reply_language(Some("en"), &berlin, Lang::En), Lang::En);
        assert_eq!(
            reply_language(Some("ja"), &berlin, Lang::En),
            Lang::De,
            "no Japanese: the rep's default"
        );
        assert_eq!(reply_language(Some("fr"), &[], Lang::En), Lang::En);
        assert_eq!(reply_language(Some("fr"), &[], Lang::Fr), Lang::Fr);
        assert_eq!(
            reply_language(Some("ja"), &langs(&["ja", "es"]), Lang::En),
            Lang::Es,
            "a language the composer does not write gives way to the rep's next"
        );
        assert_eq!(reply_language(None, &langs(&["ja"]), Lang::De), Lang::De);
    }

    #[test]
    fn codes_are_two_lower_case_letters() {
        assert!(is_code("de") && is_code("ja"));
        assert!(!is_code("DE") && !is_code("deu") && !is_code("d") && !is_code("é1"));
        assert_eq!(Lang::from_code(" FR "), Some(Lang::Fr));
        assert_eq!(Lang::from_code("ja"), None);
    }
}
