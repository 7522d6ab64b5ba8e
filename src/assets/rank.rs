//! Ranking catalogue files against a lead: Okapi BM25 of the lead's words (their
//! message, industry and the words of their intent) over each file's name,
//! description and tags, plus fixed bonuses when a file's tags name the lead's
//! intent, industry or persona, and a penalty when its intent tags name only
//! other intents. Files without a real Drive link never rank.

use std::collections::{BTreeMap, BTreeSet};

use super::{Tags, is_drive_link};
use crate::domain::Intent;

/// A catalogue file as the ranker sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub file_id: String,
    pub name: String,
    pub description: String,
    pub web_view_link: String,
    pub tags: Tags,
}

/// What is known about the lead.
#[derive(Debug, Clone)]
pub struct LeadProfile<'a> {
    pub intent: Intent,
    pub industry: Option<&'a str>,
    pub job_title: Option<&'a str>,
    pub message: &'a str,
}

const K1: f64 = 1.2;
const B: f64 = 0.75;
const INTENT_BONUS: f64 = 3.0;
const INDUSTRY_BONUS: f64 = 4.0;
const PERSONA_BONUS: f64 = 1.0;
const OTHER_INTENT_PENALTY: f64 = 2.0;

/// Words too common to tell files apart.
const STOP: &[&str] = &[
    "the", "and", "for", "you", "your", "our", "with", "are", "can", "could", "would", "what",
    "how", "this", "that", "have", "from", "about", "we", "us", "a", "an", "to", "of", "in", "on",
    "is", "it", "do", "does", "be", "at", "as", "or", "by", "me", "my", "please", "want", "like",
    "need", "get", "some", "any", "hi", "hello", "thanks",
];

fn tokens(text: &str) -> Vec<String> {
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

/// Words of each intent that material for it tends to carry.
fn intent_words(intent: Intent) -> &'static str {
    match intent {
        Intent::Demo => "overview product demo one-pager platform",
        Intent::Pricing => "pricing plans roi cost",
        Intent::Partnership => "partner integration program",
        Intent::Support => "guide faq help",
        Intent::Question | Intent::Spam => "overview one-pager",
    }
}

fn document(c: &Candidate) -> Vec<String> {
    let mut text = format!("{} {}", c.name, c.description);
    for key in super::TAG_KEYS {
        for v in c.tags.values(key) {
            text.push(' ');
            text.push_str(v);
        }
    }
    tokens(&text)
}

fn overlaps(tag_values: &[String], words: &BTreeSet<String>) -> bool {
    tag_values
        .iter()
        .any(|v| tokens(v).iter().any(|t| words.contains(t)))
}

/// The candidates worth linking, best first, each with its score (> 0).
pub fn rank(candidates: &[Candidate], lead: &LeadProfile<'_>) -> Vec<(f64, Candidate)> {
    let linkable: Vec<&Candidate> = candidates
        .iter()
        .filter(|c| is_drive_link(&c.web_view_link))
        .collect();
    if linkable.is_empty() {
        return Vec::new();
    }
    let docs: Vec<Vec<String>> = linkable.iter().map(|c| document(c)).collect();
    let n = docs.len() as f64;
    let avg_len = docs.iter().map(Vec::len).sum::<usize>() as f64 / n;
    let mut df: BTreeMap<&str, usize> = BTreeMap::new();
    for doc in &docs {
        let unique: BTreeSet<&str> = doc.iter().map(String::as_str).collect();
        for t in unique {
            *df.entry(t).or_default() += 1;
        }
    }
    let industry_words: BTreeSet<String> = tokens(lead.industry.unwrap_or_default())
        .into_iter()
        .collect();
    let persona_words: BTreeSet<String> = tokens(lead.job_title.unwrap_or_default())
        .into_iter()
        .collect();
    // Industry words count three times: material from the prospect's own field
    // matters most.
    // Each word of the message counts once: a message that repeats a word (or is
    // padded to the size bound) must not let that word outweigh the intent.
    let mut query: Vec<String> = tokens(lead.message)
        .into_iter()
        .collect::<BTreeSet<String>>()
        .into_iter()
        .collect();
    query.extend(tokens(intent_words(lead.intent)));
    for _ in 0..3 {
        query.extend(industry_words.iter().cloned());
    }
    let intent = lead.intent.as_str();
    let mut scored: Vec<(f64, Candidate)> = linkable
        .iter()
        .zip(&docs)
        .map(|(c, doc)| {
            let len = doc.len() as f64;
            let bm25: f64 = query
                .iter()
                .map(|q| {
                    let tf = doc.iter().filter(|t| *t == q).count() as f64;
                    if tf == 0.0 {
                        return 0.0;
                    }
                    let d = *df.get(q.as_str()).unwrap_or(&0) as f64;
                    let idf = ((n - d + 0.5) / (d + 0.5) + 1.0).ln();
                    idf * tf * (K1 + 1.0) / (tf + K1 * (1.0 - B + B * len / avg_len.max(1.0)))
                })
                .sum();
            let mut score = bm25;
            if c.tags.intent.iter().any(|i| i == intent) {
                score += INTENT_BONUS;
            } else if !c.tags.intent.is_empty() {
                score -= OTHER_INTENT_PENALTY;
            }
            if overlaps(&c.tags.industry, &industry_words) {
                score += INDUSTRY_BONUS;
            }
            if overlaps(&c.tags.persona, &persona_words) {
                score += PERSONA_BONUS;
            }
            (score, (*c).clone())
        })
        .filter(|(score, _)| *score > 0.0)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.name.cmp(&b.1.name)));
    scored
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(id: &str, name: &str, description: &str, tags: Tags) -> Candidate {
        Candidate {
            file_id: id.into(),
            name: name.into(),
            description: description.into(),
            web_view_link: format!("https://drive.google.com/file/d/{id}/view"),
            tags,
        }
    }

    fn tagged(intent: &[&str], industry: &[&str]) -> Tags {
        Tags {
            intent: intent.iter().map(|s| s.to_string()).collect(),
            industry: industry.iter().map(|s| s.to_string()).collect(),
            ..Tags::default()
        }
    }

    fn catalogue() -> Vec<Candidate> {
        vec![
            file(
                "price",
                "Pricing guide 2026",
                "Plans and ROI for analytics teams",
                tagged(&["pricing"], &[]),
            ),
            file(
                "demo",
                "Platform overview",
                "What the product does, for first calls",
                tagged(&["demo", "question"], &[]),
            ),
            file(
                "health",
                "Case study - Mercy Valley",
                "Hospital staffing forecasts",
                tagged(&[], &["healthcare"]),
            ),
            file(
                "retail",
                "Case study - UrbanMart",
                "Stock-outs in retail stores",
                tagged(&[], &["retail"]),
            ),
            file(
                "partner",
                "Partner program",
                "Embed forecasts via the API",
                tagged(&["partnership"], &[]),
            ),
        ]
    }

    fn ids(ranked: &[(f64, Candidate)]) -> Vec<&str> {
        ranked.iter().map(|(_, c)| c.file_id.as_str()).collect()
    }

    #[test]
    fn a_word_repeated_in_the_message_counts_once() {
        let padded = "We want to embed forecasts. ".repeat(40);
        let demo = LeadProfile {
            intent: Intent::Demo,
            industry: None,
            job_title: None,
            message: &padded,
        };
        let ranked = rank(&catalogue(), &demo);
        assert_eq!(ids(&ranked).first(), Some(&"demo"), "{ranked:?}");
    }

    #[test]
    fn the_stated_intent_and_industry_pick_the_material() {
        let pricing = LeadProfile {
            intent: Intent::Pricing,
            industry: Some("Healthcare"),
            job_title: None,
            message: "What does it cost for 40 clinics?",
        };
        let ranked = rank(&catalogue(), &pricing);
        let mut top: Vec<&str> = ids(&ranked)[..2].to_vec();
        top.sort_unstable();
        assert_eq!(top, ["health", "price"], "{ranked:?}");
        assert!(
            !ids(&ranked).contains(&"partner"),
            "another intent's material is left out"
        );

        let partner = LeadProfile {
            intent: Intent::Partnership,
            industry: None,
            job_title: None,
            message: "Could we embed your forecasts in our product?",
        };
        assert_eq!(ids(&rank(&catalogue(), &partner))[0], "partner");
    }

    #[test]
    fn files_without_a_real_drive_link_never_rank() {
        let mut files = catalogue();
        for f in &mut files {
            f.web_view_link = format!("https://example.com/{}", f.file_id);
        }
        files[0].web_view_link = "https://docs.google.com/spreadsheets/d/price/edit".into();
        let lead = LeadProfile {
            intent: Intent::Pricing,
            industry: Some("retail"),
            job_title: None,
            message: "pricing for retail stores",
        };
        let ranked = rank(&files, &lead);
        assert_eq!(ids(&ranked), ["price"]);
    }
}
