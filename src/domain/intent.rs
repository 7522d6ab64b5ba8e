//! What a prospect's words ask for, and whether they report a problem: the
//! keyword tables (`intent_words`, in the languages of the territories the
//! reps serve) compiled into matchers, and the order in which intents win.
//!
//! Matching is on whole words (`\b`, Unicode-aware), so "error" inside
//! "onerror" or "cost" inside "Costa" is no match; a keyword ending in `*` is a
//! stem (`demo*` also matches "demos", "demonstration"). Japanese and Chinese
//! are written without spaces, so their keywords match as character sequences.
//! Text is expected lowercased and plain (see `normalise`).

use std::sync::LazyLock;

use regex::Regex;

use super::intent_words::{PROBLEM, QUESTION, TABLES};
use super::lead::Intent;

/// A keyword list compiled once into one alternation, matched by the rules
/// above (whole words, `*` stems, character sequences for unspaced scripts).
pub struct Keywords(Regex);

impl Keywords {
    pub fn new(words: &[&str]) -> Keywords {
        let alternatives: Vec<String> = words.iter().map(|w| pattern(w)).collect();
        Keywords(Regex::new(&format!("(?i){}", alternatives.join("|"))).expect("valid keywords"))
    }

    /// The first keyword found in `text`, as written there.
    pub fn find<'t>(&self, text: &'t str) -> Option<&'t str> {
        self.0.find(text).map(|m| m.as_str())
    }
}

/// A keyword as a pattern: whole words for spaced scripts, a character
/// sequence for scripts written without spaces.
fn pattern(word: &str) -> String {
    let (stem, open) = word
        .strip_suffix('*')
        .map_or((word, false), |stem| (stem, true));
    let escaped = regex::escape(stem);
    if stem.chars().any(unspaced) {
        escaped
    } else if open {
        format!(r"\b{escaped}\w*")
    } else {
        format!(r"\b{escaped}\b")
    }
}

/// Scripts written without spaces between words: kana, CJK ideographs, Thai.
fn unspaced(c: char) -> bool {
    matches!(c,
        '\u{3040}'..='\u{30ff}' | '\u{3400}'..='\u{4dbf}' | '\u{4e00}'..='\u{9fff}'
        | '\u{f900}'..='\u{faff}' | '\u{ff66}'..='\u{ff9f}' | '\u{0e00}'..='\u{0e7f}')
}

static INTENTS: LazyLock<Vec<(Intent, Keywords)>> = LazyLock::new(|| {
    TABLES
        .iter()
        .map(|(intent, words)| (*intent, Keywords::new(words)))
        .collect()
});
static PROBLEMS: LazyLock<Keywords> = LazyLock::new(|| Keywords::new(PROBLEM));
static QUESTIONS: LazyLock<Keywords> = LazyLock::new(|| Keywords::new(QUESTION));

/// The intent `text` asks for and the word that decided it: the first table
/// (in `TABLES` order) with a match, a reported problem counting as support.
pub fn by_keyword(text: &str) -> Option<(Intent, &str)> {
    INTENTS.iter().find_map(|(intent, matcher)| {
        let found = matcher.find(text).or_else(|| {
            (*intent == Intent::Support)
                .then(|| reported_problem(text))
                .flatten()
        });
        found.map(|word| (*intent, word))
    })
}

/// The word with which `text` reports a problem, if it does.
pub fn reported_problem(text: &str) -> Option<&str> {
    PROBLEMS.find(text)
}

/// The intent a form's own intent field names ("Request a demo", "Preise",
/// "Other", "その他"…), if it names one.
pub fn from_field(value: &str) -> Option<Intent> {
    by_keyword(value)
        .map(|(intent, _)| intent)
        .or_else(|| QUESTIONS.find(value).map(|_| Intent::Question))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn intent(text: &str) -> Option<Intent> {
        by_keyword(&text.to_lowercase()).map(|(i, _)| i)
    }

    #[test]
    fn every_language_names_every_intent() {
        use Intent::*;
        for (text, expected) in [
            ("We would like a demo next week", Demo),
            ("Wir hätten gern eine Vorführung Ihrer Software", Demo),
            ("Nous aimerions une démonstration", Demo),
            ("Queremos una demostración del producto", Demo),
            ("Gostaríamos de uma demonstração", Demo),
            ("来週デモをお願いできますか", Demo),
            ("我们想预约一次产品演示", Demo),
            ("我們想申請試用", Demo),
            ("What does it cost for 50 seats?", Pricing),
            ("Was kostet die Lizenz? Bitte um ein Angebot", Pricing),
            ("Pouvez-vous m'envoyer vos tarifs et un devis ?", Pricing),
            ("¿Cuál es el precio para 20 usuarios?", Pricing),
            ("Qual é o preço para 20 usuários?", Pricing),
            ("料金プランを教えてください", Pricing),
            ("请问价格是多少", Pricing),
            ("I need support with my account", Support),
            ("Ich brauche Hilfe mit meinem Konto", Support),
            ("J'ai besoin d'aide avec mon compte", Support),
            ("Necesito ayuda con mi cuenta", Support),
            ("Preciso de suporte técnico", Support),
            ("サポートに連絡したいです", Support),
            ("需要技术支持", Support),
            ("The export is broken since Monday", Support),
            ("Der Export funktioniert nicht", Support),
            ("L'export ne fonctionne pas", Support),
            ("La exportación no funciona", Support),
            ("A exportação não funciona", Support),
            ("エクスポートでエラーが出ます", Support),
            ("导出时报错", Support),
            ("We'd like to become a reseller", Partnership),
            ("Wir möchten Vertriebspartner werden", Partnership),
            ("Nous cherchons un partenariat", Partnership),
            ("Somos distribuidor en México", Partnership),
            ("Queremos uma parceria", Partnership),
            ("販売代理店になりたい", Partnership),
            ("我们想成为合作伙伴", Partnership),
        ] {
            assert_eq!(intent(text), Some(expected), "{text}");
        }
    }

    #[test]
    fn keywords_match_whole_words_only() {
        for text in [
            "our page has an onerror handler",
            "terror",
            "we are based in Costa Rica",
            "supportive team",
            "ambiguous",
            "the debugger",
            "sprinkles",
            "apartment",
        ] {
            assert_eq!(intent(text), None, "{text}");
        }
        assert_eq!(intent("two errors"), Some(Intent::Support));
        assert_eq!(intent("Demos please"), Some(Intent::Demo));
    }

    #[test]
    fn a_demo_or_pricing_request_beats_a_stray_support_word() {
        for (text, expected) in [
            (
                "Demo please; our old tool shows an error daily",
                Intent::Demo,
            ),
            (
                "Pricing? Our current vendor's support is slow",
                Intent::Pricing,
            ),
            ("<img onerror> demo request", Intent::Demo),
        ] {
            assert_eq!(intent(text), Some(expected), "{text}");
        }
    }

    #[test]
    fn problems_are_reported_only_by_problem_words() {
        assert_eq!(
            reported_problem("the sync fails every night"),
            Some("fails")
        );
        assert_eq!(reported_problem("同步时出错"), Some("出错"));
        assert_eq!(reported_problem("i need support with onboarding"), None);
        assert_eq!(reported_problem("onerror"), None);
    }

    #[test]
    fn form_fields_name_intents_in_several_languages() {
        for (value, expected) in [
            ("Request a demo", Intent::Demo),
            ("Preisanfrage", Intent::Pricing),
            ("Other", Intent::Question),
            ("Autre question", Intent::Question),
            ("その他", Intent::Question),
            ("Partnership", Intent::Partnership),
        ] {
            assert_eq!(from_field(&value.to_lowercase()), Some(expected), "{value}");
        }
        assert_eq!(from_field("xyz"), None);
    }
}
