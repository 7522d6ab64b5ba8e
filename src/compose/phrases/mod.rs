//! Every sentence the built-in composer writes, per language and form of
//! address: greeting, openings per intent (first contact and follow-up),
//! the material and slot paragraphs, the calls to action, sign-off and
//! subjects. German, French and Spanish have a formal
//! table (*Sie*, *vous*, *usted*: the default) and an informal one (*du*,
//! *tu*, *tú*: the voice profile's `informal`). `{at}` stands for the
//! company phrase (" at Acme", " bei Acme"…), `{company}`, `{name}`,
//! `{titles}`, `{slots}` and `{link}` for what their names say.

mod de;
mod en;
mod es;
mod fr;

use crate::domain::{Intent, Lang};

/// One sentence per intent.
pub struct ByIntent {
    pub demo: &'static str,
    pub pricing: &'static str,
    pub partnership: &'static str,
    pub support: &'static str,
    /// Support when the prospect reported a problem: the only apology.
    pub support_problem: &'static str,
    pub question: &'static str,
}

impl ByIntent {
    pub fn get(&self, intent: Intent, problem_reported: bool) -> &'static str {
        match intent {
            Intent::Demo => self.demo,
            Intent::Pricing => self.pricing,
            Intent::Partnership => self.partnership,
            Intent::Support if problem_reported => self.support_problem,
            Intent::Support => self.support,
            Intent::Question | Intent::Spam => self.question,
        }
    }
}

/// Subject lines, with and without the company.
pub struct Subjects {
    pub demo_for: &'static str,
    pub demo: &'static str,
    pub pricing_for: &'static str,
    pub pricing: &'static str,
    pub partnership: &'static str,
    pub support: &'static str,
    pub question_from: &'static str,
    pub question: &'static str,
}

pub struct Phrases {
    pub lang: Lang,
    pub greeting: &'static str,
    pub greeting_no_name: &'static str,
    pub sign_off: &'static str,
    /// How the company follows "the team": ` at {company}`.
    pub at_company: &'static str,
    pub opening: ByIntent,
    /// Openings when the team has written with the prospect before.
    pub follow_up: ByIntent,
    pub assets_one: &'static str,
    pub assets_many: &'static str,
    /// Material already shared in the thread: `{titles}`.
    pub shared_before: &'static str,
    /// Put before each title in `{titles}` (English: `the `).
    pub title_article: &'static str,
    /// Joins the last title to the others.
    pub and: &'static str,
    pub slots_intro: &'static str,
    /// The slots again in the rep's zone: `{slots}`.
    pub rep_zone_note: &'static str,
    /// The calls to action: asking for a slot (question or request style),
    /// pointing to the booking link, asking for a call when no slot fits.
    pub slot_question: &'static str,
    pub slot_request: &'static str,
    pub booking: &'static str,
    pub no_slots: &'static str,
    /// After the slots: a link to more times (`{link}`); not a call to action.
    pub more_times: &'static str,
    pub subjects: Subjects,
}

/// The table for `lang`, formal unless `informal` (English has one).
pub fn phrases(lang: Lang, informal: bool) -> &'static Phrases {
    match (lang, informal) {
        (Lang::En, _) => &en::PHRASES,
        (Lang::De, false) => &de::FORMAL,
        (Lang::De, true) => &de::INFORMAL,
        (Lang::Fr, false) => &fr::FORMAL,
        (Lang::Fr, true) => &fr::INFORMAL,
        (Lang::Es, false) => &es::FORMAL,
        (Lang::Es, true) => &es::INFORMAL,
    }
}

/// Every table, for the guardrails' list of calls to action.
pub fn all() -> [&'static Phrases; 7] {
    [
        &en::PHRASES,
        &de::FORMAL,
        &de::INFORMAL,
        &fr::FORMAL,
        &fr::INFORMAL,
        &es::FORMAL,
        &es::INFORMAL,
    ]
}

impl Phrases {
    /// `{titles}` for the already-shared note: `the A, the B and the C`.
    pub fn titles(&self, titles: &[String]) -> String {
        let named: Vec<String> = titles
            .iter()
            .map(|t| format!("{}{t}", self.title_article))
            .collect();
        match named.as_slice() {
            [] => String::new(),
            [one] => one.clone(),
            [rest @ .., last] => format!("{}{}{last}", rest.join(", "), self.and),
        }
    }
}
