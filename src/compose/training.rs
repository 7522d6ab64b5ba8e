//! Training a voice profile from the rep's sent mail, by counting — no model
//! needed: the greeting and sign-off they use most, how long their sentences and
//! paragraphs run, how often they contract, whether they ever exclaim, and the
//! phrases they keep coming back to. Quoted replies are ignored.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use super::voice::{Formality, Tone, VoiceProfile};

/// What the counting found, returned beside the profile so an admin can see why.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TrainingStats {
    pub messages: usize,
    /// Greeting patterns (`Hi {name},`) and how many messages opened with each.
    pub greetings: BTreeMap<String, usize>,
    pub sign_offs: BTreeMap<String, usize>,
    pub mean_sentence_words: f64,
    pub p90_sentence_words: usize,
    pub max_paragraph_sentences: usize,
    /// Contractions / (contractions + spelled-out forms); `None` when neither occurs.
    pub contraction_rate: Option<f64>,
    pub exclamations_per_message: f64,
    pub phrases: Vec<String>,
}

const OPENERS: &[&str] = &[
    "good morning",
    "good afternoon",
    "hi",
    "hello",
    "hey",
    "dear",
    "hallo",
    "greetings",
];
const SIGN_OFFS: &[&str] = &[
    "best",
    "best regards",
    "kind regards",
    "warm regards",
    "regards",
    "cheers",
    "thanks",
    "many thanks",
    "thank you",
    "talk soon",
    "all the best",
    "sincerely",
    "yours sincerely",
    "viele grüße",
    "beste grüße",
];
/// Spelled-out forms that have a common contraction.
const EXPANDED: &[&str] = &[
    "i am", "we will", "i will", "do not", "does not", "it is", "you are", "that is", "i would",
    "we are", "can not", "cannot", "i have", "we have", "let us", "is not", "are not", "will not",
];

static CONTRACTION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\b[a-z]+['’](?:m|re|ll|ve|d|s|t)\b").expect("valid regex"));
static SENTENCE_END: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[.!?]+(?:\s+|$)").expect("valid regex"));
static URL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\b(?:https?://|www\.)\S+").expect("valid regex"));

/// One sent message split into its parts.
struct Parsed {
    greeting: Option<String>,
    sign_off: Option<String>,
    paragraphs: Vec<Vec<String>>,
}

/// Derives a profile from `bodies` (plain text of sent messages), starting from
/// `base` for what mail cannot tell (signature, prohibited words, slots offered).
pub fn train(base: &VoiceProfile, bodies: &[String]) -> (VoiceProfile, TrainingStats) {
    let parsed: Vec<Parsed> = bodies.iter().map(|b| parse(b)).collect();
    let mut stats = TrainingStats {
        messages: parsed.len(),
        ..TrainingStats::default()
    };
    for p in &parsed {
        if let Some(g) = &p.greeting {
            *stats.greetings.entry(g.clone()).or_default() += 1;
        }
        if let Some(s) = &p.sign_off {
            *stats.sign_offs.entry(s.clone()).or_default() += 1;
        }
    }
    let sentences: Vec<&String> = parsed
        .iter()
        .flat_map(|p| p.paragraphs.iter().flatten())
        .collect();
    let mut lengths: Vec<usize> = sentences
        .iter()
        .map(|s| s.split_whitespace().count())
        .collect();
    lengths.sort_unstable();
    if !lengths.is_empty() {
        stats.mean_sentence_words = lengths.iter().sum::<usize>() as f64 / lengths.len() as f64;
        stats.p90_sentence_words = lengths[(lengths.len() * 9 / 10).min(lengths.len() - 1)];
    }
    stats.max_paragraph_sentences = parsed
        .iter()
        .flat_map(|p| p.paragraphs.iter().map(Vec::len))
        .max()
        .unwrap_or(0);
    let text: String = sentences
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let lower = text.to_lowercase();
    let contracted = CONTRACTION.find_iter(&text).count();
    let expanded: usize = EXPANDED
        .iter()
        .map(|e| {
            Regex::new(&format!(r"\b{e}\b"))
                .map(|re| re.find_iter(&lower).count())
                .unwrap_or(0)
        })
        .sum();
    stats.contraction_rate =
        (contracted + expanded > 0).then(|| contracted as f64 / (contracted + expanded) as f64);
    let exclamations = bodies.iter().map(|b| b.matches('!').count()).sum::<usize>();
    stats.exclamations_per_message = exclamations as f64 / parsed.len().max(1) as f64;
    stats.phrases = recurring_phrases(&parsed);

    let mut profile = base.clone();
    let (named, unnamed): (Vec<_>, Vec<_>) = stats
        .greetings
        .iter()
        .partition(|(g, _)| g.contains("{name}"));
    if let Some(g) = most_frequent(named) {
        profile.greeting = g;
    }
    if let Some(g) = most_frequent(unnamed) {
        profile.greeting_no_name = g;
    }
    if let Some(s) = most_frequent(stats.sign_offs.iter().collect()) {
        profile.sign_off = s;
    }
    if let Some(rate) = stats.contraction_rate {
        profile.contractions = rate >= 0.5;
    }
    if !lengths.is_empty() {
        // A ceiling, not a target: generous above what the rep writes.
        profile.max_sentence_words = (stats.p90_sentence_words * 3 / 2).clamp(30, 60);
        profile.max_paragraph_sentences = stats.max_paragraph_sentences.clamp(3, 10);
    }
    if parsed.len() >= 3
        && exclamations == 0
        && !profile.prohibited_punctuation.contains(&"!".into())
    {
        profile.prohibited_punctuation.push("!".into());
    }
    let greeting = profile.greeting.to_lowercase();
    profile.formality = if greeting.starts_with("dear") || !profile.contractions {
        Formality::Formal
    } else if greeting.starts_with("hey") {
        Formality::Casual
    } else {
        Formality::Standard
    };
    profile.tone = if stats.exclamations_per_message >= 0.5 {
        Tone::Friendly
    } else if stats.mean_sentence_words > 0.0 && stats.mean_sentence_words < 9.0 {
        Tone::Direct
    } else {
        Tone::Neutral
    };
    profile.phrases = stats.phrases.clone();
    (profile, stats)
}

/// The most frequent entry; ties go to the alphabetically first, so training is
/// deterministic.
fn most_frequent(entries: Vec<(&String, &usize)>) -> Option<String> {
    entries
        .into_iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .map(|(g, _)| g.clone())
}

fn parse(body: &str) -> Parsed {
    // Stop at the quoted message a reply carries.
    let mut lines: Vec<&str> = Vec::new();
    for line in body.lines() {
        let t = line.trim();
        if t.starts_with('>') || (t.starts_with("On ") && t.ends_with("wrote:")) {
            break;
        }
        lines.push(t);
    }
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    let start = lines
        .iter()
        .position(|l| !l.is_empty())
        .unwrap_or(lines.len());
    let greeting = lines.get(start).and_then(|l| greeting_pattern(l));
    let first_body = if greeting.is_some() { start + 1 } else { start };
    // The sign-off is one of the last three lines: short, ending in a comma or a
    // known closing; what follows it is the name and signature.
    let tail_from = lines.len().saturating_sub(3).max(first_body);
    let sign_off_at = (tail_from..lines.len()).find(|&i| is_sign_off(lines[i]));
    let sign_off = sign_off_at.map(|i| lines[i].to_string());
    let body_end = sign_off_at.unwrap_or(lines.len());
    let mut paragraphs = Vec::new();
    for block in lines[first_body.min(body_end)..body_end].split(|l| l.is_empty()) {
        let text = block.join(" ");
        let text = URL.replace_all(&text, "");
        let sentences: Vec<String> = SENTENCE_END
            .split(&text)
            .map(str::trim)
            .filter(|s| s.split_whitespace().count() >= 2)
            .map(str::to_string)
            .collect();
        if !sentences.is_empty() {
            paragraphs.push(sentences);
        }
    }
    Parsed {
        greeting,
        sign_off,
        paragraphs,
    }
}

/// `Hi Laura,` → `Hi {name},`; `Hello,` → `Hello,`; anything else → `None`.
fn greeting_pattern(line: &str) -> Option<String> {
    let lower = line.to_lowercase();
    let opener = OPENERS.iter().find(|o| {
        lower.starts_with(*o)
            && lower[o.len()..]
                .chars()
                .next()
                .is_none_or(|c| !c.is_alphanumeric())
    })?;
    let words = line.split_whitespace().count();
    if words > 5 {
        return None;
    }
    let (head, rest) = line.split_at(opener.len());
    let punctuation: String = rest
        .trim_end()
        .chars()
        .rev()
        .take_while(|c| matches!(c, ',' | '!' | '.' | ':'))
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let name = rest.trim().trim_end_matches([',', '!', '.', ':']).trim();
    Some(
        if name.is_empty() || name.eq_ignore_ascii_case("there") || name.eq_ignore_ascii_case("all")
        {
            format!("{head}{rest}").trim().to_string()
        } else {
            format!("{head} {{name}}{punctuation}")
        },
    )
}

fn is_sign_off(line: &str) -> bool {
    let bare = line.trim_end_matches([',', '.', '!']).trim().to_lowercase();
    !bare.is_empty()
        && (SIGN_OFFS.contains(&bare.as_str())
            || (line.ends_with(',') && line.split_whitespace().count() <= 3))
}

/// Word sequences of 3–5 words found in at least two messages, longest first,
/// none inside another kept one; at most eight.
fn recurring_phrases(parsed: &[Parsed]) -> Vec<String> {
    let mut seen_in: BTreeMap<String, BTreeSet<usize>> = BTreeMap::new();
    for (i, p) in parsed.iter().enumerate() {
        for sentence in p.paragraphs.iter().flatten() {
            let words: Vec<String> = sentence
                .split_whitespace()
                .map(|w| {
                    w.trim_matches(|c: char| !c.is_alphanumeric() && c != '\'' && c != '’')
                        .to_lowercase()
                })
                .filter(|w| !w.is_empty())
                .collect();
            for n in 3..=5 {
                for gram in words.windows(n) {
                    seen_in.entry(gram.join(" ")).or_default().insert(i);
                }
            }
        }
    }
    let min = 2.max(parsed.len() / 4);
    let mut candidates: Vec<(String, usize)> = seen_in
        .into_iter()
        .filter(|(_, ids)| ids.len() >= min)
        .map(|(g, ids)| (g, ids.len()))
        .collect();
    candidates.sort_by(|a, b| {
        b.1.cmp(&a.1)
            .then(b.0.split(' ').count().cmp(&a.0.split(' ').count()))
            .then(a.0.cmp(&b.0))
    });
    let mut kept: Vec<String> = Vec::new();
    for (gram, _) in candidates {
        if kept.len() == 8 {
            break;
        }
        if !kept
            .iter()
            .any(|k| k.contains(&gram) || gram.contains(k.as_str()))
        {
            kept.push(gram);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mails(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_casual_writer_gets_their_greeting_sign_off_and_contractions() {
        let (profile, stats) = train(
            &VoiceProfile::default(),
            &mails(&[
                "Hey Laura,\n\nI'm glad you asked! We've got a case study for that.\n\nCheers,\nMaya",
                "Hey Tom,\n\nThat's a great question. I'll send the deck today.\n\nCheers,\nMaya",
                "Hi there,\n\nI'd love to show you around. Happy to walk your team through it.\n\nCheers,\nMaya",
                "Hey Ana,\n\nHappy to walk your team through it. Don't worry about the format.\n\nThanks,\nMaya\n\n> On Monday you wrote: I am interested",
            ]),
        );
        assert_eq!(profile.greeting, "Hey {name},");
        assert_eq!(profile.greeting_no_name, "Hi there,");
        assert_eq!(profile.sign_off, "Cheers,");
        assert!(profile.contractions, "{stats:?}");
        assert_eq!(stats.greetings["Hey {name},"], 3);
        assert_eq!(stats.sign_offs["Cheers,"], 3);
        assert!(
            profile
                .phrases
                .iter()
                .any(|p| p.contains("walk your team through"))
        );
        assert!(!profile.prohibited_punctuation.contains(&"!".into()));
        assert_eq!(profile.formality, Formality::Casual);
    }

    #[test]
    fn a_formal_writer_spells_out_and_never_exclaims() {
        let (profile, stats) = train(
            &VoiceProfile::default(),
            &mails(&[
                "Dear Tobias,\n\nThank you for your message. I am pleased to send the checklist. We will review it together.\n\nKind regards,\nJonas Weber",
                "Dear Ms. Klein,\n\nI would be glad to help. It is no trouble at all.\n\nKind regards,\nJonas Weber",
                "Dear Anna,\n\nI am attaching the report. Please do not hesitate to ask.\n\nBest regards,\nJonas Weber",
            ]),
        );
        assert_eq!(profile.greeting, "Dear {name},");
        assert_eq!(profile.sign_off, "Kind regards,");
        assert!(!profile.contractions);
        assert_eq!(stats.contraction_rate, Some(0.0));
        assert!(profile.prohibited_punctuation.contains(&"!".into()));
        assert_eq!(profile.formality, Formality::Formal);
        assert!(profile.validate().is_ok());
    }

    #[test]
    fn no_mail_leaves_the_base_profile_unchanged_but_for_style_labels() {
        let base = VoiceProfile::default();
        let (profile, stats) = train(&base, &[]);
        assert_eq!(stats.messages, 0);
        assert_eq!(profile.greeting, base.greeting);
        assert_eq!(profile.sign_off, base.sign_off);
        assert_eq!(profile.contractions, base.contractions);
    }
}
