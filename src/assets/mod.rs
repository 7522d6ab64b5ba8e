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

pub use crate::domain::{TAG_KEYS, Tags};

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
    use std::collections::BTreeMap;

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
