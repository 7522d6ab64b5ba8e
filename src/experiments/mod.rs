//! A/B experiments on the reply: each experiment has variants that replace the
//! subject, the opening paragraph or the call to action. A contact's variant is a
//! pure function of the experiment id and their address (so every workflow for
//! them agrees), recorded once in `experiment_assignments`; outcomes (a reply in
//! the thread, a meeting on the rep's calendar) are found later by `outcomes`,
//! and `stats` turns per-variant counts into a significance figure.
//!
//! ```text
//! mod.rs       validation, assignment (hash), apply_variant (pure); the compose
//!              step applies them (`steps::variants`)
//! outcomes.rs  the outcome check (Gmail thread, Calendar events)
//! results.rs   per-variant counts, rates and significance
//! stats.rs     two-proportion z-test and chi-square
//! ```

pub mod outcomes;
pub mod results;
pub mod stats;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use crate::domain::{Element, Variant};

/// An experiment's mark on one reply, kept in the compose step's output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedExperiment {
    pub assignment_id: String,
    pub experiment_id: String,
    pub variant: String,
    /// The elements the variant actually replaced (may be none: e.g. a subject
    /// variant on a threaded reply).
    pub applied: Vec<Element>,
}

/// Checks a set of variants an admin submits: 2–10 uniquely named arms, sane
/// weights, bounded single-paragraph texts, at least one arm changing something.
pub fn validate(variants: &[Variant]) -> Result<(), String> {
    if !(2..=10).contains(&variants.len()) {
        return Err("an experiment needs 2–10 variants".into());
    }
    let mut names: Vec<&str> = variants.iter().map(|v| v.name.trim()).collect();
    names.sort_unstable();
    names.dedup();
    if names.len() != variants.len() {
        return Err("variant names must be unique".into());
    }
    for v in variants {
        let name_len = v.name.trim().chars().count();
        if name_len == 0 || name_len > 40 {
            return Err("a variant name has 1–40 characters".into());
        }
        if !(1..=1000).contains(&v.weight) {
            return Err(format!("variant {}: weight must be 1–1000", v.name));
        }
        for (field, text, max) in [
            ("subject", &v.subject, 150),
            ("opening", &v.opening, 600),
            ("call_to_action", &v.call_to_action, 300),
        ] {
            let Some(text) = text else { continue };
            let len = text.trim().chars().count();
            if len == 0 || len > max {
                return Err(format!(
                    "variant {}: {field} has 1–{max} characters",
                    v.name
                ));
            }
            if text.contains(['\r', '\n']) {
                return Err(format!("variant {}: {field} must be one line", v.name));
            }
        }
    }
    if variants.iter().all(|v| v.elements().is_empty()) {
        return Err(
            "at least one variant must change the subject, opening or call to action".into(),
        );
    }
    Ok(())
}

/// A stable 64-bit bucket for (experiment, contact): the first 8 bytes of
/// SHA-256 over the experiment id and the normalised address.
pub fn bucket(experiment_id: &str, email: &str) -> u64 {
    let mut hash = Sha256::new();
    hash.update(experiment_id.as_bytes());
    hash.update([0]);
    hash.update(email.trim().to_lowercase().as_bytes());
    let digest = hash.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first)
}

/// The contact's variant: the bucket modulo the total weight picks an arm, so
/// the same contact always gets the same variant of the same experiment.
pub fn assign<'a>(
    experiment_id: &str,
    email: &str,
    variants: &'a [Variant],
) -> Option<&'a Variant> {
    let total: u64 = variants.iter().map(|v| u64::from(v.weight)).sum();
    if total == 0 {
        return None;
    }
    let mut point = bucket(experiment_id, email) % total;
    for v in variants {
        let w = u64::from(v.weight);
        if point < w {
            return Some(v);
        }
        point -= w;
    }
    None
}

/// Facts a variant's text may name as `{first_name}`, `{company}`, `{rep_name}`.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub first_name: Option<String>,
    pub company: Option<String>,
    pub rep_name: String,
}

/// Fills the placeholders; `None` when one names a fact we do not have (the
/// element is then left as the composer wrote it rather than half-filled).
fn fill(text: &str, facts: &Facts) -> Option<String> {
    let mut out = text.trim().to_string();
    for (key, value) in [
        ("{first_name}", facts.first_name.as_deref()),
        ("{company}", facts.company.as_deref()),
        ("{rep_name}", Some(facts.rep_name.as_str())),
    ] {
        if out.contains(key) {
            let value = value.map(str::trim).filter(|v| !v.is_empty())?;
            out = out.replace(key, value);
        }
    }
    Some(out)
}

/// Applies `variant` to a composed reply and returns the elements it changed.
///
/// The body is read as paragraphs separated by blank lines: the first is the
/// greeting, the second the opening; the call to action is the last line that
/// asks a question. A threaded reply keeps its `Re:` subject, because Gmail
/// threads only on a matching subject.
pub fn apply_variant(
    subject: &mut String,
    body: &mut String,
    variant: &Variant,
    facts: &Facts,
) -> Vec<Element> {
    let mut applied = Vec::new();
    if let Some(text) = variant.subject.as_deref().and_then(|t| fill(t, facts))
        && !subject.trim_start().to_ascii_lowercase().starts_with("re:")
    {
        *subject = text;
        applied.push(Element::Subject);
    }
    let mut paragraphs: Vec<String> = body.split("\n\n").map(str::to_string).collect();
    if let Some(text) = variant.opening.as_deref().and_then(|t| fill(t, facts))
        && paragraphs.len() > 2
    {
        paragraphs[1] = text;
        applied.push(Element::Opening);
    }
    if let Some(text) = variant
        .call_to_action
        .as_deref()
        .and_then(|t| fill(t, facts))
    {
        let question = paragraphs
            .iter_mut()
            .enumerate()
            .skip(1)
            .rev()
            .find_map(|(_, p)| {
                let lines: Vec<&str> = p.lines().collect();
                let at = lines.iter().rposition(|l| l.trim_end().ends_with('?'))?;
                Some((p, at))
            });
        if let Some((paragraph, at)) = question {
            let mut lines: Vec<String> = paragraph.lines().map(str::to_string).collect();
            lines[at] = text;
            *paragraph = lines.join("\n");
            applied.push(Element::CallToAction);
        }
    }
    *body = paragraphs.join("\n\n");
    applied
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variant(name: &str) -> Variant {
        Variant {
            name: name.into(),
            weight: 1,
            subject: None,
            opening: None,
            call_to_action: None,
        }
    }

    #[test]
    fn assignment_is_deterministic_per_contact_and_spreads_over_variants() {
        let variants = [variant("a"), variant("b")];
        let first = assign("exp-1", "Ana@Example.com", &variants).unwrap();
        for _ in 0..5 {
            assert_eq!(
                assign("exp-1", " ana@example.com ", &variants).unwrap(),
                first
            );
        }
        let mut counts = [0usize; 2];
        for i in 0..2000 {
            let v = assign("exp-1", &format!("lead{i}@example.org"), &variants).unwrap();
            counts[usize::from(v.name == "b")] += 1;
        }
        // A fair split within a few standard deviations (sd ≈ 22 for n = 2000).
        assert!(
            counts.iter().all(|c| (900..=1100).contains(c)),
            "{counts:?}"
        );
        // Another experiment shuffles contacts independently.
        let moved = (0..200)
            .filter(|i| {
                let email = format!("lead{i}@example.org");
                assign("exp-1", &email, &variants) != assign("exp-2", &email, &variants)
            })
            .count();
        assert!((60..=140).contains(&moved), "{moved}");
    }

    #[test]
    fn weights_shift_the_split() {
        let mut heavy = variant("heavy");
        heavy.weight = 3;
        let variants = [heavy, variant("light")];
        let heavy_share = (0..4000)
            .filter(|i| assign("w", &format!("p{i}@x.org"), &variants).unwrap().name == "heavy")
            .count();
        assert!((2850..=3150).contains(&heavy_share), "{heavy_share}");
    }

    const BODY: &str = "Hi Ana,\n\nThank you for asking for a demo.\n\nHere are a few times:\n- Tue 10:00\n\nWould one of these times work for you?\n\nBest,\nMaya";

    #[test]
    fn a_variant_replaces_subject_opening_and_question_and_nothing_else() {
        let mut v = variant("b");
        v.subject = Some("{first_name}, your demo of Northwind".into());
        v.opening = Some("Thanks for reaching out from {company}.".into());
        v.call_to_action = Some("Which of these suits you best?".into());
        let facts = Facts {
            first_name: Some("Ana".into()),
            company: Some("Acme".into()),
            rep_name: "Maya".into(),
        };
        let (mut subject, mut body) = ("Your demo".to_string(), BODY.to_string());
        let applied = apply_variant(&mut subject, &mut body, &v, &facts);
        assert_eq!(
            applied,
            [Element::Subject, Element::Opening, Element::CallToAction]
        );
        assert_eq!(subject, "Ana, your demo of Northwind");
        assert_eq!(
            body,
            "Hi Ana,\n\nThanks for reaching out from Acme.\n\nHere are a few times:\n- Tue 10:00\n\nWhich of these suits you best?\n\nBest,\nMaya"
        );
    }

    #[test]
    fn a_threaded_subject_and_missing_facts_are_left_alone() {
        let mut v = variant("b");
        v.subject = Some("New subject".into());
        v.opening = Some("Hello from {company}.".into());
        let (mut subject, mut body) = ("Re: Fleet pilot".to_string(), BODY.to_string());
        let applied = apply_variant(&mut subject, &mut body, &v, &Facts::default());
        assert!(applied.is_empty());
        assert_eq!(subject, "Re: Fleet pilot");
        assert_eq!(body, BODY);
    }

    #[test]
    fn validation_refuses_bad_experiments() {
        assert!(validate(&[variant("a")]).is_err(), "one arm");
        assert!(
            validate(&[variant("a"), variant("a")]).is_err(),
            "duplicate names"
        );
        assert!(
            validate(&[variant("a"), variant("b")]).is_err(),
            "nothing changes"
        );
        let mut b = variant("b");
        b.subject = Some("Line\nbreak".into());
        assert!(validate(&[variant("a"), b.clone()]).is_err());
        b.subject = Some("Fine".into());
        assert!(validate(&[variant("a"), b]).is_ok());
    }
}
