//! The refusals every provider answers with when the gate turns a request away:
//! 401s, Google's 403 for a missing scope, and 429s (and Google's 403 limits)
//! with `Retry-After` in the provider's unit — HubSpot milliseconds with its
//! `policyName` body, Google seconds with its `usageLimits` reasons.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::HeaderValue;
use serde_json::json;

use super::faults::Injected429;
use super::quota::Refusal;
use super::respond::{self, Provider};

/// Google's 403 for a valid token that lacks the method's scope.
pub fn insufficient_scope() -> HttpResponse {
    HttpResponse::Forbidden()
        .insert_header((
            "WWW-Authenticate",
            "Bearer realm=\"https://accounts.google.com/\", error=\"insufficient_scope\"",
        ))
        .json(json!({"error": {
            "code": 403, "message": "Request had insufficient authentication scopes.",
            "status": "PERMISSION_DENIED",
            "errors": [{"message": "Insufficient Permission", "domain": "global", "reason": "insufficientPermissions"}]}}))
}

/// HubSpot's 401 for an OAuth access token past its 30 minutes.
pub fn expired_oauth(minutes_ago: u64) -> HttpResponse {
    respond::hubspot(
        StatusCode::UNAUTHORIZED,
        "EXPIRED_AUTHENTICATION",
        &format!("The OAuth token used to make this call expired {minutes_ago} minute(s) ago."),
        vec![],
    )
}

/// The provider's 401: `presented` says whether a credential was sent at all.
pub fn unauthorized(provider: Provider, presented: bool) -> HttpResponse {
    match provider {
        Provider::HubSpot => respond::hubspot(
            StatusCode::UNAUTHORIZED,
            "INVALID_AUTHENTICATION",
            if presented {
                "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
            } else {
                "Any of the listed authentication credentials are missing"
            },
            vec![],
        ),
        Provider::Google | Provider::OAuth => {
            let (reason, message, detail) = if presented {
                (
                    "authError",
                    "Invalid Credentials",
                    "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
                )
            } else {
                (
                    "required",
                    "Login Required.",
                    "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
                )
            };
            HttpResponse::Unauthorized()
                .insert_header((
                    "WWW-Authenticate",
                    "Bearer realm=\"https://accounts.google.com/\"",
                ))
                .json(json!({"error": {
                    "code": 401, "message": detail, "status": "UNAUTHENTICATED",
                    "errors": [{"message": message, "domain": "global", "reason": reason,
                                "location": "Authorization", "locationType": "header"}]}}))
        }
        Provider::Llm => respond::openai(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            Some("invalid_api_key"),
            if presented {
                "Incorrect API key provided."
            } else {
                "You didn't provide an API key."
            },
        ),
    }
}

fn hubspot_429(policy: &str, retry_after_ms: u64) -> HttpResponse {
    let message = match policy {
        "SECONDLY" => "You have reached your secondly limit.",
        "DAILY" => "You have reached your daily limit.",
        _ => "You have reached your ten_secondly_rolling limit.",
    };
    HttpResponse::TooManyRequests()
        .insert_header(("Retry-After", retry_after_ms.to_string()))
        .json(json!({
            "status": "error", "message": message, "errorType": "RATE_LIMIT",
            "correlationId": uuid::Uuid::new_v4().to_string(),
            "policyName": policy, "category": "RATE_LIMITS"}))
}

fn google_429(reason: &str, message: &str, retry_after_s: u64) -> HttpResponse {
    let response = respond::google(
        StatusCode::TOO_MANY_REQUESTS,
        "RESOURCE_EXHAUSTED",
        "usageLimits",
        reason,
        message,
    );
    with_retry_after(response, retry_after_s)
}

pub fn quota_429(refusal: Refusal) -> HttpResponse {
    match refusal {
        Refusal::HubSpotTenSecondly { retry_after_ms } => {
            hubspot_429("TEN_SECONDLY_ROLLING", retry_after_ms)
        }
        Refusal::HubSpotSecondly { retry_after_ms } => hubspot_429("SECONDLY", retry_after_ms),
        Refusal::HubSpotDaily { retry_after_ms } => hubspot_429("DAILY", retry_after_ms),
        Refusal::GmailUser { retry_after_ms } => google_429(
            "userRateLimitExceeded",
            "User-rate limit exceeded.",
            retry_after_ms.div_ceil(1000),
        ),
        Refusal::GmailSending { retry_after_ms } => google_429(
            "userRateLimitExceeded",
            "User-rate limit exceeded (Mail sending)",
            retry_after_ms.div_ceil(1000),
        ),
        // Calendar reports its per-user limit as 403 usageLimits.
        Refusal::CalendarUser { retry_after_ms } => with_retry_after(
            respond::google(
                StatusCode::FORBIDDEN,
                "PERMISSION_DENIED",
                "usageLimits",
                "userRateLimitExceeded",
                "User Rate Limit Exceeded",
            ),
            retry_after_ms.div_ceil(1000),
        ),
    }
}

fn with_retry_after(mut response: HttpResponse, value: u64) -> HttpResponse {
    if let Ok(value) = HeaderValue::from_str(&value.to_string()) {
        response
            .headers_mut()
            .insert(actix_web::http::header::RETRY_AFTER, value);
    }
    response
}

/// An injected 429 in the provider's shape, naming the limit the spec chose.
pub fn injected_429(provider: Provider, injected: &Injected429) -> HttpResponse {
    let reason = injected.reason.as_deref();
    match provider {
        Provider::HubSpot => hubspot_429(
            reason.unwrap_or("TEN_SECONDLY_ROLLING"),
            injected.retry_after.unwrap_or(10_000),
        ),
        Provider::Google | Provider::OAuth => {
            let retry_after = injected.retry_after.unwrap_or(1);
            match reason.unwrap_or("rateLimitExceeded") {
                // Google reports the daily cap as 403, not 429.
                "dailyLimitExceeded" => with_retry_after(
                    respond::google(
                        StatusCode::FORBIDDEN,
                        "RESOURCE_EXHAUSTED",
                        "usageLimits",
                        "dailyLimitExceeded",
                        "Daily Limit Exceeded",
                    ),
                    retry_after,
                ),
                "userRateLimitExceeded" => google_429(
                    "userRateLimitExceeded",
                    "User-rate limit exceeded.",
                    retry_after,
                ),
                other => google_429(other, "Rate Limit Exceeded", retry_after),
            }
        }
        Provider::Llm => with_retry_after(
            respond::openai(
                StatusCode::TOO_MANY_REQUESTS,
                "requests",
                Some("rate_limit_exceeded"),
                "Rate limit reached for requests.",
            ),
            injected.retry_after.unwrap_or(1),
        ),
    }
}
