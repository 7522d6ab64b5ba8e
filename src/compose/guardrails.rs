//! Deterministic checks on every draft, whoever wrote it (template or model). A
//! draft with any violation is held for review and never sent.

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use super::template::Draft;
use super::voice::VoiceProfile;

/// What the draft may contain beyond its own words.
#[derive(Debug, Clone, Default)]
pub struct Allowed {
    /// Links the reply may carry: the selected assets and the booking link.
    pub links: Vec<String>,
    /// The greeting the reply must open with.
    pub greeting: String,
    /// Figures (prices, dates) present in the context, which the reply may repeat.
    pub facts: Vec<String>,
    pub min_chars: usize,
    pub max_chars: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "rule", content = "detail", rename_all = "snake_case")]
pub enum Violation {
    Placeholder(String),
    LinkNotAllowed(String),
    EmailAddress(String),
    ProhibitedWord(String),
    ProhibitedPunctuation(String),
    Length(usize),
    CallsToAction(usize),
    Greeting(String),
    UnsupportedFigure(String),
    HeaderBreak,
}

static URL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"(?i)\b(?:https?://|www\.)[^\s<>"')\]]+"#).expect("valid regex"));
static EMAIL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[\w.+-]+@[\w-]+\.[\w.-]+").expect("valid regex"));
static PLACEHOLDER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\{\{.*?\}\}|\{%.*?%\}|\{[a-z_]+\}|\[(?:[A-Z][A-Z _]{2,}|name|company|first name)\]|<[A-Z_]{3,}>").expect("valid regex")
});
static MONEY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:[$€£¥]\s?\d[\d,.]*|\d[\d,.]*\s?(?:usd|eur|gbp|dollars|euros|%))")
        .expect("valid regex")
});
const CTA_MARKERS: &[&str] = &[
    "would one of these times work",
    "pick a time",
    "would you have 30 minutes",
    "book a time",
    "schedule a call",
    "let me know when",
];

/// Every rule the draft breaks; empty means it may go out.
pub fn check(draft: &Draft, voice: &VoiceProfile, allowed: &Allowed) -> Vec<Violation> {
    let mut found = Vec::new();
    if draft.subject.contains(['\r', '\n']) {
        found.push(Violation::HeaderBreak);
    }
    let text = format!("{}\n{}", draft.subject, draft.body);
    let lower = text.to_lowercase();
    for m in PLACEHOLDER.find_iter(&text) {
        found.push(Violation::Placeholder(m.as_str().to_string()));
    }
    for m in URL.find_iter(&draft.body) {
        let link = m.as_str().trim_end_matches(['.', ',', ';', ':', '!', '?']);
        if !allowed.links.iter().any(|a| a == link) {
            found.push(Violation::LinkNotAllowed(link.to_string()));
        }
    }
    let body_without_links = URL.replace_all(&draft.body, "");
    for m in EMAIL.find_iter(&body_without_links) {
        found.push(Violation::EmailAddress(m.as_str().to_string()));
    }
    for word in &voice.prohibited_words {
        let pattern = format!(r"(?i)\b{}\b", regex::escape(word));
        if Regex::new(&pattern).is_ok_and(|re| re.is_match(&text)) {
            found.push(Violation::ProhibitedWord(word.clone()));
        }
    }
    for mark in &voice.prohibited_punctuation {
        if !mark.is_empty() && body_without_links.contains(mark.as_str()) {
            found.push(Violation::ProhibitedPunctuation(mark.clone()));
        }
    }
    let length = draft.body.chars().count();
    if length < allowed.min_chars || length > allowed.max_chars {
        found.push(Violation::Length(length));
    }
    let ctas = CTA_MARKERS
        .iter()
        .map(|m| lower.matches(m).count())
        .sum::<usize>();
    if ctas != 1 {
        found.push(Violation::CallsToAction(ctas));
    }
    if !draft.body.trim_start().starts_with(&allowed.greeting) {
        found.push(Violation::Greeting(
            draft.body.lines().next().unwrap_or_default().to_string(),
        ));
    }
    let links_removed = URL.replace_all(&text, "");
    for m in MONEY.find_iter(&links_removed) {
        let figure = m.as_str().trim();
        if !allowed.facts.iter().any(|f| f.contains(figure)) {
            found.push(Violation::UnsupportedFigure(figure.to_string()));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed() -> Allowed {
        Allowed {
            links: vec!["https://drive.google.com/file/d/abc/view".into()],
            greeting: "Hi Ana,".into(),
            facts: vec![],
            min_chars: 20,
            max_chars: 2000,
        }
    }

    fn draft(body: &str) -> Draft {
        Draft {
            subject: "Your demo".into(),
            body: body.into(),
        }
    }

    const GOOD: &str = "Hi Ana,\n\nHere is our case study: https://drive.google.com/file/d/abc/view.\n\nWould one of these times work for you?\n\nBest,\nSam";

    #[test]
    fn a_clean_draft_passes() {
        assert_eq!(
            check(&draft(GOOD), &VoiceProfile::default(), &allowed()),
            vec![]
        );
    }

    #[test]
    fn each_rule_catches_its_fault() {
        let voice = VoiceProfile {
            prohibited_punctuation: vec!["!".into()],
            ..VoiceProfile::default()
        };
        let cases = [
            (GOOD.replace("Ana,", "{{ first_name }},"), "placeholder"),
            (GOOD.replace("Best,", "Best, [COMPANY NAME]"), "placeholder"),
            (
                GOOD.replace("drive.google.com/file/d/abc/view", "evil.example/pricing"),
                "link_not_allowed",
            ),
            (
                GOOD.replace("Best,", "Write to ceo@competitor.example"),
                "email_address",
            ),
            (
                GOOD.replace("Best,", "We guarantee results."),
                "prohibited_word",
            ),
            (GOOD.replace("Best,", "Great!"), "prohibited_punctuation"),
            (
                GOOD.replace("Best,", "Or pick a time here."),
                "calls_to_action",
            ),
            (
                GOOD.replace("Would one of these times work for you?", ""),
                "calls_to_action",
            ),
            (GOOD.replace("Hi Ana,", "Hi Anna,"), "greeting"),
            (
                GOOD.replace("Best,", "It costs $499 per seat."),
                "unsupported_figure",
            ),
            (format!("{GOOD}{}", "x".repeat(2000)), "length"),
        ];
        for (body, rule) in cases {
            let violations = check(&draft(&body), &voice, &allowed());
            let rules: Vec<String> = violations
                .iter()
                .map(|v| {
                    serde_json::to_value(v).unwrap()["rule"]
                        .as_str()
                        .unwrap()
                        .to_string()
                })
                .collect();
            assert!(
                rules.contains(&rule.to_string()),
                "{rule} not caught in {body:?}: {rules:?}"
            );
        }
        let mut subject_break = draft(GOOD);
        subject_break.subject = "Hi\r\nBcc: x@y.z".into();
        assert!(
            check(&subject_break, &VoiceProfile::default(), &allowed())
                .contains(&Violation::HeaderBreak)
        );
    }

    #[test]
    fn figures_from_the_context_are_allowed() {
        let body = GOOD.replace("Best,", "As discussed, the plan is $499 per seat.");
        let mut allowed = allowed();
        assert!(!check(&draft(&body), &VoiceProfile::default(), &allowed).is_empty());
        allowed.facts.push("Team plan: $499 per seat".into());
        assert_eq!(
            check(&draft(&body), &VoiceProfile::default(), &allowed),
            vec![]
        );
    }
}
