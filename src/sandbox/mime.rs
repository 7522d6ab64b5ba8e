//! RFC 5322 messages as Gmail stores them: parsed from the client's base64url
//! `raw` with mail-parser, and rebuilt for fixture messages.

use base64::Engine;
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use serde::Serialize;

/// A message in a mailbox, with the headers Gmail search and threading look at.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    pub id: String,
    pub thread_id: String,
    pub label_ids: Vec<String>,
    #[serde(skip)]
    pub raw: Vec<u8>,
    /// Every header, in order, unfolded, as `(name, value)`.
    pub headers: Vec<(String, String)>,
    pub from: String,
    pub to: Vec<String>,
    pub subject: String,
    pub message_id: Option<String>,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    pub body: String,
    pub internal_date_ms: i64,
}

/// What the parser found in a raw message, before ids and labels are given.
#[derive(Debug, Clone)]
pub struct Parsed {
    pub raw: Vec<u8>,
    pub headers: Vec<(String, String)>,
    pub from: String,
    pub to: Vec<String>,
    pub subject: String,
    pub message_id: Option<String>,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    pub body: String,
    pub date_ms: Option<i64>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MimeError {
    #[error("Invalid value for ByteString: {0}")]
    Base64(String),
    #[error("Invalid RFC 5322 message")]
    Unparsable,
    #[error("Recipient address required")]
    NoRecipient,
}

/// Decodes Gmail's `raw` (base64url, padded or not; Gmail also accepts standard
/// base64's alphabet loosely, but the documented form is URL-safe).
pub fn decode_raw(raw: &str) -> Result<Vec<u8>, MimeError> {
    let trimmed = raw.trim();
    URL_SAFE_NO_PAD
        .decode(trimmed.trim_end_matches('='))
        .or_else(|_| URL_SAFE.decode(trimmed))
        .map_err(|e| MimeError::Base64(e.to_string()))
}

pub fn encode_raw(bytes: &[u8]) -> String {
    URL_SAFE.encode(bytes)
}

/// Parses an RFC 5322 message. `require_recipient` is set for sends: Gmail
/// refuses to send a message with no recipient, but keeps such drafts.
pub fn parse(raw: Vec<u8>, require_recipient: bool) -> Result<Parsed, MimeError> {
    let message = mail_parser::MessageParser::default()
        .parse(&raw[..])
        .ok_or(MimeError::Unparsable)?;
    if message.headers().is_empty() {
        return Err(MimeError::Unparsable);
    }
    let headers = message
        .headers()
        .iter()
        .filter_map(|h| {
            let value = message.header_raw(h.name())?;
            Some((h.name().to_string(), unfold(value)))
        })
        .collect::<Vec<_>>();
    let addresses = |a: Option<&mail_parser::Address>| -> Vec<String> {
        a.map(|a| {
            a.iter()
                .filter_map(|x| x.address())
                .map(str::to_ascii_lowercase)
                .collect()
        })
        .unwrap_or_default()
    };
    let to = addresses(message.to());
    if require_recipient && to.is_empty() && message.cc().is_none() && message.bcc().is_none() {
        return Err(MimeError::NoRecipient);
    }
    let ids = |v: &mail_parser::HeaderValue| -> Vec<String> {
        match v {
            mail_parser::HeaderValue::Text(t) => vec![bracket(t)],
            mail_parser::HeaderValue::TextList(l) => l.iter().map(|t| bracket(t)).collect(),
            _ => vec![],
        }
    };
    let parsed = Parsed {
        from: addresses(message.from())
            .into_iter()
            .next()
            .unwrap_or_default(),
        to,
        subject: message.subject().unwrap_or_default().to_string(),
        message_id: message.message_id().map(bracket),
        in_reply_to: ids(message.in_reply_to()).into_iter().next(),
        references: ids(message.references()),
        body: message
            .body_text(0)
            .map(|b| b.into_owned())
            .unwrap_or_default(),
        date_ms: message.date().map(|d| d.to_timestamp() * 1000),
        headers,
        raw: Vec::new(),
    };
    Ok(Parsed { raw, ..parsed })
}

/// Message ids are kept in their `<…>` form, as they appear in headers.
fn bracket(id: &str) -> String {
    let id = id.trim().trim_start_matches('<').trim_end_matches('>');
    format!("<{id}>")
}

fn unfold(value: &str) -> String {
    value
        .split(['\r', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The first ~100 characters of the body, whitespace collapsed, like Gmail's snippet.
pub fn snippet(body: &str) -> String {
    let collapsed = body.split_whitespace().collect::<Vec<_>>().join(" ");
    collapsed.chars().take(100).collect()
}

/// A subject without its reply/forward prefixes, for Gmail's subject-match rule.
pub fn base_subject(subject: &str) -> String {
    let mut s = subject.trim();
    loop {
        let lower = s.to_ascii_lowercase();
        let stripped = ["re:", "fw:", "fwd:", "aw:", "wg:"]
            .iter()
            .find(|p| lower.starts_with(*p))
            .map(|p| s[p.len()..].trim_start());
        match stripped {
            Some(rest) => s = rest,
            None => return s.to_ascii_lowercase(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_is_parsed_with_its_threading_headers() {
        let raw = b"From: Ann <ann@x.com>\r\nTo: bob@y.com\r\nSubject: Re: Hello\r\n\
Message-ID: <2@x.com>\r\nIn-Reply-To: <1@y.com>\r\nReferences: <0@y.com> <1@y.com>\r\n\r\nHi Bob\r\n";
        let p = parse(raw.to_vec(), true).expect("parses");
        assert_eq!(p.from, "ann@x.com");
        assert_eq!(p.to, vec!["bob@y.com"]);
        assert_eq!(p.message_id.as_deref(), Some("<2@x.com>"));
        assert_eq!(p.in_reply_to.as_deref(), Some("<1@y.com>"));
        assert_eq!(p.references, vec!["<0@y.com>", "<1@y.com>"]);
        assert_eq!(p.body.trim(), "Hi Bob");
    }

    #[test]
    fn a_send_without_recipients_is_refused_and_bad_base64_is_reported() {
        let raw = b"From: a@x.com\r\nSubject: s\r\n\r\nbody".to_vec();
        assert_eq!(parse(raw, true).err(), Some(MimeError::NoRecipient));
        assert!(matches!(decode_raw("!!!"), Err(MimeError::Base64(_))));
    }

    #[test]
    fn reply_prefixes_do_not_change_the_base_subject() {
        assert_eq!(base_subject("Re: RE: Fwd: Pricing"), "pricing");
    }
}
