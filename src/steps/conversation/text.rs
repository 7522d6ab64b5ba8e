//! Reading earlier mail: the plain-text body of a Gmail message, with quoted
//! replies, forwarded headers, signatures and sign-offs cut away, and an
//! extractive summary (the sentences that carry the most of the message's own
//! words, questions first among equals), plus the word overlap used to pick the
//! thread most relevant to a lead.

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};

use crate::connectors::gmail::MessagePart;

/// Gmail's base64url, with or without padding.
const BASE64URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The first `text/plain` body in the message's part tree.
pub fn plain_body(part: &MessagePart) -> Option<String> {
    let is_text = part
        .mime_type
        .as_deref()
        .is_none_or(|m| m.eq_ignore_ascii_case("text/plain"));
    if is_text
        && let Some(data) = part.body.as_ref().and_then(|b| b.data.as_deref())
        && let Ok(bytes) = BASE64URL.decode(data.trim())
    {
        return Some(String::from_utf8_lossy(&bytes).replace("\r\n", "\n"));
    }
    part.parts.iter().find_map(plain_body)
}

const SIGN_OFFS: &[&str] = &[
    "best",
    "best regards",
    "regards",
    "kind regards",
    "warm regards",
    "thanks",
    "thank you",
    "many thanks",
    "cheers",
    "sincerely",
    "all the best",
    "viele grüße",
    "beste grüße",
    "mit freundlichen grüßen",
    "gruß",
    "grüße",
    "cordialement",
    "saludos",
    "un saludo",
];

fn is_sign_off(line: &str) -> bool {
    let l = line.trim().trim_end_matches([',', '!', '.']).to_lowercase();
    SIGN_OFFS.contains(&l.as_str())
}

fn is_greeting(line: &str) -> bool {
    let l = line.trim();
    let words = l.split_whitespace().count();
    let lower = l.to_lowercase();
    (1..=4).contains(&words)
        && l.ends_with([',', '!'])
        && [
            "hi", "hello", "hey", "dear", "hallo", "guten", "bonjour", "hola", "good",
        ]
        .iter()
        .any(|g| lower.starts_with(g))
}

/// The new text of a message: no quoted lines, nothing after "On … wrote:" or an
/// "Original Message" / forwarded header, no signature after `-- `, no greeting
/// line, and nothing from the sign-off on.
pub fn new_text(body: &str) -> String {
    let mut kept: Vec<&str> = Vec::new();
    for line in body.lines() {
        let t = line.trim();
        let lower = t.to_lowercase();
        let quote_header = (lower.starts_with("on ") && lower.ends_with("wrote:"))
            || (lower.starts_with("am ") && lower.ends_with("schrieb:"))
            || lower.starts_with("-----original message")
            || lower.starts_with("---------- forwarded message")
            || (lower.starts_with("from:") && kept.iter().any(|k| k.trim().is_empty()));
        if quote_header || line == "-- " || t == "--" || t == "__" {
            break;
        }
        if t.starts_with('>') {
            continue;
        }
        if is_sign_off(t) {
            break;
        }
        kept.push(line);
    }
    while kept
        .first()
        .is_some_and(|l| l.trim().is_empty() || is_greeting(l))
    {
        kept.remove(0);
    }
    kept.join("\n").trim().to_string()
}

/// Content words, lower-cased, a plural `s` dropped.
pub fn words(text: &str) -> Vec<String> {
    const STOP: &[&str] = &[
        "the", "and", "for", "you", "your", "our", "with", "are", "can", "could", "would", "will",
        "this", "that", "have", "has", "from", "about", "what", "how", "when", "then", "there",
        "they", "them", "was", "were", "been", "its", "also", "just", "any", "some", "all", "not",
        "but", "out", "over", "into", "let", "know", "thanks", "thank", "please", "hi", "hello",
        "happy", "send", "need", "want", "like", "more",
    ];
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 3 && !STOP.contains(w))
        .map(|w| {
            w.strip_suffix('s')
                .filter(|s| s.len() >= 3)
                .unwrap_or(w)
                .to_string()
        })
        .collect()
}

fn sentences(text: &str) -> Vec<String> {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out = Vec::new();
    let mut current = String::new();
    let chars: Vec<char> = flat.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        current.push(*c);
        let ends =
            matches!(c, '.' | '!' | '?') && chars.get(i + 1).is_none_or(|n| n.is_whitespace());
        if ends {
            out.push(std::mem::take(&mut current).trim().to_string());
        }
    }
    if !current.trim().is_empty() {
        out.push(current.trim().to_string());
    }
    out.retain(|s| !s.is_empty());
    out
}

/// At most `max_sentences` sentences (in their original order) that carry the
/// most of the text's recurring words; questions and the opening sentence get a
/// small lift, since that is where asks and context usually sit. Bounded to
/// `max_chars` at a word boundary.
pub fn summarise(text: &str, max_sentences: usize, max_chars: usize) -> String {
    let all = sentences(text);
    if all.is_empty() {
        return String::new();
    }
    let mut freq: BTreeMap<String, f64> = BTreeMap::new();
    for w in words(text) {
        *freq.entry(w).or_default() += 1.0;
    }
    let mut scored: Vec<(f64, usize)> = all
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let ws: BTreeSet<String> = words(s).into_iter().collect();
            let weight: f64 = ws.iter().map(|w| freq.get(w).copied().unwrap_or(0.0)).sum();
            let mut score = weight / (ws.len() as f64 + 1.0).sqrt();
            if s.ends_with('?') {
                score += 1.0;
            }
            if i == 0 {
                score += 0.5;
            }
            (score, i)
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut chosen: Vec<usize> = scored.iter().take(max_sentences).map(|(_, i)| *i).collect();
    chosen.sort_unstable();
    let joined = chosen
        .iter()
        .map(|i| all[*i].as_str())
        .collect::<Vec<_>>()
        .join(" ");
    if joined.chars().count() <= max_chars {
        return joined;
    }
    let mut out = String::new();
    for w in joined.split_whitespace() {
        if out.chars().count() + w.chars().count() + 2 > max_chars {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    out.push('…');
    out
}

/// How many distinct lead words appear in the thread's text.
pub fn overlap(lead_words: &BTreeSet<String>, thread_text: &str) -> usize {
    let thread: BTreeSet<String> = words(thread_text).into_iter().collect();
    lead_words.intersection(&thread).count()
}

/// Drive and Docs links: the file id after `/d/` or in `id=`.
static DRIVE_LINK: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(
        r"(?i)https?://(?:drive|docs)\.google\.com/[^\s<>\x22]*?(?:/d/|[?&]id=)([A-Za-z0-9_-]{10,})",
    )
    .expect("valid pattern")
});

/// The Drive files linked in these bodies, each once, in order of appearance.
pub fn drive_file_ids(bodies: impl Iterator<Item = String>) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for body in bodies {
        for found in DRIVE_LINK.captures_iter(&body) {
            let id = found[1].to_string();
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    ids
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connectors::gmail::PartBody;

    const REPLY: &str = "Hi Maya,\n\nThanks for the slides. Our COO wants to see the staffing forecast for the Denver clinics before budget week. Could we meet on Thursday?\n\nBest,\nLaura\n\nOn Tue, 3 Nov 2026, Maya Chen wrote:\n> Here is the deck.\n> Maya\n";

    #[test]
    fn quoted_text_greeting_and_sign_off_are_cut() {
        let text = new_text(REPLY);
        assert!(text.starts_with("Thanks for the slides."), "{text}");
        assert!(text.ends_with("Could we meet on Thursday?"), "{text}");
        assert!(!text.contains("deck") && !text.contains("Laura"), "{text}");
        let signed = "Numbers attached.\n-- \nLaura Martinez | +1 555 0100";
        assert_eq!(new_text(signed), "Numbers attached.");
    }

    #[test]
    fn the_summary_keeps_the_ask() {
        let text = "We run 14 clinics. Overtime costs us a lot every winter. The COO wants the staffing forecast numbers. Can you show the staffing forecast for our clinics next week? Parking is free.";
        let summary = summarise(text, 2, 280);
        assert!(
            summary.contains("Can you show the staffing forecast"),
            "{summary}"
        );
        assert!(!summary.contains("Parking"), "{summary}");
        let short = summarise(text, 2, 40);
        assert!(
            short.chars().count() <= 40 && short.ends_with('…'),
            "{short}"
        );
    }

    #[test]
    fn bodies_are_found_in_nested_parts() {
        let part = MessagePart {
            mime_type: Some("multipart/alternative".into()),
            parts: vec![
                MessagePart {
                    mime_type: Some("text/html".into()),
                    body: Some(PartBody {
                        size: None,
                        data: Some(BASE64URL.encode("<p>x</p>")),
                    }),
                    ..MessagePart::default()
                },
                MessagePart {
                    mime_type: Some("text/plain".into()),
                    body: Some(PartBody {
                        size: None,
                        data: Some(BASE64URL.encode("plain\r\ntext")),
                    }),
                    ..MessagePart::default()
                },
            ],
            ..MessagePart::default()
        };
        assert_eq!(plain_body(&part).as_deref(), Some("plain\ntext"));
    }

    #[test]
    fn drive_links_in_any_shape_give_their_file_ids_once() {
        let bodies = [
            "See https://drive.google.com/file/d/1CaseStudyAbc_-9/view?usp=sharing and\n\
             > https://docs.google.com/document/d/1DocXyz0123456/edit"
                .to_string(),
            "again: https://drive.google.com/open?id=1CaseStudyAbc_-9, \
             https://example.com/d/1NotDrive000000 and https://drive.google.com/drive/folders"
                .to_string(),
        ];
        assert_eq!(
            drive_file_ids(bodies.into_iter()),
            vec!["1CaseStudyAbc_-9".to_string(), "1DocXyz0123456".to_string()]
        );
    }
}
