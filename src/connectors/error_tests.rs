//! Classification of statuses, envelopes and Retry-After values.

use super::*;
use reqwest::header::HeaderValue;

fn headers(retry_after: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(RETRY_AFTER, HeaderValue::from_str(retry_after).unwrap());
    h
}

#[test]
fn hubspot_retry_after_is_milliseconds_and_google_is_seconds() {
    let hs = classify(
        Provider::HubSpot,
        StatusCode::TOO_MANY_REQUESTS,
        &headers("1500"),
        "",
    );
    assert_eq!(hs.retry_after(), Some(Duration::from_millis(1500)));
    let g = classify(
        Provider::Google,
        StatusCode::TOO_MANY_REQUESTS,
        &headers("3"),
        "",
    );
    assert_eq!(g.retry_after(), Some(Duration::from_secs(3)));
}

#[test]
fn retry_after_accepts_an_http_date() {
    let now = httpdate::parse_http_date("Tue, 24 Nov 2026 10:00:00 GMT").unwrap();
    let wait = parse_retry_after(
        "Tue, 24 Nov 2026 10:00:30 GMT",
        RetryAfterUnit::Seconds,
        now,
    );
    assert_eq!(wait, Some(Duration::from_secs(30)));
    let past = parse_retry_after("Tue, 24 Nov 2026 09:00:00 GMT", RetryAfterUnit::Millis, now);
    assert_eq!(past, Some(Duration::ZERO));
    assert_eq!(
        parse_retry_after("soon", RetryAfterUnit::Seconds, now),
        None
    );
}

#[test]
fn hubspot_daily_limit_is_quota_exhausted_and_not_retried() {
    let body = r#"{"status":"error","message":"You have reached your daily limit.","errorType":"RATE_LIMIT","policyName":"DAILY"}"#;
    let e = classify(
        Provider::HubSpot,
        StatusCode::TOO_MANY_REQUESTS,
        &HeaderMap::new(),
        body,
    );
    assert!(matches!(e, ConnectorError::QuotaExhausted(_)), "{e:?}");
    assert!(!e.is_retryable());
}

#[test]
fn hubspot_ten_secondly_limit_without_header_waits_ten_seconds() {
    let body = r#"{"policyName":"TEN_SECONDLY_ROLLING","message":"You have reached your ten_secondly_rolling limit."}"#;
    let e = classify(
        Provider::HubSpot,
        StatusCode::TOO_MANY_REQUESTS,
        &HeaderMap::new(),
        body,
    );
    assert_eq!(e.retry_after(), Some(Duration::from_secs(10)));
    assert!(e.is_retryable());
}

#[test]
fn google_reasons_decide_between_rate_limit_and_quota() {
    let env = |reason: &str| {
        format!(
            r#"{{"error":{{"code":403,"message":"m","errors":[{{"domain":"usageLimits","reason":"{reason}"}}]}}}}"#
        )
    };
    let daily = classify(
        Provider::Google,
        StatusCode::FORBIDDEN,
        &HeaderMap::new(),
        &env("dailyLimitExceeded"),
    );
    assert!(matches!(daily, ConnectorError::QuotaExhausted(_)));
    let user = classify(
        Provider::Google,
        StatusCode::FORBIDDEN,
        &HeaderMap::new(),
        &env("userRateLimitExceeded"),
    );
    assert!(matches!(user, ConnectorError::RateLimited { .. }));
    let policy = classify(
        Provider::Google,
        StatusCode::FORBIDDEN,
        &HeaderMap::new(),
        &env("domainPolicy"),
    );
    assert!(matches!(
        policy,
        ConnectorError::Permanent { status: 403, .. }
    ));
}

#[test]
fn envelopes_with_missing_fields_still_classify() {
    for body in ["", "{}", r#"{"error":{}}"#, "not json", r#"{"error":"x"}"#] {
        let e = classify(
            Provider::Google,
            StatusCode::BAD_GATEWAY,
            &HeaderMap::new(),
            body,
        );
        assert!(
            matches!(e, ConnectorError::Transient { .. }),
            "{body}: {e:?}"
        );
        let e = classify(
            Provider::HubSpot,
            StatusCode::BAD_REQUEST,
            &HeaderMap::new(),
            body,
        );
        assert!(
            matches!(e, ConnectorError::Permanent { status: 400, .. }),
            "{body}: {e:?}"
        );
    }
}

#[test]
fn only_transient_and_rate_limited_failures_are_retryable() {
    let status = |code: u16| {
        classify(
            Provider::Google,
            StatusCode::from_u16(code).unwrap(),
            &HeaderMap::new(),
            "",
        )
    };
    assert!(status(503).is_retryable());
    assert!(status(429).is_retryable());
    assert!(status(408).is_retryable());
    for code in [400, 401, 403, 404, 409, 422] {
        assert!(!status(code).is_retryable(), "{code}");
    }
    assert!(matches!(status(401), ConnectorError::Unauthorized(_)));
    assert!(matches!(status(404), ConnectorError::NotFound(_)));
    assert!(matches!(status(409), ConnectorError::Conflict(_)));
}

#[test]
fn hubspot_migration_in_progress_waits_its_retry_after_in_seconds() {
    let e = classify(
        Provider::HubSpot,
        StatusCode::from_u16(477).unwrap(),
        &headers("30"),
        "",
    );
    assert!(matches!(e, ConnectorError::Transient { .. }), "{e:?}");
    assert_eq!(e.retry_after(), Some(Duration::from_secs(30)));
}

#[test]
fn a_hubspot_lock_waits_at_least_two_seconds() {
    let e = classify(
        Provider::HubSpot,
        StatusCode::LOCKED,
        &HeaderMap::new(),
        "{}",
    );
    assert_eq!(e.retry_after(), Some(Duration::from_secs(2)));
    assert!(e.is_retryable());
}
