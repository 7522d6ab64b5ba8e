//! The asset catalogue: files of the allowlisted Drive folders, synced into the
//! database with their tags, ranked against a lead, and linked only by the
//! `webViewLink` Drive gave for them.
//!
//! ```text
//! mod.rs    tags (from Drive properties, description or folder) and the link rule
//! sync.rs   folder allowlist → Drive files.list → catalogue rows
//! rank.rs   BM25 over name, description and tags, plus tag matches
//! ```

pub mod rank;
pub mod sync;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What a file is for. Values are lower-case words, e.g. `intent: ["pricing"]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
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

/// A link the reply may carry: Drive's own https view link for a file, never
/// anything built or typed by hand.
pub fn is_drive_link(link: &str) -> bool {
    let Ok(url) = url::Url::parse(link) else {
        return false;
    };
    url.scheme() == "https"
        && url.username().is_empty()
        && url.port().is_none()
        && matches!(url.host_str(), Some("drive.google.com" | "docs.google.com"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_come_from_app_properties_then_properties_then_the_description() {
        let app = BTreeMap::from([("intent".to_string(), "Pricing, Demo".to_string())]);
        let props = BTreeMap::from([
            ("intent".to_string(), "question".to_string()),
            ("industry".to_string(), "Healthcare".to_string()),
        ]);
        let tags = Tags::from_drive(
            &app,
            &props,
            "Plans for clinics. #persona:cfo #industry:retail",
        );
        assert_eq!(tags.intent, ["demo", "pricing"]);
        assert_eq!(tags.industry, ["healthcare"]);
        assert_eq!(tags.persona, ["cfo"]);
        let folder = Tags {
            stage: vec!["evaluation".into()],
            industry: vec!["logistics".into()],
            ..Tags::default()
        };
        let tags = tags.with_defaults(&folder);
        assert_eq!(tags.stage, ["evaluation"]);
        assert_eq!(tags.industry, ["healthcare"], "the file's own tag wins");
    }

    #[test]
    fn only_https_drive_and_docs_links_count() {
        assert!(is_drive_link("https://drive.google.com/file/d/1abc/view"));
        assert!(is_drive_link(
            "https://docs.google.com/document/d/1abc/edit"
        ));
        for bad in [
            "http://drive.google.com/file/d/1abc/view",
            "https://drive.google.com.evil.example/file",
            "https://evil.example/?https://drive.google.com/",
            "https://user@drive.google.com/file/d/1",
            "javascript:alert(1)",
            "",
        ] {
            assert!(!is_drive_link(bad), "{bad}");
        }
    }
}
