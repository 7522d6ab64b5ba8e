//! Gmail's response and request shapes (all response fields optional or defaulted).

use serde::{Deserialize, Serialize};

use super::query::GmailQuery;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Header {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PartBody {
    pub size: Option<u64>,
    pub data: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct MessagePart {
    pub mime_type: Option<String>,
    pub headers: Vec<Header>,
    pub body: Option<PartBody>,
    pub parts: Vec<MessagePart>,
}

impl MessagePart {
    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Message {
    pub id: String,
    pub thread_id: Option<String>,
    pub label_ids: Vec<String>,
    pub snippet: Option<String>,
    pub internal_date: Option<String>,
    pub payload: Option<MessagePart>,
    pub raw: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Thread {
    pub id: String,
    pub snippet: Option<String>,
    pub history_id: Option<String>,
    pub messages: Vec<Message>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ThreadList {
    pub threads: Vec<Thread>,
    pub next_page_token: Option<String>,
    pub result_size_estimate: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Draft {
    pub id: String,
    pub message: Option<Message>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DraftList {
    pub drafts: Vec<Draft>,
    pub next_page_token: Option<String>,
    pub result_size_estimate: Option<u64>,
}

/// `format` of threads.get / messages.get / drafts.get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Full,
    Metadata,
    Minimal,
}

impl Format {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Format::Full => "full",
            Format::Metadata => "metadata",
            Format::Minimal => "minimal",
        }
    }
}

/// A page request: a search built with [`GmailQuery`] (never a raw string), size and token.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListRequest {
    pub q: Option<GmailQuery>,
    pub max_results: Option<u32>,
    pub page_token: Option<String>,
}

impl ListRequest {
    pub(crate) fn params(&self) -> Vec<(&'static str, String)> {
        let mut p = Vec::new();
        if let Some(q) = &self.q {
            p.push(("q", q.build()));
        }
        if let Some(n) = self.max_results {
            p.push(("maxResults", n.min(500).to_string()));
        }
        if let Some(t) = &self.page_token {
            p.push(("pageToken", t.clone()));
        }
        p
    }
}
