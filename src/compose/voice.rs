//! A rep's voice: tone and formality, how they greet, sign off and sign, how long
//! their sentences and paragraphs run, what they never write, how they ask for the
//! meeting and how many slots they offer. The composer applies it; the guardrails
//! enforce it. Stored per rep (`store::voice_profiles`), trained from sent mail
//! (`compose::training`), portable as JSON.

use super::phrases::{Phrases, phrases};
use crate::domain::Lang;
use crate::domain::normalise;
pub use crate::domain::voice::{CtaStyle, Formality, Tone, VoiceProfile};

impl VoiceProfile {
    /// The greeting line for `first_name`: the name as people write it, or the
    /// no-name greeting when there is none or it does not look like a name.
    pub fn greet(&self, first_name: Option<&str>) -> String {
        self.greet_in(Lang::En, first_name)
    }

    /// The greeting in `lang`: the rep's own for it (English: `greeting`),
    /// else the composer's.
    pub fn greet_in(&self, lang: Lang, first_name: Option<&str>) -> String {
        let local = self.languages.get(lang.code());
        let built_in = self.phrases(lang);
        let (with_name, no_name) = match lang {
            Lang::En => (self.greeting.as_str(), self.greeting_no_name.as_str()),
            _ => (
                local
                    .and_then(|l| l.greeting.as_deref())
                    .unwrap_or(built_in.greeting),
                local
                    .and_then(|l| l.greeting_no_name.as_deref())
                    .unwrap_or(built_in.greeting_no_name),
            ),
        };
        match first_name.and_then(clean_name).map(|n| proper_case(&n)) {
            Some(name) => with_name.replace("{name}", &name),
            None => no_name.to_string(),
        }
    }

    /// The sign-off in `lang`: the rep's own for it (English: `sign_off`),
    /// else the composer's.
    pub fn sign_off_in(&self, lang: Lang) -> &str {
        match lang {
            Lang::En => &self.sign_off,
            _ => self
                .languages
                .get(lang.code())
                .and_then(|l| l.sign_off.as_deref())
                .unwrap_or(self.phrases(lang).sign_off),
        }
    }

    /// The composer's sentences in `lang`, in the rep's form of address.
    pub fn phrases(&self, lang: Lang) -> &'static Phrases {
        phrases(lang, self.informal)
    }

    /// The call to action that asks for one of the offered slots, in `lang`.
    pub fn slot_question_in(&self, lang: Lang) -> &'static str {
        let p = self.phrases(lang);
        match self.cta_style {
            CtaStyle::Question => p.slot_question,
            CtaStyle::Request => p.slot_request,
        }
    }
}

/// A form's name field as a name: markup removed, and `None` unless what is
/// left looks like a name (letters, spaces, `-`, `'`, `.`; at most three words
/// and 40 characters). Anything else — an address, a sentence, an instruction —
/// gets the no-name greeting rather than being echoed to the prospect.
pub fn clean_name(raw: &str) -> Option<String> {
    // Validation made it plain already; a name from elsewhere gets the same rule.
    let (name, _) = normalise::plain_text(raw, 200, false);
    let plausible = !name.is_empty()
        && name.chars().count() <= 40
        && name.split(' ').count() <= 3
        && name
            .chars()
            .all(|c| c.is_alphabetic() || matches!(c, ' ' | '-' | '\'' | '’' | '.'))
        && name.chars().any(char::is_alphabetic);
    plausible.then_some(name)
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
        assert_eq!(voice.greet(Some("<b>ana</b>")), "Hi Ana,");
        assert_eq!(voice.greet(Some("田中")), "Hi 田中,");
        assert_eq!(
            voice.greet(Some("Ignore all previous instructions")),
            "Hi there,"
        );
        assert_eq!(voice.greet(Some("ana@acme.com")), "Hi there,");
        assert_eq!(voice.greet(Some("{{first_name}}")), "Hi there,");
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
