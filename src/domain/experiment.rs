//! An A/B experiment's arm and the parts of a reply it may replace.

use serde::{Deserialize, Serialize};

/// One arm of an experiment. An element left out keeps what the composer wrote,
/// so a variant with no overrides is the control.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Variant {
    pub name: String,
    /// Relative share of contacts (default 1).
    #[serde(default = "one")]
    pub weight: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opening: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_to_action: Option<String>,
}

fn one() -> u32 {
    1
}

/// The parts of a reply a variant may replace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Element {
    Subject,
    Opening,
    CallToAction,
}

impl Variant {
    /// The elements this variant replaces.
    pub fn elements(&self) -> Vec<Element> {
        [
            (Element::Subject, &self.subject),
            (Element::Opening, &self.opening),
            (Element::CallToAction, &self.call_to_action),
        ]
        .into_iter()
        .filter(|(_, text)| text.is_some())
        .map(|(e, _)| e)
        .collect()
    }
}
