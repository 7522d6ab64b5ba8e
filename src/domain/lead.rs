//! The prospect as the workflow knows them once validated (step 2 turns a
//! submission into a [`Lead`]: email checked and lowercased, names split, every
//! field made plain text once by [`normalise`] — markup stripped, entities
//! decoded, control and hidden characters removed, sizes bounded), and what they
//! want. Every later step reads the lead, never the raw submission.

use serde::{Deserialize, Serialize};

use super::FormSubmission;
use super::links;
use super::normalise;

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
    /// The form's own language field (`hs_language`), as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Fields that were cut to their size bound.
    pub truncated: Vec<String>,
    /// Fields left out because they held URL-like text (see `links`), or a
    /// name that held a line break: such text from the prospect never reaches
    /// a subject, a body or a header.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub withheld: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    Demo,
    Pricing,
    Question,
    Partnership,
    Support,
    Spam,
}

impl Intent {
    pub const ALL: [Intent; 6] = [
        Intent::Demo,
        Intent::Pricing,
        Intent::Question,
        Intent::Partnership,
        Intent::Support,
        Intent::Spam,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Intent::Demo => "demo",
            Intent::Pricing => "pricing",
            Intent::Question => "question",
            Intent::Partnership => "partnership",
            Intent::Support => "support",
            Intent::Spam => "spam",
        }
    }
}

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
            // A name's lines are kept apart to be refused below.
            let is_name = NAME_FIELDS.contains(&name);
            (field_limit(name).min(rules.max_field_chars), is_name)
        };
        let (clean, cut) = normalise::plain_text(raw, limit, multiline);
        if cut {
            truncated.push(name.to_string());
        }
        // A name is one line: text behind a line break in it is what header and
        // display-name tricks hide, so such a name is not used at all.
        if NAME_FIELDS.contains(&name) && clean.contains('\n') {
            withheld.push(name.to_string());
            return None;
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
        language: field("language"),
        truncated,
        withheld,
    })
}

/// Lowercased address if it is a valid one with a dotted domain, else `None`.
/// An internationalised domain must have an IDNA (punycode) form, which is what
/// goes into headers.
fn normalise_email(raw: &str) -> Option<String> {
    let email = raw.trim().to_lowercase();
    let (_, domain) = email.rsplit_once('@')?;
    let dotted = domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.');
    let encodable = idna::domain_to_ascii(domain).is_ok_and(|ascii| !ascii.is_empty());
    (dotted && encodable && email_address::EmailAddress::is_valid(&email)).then_some(email)
}

/// Fields that name the prospect (greeting, To display name).
const NAME_FIELDS: &[&str] = &["first_name", "last_name", "full_name"];

/// The most characters a single-line field keeps: enough for any real value,
/// little enough that a header or a subject stays readable.
fn field_limit(name: &str) -> usize {
    match name {
        "first_name" | "last_name" | "industry" | "country" | "state" | "city" | "intent" => 100,
        "full_name" => 200,
        "phone" | "company_size" => 50,
        "time_zone" | "language" => 64,
        "website" => 300,
        _ => 200,
    }
}
