//! Deterministic checks on every draft, whoever wrote it (template or model),
//! in each language the composer writes (calls to action, dates, claims and
//! apologies are known in English, German, French and Spanish): no
//! placeholders, only allowed links, no addresses, the rep's voice (greeting,
//! sign-off, prohibited words and punctuation, contractions, sentence and
//! paragraph length), length bounds, exactly one call to action, and no price,
//! date, time or claim that the context does not hold, and no apology unless
//! the prospect reported a problem. A draft with any violation is held for
//! review and never sent.

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use super::links;
use super::phrases;
use super::template::{Draft, ReplyContext};
use super::voice::VoiceProfile;
use crate::domain::Lang;
use crate::domain::intent::Keywords;

/// What the draft may contain beyond its own words.
#[derive(Debug, Clone, Default)]
pub struct Allowed {
    /// Links the reply may carry: the selected assets, the rep's booking link,
    /// and our own booking links for the proposed slots and more times.
    pub links: Vec<String>,
    /// The greeting the reply must open with.
    pub greeting: String,
    /// Text of the context (rendered slots, the company, the thread's subject):
    /// prices, dates and times found here may be repeated.
    pub facts: Vec<String>,
    pub min_chars: usize,
    pub max_chars: usize,
    /// Domains the draft may name bare (no path): the prospect's own, the
    /// assets' and booking link's hosts, those in the rep's signature.
    pub domains: Vec<String>,
    /// The prospect reported a problem: the draft may apologise for it.
    pub problem_reported: bool,
    /// The reply's language: its sign-off is `sign_off`, and only English
    /// drafts are held to the rep's contraction habit.
    pub language: Lang,
    /// The sign-off the reply must carry; the voice's own when empty.
    pub sign_off: String,
}

impl Allowed {
    /// What a reply built from `cx` may hold: the selected assets' links and the
    /// booking link, the greeting for the prospect's name, and as facts the
    /// rendered slots, the company and the thread's subject.
    pub fn for_reply(cx: &ReplyContext, voice: &VoiceProfile) -> Allowed {
        Allowed {
            links: cx
                .assets
                .iter()
                .map(|a| a.url.clone())
                .chain(cx.booking_link.clone())
                .chain(cx.slot_links.iter().cloned())
                .chain(cx.more_times_link.clone())
                .collect(),
            greeting: voice.greet_in(cx.language, cx.lead.first_name.as_deref()),
            facts: cx
                .slots
                .iter()
                .chain(&cx.slots_in_rep_zone)
                .cloned()
                .chain(cx.company.clone())
                .chain(cx.thread_subject.clone())
                .collect(),
            min_chars: 80,
            max_chars: 3000,
            domains: std::iter::once(cx.lead.email_domain.to_lowercase())
                .chain(
                    cx.assets
                        .iter()
                        .map(|a| a.url.as_str())
                        .chain(cx.booking_link.as_deref())
                        .chain(cx.slot_links.iter().map(String::as_str))
                        .chain(cx.more_times_link.as_deref())
                        .flat_map(links::domains_in),
                )
                .chain(links::domains_in(&voice.signature))
                .filter(|d| !d.is_empty())
                .collect(),
            problem_reported: cx.problem_reported,
            language: cx.language,
            sign_off: voice.sign_off_in(cx.language).to_string(),
        }
    }
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
    UnsupportedDate(String),
    UnsupportedClaim(String),
    SignOff,
    Contraction(String),
    SentenceLength(usize),
    ParagraphLength(usize),
    HeaderBreak,
    /// An apology (or regret for trouble) to a prospect who reported none.
    Apology(String),
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
static DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:\d{1,2}\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?|(?:january|february|march|april|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec)\.?\s+\d{1,2}(?:st|nd|rd|th)?|\d{1,2}/\d{1,2}(?:/\d{2,4})?|\d{4}-\d{2}-\d{2}|\d{1,2}:\d{2}|\d{1,2}\s?(?:am|pm)|monday|tuesday|wednesday|thursday|friday|saturday|sunday|tomorrow|tonight|next week|montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag|januar|februar|märz|juni|juli|oktober|dezember|nächste woche|übermorgen|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|janvier|février|avril|juin|juillet|août|septembre|octobre|novembre|décembre|demain|semaine prochaine|lunes|martes|miércoles|jueves|viernes|sábado|domingo|enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|noviembre|diciembre|pasado mañana|próxima semana|semana que viene)\b")
        .expect("valid regex")
});
static CONTRACTION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\b[a-z]+['’](?:m|re|ll|ve|d|t)\b").expect("valid regex"));
static SENTENCE_END: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[.!?]+(?:\s+|$)").expect("valid regex"));
/// Claims nobody in the context made: superlatives and promises.
const CLAIMS: &[&str] = &[
    "guarantee",
    "guaranteed",
    "#1",
    "number one",
    "best-in-class",
    "best in class",
    "world's leading",
    "world-class",
    "industry-leading",
    "market-leading",
    "award-winning",
    "proven to",
    "risk-free",
    "no risk",
    "100%",
    // German, French, Spanish.
    "garantiert",
    "garantie",
    "marktführer",
    "marktführend",
    "branchenführend",
    "weltweit führend",
    "preisgekrönt",
    "ohne risiko",
    "risikolos",
    "numéro un",
    "numéro 1",
    "leader mondial",
    "leader du marché",
    "sans risque",
    "garantizado",
    "garantizamos",
    "número uno",
    "líder del mercado",
    "líder mundial",
    "sin riesgo",
    "galardonado",
];
/// How a reply apologises, in the languages a model might write in.
static APOLOGY: LazyLock<Keywords> = LazyLock::new(|| {
    Keywords::new(&[
        "sorry",
        "apologi*",
        "apology",
        "my bad",
        "inconvenience",
        "entschuldig*",
        "bedauer*",
        "désolé*",
        "excuse*",
        "lo siento",
        "tut mir leid",
        "tut uns leid",
        "regrett*",
        "sentimos",
        "lamento*",
        "lamentamos",
        "disculpa*",
        "desculp*",
        "申し訳",
        "すみません",
        "ご迷惑",
        "抱歉",
        "对不起",
        "對不起",
        "不便",
    ])
});
/// Calls to action in the other languages: the composer's own sentences
/// (the booking line up to its link), so a model's extra one is counted too.
static CTA_LOCAL: LazyLock<Vec<String>> = LazyLock::new(|| {
    phrases::all()
        .into_iter()
        .filter(|p| p.lang != Lang::En)
        .flat_map(|p| [p.slot_question, p.slot_request, p.booking, p.no_slots])
        .map(|s| {
            s.split("{link}")
                .next()
                .unwrap_or_default()
                .trim_end_matches([' ', ':', '?', '.', '¿'])
                .trim_start_matches('¿')
                .to_lowercase()
        })
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect()
});
const CTA_MARKERS: &[&str] = &[
    "which of these times suits you",
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
    // Links in subject and body: the allowed ones exactly, nothing else that
    // reads as a link (bare domains with a path, shorteners, IPs, defanged forms).
    let domains: Vec<&str> = allowed.domains.iter().map(String::as_str).collect();
    for part in [&draft.subject, &draft.body] {
        let mut rest = part.to_string();
        for m in URL.find_iter(part) {
            let link = m.as_str().trim_end_matches(['.', ',', ';', ':', '!', '?']);
            if allowed.links.iter().any(|a| a == link) {
                rest = rest.replacen(link, " ", 1);
            }
        }
        for link in links::url_like(&rest, &domains) {
            found.push(Violation::LinkNotAllowed(link));
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
        .copied()
        .chain(CTA_LOCAL.iter().map(String::as_str))
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
    let facts_lower: Vec<String> = allowed.facts.iter().map(|f| f.to_lowercase()).collect();
    for m in DATE.find_iter(&links_removed) {
        let date = m.as_str().to_lowercase();
        if !facts_lower.iter().any(|f| f.contains(&date)) {
            found.push(Violation::UnsupportedDate(m.as_str().to_string()));
        }
    }
    for claim in CLAIMS {
        if lower.contains(claim) && !facts_lower.iter().any(|f| f.contains(claim)) {
            found.push(Violation::UnsupportedClaim((*claim).to_string()));
        }
    }
    if !allowed.problem_reported
        && let Some(words) = APOLOGY.find(&text)
    {
        found.push(Violation::Apology(words.to_string()));
    }
    found.extend(voice_rules(draft, voice, allowed));
    found
}

/// The rep's habits the draft must keep: the sign-off, contractions when they
/// never contract, sentence and paragraph length. Lists, the parenthesised
/// times and link lines are not prose and are skipped.
fn voice_rules(draft: &Draft, voice: &VoiceProfile, allowed: &Allowed) -> Vec<Violation> {
    let mut found = Vec::new();
    let sign_off = if allowed.sign_off.trim().is_empty() {
        voice.sign_off_in(allowed.language)
    } else {
        allowed.sign_off.as_str()
    };
    if !draft.body.lines().any(|l| l.trim() == sign_off.trim()) {
        found.push(Violation::SignOff);
    }
    if !voice.contractions
        && allowed.language == Lang::En
        && let Some(m) = CONTRACTION.find(&draft.body)
    {
        found.push(Violation::Contraction(m.as_str().to_string()));
    }
    for paragraph in draft.body.split("\n\n") {
        let prose: Vec<&str> = paragraph
            .lines()
            .map(str::trim)
            .filter(|l| !l.starts_with("- ") && !l.starts_with('(') && !URL.is_match(l))
            .collect();
        let text = prose.join(" ");
        let sentences: Vec<&str> = SENTENCE_END
            .split(&text)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        if let Some(words) = sentences
            .iter()
            .map(|s| s.split_whitespace().count())
            .find(|&w| w > voice.max_sentence_words)
        {
            found.push(Violation::SentenceLength(words));
        }
        if sentences.len() > voice.max_paragraph_sentences {
            found.push(Violation::ParagraphLength(sentences.len()));
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
            domains: vec![],
            problem_reported: false,
            ..Allowed::default()
        }
    }

    fn draft(body: &str) -> Draft {
        Draft {
            subject: "Your demo".into(),
            body: body.into(),
        }
    }

    const GOOD: &str = "Hi Ana,\n\nHere is our case study: https://drive.google.com/file/d/abc/view.\n\nThanks again.\n\nWould one of these times work for you?\n\nBest regards,\nSam";

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
        let formal = VoiceProfile {
            contractions: false,
            ..VoiceProfile::default()
        };
        assert!(
            check(
                &draft(&GOOD.replace("Thanks again.", "We're glad.")),
                &formal,
                &allowed()
            )
            .contains(&Violation::Contraction("We're".into()))
        );
        let cases = [
            (GOOD.replace("Ana,", "{{ first_name }},"), "placeholder"),
            (
                GOOD.replace("Thanks again.", "Best, [COMPANY NAME]"),
                "placeholder",
            ),
            (
                GOOD.replace("drive.google.com/file/d/abc/view", "evil.example/pricing"),
                "link_not_allowed",
            ),
            (
                GOOD.replace("Thanks again.", "Write to ceo@competitor.example"),
                "email_address",
            ),
            (
                GOOD.replace("Thanks again.", "We guarantee results."),
                "prohibited_word",
            ),
            (
                GOOD.replace("Thanks again.", "Great!"),
                "prohibited_punctuation",
            ),
            (
                GOOD.replace("Thanks again.", "Or pick a time here."),
                "calls_to_action",
            ),
            (
                GOOD.replace("Would one of these times work for you?", ""),
                "calls_to_action",
            ),
            (GOOD.replace("Hi Ana,", "Hi Anna,"), "greeting"),
            (
                GOOD.replace("Thanks again.", "It costs $499 per seat."),
                "unsupported_figure",
            ),
            (format!("{GOOD}{}", "x".repeat(2000)), "length"),
            (
                GOOD.replace("Thanks again.", "We could meet on Friday 14 Nov."),
                "unsupported_date",
            ),
            (
                GOOD.replace("Thanks again.", "We are the industry-leading platform."),
                "unsupported_claim",
            ),
            (GOOD.replace("Best regards,", "Cheers,"), "sign_off"),
            (
                GOOD.replace("Thanks again.", "I am sorry you ran into trouble."),
                "apology",
            ),
            (
                GOOD.replace("Thanks again.", "We apologise for the inconvenience."),
                "apology",
            ),
            (
                GOOD.replace("Thanks again.", "申し訳ありません。"),
                "apology",
            ),
            (
                GOOD.replace("Thanks again.", &"word ".repeat(45)),
                "sentence_length",
            ),
            (
                GOOD.replace(
                    "Thanks again.",
                    "One. Two two. Three three. Four four. Five five.",
                ),
                "paragraph_length",
            ),
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
    fn an_apology_passes_only_when_a_problem_was_reported() {
        let sorry = draft(&GOOD.replace("Thanks again.", "I am sorry about the trouble."));
        let mut allowed = allowed();
        assert_eq!(
            check(&sorry, &VoiceProfile::default(), &allowed),
            vec![Violation::Apology("sorry".into())]
        );
        allowed.problem_reported = true;
        assert_eq!(check(&sorry, &VoiceProfile::default(), &allowed), vec![]);
    }

    #[test]
    fn figures_from_the_context_are_allowed() {
        let body = GOOD.replace("Thanks again.", "As discussed, the plan is $499 per seat.");
        let mut allowed = allowed();
        assert!(!check(&draft(&body), &VoiceProfile::default(), &allowed).is_empty());
        allowed.facts.push("Team plan: $499 per seat".into());
        let dated = GOOD.replace("Thanks again.", "Tue 3 Nov, 10:00 works.");
        assert!(!check(&draft(&dated), &VoiceProfile::default(), &allowed).is_empty());
        allowed
            .facts
            .push("Tue 3 Nov, 10:00–10:30 EST (America/New_York)".into());
        assert_eq!(
            check(&draft(&dated), &VoiceProfile::default(), &allowed),
            vec![]
        );
        assert_eq!(
            check(&draft(&body), &VoiceProfile::default(), &allowed),
            vec![]
        );
    }
}
