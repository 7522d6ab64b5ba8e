//! The consent driver: does over HTTP what a person's browser does on a
//! provider's consent page — fetch the page, read its form, pick the account
//! (or HubSpot portal) by its radio button, press Allow (or Connect app), and
//! return the redirect the provider answers with. It only follows the forms
//! the page shows; it never reaches into the sandbox's state, so the demo and
//! tests exercise the same pages a person would.

use std::collections::HashMap;

use regex::Regex;

#[derive(Debug, thiserror::Error)]
pub enum ConsentError {
    #[error("consent page request failed: {0}")]
    Http(#[from] reqwest::Error),
    #[error("the provider answered {status} instead of a consent page: {body}")]
    NoPage { status: u16, body: String },
    #[error("the consent page has no form")]
    NoForm,
    #[error("the consent page offers no choice {0:?}")]
    NoSuchAccount(String),
    #[error("the provider did not redirect after the form (status {0})")]
    NoRedirect(u16),
    #[error("bad URL: {0}")]
    Url(#[from] url::ParseError),
}

/// What the person presses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    Deny,
}

/// Picks `account` on the page at `authorize_url` and presses Allow; returns
/// the callback URL the provider redirects to (with `code` and `state`, or an
/// `error`). The caller then fetches it with the browser's session, as the
/// browser would.
pub async fn click_through(authorize_url: &str, account: &str) -> Result<String, ConsentError> {
    decide(authorize_url, account, Decision::Allow).await
}

/// As [`click_through`], with the button to press.
pub async fn decide(
    authorize_url: &str,
    account: &str,
    decision: Decision,
) -> Result<String, ConsentError> {
    // A browser stops at the redirect to the app only because the app is
    // another site; here the caller fetches the callback itself.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let response = client.get(authorize_url).send().await?;
    let status = response.status();
    let page_url = response.url().clone();
    let page = response.text().await?;
    if !status.is_success() {
        return Err(ConsentError::NoPage {
            status: status.as_u16(),
            body: page.chars().take(300).collect(),
        });
    }
    let form = Form::parse(&page).ok_or(ConsentError::NoForm)?;
    let mut fields: Vec<(String, String)> = form.hidden.clone();
    if decision == Decision::Allow || !form.deny_skips_choice {
        let choice = form
            .radios
            .iter()
            .find(|(_, value)| value.eq_ignore_ascii_case(account))
            .ok_or_else(|| ConsentError::NoSuchAccount(account.to_string()))?;
        fields.push(choice.clone());
    }
    let button = match decision {
        Decision::Allow => &form.allow,
        Decision::Deny => form.deny.as_ref().ok_or(ConsentError::NoForm)?,
    };
    fields.push(button.clone());
    let action = page_url.join(&form.action)?;
    let answer = client.post(action).form(&fields).send().await?;
    let status = answer.status();
    let location = answer
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .ok_or(ConsentError::NoRedirect(status.as_u16()))?;
    Ok(page_url.join(location)?.to_string())
}

/// The one form on a consent page, as a browser sees it.
#[derive(Debug)]
struct Form {
    action: String,
    hidden: Vec<(String, String)>,
    /// Radio buttons `(name, value)`: the accounts or portals.
    radios: Vec<(String, String)>,
    /// The submit button that consents, and the one that declines (if any).
    allow: (String, String),
    deny: Option<(String, String)>,
    /// The decline button carries `formnovalidate`: no choice needed.
    deny_skips_choice: bool,
}

impl Form {
    fn parse(page: &str) -> Option<Form> {
        let form_tag = Regex::new(r#"<form\b[^>]*>"#).ok()?;
        let tag = form_tag.find(page)?.as_str();
        let action = attr(tag, "action").unwrap_or_default();
        let input = Regex::new(r#"<input\b[^>]*>"#).ok()?;
        let mut hidden = Vec::new();
        let mut radios = Vec::new();
        for m in input.find_iter(page) {
            let a: HashMap<&str, String> = ["type", "name", "value"]
                .into_iter()
                .filter_map(|k| Some((k, attr(m.as_str(), k)?)))
                .collect();
            let (Some(name), Some(value)) = (a.get("name"), a.get("value")) else {
                continue;
            };
            match a.get("type").map(String::as_str) {
                Some("hidden") => hidden.push((name.clone(), value.clone())),
                Some("radio") => radios.push((name.clone(), value.clone())),
                _ => {}
            }
        }
        let button = Regex::new(r#"(?s)<button\b([^>]*)>(.*?)</button>"#).ok()?;
        let mut allow = None;
        let mut deny = None;
        let mut deny_skips_choice = false;
        for c in button.captures_iter(page) {
            let attrs = c.get(1)?.as_str();
            let label = c.get(2)?.as_str().trim().to_ascii_lowercase();
            let pair = (attr(attrs, "name")?, attr(attrs, "value")?);
            if ["allow", "connect app", "continue"].contains(&label.as_str()) {
                allow = Some(pair);
            } else if ["deny", "cancel"].contains(&label.as_str()) {
                deny_skips_choice = attrs.contains("formnovalidate");
                deny = Some(pair);
            }
        }
        Some(Form {
            action,
            hidden,
            radios,
            allow: allow?,
            deny,
            deny_skips_choice,
        })
    }
}

/// A double-quoted attribute's value, HTML entities decoded.
fn attr(tag: &str, name: &str) -> Option<String> {
    let re = Regex::new(&format!(r#"\s{name}="([^"]*)""#)).ok()?;
    let raw = re.captures(tag)?.get(1)?.as_str();
    Some(html_escape::decode_html_entities(raw).into_owned())
}
