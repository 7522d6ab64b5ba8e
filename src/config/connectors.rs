//! Settings of the connectors: where each service is, its credentials, timeouts,
//! retry and breaker settings, and rate limits sized from the published quotas.

use std::time::Duration;

use secrecy::SecretString;
use url::Url;

use super::source::Source;
use super::{ConfigError, invalid};

/// Where the external services are, how to authenticate, and how hard to push them.
#[derive(Debug, Clone)]
pub struct ConnectorsConfig {
    pub hubspot_base_url: Url,
    pub hubspot_token: Option<SecretString>,
    /// The HubSpot OAuth app (its secret is the webhook client secret).
    pub hubspot_client_id: Option<SecretString>,
    pub hubspot_client_secret: Option<SecretString>,
    pub hubspot_auth_url: Url,
    pub hubspot_token_url: Url,
    pub gmail_base_url: Url,
    pub google_api_base_url: Url,
    pub google_token_url: Url,
    pub google_client_id: Option<SecretString>,
    pub google_client_secret: Option<SecretString>,
    /// Mailbox (lowercased) and its refresh token.
    pub google_refresh_tokens: Vec<(String, SecretString)>,
    /// A service account's JSON key file: every mailbox through domain-wide
    /// delegation instead of a grant per rep (read and checked at start).
    pub google_service_account_file: Option<std::path::PathBuf>,
    pub llm_base_url: Url,
    pub llm_api_key: Option<SecretString>,
    pub llm_model: String,
    pub timeout: Duration,
    pub llm_timeout: Duration,
    pub max_attempts: u32,
    pub max_backoff: Duration,
    pub max_retry_after: Duration,
    pub breaker_failures: u32,
    pub breaker_cool_down: Duration,
    pub hubspot_requests_per_10s: u32,
    pub hubspot_searches_per_sec: u32,
    /// The rolling window `hubspot_requests_per_10s` counts in (10 s at HubSpot).
    pub hubspot_window: Duration,
    pub gmail_units_per_min: u32,
    pub gmail_max_in_flight: usize,
    pub calendar_requests_per_min: u32,
    pub drive_requests_per_min: u32,
    pub llm_requests_per_min: u32,
    /// On PostgreSQL, the share of each quota one lease takes from the fleet's
    /// budget (percent); 0: no sharing.
    pub quota_lease_percent: u32,
}

pub(super) fn connectors_config<F: Fn(&str) -> Option<String>>(
    source: &Source<'_, F>,
) -> Result<ConnectorsConfig, ConfigError> {
    let secs = |name| -> Result<Duration, ConfigError> {
        Ok(Duration::from_secs(source.parse_positive(name)?))
    };
    Ok(ConnectorsConfig {
        hubspot_base_url: source.parse_http_url("SALES_AGENT_HUBSPOT_BASE_URL")?,
        hubspot_token: source.secret("SALES_AGENT_HUBSPOT_TOKEN"),
        hubspot_client_id: source.secret("SALES_AGENT_HUBSPOT_CLIENT_ID"),
        hubspot_client_secret: source.secret("SALES_AGENT_HUBSPOT_CLIENT_SECRET"),
        hubspot_auth_url: source.parse_http_url("SALES_AGENT_HUBSPOT_AUTH_URL")?,
        hubspot_token_url: source.parse_http_url("SALES_AGENT_HUBSPOT_TOKEN_URL")?,
        gmail_base_url: source.parse_http_url("SALES_AGENT_GMAIL_BASE_URL")?,
        google_api_base_url: source.parse_http_url("SALES_AGENT_GOOGLE_API_BASE_URL")?,
        google_token_url: source.parse_http_url("SALES_AGENT_GOOGLE_TOKEN_URL")?,
        google_client_id: source.secret("SALES_AGENT_GOOGLE_CLIENT_ID"),
        google_client_secret: source.secret("SALES_AGENT_GOOGLE_CLIENT_SECRET"),
        google_refresh_tokens: parse_refresh_tokens(
            source.raw("SALES_AGENT_GOOGLE_REFRESH_TOKENS"),
        )?,
        google_service_account_file: source
            .raw("SALES_AGENT_GOOGLE_SERVICE_ACCOUNT_FILE")
            .map(|p| std::path::PathBuf::from(p.trim())),
        llm_base_url: source.parse_http_url("SALES_AGENT_LLM_BASE_URL")?,
        llm_api_key: source.secret("SALES_AGENT_LLM_API_KEY"),
        llm_model: source.string("SALES_AGENT_LLM_MODEL"),
        timeout: secs("SALES_AGENT_CONNECTOR_TIMEOUT_SECS")?,
        llm_timeout: secs("SALES_AGENT_LLM_TIMEOUT_SECS")?,
        max_attempts: source.parse_positive("SALES_AGENT_CONNECTOR_MAX_ATTEMPTS")?,
        max_backoff: secs("SALES_AGENT_CONNECTOR_MAX_BACKOFF_SECS")?,
        max_retry_after: secs("SALES_AGENT_CONNECTOR_MAX_RETRY_AFTER_SECS")?,
        breaker_failures: source.parse_positive("SALES_AGENT_BREAKER_FAILURES")?,
        breaker_cool_down: secs("SALES_AGENT_BREAKER_COOL_DOWN_SECS")?,
        hubspot_requests_per_10s: source.parse_positive("SALES_AGENT_HUBSPOT_REQUESTS_PER_10S")?,
        hubspot_searches_per_sec: source.parse_positive("SALES_AGENT_HUBSPOT_SEARCHES_PER_SEC")?,
        hubspot_window: Duration::from_millis(
            source.parse_positive("SALES_AGENT_HUBSPOT_WINDOW_MS")?,
        ),
        gmail_units_per_min: source.parse_positive("SALES_AGENT_GMAIL_UNITS_PER_MIN")?,
        gmail_max_in_flight: source.parse_positive("SALES_AGENT_GMAIL_MAX_IN_FLIGHT")?,
        calendar_requests_per_min: source
            .parse_positive("SALES_AGENT_CALENDAR_REQUESTS_PER_MIN")?,
        drive_requests_per_min: source.parse_positive("SALES_AGENT_DRIVE_REQUESTS_PER_MIN")?,
        llm_requests_per_min: source.parse_positive("SALES_AGENT_LLM_REQUESTS_PER_MIN")?,
        quota_lease_percent: match source.parse::<u32>("SALES_AGENT_QUOTA_LEASE_PERCENT")? {
            p @ 0..=100 => p,
            p => {
                return Err(invalid(
                    "SALES_AGENT_QUOTA_LEASE_PERCENT",
                    format!("expected 0 to 100, got {p}"),
                ));
            }
        },
    })
}

/// `mailbox=token,mailbox=token`; the token itself never appears in an error.
fn parse_refresh_tokens(raw: Option<String>) -> Result<Vec<(String, SecretString)>, ConfigError> {
    let name = "SALES_AGENT_GOOGLE_REFRESH_TOKENS";
    let Some(raw) = raw else {
        return Ok(Vec::new());
    };
    raw.split(',')
        .filter(|pair| !pair.trim().is_empty())
        .enumerate()
        .map(|(i, pair)| match pair.split_once('=') {
            Some((mailbox, token)) if mailbox.contains('@') && !token.trim().is_empty() => Ok((
                mailbox.trim().to_ascii_lowercase(),
                SecretString::from(token.trim().to_string()),
            )),
            _ => Err(invalid(
                name,
                format!("entry {} is not mailbox=token", i + 1),
            )),
        })
        .collect()
}
