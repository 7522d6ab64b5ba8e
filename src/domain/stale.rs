//! Why a draft the service left for its rep went stale: the prospect wrote in
//! the thread first, or booked a meeting. A stale draft is never sent by the
//! service; the console and the API show the reason.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StaleReason {
    /// A message from the prospect arrived in the thread after the draft was made.
    ProspectReplied,
    /// The prospect booked a meeting before the rep sent the draft.
    MeetingBooked,
}

impl StaleReason {
    pub const ALL: [StaleReason; 2] = [StaleReason::ProspectReplied, StaleReason::MeetingBooked];

    /// The stored name and the metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            StaleReason::ProspectReplied => "prospect_replied",
            StaleReason::MeetingBooked => "meeting_booked",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == raw)
    }

    /// How people read it (the console badge, refusals).
    pub fn describe(self) -> &'static str {
        match self {
            StaleReason::ProspectReplied => "the prospect replied",
            StaleReason::MeetingBooked => "the prospect booked a meeting",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_round_trip_through_their_stored_names() {
        for reason in StaleReason::ALL {
            assert_eq!(StaleReason::parse(reason.as_str()), Some(reason));
        }
        assert_eq!(StaleReason::parse("bored"), None);
    }
}
