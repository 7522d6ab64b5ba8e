//! A rep's voice: tone and formality, how they greet, sign off and sign, how long
//! their sentences and paragraphs run, what they never write, how they ask for the
//! meeting and how many slots they offer. The composer applies it
//! (`compose::voice`); the guardrails enforce it; the store keeps one per rep.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// How warm the rep sounds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Tone {
    #[default]
    Friendly,
    Neutral,
    Direct,
}

/// How formal the rep writes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Formality {
    Casual,
    #[default]
    Standard,
    Formal,
}

/// How the rep asks for the meeting: a question ("Would one of these times work
/// for you?") or a plain request ("Please pick one of these times.").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CtaStyle {
    #[default]
    Question,
    Request,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct VoiceProfile {
    pub tone: Tone,
    pub formality: Formality,
    /// Greeting with `{name}` for the prospect's first name, e.g. `Hi {name},`.
    pub greeting: String,
    /// Greeting when the name is unknown.
    pub greeting_no_name: String,
    pub sign_off: String,
    /// The rep's signature block, several lines allowed.
    pub signature: String,
    /// Use contractions ("I'm", "we'll") or not ("I am", "we will").
    pub contractions: bool,
    /// Longest sentence the rep writes, in words.
    pub max_sentence_words: usize,
    /// Most sentences in one paragraph.
    pub max_paragraph_sentences: usize,
    /// Words the rep never uses (matched case-insensitively as whole words).
    pub prohibited_words: Vec<String>,
    /// Characters the rep never uses, e.g. `!`.
    pub prohibited_punctuation: Vec<String>,
    pub cta_style: CtaStyle,
    pub slots_offered: usize,
    /// Phrases the rep often writes (from training); shown to the model as style hints.
    pub phrases: Vec<String>,
    /// Address prospects informally in German, French and Spanish (*du*,
    /// *tu*, *tú*); formal (*Sie*, *vous*, *usted*) when false, the default.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub informal: bool,
    /// The rep's own greeting and sign-off per language (ISO 639-1 code),
    /// e.g. `{"de": {"greeting": "Hallo {name},", "sign_off": "Viele Grüße"}}`.
    /// `greeting`, `greeting_no_name` and `sign_off` above are English; other
    /// languages use the built-in ones where this holds none.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub languages: BTreeMap<String, LocalVoice>,
}

/// A rep's greeting and sign-off in one language; each falls back to the
/// composer's own for that language when absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct LocalVoice {
    /// With `{name}` for the prospect's first name, e.g. `Hallo {name},`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub greeting: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub greeting_no_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sign_off: Option<String>,
}

impl Default for VoiceProfile {
    fn default() -> Self {
        VoiceProfile {
            tone: Tone::default(),
            formality: Formality::default(),
            greeting: "Hi {name},".into(),
            greeting_no_name: "Hi there,".into(),
            sign_off: "Best regards,".into(),
            signature: String::new(),
            contractions: true,
            max_sentence_words: 40,
            max_paragraph_sentences: 4,
            prohibited_words: vec!["synergy".into(), "guarantee".into(), "cheap".into()],
            prohibited_punctuation: Vec::new(),
            cta_style: CtaStyle::default(),
            slots_offered: 3,
            phrases: Vec::new(),
            informal: false,
            languages: BTreeMap::new(),
        }
    }
}

impl VoiceProfile {
    /// Checks what the types cannot: single-line greeting and sign-off, one
    /// `{name}` at most, sane bounds. The message names the field.
    pub fn validate(&self) -> Result<(), String> {
        let single_line = [
            ("greeting", &self.greeting),
            ("greeting_no_name", &self.greeting_no_name),
            ("sign_off", &self.sign_off),
        ];
        for (field, value) in single_line {
            if value.trim().is_empty() || value.contains(['\r', '\n']) || value.len() > 80 {
                return Err(format!(
                    "{field} must be one non-empty line of at most 80 bytes"
                ));
            }
        }
        if self.greeting_no_name.contains('{') || self.greeting.matches("{name}").count() > 1 {
            return Err("greeting holds {name} at most once; greeting_no_name never".into());
        }
        if self.languages.len() > 20 {
            return Err("languages: at most 20".into());
        }
        for (code, local) in &self.languages {
            if !super::language::is_code(code) {
                return Err(format!(
                    "languages: {code:?} is not an ISO 639-1 code (two lower-case letters, e.g. de)"
                ));
            }
            let fields = [
                ("greeting", &local.greeting),
                ("greeting_no_name", &local.greeting_no_name),
                ("sign_off", &local.sign_off),
            ];
            for (field, value) in fields {
                if value.as_deref().is_some_and(|v| {
                    v.trim().is_empty() || v.contains(['\r', '\n']) || v.len() > 80
                }) {
                    return Err(format!(
                        "languages.{code}.{field} must be one non-empty line of at most 80 bytes"
                    ));
                }
            }
            let no_name = local.greeting_no_name.as_deref().unwrap_or_default();
            let greeting = local.greeting.as_deref().unwrap_or_default();
            if no_name.contains('{') || greeting.matches("{name}").count() > 1 {
                return Err(format!(
                    "languages.{code}: greeting holds {{name}} at most once; greeting_no_name never"
                ));
            }
        }
        if self.signature.len() > 500 {
            return Err("signature must be at most 500 bytes".into());
        }
        if !(1..=5).contains(&self.slots_offered) {
            return Err("slots_offered must be 1–5".into());
        }
        if !(8..=80).contains(&self.max_sentence_words) {
            return Err("max_sentence_words must be 8–80".into());
        }
        if !(1..=10).contains(&self.max_paragraph_sentences) {
            return Err("max_paragraph_sentences must be 1–10".into());
        }
        let lists = self
            .prohibited_words
            .iter()
            .chain(&self.prohibited_punctuation);
        if lists.clone().count() > 200 || lists.clone().any(|w| w.trim().is_empty() || w.len() > 40)
        {
            return Err("prohibited words and punctuation: at most 200 non-empty entries".into());
        }
        if self.phrases.len() > 20 || self.phrases.iter().any(|p| p.len() > 120) {
            return Err("phrases: at most 20 of at most 120 bytes".into());
        }
        Ok(())
    }

    /// The call to action that asks for one of the offered slots.
    pub fn slot_question(&self) -> &'static str {
        match self.cta_style {
            CtaStyle::Question => "Would one of these times work for you?",
            CtaStyle::Request => "Please let me know which of these times suits you.",
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
