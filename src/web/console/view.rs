//! Rows as pages show them: plain strings and numbers, times formatted once.
//! Everything here is text; the templates escape it.

use chrono::NaiveDateTime;
use serde::Serialize;
use serde_json::Value;

use crate::store::workflows::WorkflowRow;

pub fn time(at: NaiveDateTime) -> String {
    at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

pub fn parse(raw: Option<&str>) -> Value {
    raw.and_then(|o| serde_json::from_str(o).ok())
        .unwrap_or(Value::Null)
}

/// One lead in a list.
#[derive(Debug, Serialize)]
pub struct LeadRow {
    pub id: String,
    pub email: String,
    pub company: String,
    pub status: String,
    pub step: String,
    pub attempts: i32,
    pub error: String,
    pub created: String,
    pub intent: String,
    pub rep: String,
}

impl LeadRow {
    /// `outputs` are (workflow id, step, output) of `qualify` and `route`.
    pub fn new(row: &WorkflowRow, outputs: &[(String, String, Option<String>)]) -> Self {
        let output = |step: &str| {
            outputs
                .iter()
                .find(|(id, s, _)| *id == row.id && s == step)
                .map(|(_, _, o)| parse(o.as_deref()))
                .unwrap_or(Value::Null)
        };
        let submission = parse(Some(&row.submission));
        LeadRow {
            id: row.id.clone(),
            email: row.email.clone(),
            company: prospect_field(&submission, "company"),
            status: row.status.clone(),
            step: row.current_step.clone().unwrap_or_default(),
            attempts: row.attempts,
            error: row.last_error.clone().unwrap_or_default(),
            created: time(row.created_at),
            intent: text(&output("qualify")["intent"]),
            rep: text(&output("route")["rep_id"]),
        }
    }
}

/// A JSON value as one line of text (strings without quotes, null as empty).
pub fn text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A form field as the engine reads it: made plain by the same normaliser as
/// validation (markup, entities and hidden characters out, one line, bounded), so
/// lists show what the reply used, whatever the lead's status.
pub fn prospect_field(submission: &Value, name: &str) -> String {
    let raw = text(&submission["fields"][name]);
    crate::domain::normalise::plain_text(&raw, 200, false).0
}

/// A submission as (field, value) pairs, every value plain text.
pub fn submission_fields(raw: &str) -> Vec<(String, String)> {
    let value = parse(Some(raw));
    let mut out = Vec::new();
    if let Some(email) = value.get("email") {
        out.push(("email".to_string(), text(email)));
    }
    for key in ["page_url", "form_id", "conversion_id"] {
        if let Some(v) = value.get(key).filter(|v| !v.is_null()) {
            out.push((key.to_string(), text(v)));
        }
    }
    for group in ["fields", "other_fields"] {
        if let Some(map) = value.get(group).and_then(Value::as_object) {
            out.extend(map.iter().map(|(k, v)| (k.clone(), text(v))));
        }
    }
    if out.is_empty() && !value.is_null() {
        out.push(("submission".into(), value.to_string()));
    }
    out
}

/// A draft as the prospect will see it.
#[derive(Debug, Serialize)]
pub struct DraftView {
    pub from: String,
    pub to: String,
    pub subject: String,
    pub body: String,
    pub links: Vec<String>,
    pub violations: Vec<String>,
    pub composer: String,
    pub held: String,
    pub sent: bool,
    /// Approved, but the send is not known to be done (in flight or uncertain).
    pub sending: bool,
    pub gmail_url: String,
    /// Why the draft went stale (it will never be sent); empty when it did not.
    pub stale: String,
}

impl DraftView {
    /// `send` is the state of the send ledger's row, when approval started one.
    pub fn new(
        workflow: &WorkflowRow,
        compose: &Value,
        delivery: &Value,
        send: Option<&str>,
    ) -> Option<Self> {
        let subject = compose["subject"].as_str()?.to_string();
        let body = text(&compose["body"]);
        let links = body
            .split_whitespace()
            .filter(|w| w.starts_with("https://") || w.starts_with("http://"))
            .map(|w| w.trim_end_matches(['.', ',', ')', ';']).to_string())
            .collect();
        let thread = text(&delivery["thread_id"]);
        Some(DraftView {
            from: text(&delivery["mailbox"]),
            to: workflow.email.clone(),
            subject,
            body,
            links,
            violations: compose["violations"]
                .as_array()
                .map(|v| v.iter().map(text).collect())
                .unwrap_or_default(),
            composer: text(&compose["composer"]),
            held: text(&delivery["held"]),
            sent: delivery["sent_message_id"].is_string() || send == Some("done"),
            sending: send == Some("unknown"),
            // Opens the mailbox's drafts; a thread id narrows it when there is one.
            gmail_url: if thread.is_empty() {
                "https://mail.google.com/mail/u/0/#drafts".into()
            } else {
                format!(
                    "https://mail.google.com/mail/u/0/#drafts/{}",
                    url::form_urlencoded::byte_serialize(thread.as_bytes()).collect::<String>()
                )
            },
            stale: String::new(),
        })
    }

    /// The draft went stale for `reason`, if any.
    pub fn with_stale(mut self, reason: Option<crate::domain::StaleReason>) -> Self {
        self.stale = reason.map(|r| r.describe().to_string()).unwrap_or_default();
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_show_prospect_fields_as_the_engine_reads_them() {
        let submission = serde_json::json!({"fields": {
            "company": "<b>Acme</b> &amp; Co\u{202e}\r\nBcc: x",
            "first_name": "&lt;script&gt;alert(1)&lt;/script&gt;Ana",
        }});
        assert_eq!(prospect_field(&submission, "company"), "Acme & Co Bcc: x");
        assert_eq!(prospect_field(&submission, "first_name"), "Ana");
        assert_eq!(prospect_field(&submission, "missing"), "");
    }
}
