//! `ConnectorError`: every failure of an external call, classified once, here.
//!
//! Policy:
//! - A response is turned into a variant by [`classify`] from its status, the
//!   provider's error envelope and `Retry-After`; transport failures by
//!   `From<reqwest::Error>`. Nothing else inspects status codes.
//! - [`ConnectorError::is_retryable`] is the only retry decision anywhere: the
//!   connector policy retries what it says, up to its attempt limit; steps never retry.
//! - Quota exhaustion (HubSpot `DAILY`, Gmail `dailyLimitExceeded`) and a dead OAuth
//!   grant are not retryable: retrying only burns the error budget.
//! - For requests that are not idempotent (drafts, sends, notes, tasks), only a
//!   failure that certainly had no effect ([`ConnectorError::had_no_effect`]: 429,
//!   connection refused) is retried; anything else becomes `OutcomeUnknown`, which
//!   the step reconciles before acting again.
//! - What the policy returns (`GaveUp`, `BreakerOpen`, a long `RateLimited`) keeps
//!   `is_retryable()`: the workflow may schedule the step again later.

use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectorError {
    /// 429 (or Google's 403 rate reasons): back off at least `retry_after` when given.
    #[error("rate limited: {message}")]
    RateLimited {
        retry_after: Option<Duration>,
        message: String,
    },
    /// 401: the credential was refused.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// The OAuth grant of this account is dead (`invalid_grant`): a human must re-authorise.
    /// The account (a mailbox address) is kept for the code, never shown: this
    /// message reaches logs and stored errors.
    #[error("a mailbox needs re-authorisation")]
    NeedsReauth { account: String },
    #[error("not found: {0}")]
    NotFound(String),
    /// 409: for creates with a client-chosen id this means "already done".
    #[error("conflict: {0}")]
    Conflict(String),
    /// The connection could not be made: the request never reached the service.
    #[error("service unreachable: {0}")]
    Unreachable(String),
    /// 5xx, timeouts, broken connections: worth another attempt, but the request
    /// may have been processed.
    #[error("transient failure: {message}")]
    Transient {
        retry_after: Option<Duration>,
        message: String,
    },
    /// Any other 4xx or an unreadable response: the request itself is wrong.
    #[error("permanent failure ({status}): {message}")]
    Permanent { status: u16, message: String },
    /// A daily quota is used up; nothing will succeed until it resets.
    #[error("quota exhausted: {0}")]
    QuotaExhausted(String),
    /// The circuit breaker is open; the call was not made.
    #[error("circuit breaker open for {connector}")]
    BreakerOpen { connector: String },
    /// A non-idempotent request failed in a way that may have taken effect (timeout,
    /// 5xx): reconcile (look for the draft, the sent message, the marked note)
    /// before deciding to send again.
    #[error("outcome unknown: {last}")]
    OutcomeUnknown { last: Box<ConnectorError> },
    /// The retry policy ran out of attempts; `last` is the final failure.
    #[error("gave up after {attempts} attempts: {last}")]
    GaveUp {
        attempts: u32,
        last: Box<ConnectorError>,
    },
}

impl ConnectorError {
    /// The only retry decision: may the same request succeed if sent again later?
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::RateLimited { .. }
            | Self::Unreachable(_)
            | Self::Transient { .. }
            | Self::BreakerOpen { .. } => true,
            Self::GaveUp { last, .. } => last.is_retryable(),
            Self::Unauthorized(_)
            | Self::NeedsReauth { .. }
            | Self::NotFound(_)
            | Self::Conflict(_)
            | Self::Permanent { .. }
            | Self::QuotaExhausted(_)
            | Self::OutcomeUnknown { .. } => false,
        }
    }

    /// The provider's own minimum wait, if it named one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after, .. } | Self::Transient { retry_after, .. } => {
                *retry_after
            }
            _ => None,
        }
    }

    /// Whether this failure says the service itself is unhealthy (feeds the breaker).
    pub fn is_service_failure(&self) -> bool {
        matches!(self, Self::Transient { .. } | Self::Unreachable(_))
    }

    /// Whether the request certainly had no effect, so even a non-idempotent
    /// request may be sent again.
    pub fn had_no_effect(&self) -> bool {
        matches!(
            self,
            Self::RateLimited { .. } | Self::Unreachable(_) | Self::BreakerOpen { .. }
        )
    }

    /// A short stable name, used as the `status` metric label.
    pub fn label(&self) -> &'static str {
        match self {
            Self::RateLimited { .. } => "rate_limited",
            Self::Unauthorized(_) => "unauthorized",
            Self::NeedsReauth { .. } => "needs_reauth",
            Self::NotFound(_) => "not_found",
            Self::Conflict(_) => "conflict",
            Self::Transient { .. } => "transient",
            Self::Permanent { .. } => "permanent",
            Self::QuotaExhausted(_) => "quota_exhausted",
            Self::BreakerOpen { .. } => "breaker_open",
            Self::Unreachable(_) => "unreachable",
            Self::OutcomeUnknown { .. } => "outcome_unknown",
            Self::GaveUp { last, .. } => last.label(),
        }
    }

    pub(crate) fn transient(message: impl Into<String>) -> Self {
        Self::Transient {
            retry_after: None,
            message: message.into(),
        }
    }
}

impl From<reqwest::Error> for ConnectorError {
    fn from(e: reqwest::Error) -> Self {
        // The URL may carry identifiers; keep only the kind of failure.
        let e = e.without_url();
        if e.is_connect() && !e.is_timeout() {
            Self::Unreachable(e.to_string())
        } else if e.is_timeout() || e.is_request() || e.is_body() {
            Self::transient(e.to_string())
        } else if let Some(status) = e.status() {
            by_status(status, None, e.to_string())
        } else {
            // Decoding or building failed: sending it again changes nothing.
            Self::Permanent {
                status: 0,
                message: e.to_string(),
            }
        }
    }
}

/// Whose conventions a response follows (error envelope, `Retry-After` unit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    /// `Retry-After` in milliseconds; 429 body names the `policyName`.
    HubSpot,
    /// Gmail, Calendar, Drive: `Retry-After` in seconds; `{"error":{"errors":[{reason}]}}`.
    Google,
    /// OpenAI-compatible: `Retry-After` in seconds; `{"error":{"code","type"}}`.
    Llm,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct HubSpotEnvelope {
    message: Option<String>,
    policy_name: Option<String>,
    category: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct GoogleEnvelope {
    error: Option<GoogleErrorBody>,
}

#[derive(Debug, Default, Deserialize)]
struct GoogleErrorBody {
    message: Option<String>,
    #[serde(default)]
    errors: Vec<GoogleErrorItem>,
    /// OpenAI-compatible servers put a string code here.
    code: Option<serde_json::Value>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct GoogleErrorItem {
    reason: Option<String>,
}

/// Turns a non-success response into a [`ConnectorError`].
pub fn classify(
    provider: Provider,
    status: StatusCode,
    headers: &HeaderMap,
    body: &str,
) -> ConnectorError {
    let unit = match provider {
        Provider::HubSpot => RetryAfterUnit::Millis,
        Provider::Google | Provider::Llm => RetryAfterUnit::Seconds,
    };
    let retry_after = headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, unit, SystemTime::now()));
    match provider {
        Provider::HubSpot => classify_hubspot(status, retry_after, body),
        Provider::Google | Provider::Llm => classify_google(status, retry_after, body),
    }
}

fn classify_hubspot(
    status: StatusCode,
    retry_after: Option<Duration>,
    body: &str,
) -> ConnectorError {
    let env: HubSpotEnvelope = serde_json::from_str(body).unwrap_or_default();
    let message = env
        .message
        .clone()
        .or(env.category.clone())
        .unwrap_or_else(|| status.to_string());
    match status.as_u16() {
        429 => match env.policy_name.as_deref() {
            Some("DAILY") => ConnectorError::QuotaExhausted(message),
            // Without a header, wait out the window the policy names (HubSpot's SDK does too).
            Some("TEN_SECONDLY_ROLLING") => ConnectorError::RateLimited {
                retry_after: retry_after.or(Some(Duration::from_secs(10))),
                message,
            },
            Some("SECONDLY") => ConnectorError::RateLimited {
                retry_after: retry_after.or(Some(Duration::from_secs(1))),
                message,
            },
            _ => ConnectorError::RateLimited {
                retry_after,
                message,
            },
        },
        // Locked: HubSpot asks for at least two seconds.
        423 => ConnectorError::RateLimited {
            retry_after: Some(retry_after.unwrap_or_default().max(Duration::from_secs(2))),
            message,
        },
        // Migration in progress; its Retry-After is in seconds, unlike the rest of HubSpot.
        477 => ConnectorError::Transient {
            retry_after: retry_after.map(|ms| Duration::from_secs(ms.as_millis() as u64)),
            message,
        },
        _ => by_status(status, retry_after, message),
    }
}

fn classify_google(
    status: StatusCode,
    retry_after: Option<Duration>,
    body: &str,
) -> ConnectorError {
    let env: GoogleEnvelope = serde_json::from_str(body).unwrap_or_default();
    let error = env.error.unwrap_or_default();
    let reasons: Vec<&str> = error
        .errors
        .iter()
        .filter_map(|e| e.reason.as_deref())
        .collect();
    let code = error.code.as_ref().and_then(|c| c.as_str()).unwrap_or("");
    let message = error.message.unwrap_or_else(|| status.to_string());
    let has = |r: &str| reasons.contains(&r);
    if has("dailyLimitExceeded") || code == "insufficient_quota" {
        return ConnectorError::QuotaExhausted(message);
    }
    let rate_reason = has("userRateLimitExceeded") || has("rateLimitExceeded");
    if status == StatusCode::TOO_MANY_REQUESTS
        || (status == StatusCode::FORBIDDEN && rate_reason)
        || error.kind.as_deref() == Some("rate_limit_exceeded")
    {
        return ConnectorError::RateLimited {
            retry_after,
            message,
        };
    }
    by_status(status, retry_after, message)
}

fn by_status(status: StatusCode, retry_after: Option<Duration>, message: String) -> ConnectorError {
    match status.as_u16() {
        401 => ConnectorError::Unauthorized(message),
        404 | 410 => ConnectorError::NotFound(message),
        409 => ConnectorError::Conflict(message),
        429 => ConnectorError::RateLimited {
            retry_after,
            message,
        },
        408 | 500..=599 => ConnectorError::Transient {
            retry_after,
            message,
        },
        code => ConnectorError::Permanent {
            status: code,
            message,
        },
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryAfterUnit {
    Seconds,
    Millis,
}

/// Parses `Retry-After` as a number in the provider's unit, or as an HTTP-date.
pub fn parse_retry_after(value: &str, unit: RetryAfterUnit, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(n) = value.parse::<u64>() {
        return Some(match unit {
            RetryAfterUnit::Seconds => Duration::from_secs(n),
            RetryAfterUnit::Millis => Duration::from_millis(n),
        });
    }
    if let Ok(f) = value.parse::<f64>() {
        let secs = match unit {
            RetryAfterUnit::Seconds => f,
            RetryAfterUnit::Millis => f / 1000.0,
        };
        return Duration::try_from_secs_f64(secs).ok();
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
#[path = "error_tests.rs"]
mod tests;
