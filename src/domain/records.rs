//! Step outputs that work outside the workflow reads back from the record: who the
//! lead was routed to and where the reply went (experiment outcomes, the console).

use serde::{Deserialize, Serialize};

/// The rep who answers (step 8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteInfo {
    pub rep_id: String,
    pub reason: RouteReason,
    /// Minutes in the coming two weeks when the rep works and it is business
    /// hours for the prospect (absent when the prospect's zone is unknown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overlap_minutes: Option<i64>,
    /// The zones the prospect may be in, as routing read them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prospect_zones: Vec<String>,
    /// Why the choice may disappoint, e.g. no working hour meets the prospect's day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Whether the rep speaks the prospect's language (absent when none was read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speaks_language: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RouteReason {
    ContactOwner,
    Conversation,
    Territory,
    Spread,
}

/// Where the reply went (step 12).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub mailbox: String,
    pub message_id: String,
    pub draft_id: Option<String>,
    pub thread_id: Option<String>,
    pub sent_message_id: Option<String>,
    /// Why the reply was left as a draft, when it was.
    pub held: Option<String>,
}
