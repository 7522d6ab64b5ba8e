//! Step 2, validate and normalise: the submission becomes a [`Lead`] — email
//! checked and lowercased, names split, every field treated as untrusted text
//! (control characters removed, sizes bounded) — or is skipped with a reason.

use serde::{Deserialize, Serialize};

use crate::compose::links;
use crate::intake::FormSubmission;

/// What a submission must satisfy. An empty allowlist accepts every form.
#[derive(Debug, Clone)]
pub struct ValidationRules {
    pub allowed_forms: Vec<String>,
    pub max_field_chars: usize,
    pub max_message_chars: usize,
}

impl Default for ValidationRules {
    fn default() -> Self {
        ValidationRules {
            allowed_forms: Vec::new(),
            max_field_chars: 200,
            max_message_chars: 5000,
        }
    }
}

/// A validated prospect, safe to reason about (still untrusted as instructions).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lead {
    pub email: String,
    pub email_domain: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company: Option<String>,
    pub job_title: Option<String>,
    pub phone: Option<String>,
    pub website: Option<String>,
    pub industry: Option<String>,
    pub company_size: Option<String>,
    pub country: Option<String>,
    pub state: Option<String>,
    pub city: Option<String>,
    pub time_zone: Option<String>,
    pub intent: Option<String>,
    pub message: Option<String>,
    /// Fields that were cut to their size bound.
    pub truncated: Vec<String>,
    /// Fields left out because they held URL-like text (see `compose::links`):
    /// such text from the prospect never reaches a subject or a body.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub withheld: Vec<String>,
}

/// Why a submission is skipped rather than answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("email address is not valid")]
    InvalidEmail,
    #[error("form {0} is not on the allowlist")]
    FormNotAllowed(String),
}

pub fn validate(submission: &FormSubmission, rules: &ValidationRules) -> Result<Lead, Rejection> {
    if !rules.allowed_forms.is_empty() {
        let form = submission.form_id.clone().unwrap_or_default();
        if !rules.allowed_forms.contains(&form) {
            return Err(Rejection::FormNotAllowed(if form.is_empty() {
                "(none)".into()
            } else {
                form
            }));
        }
    }
    let email = normalise_email(&submission.email).ok_or(Rejection::InvalidEmail)?;
    let email_domain = email
        .rsplit_once('@')
        .map(|(_, d)| d.to_string())
        .unwrap_or_default();
    let mut truncated = Vec::new();
    let mut withheld = Vec::new();
    let own_domain = email_domain.clone();
    let mut field = |name: &str| {
        let raw = submission.fields.get(name)?;
        let (limit, multiline) = if name == "message" {
            (rules.max_message_chars, true)
        } else {
            (rules.max_field_chars, false)
        };
        let (clean, cut) = clean_text(raw, limit, multiline);
        if cut {
            truncated.push(name.to_string());
        }
        // The message is read, never echoed; the website and phone are data.
        // Every other field may be quoted in the reply, so a link in it (bare,
        // shortened, an IP, defanged…) withholds the whole field. The prospect's
        // own domain, bare, is theirs to name ("Booking.com").
        if !matches!(name, "message" | "website" | "phone")
            && links::has_url_like(&clean, &[own_domain.as_str()])
        {
            withheld.push(name.to_string());
            return None;
        }
        (!clean.is_empty()).then_some(clean)
    };
    let (mut first_name, mut last_name) = (field("first_name"), field("last_name"));
    if first_name.is_none()
        && last_name.is_none()
        && let Some(full) = field("full_name")
    {
        let (first, last) = full
            .split_once(' ')
            .map(|(f, l)| (f, Some(l)))
            .unwrap_or((&full, None));
        first_name = Some(first.to_string());
        last_name = last.map(|l| l.trim().to_string()).filter(|l| !l.is_empty());
    }
    Ok(Lead {
        email,
        email_domain,
        first_name,
        last_name,
        company: field("company"),
        job_title: field("job_title"),
        phone: field("phone"),
        website: field("website"),
        industry: field("industry"),
        company_size: field("company_size"),
        country: field("country"),
        state: field("state"),
        city: field("city"),
        time_zone: field("time_zone"),
        intent: field("intent"),
        message: field("message"),
        truncated,
        withheld,
    })
}

/// Lowercased address if it is a valid one with a dotted domain, else `None`.
fn normalise_email(raw: &str) -> Option<String> {
    let email = raw.trim().to_lowercase();
    let (_, domain) = email.rsplit_once('@')?;
    let dotted = domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.');
    (dotted && email_address::EmailAddress::is_valid(&email)).then_some(email)
}

/// Removes control characters (keeping line breaks only in multi-line text),
/// collapses runs of spaces, trims, and cuts to `limit` characters.
fn clean_text(raw: &str, limit: usize, multiline: bool) -> (String, bool) {
    let mut out = String::with_capacity(raw.len().min(limit * 4));
    let mut last_space = false;
    for ch in raw.chars() {
        let ch = match ch {
            '\r' => continue,
            '\n' if multiline => '\n',
            c if c.is_control() || c.is_whitespace() => ' ',
            c => c,
        };
        if ch == ' ' && last_space {
            continue;
        }
        last_space = ch == ' ';
        out.push(ch);
    }
    let trimmed = out.trim();
    let count = trimmed.chars().count();
    if count > limit {
        (
            trimmed
                .chars()
                .take(limit)
                .collect::<String>()
                .trim_end()
                .to_string(),
            true,
        )
    } else {
        (trimmed.to_string(), false)
    }
}

/// Runs the step: a lead, or the workflow ends skipped with the reason.
pub async fn run(
    cx: &crate::engine::StepCx<'_>,
) -> Result<crate::engine::StepDone, crate::engine::StepError> {
    use crate::engine::StepDone;
    use crate::store::workflows::WorkflowStatus;
    let rules = ValidationRules {
        allowed_forms: cx.services.config.engine.allowed_forms.clone(),
        ..ValidationRules::default()
    };
    Ok(match validate(cx.submission, &rules) {
        Ok(lead) => StepDone::ok(lead),
        Err(rejection) => StepDone::finish(WorkflowStatus::Skipped, rejection.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intake::parse;

    fn submission(values: &[(&str, &str)]) -> FormSubmission {
        let values: Vec<_> = values
            .iter()
            .map(|(n, v)| serde_json::json!({"name": n, "value": v}))
            .collect();
        parse(
            serde_json::json!({"formGuid": "demo", "values": values})
                .to_string()
                .as_bytes(),
        )
        .unwrap()
    }

    #[test]
    fn a_lead_is_lowercased_trimmed_and_split() {
        let s = submission(&[
            ("email", "  José.Ñúñez@Example.COM "),
            ("name", "José  María Ñúñez"),
            ("company", " Acme\tGmbH "),
        ]);
        let lead = validate(&s, &ValidationRules::default()).unwrap();
        assert_eq!(lead.email, "josé.ñúñez@example.com");
        assert_eq!(lead.email_domain, "example.com");
        assert_eq!(lead.first_name.as_deref(), Some("José"));
        assert_eq!(lead.last_name.as_deref(), Some("María Ñúñez"));
        assert_eq!(lead.company.as_deref(), Some("Acme GmbH"));
    }

    #[test]
    fn invalid_emails_are_rejected() {
        for bad in [
            "ana",
            "ana@",
            "@x.com",
            "ana@localhost",
            "ana@x..com",
            "a b@x.com",
            "ana@x.com\r\nBcc: v@x.com",
        ] {
            let s = submission(&[("email", bad)]);
            assert_eq!(
                validate(&s, &ValidationRules::default()),
                Err(Rejection::InvalidEmail),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn only_allowlisted_forms_pass_when_an_allowlist_is_set() {
        let s = submission(&[("email", "a@b.co")]);
        let rules = ValidationRules {
            allowed_forms: vec!["pricing".into()],
            ..ValidationRules::default()
        };
        assert_eq!(
            validate(&s, &rules),
            Err(Rejection::FormNotAllowed("demo".into()))
        );
        let rules = ValidationRules {
            allowed_forms: vec!["demo".into()],
            ..ValidationRules::default()
        };
        assert!(validate(&s, &rules).is_ok());
    }

    #[test]
    fn header_breaking_characters_never_survive_in_single_line_fields() {
        let s = submission(&[
            ("email", "a@b.co"),
            ("firstname", "Bob\r\nBcc: victim"),
            ("lastname", "Bob\r\nBcc: victim@x.com"),
            ("message", "line one\r\nline two\u{0}"),
        ]);
        let lead = validate(&s, &ValidationRules::default()).unwrap();
        assert_eq!(lead.first_name.as_deref(), Some("Bob Bcc: victim"));
        // An address is URL-like text: the field is withheld altogether.
        assert_eq!(lead.last_name, None);
        assert_eq!(lead.withheld, ["last_name"]);
        assert_eq!(lead.message.as_deref(), Some("line one\nline two"));
    }

    #[test]
    fn oversized_fields_are_cut_and_reported() {
        let long = "ä".repeat(300);
        let s = submission(&[
            ("email", "a@b.co"),
            ("company", &long),
            ("message", &"x".repeat(6000)),
        ]);
        let lead = validate(&s, &ValidationRules::default()).unwrap();
        assert_eq!(lead.company.as_ref().map(|c| c.chars().count()), Some(200));
        assert_eq!(lead.message.as_ref().map(|m| m.len()), Some(5000));
        assert_eq!(lead.truncated, ["company", "message"]);
    }
}
