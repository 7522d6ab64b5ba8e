//! The operating mode ops switch: what the workflows may do outside the service.
//!
//! | mode | HubSpot contact, note, task; Drive share; Gmail draft | send |
//! |---|---|---|
//! | `pilot` | recorded as what would be written, never called | never |
//! | `draft_only` (default) | written | only when an admin approves |
//! | `send` | written | by the engine, after suppression, limits, quiet hours |
//!
//! Reads (contact look-ups, threads, free/busy, Drive listings, the model) happen
//! in every mode: a pilot run does the real research.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Nothing is written outside; every write is recorded with the workflow.
    Pilot,
    /// Replies wait as Gmail drafts for a person to approve: the safe default.
    #[default]
    DraftOnly,
    /// Replies that pass the guardrails are sent without approval.
    Send,
}

impl Mode {
    pub const ALL: [Mode; 3] = [Mode::Pilot, Mode::DraftOnly, Mode::Send];

    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Pilot => "pilot",
            Mode::DraftOnly => "draft_only",
            Mode::Send => "send",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == raw)
    }

    /// The old boolean (`draft_only`): true whenever nothing is sent without a
    /// person, which pilot mode is too.
    pub fn draft_only(self) -> bool {
        self != Mode::Send
    }

    /// The mode the old boolean names.
    pub fn from_draft_only(draft_only: bool) -> Self {
        if draft_only {
            Mode::DraftOnly
        } else {
            Mode::Send
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_draft_only_is_the_default() {
        for mode in Mode::ALL {
            assert_eq!(Mode::parse(mode.as_str()), Some(mode));
            assert_eq!(
                serde_json::to_value(mode).unwrap(),
                serde_json::json!(mode.as_str())
            );
        }
        assert_eq!(Mode::default(), Mode::DraftOnly);
        assert_eq!(Mode::parse("Pilot"), None);
    }

    #[test]
    fn the_old_boolean_is_true_unless_sending() {
        assert!(Mode::Pilot.draft_only());
        assert!(Mode::DraftOnly.draft_only());
        assert!(!Mode::Send.draft_only());
        assert_eq!(Mode::from_draft_only(true), Mode::DraftOnly);
        assert_eq!(Mode::from_draft_only(false), Mode::Send);
    }
}
