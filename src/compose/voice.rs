//! A rep's voice: how they greet, sign off and sign, what they never write, and
//! how many slots they offer. The composer applies it; the guardrails enforce it.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct VoiceProfile {
    /// Greeting with `{name}` for the prospect's first name, e.g. `Hi {name},`.
    pub greeting: String,
    /// Greeting when the name is unknown.
    pub greeting_no_name: String,
    pub sign_off: String,
    /// The rep's signature block, several lines allowed.
    pub signature: String,
    /// Use contractions ("I'm", "we'll") or not ("I am", "we will").
    pub contractions: bool,
    /// Words the rep never uses (matched case-insensitively as whole words).
    pub prohibited_words: Vec<String>,
    /// Characters the rep never uses, e.g. `!`.
    pub prohibited_punctuation: Vec<String>,
    pub slots_offered: usize,
}

impl Default for VoiceProfile {
    fn default() -> Self {
        VoiceProfile {
            greeting: "Hi {name},".into(),
            greeting_no_name: "Hi there,".into(),
            sign_off: "Best regards,".into(),
            signature: String::new(),
            contractions: true,
            prohibited_words: vec!["synergy".into(), "guarantee".into(), "cheap".into()],
            prohibited_punctuation: Vec::new(),
            slots_offered: 3,
        }
    }
}

impl VoiceProfile {
    /// The greeting line for `first_name` (already cleaned by validation).
    pub fn greet(&self, first_name: Option<&str>) -> String {
        match first_name.map(proper_case).filter(|n| !n.is_empty()) {
            Some(name) => self.greeting.replace("{name}", &name),
            None => self.greeting_no_name.clone(),
        }
    }

    /// Applies the contraction habit to text the composer wrote.
    pub fn apply_contractions(&self, text: &str) -> String {
        const PAIRS: &[(&str, &str)] = &[
            ("I am", "I'm"),
            ("we will", "we'll"),
            ("We will", "We'll"),
            ("I will", "I'll"),
            ("do not", "don't"),
            ("it is", "it's"),
            ("It is", "It's"),
            ("you are", "you're"),
            ("that is", "that's"),
            ("I would", "I'd"),
            ("we are", "we're"),
            ("We are", "We're"),
        ];
        let mut out = text.to_string();
        for (long, short) in PAIRS {
            out = if self.contractions {
                out.replace(long, short)
            } else {
                out.replace(short, long)
            };
        }
        out
    }
}

/// Names as people write them: an all-lower or all-upper name gets a capital per
/// part (`josé maría` → `José María`, `O'NEIL` → `O'Neil`); mixed case is kept
/// (`McKenzie`, `van der Berg`).
pub fn proper_case(name: &str) -> String {
    let name = name.trim();
    let letters: Vec<char> = name.chars().filter(|c| c.is_alphabetic()).collect();
    let uniform =
        letters.iter().all(|c| c.is_lowercase()) || letters.iter().all(|c| c.is_uppercase());
    if !uniform {
        return name.to_string();
    }
    let mut out = String::with_capacity(name.len());
    let mut start_of_part = true;
    for ch in name.chars() {
        if start_of_part {
            out.extend(ch.to_uppercase());
        } else {
            out.extend(ch.to_lowercase());
        }
        start_of_part = matches!(ch, ' ' | '-' | '\'');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greetings_use_the_name_as_people_write_it() {
        let voice = VoiceProfile::default();
        assert_eq!(voice.greet(Some("josé maría")), "Hi José María,");
        assert_eq!(voice.greet(Some("ZOË")), "Hi Zoë,");
        assert_eq!(voice.greet(Some("O'NEIL")), "Hi O'Neil,");
        assert_eq!(voice.greet(Some("McKenzie")), "Hi McKenzie,");
        assert_eq!(voice.greet(Some("anne-marie")), "Hi Anne-Marie,");
        assert_eq!(voice.greet(None), "Hi there,");
        assert_eq!(voice.greet(Some("  ")), "Hi there,");
    }

    #[test]
    fn contractions_follow_the_reps_habit() {
        let casual = VoiceProfile::default();
        let formal = VoiceProfile {
            contractions: false,
            ..VoiceProfile::default()
        };
        assert_eq!(
            casual.apply_contractions("I am glad we will talk"),
            "I'm glad we'll talk"
        );
        assert_eq!(
            formal.apply_contractions("I'm glad we'll talk"),
            "I am glad we will talk"
        );
    }
}
