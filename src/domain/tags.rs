//! What a Drive file is for: the asset catalogue's tags, stored per file and folder.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What a file is for. Values are lower-case words, e.g. `intent: ["pricing"]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Tags {
    pub industry: Vec<String>,
    pub intent: Vec<String>,
    pub persona: Vec<String>,
    pub stage: Vec<String>,
}

pub const TAG_KEYS: [&str; 4] = ["industry", "intent", "persona", "stage"];

fn split_values(raw: &str) -> Vec<String> {
    raw.split([',', ';', '|'])
        .map(|v| v.trim().to_lowercase())
        .filter(|v| !v.is_empty() && v.chars().count() <= 60)
        .collect()
}

impl Tags {
    fn slot(&mut self, key: &str) -> Option<&mut Vec<String>> {
        match key {
            "industry" => Some(&mut self.industry),
            "intent" => Some(&mut self.intent),
            "persona" => Some(&mut self.persona),
            "stage" => Some(&mut self.stage),
            _ => None,
        }
    }

    pub fn is_empty(&self) -> bool {
        TAG_KEYS.iter().all(|k| self.values(k).is_empty())
    }

    pub fn values(&self, key: &str) -> &[String] {
        match key {
            "industry" => &self.industry,
            "intent" => &self.intent,
            "persona" => &self.persona,
            "stage" => &self.stage,
            _ => &[],
        }
    }

    /// Lower-cases, trims, drops empties and duplicates; admins' input goes
    /// through this too.
    pub fn normalised(mut self) -> Self {
        for key in TAG_KEYS {
            if let Some(values) = self.slot(key) {
                let joined = values.join(",");
                let mut clean = split_values(&joined);
                clean.sort();
                clean.dedup();
                *values = clean;
            }
        }
        self
    }

    /// Tags a file carries on Drive: `appProperties` (ours), else `properties`
    /// (visible to all apps), else `#key:value` words in its description. Keys are
    /// the four tag names; values may be comma-separated.
    pub fn from_drive(
        app_properties: &BTreeMap<String, String>,
        properties: &BTreeMap<String, String>,
        description: &str,
    ) -> Self {
        let mut tags = Tags::default();
        for key in TAG_KEYS {
            let raw = app_properties
                .get(key)
                .or_else(|| properties.get(key))
                .map(|v| split_values(v));
            if let (Some(values), Some(slot)) = (raw, tags.slot(key)) {
                *slot = values;
            }
        }
        for word in description.split_whitespace() {
            let Some((key, value)) = word
                .strip_prefix('#')
                .and_then(|w| w.split_once([':', '=']))
            else {
                continue;
            };
            let key = key.to_lowercase();
            let value = value.trim_end_matches(['.', ',', ';']);
            if let Some(slot) = tags.slot(&key)
                && slot.is_empty()
            {
                *slot = split_values(value);
            }
        }
        tags.normalised()
    }

    /// Fills the keys this file leaves empty from its folder's defaults.
    pub fn with_defaults(mut self, folder: &Tags) -> Self {
        for key in TAG_KEYS {
            let defaults = folder.values(key).to_vec();
            if let Some(slot) = self.slot(key)
                && slot.is_empty()
            {
                *slot = defaults;
            }
        }
        self
    }
}
