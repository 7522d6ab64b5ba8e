//! RFC 5322 messages for Gmail, built with mail-builder (never by concatenating
//! headers): a deterministic `Message-ID` per workflow step, reply threading
//! (`In-Reply-To`, `References`, matching `Re:` subject), RFC 8058 one-click
//! unsubscribe headers, and text plus HTML parts.
//!
//! Every value that lands in a header is checked first: a CR or LF (or any other
//! control character) is refused, so no field can add a header (CWE-93).
//! Display names are quoted or encoded by mail-builder, never by hand. An
//! internationalised domain goes into the header as IDNA (punycode): the path
//! (Gmail's `raw`, then SMTP to any server) is not known to take SMTPUTF8.

use base64::Engine;
use chrono::{DateTime, Utc};
use mail_builder::MessageBuilder;
use mail_builder::headers::address::Address;
use mail_builder::headers::message_id::MessageId;
use mail_builder::headers::url::URL;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MimeError {
    #[error("{field} contains a line break or control character")]
    ControlCharacter { field: &'static str },
    #[error("{field} is not a valid {what}")]
    Invalid {
        field: &'static str,
        what: &'static str,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    pub name: Option<String>,
    pub email: String,
}

/// The message being answered, from its headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parent {
    /// Its `Message-ID`, with or without angle brackets.
    pub message_id: String,
    /// Its `References`, oldest first.
    pub references: Vec<String>,
    pub subject: String,
}

/// RFC 8058: an HTTPS one-click URL, optionally a mailto alternative.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsubscribe {
    pub https: String,
    pub mailto: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingEmail {
    pub from: Mailbox,
    pub to: Vec<Mailbox>,
    /// Used for a new thread; a reply takes `Re: <parent subject>` so Gmail threads it.
    pub subject: String,
    pub date: DateTime<Utc>,
    /// Without angle brackets, e.g. from [`message_id`].
    pub message_id: String,
    pub reply_to_parent: Option<Parent>,
    pub unsubscribe: Option<Unsubscribe>,
    pub text: String,
    pub html: Option<String>,
}

/// The deterministic id of the email a workflow step sends: `sa.{workflow}.{step}@{domain}`.
pub fn message_id(workflow_id: &str, step: &str, domain: &str) -> String {
    format!("sa.{workflow_id}.{step}@{domain}")
}

/// `Re: <subject>`, without stacking a second `Re:`.
pub fn reply_subject(parent: &str) -> String {
    let trimmed = parent.trim();
    let has_re = trimmed
        .get(..3)
        .is_some_and(|p| p.eq_ignore_ascii_case("re:"));
    if has_re {
        trimmed.to_string()
    } else {
        format!("Re: {trimmed}")
    }
}

/// The message as bytes, ready for base64url.
pub fn build(email: &OutgoingEmail) -> Result<Vec<u8>, MimeError> {
    let from = mailbox("from", &email.from)?;
    if email.to.is_empty() {
        return Err(MimeError::Invalid {
            field: "to",
            what: "recipient list",
        });
    }
    let to = email
        .to
        .iter()
        .map(|m| mailbox("to", m))
        .collect::<Result<Vec<_>, _>>()?;
    let subject = match &email.reply_to_parent {
        Some(parent) => reply_subject(&header_text("subject", &parent.subject)?),
        None => header_text("subject", &email.subject)?,
    };
    let mut builder = MessageBuilder::new()
        .from(from)
        .to(Address::new_list(to))
        .subject(subject)
        .date(email.date.timestamp())
        .message_id(msg_id("message_id", &email.message_id)?)
        .text_body(email.text.as_str());
    if let Some(parent) = &email.reply_to_parent {
        let parent_id = msg_id("in_reply_to", &parent.message_id)?;
        let mut references = parent
            .references
            .iter()
            .map(|r| msg_id("references", r))
            .collect::<Result<Vec<_>, _>>()?;
        references.push(parent_id.clone());
        builder = builder
            .in_reply_to(parent_id)
            .references(MessageId::new_list(references.into_iter()));
    }
    if let Some(unsub) = &email.unsubscribe {
        let mut urls = vec![url("unsubscribe", &unsub.https, "https://")?];
        if let Some(mailto) = &unsub.mailto {
            urls.push(url("unsubscribe", mailto, "mailto:")?);
        }
        builder = builder
            .header("List-Unsubscribe", URL::new_list(urls.into_iter()))
            .header(
                "List-Unsubscribe-Post",
                mail_builder::headers::raw::Raw::new("List-Unsubscribe=One-Click"),
            );
    }
    if let Some(html) = &email.html {
        builder = builder.html_body(html.as_str());
    }
    builder.write_to_vec().map_err(|_| MimeError::Invalid {
        field: "message",
        what: "MIME message",
    })
}

/// Gmail's `raw`: the message in base64url.
pub fn to_raw(message: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE.encode(message)
}

/// Text from another mailer (a subject Gmail returned, say) made fit for a
/// header: control and line-separator characters become spaces, whitespace runs
/// collapse, and the result is cut to `max_chars`. What this returns always passes
/// the checks [`build`] makes.
pub fn header_safe_text(value: &str, max_chars: usize) -> String {
    let spaced: String = value
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{85}' | '\u{feff}') {
                ' '
            } else {
                c
            }
        })
        .collect();
    let collapsed = spaced.split_whitespace().collect::<Vec<_>>().join(" ");
    collapsed
        .chars()
        .take(max_chars)
        .collect::<String>()
        .trim()
        .to_string()
}

/// A Message-ID found in another mailer's headers, without angle brackets, when
/// it can go into `In-Reply-To` and `References` (RFC 5322 `msg-id`: printable
/// ASCII `left@right`, dot-atoms or a bracketed domain literal, at most 250
/// characters). `None` means the message cannot be replied to safely.
pub fn valid_message_id(value: &str) -> Option<String> {
    let trimmed = value.trim();
    let id = trimmed
        .strip_prefix('<')
        .and_then(|v| v.strip_suffix('>'))
        .unwrap_or(trimmed);
    let (left, right) = id.split_once('@')?;
    let atext = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c);
    let dot_atom = |part: &str| {
        !part.is_empty()
            && part
                .split('.')
                .all(|atom| !atom.is_empty() && atom.chars().all(atext))
    };
    let literal = |part: &str| {
        part.strip_prefix('[')
            .and_then(|p| p.strip_suffix(']'))
            .is_some_and(|inner| {
                inner
                    .chars()
                    .all(|c| c.is_ascii_graphic() && !matches!(c, '[' | ']' | '\\'))
            })
    };
    (id.len() <= 250 && dot_atom(left) && (dot_atom(right) || literal(right)))
        .then(|| id.to_string())
}

fn header_text(field: &'static str, value: &str) -> Result<String, MimeError> {
    if value.chars().any(|c| c.is_control()) {
        return Err(MimeError::ControlCharacter { field });
    }
    Ok(value.trim().to_string())
}

fn mailbox(field: &'static str, m: &Mailbox) -> Result<Address<'static>, MimeError> {
    let email = header_text(field, &m.email)?;
    let valid = email.split('@').count() == 2
        && email.split('@').all(|part| !part.is_empty())
        && !email
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '<' | '>' | ',' | ';' | '"' | '(' | ')'));
    if !valid {
        return Err(MimeError::Invalid {
            field,
            what: "email address",
        });
    }
    let email = ascii_domain(&email).ok_or(MimeError::Invalid {
        field,
        what: "email domain",
    })?;
    let name = m
        .name
        .as_deref()
        .map(|n| header_text(field, n))
        .transpose()?
        .filter(|n| !n.is_empty());
    Ok(Address::new_address(name, email))
}

/// `local@domain` with the domain in its IDNA ASCII form (`münchen.de` →
/// `xn--mnchen-3ya.de`); `None` when the domain has none.
pub fn ascii_domain(email: &str) -> Option<String> {
    let (local, domain) = email.rsplit_once('@')?;
    let ascii = idna::domain_to_ascii(domain).ok()?;
    (!ascii.is_empty()).then(|| format!("{local}@{ascii}"))
}

fn msg_id(field: &'static str, value: &str) -> Result<String, MimeError> {
    let id = header_text(field, value)?;
    let id = id.trim_start_matches('<').trim_end_matches('>');
    let valid = id.contains('@')
        && !id
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '<' | '>' | '"' | ','));
    if !valid {
        return Err(MimeError::Invalid {
            field,
            what: "message id",
        });
    }
    Ok(id.to_string())
}

fn url(field: &'static str, value: &str, scheme: &str) -> Result<String, MimeError> {
    let v = header_text(field, value)?;
    let valid = v.starts_with(scheme)
        && !v
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '<' | '>' | ',' | '"'));
    if !valid {
        return Err(MimeError::Invalid { field, what: "URL" });
    }
    Ok(v)
}

#[cfg(test)]
#[path = "mime_tests.rs"]
mod tests;
