//! The retry loop on paused time: what is retried, how long it waits, when it stops.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use super::*;
use crate::connectors::breaker::BreakerState;
use crate::connectors::limiter::quota;

fn policy(max_attempts: u32) -> CallPolicy {
    CallPolicy::new(
        "test",
        RetryPolicy {
            max_attempts,
            base: Duration::from_millis(100),
            max_backoff: Duration::from_secs(2),
            max_retry_after: Duration::from_secs(60),
        },
        Limiter::new(quota(1000, Duration::from_secs(1))),
        BreakerConfig {
            failure_threshold: 3,
            cool_down: Duration::from_secs(30),
        },
        Some(Metrics::new()),
    )
}

/// Plays back `script` one result per attempt and records when each attempt began.
struct Script {
    results: Mutex<Vec<Result<u32, ConnectorError>>>,
    at: Mutex<Vec<Instant>>,
}

impl Script {
    fn new(mut results: Vec<Result<u32, ConnectorError>>) -> Self {
        results.reverse();
        Script {
            results: Mutex::new(results),
            at: Mutex::new(Vec::new()),
        }
    }

    async fn next(&self) -> Result<u32, ConnectorError> {
        self.at.lock().unwrap().push(Instant::now());
        self.results
            .lock()
            .unwrap()
            .pop()
            .expect("no more attempts scripted")
    }

    fn gaps(&self) -> Vec<Duration> {
        let at = self.at.lock().unwrap();
        at.windows(2).map(|w| w[1] - w[0]).collect()
    }
}

fn rate_limited(secs: u64) -> ConnectorError {
    ConnectorError::RateLimited {
        retry_after: Some(Duration::from_secs(secs)),
        message: "slow down".into(),
    }
}

#[tokio::test(start_paused = true)]
async fn a_429_is_retried_no_sooner_than_retry_after() {
    let p = policy(5);
    let script = Script::new(vec![Err(rate_limited(7)), Ok(42)]);
    let value = p.run("op", &RateCost::one(), || script.next()).await;
    assert_eq!(value, Ok(42));
    assert!(
        script.gaps()[0] >= Duration::from_secs(7),
        "{:?}",
        script.gaps()
    );
    let m = p.metrics.as_ref().unwrap();
    assert_eq!(m.connector_retries.with_label_values(&["test"]).get(), 1);
    assert_eq!(
        m.connector_calls
            .with_label_values(&["test", "op", "rate_limited"])
            .get(),
        1
    );
}

#[tokio::test(start_paused = true)]
async fn server_errors_are_retried_with_growing_backoff_then_give_up_clearly() {
    let p = policy(3);
    let script = Script::new(
        (0..3)
            .map(|_| Err(ConnectorError::transient("503")))
            .collect(),
    );
    let err = p
        .run("op", &RateCost::one(), || script.next())
        .await
        .unwrap_err();
    match &err {
        ConnectorError::GaveUp { attempts, last } => {
            assert_eq!(*attempts, 3);
            assert!(matches!(**last, ConnectorError::Transient { .. }));
        }
        other => panic!("expected GaveUp, got {other:?}"),
    }
    assert!(err.to_string().contains("gave up after 3 attempts"));
    let gaps = script.gaps();
    assert_eq!(gaps.len(), 2);
    for (i, gap) in gaps.iter().enumerate() {
        assert!(*gap <= p.retry.ceiling(i as u32 + 1), "gap {i} = {gap:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn unauthorized_is_not_retried() {
    let p = policy(5);
    let calls = AtomicU32::new(0);
    let err = p
        .run("op", &RateCost::one(), || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err::<(), _>(ConnectorError::Unauthorized("bad token".into()))
        })
        .await
        .unwrap_err();
    assert!(matches!(err, ConnectorError::Unauthorized(_)));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn a_timeout_is_retried() {
    let p = policy(3);
    let script = Script::new(vec![
        Err(ConnectorError::transient("operation timed out")),
        Ok(1),
    ]);
    assert_eq!(p.run("op", &RateCost::one(), || script.next()).await, Ok(1));
}

#[tokio::test(start_paused = true)]
async fn a_dead_grant_is_not_retried() {
    let p = policy(5);
    let script = Script::new(vec![Err(ConnectorError::NeedsReauth {
        account: "rita@seller.com".into(),
    })]);
    let err = p
        .run("op", &RateCost::one(), || script.next())
        .await
        .unwrap_err();
    assert!(matches!(err, ConnectorError::NeedsReauth { .. }));
    assert_eq!(script.at.lock().unwrap().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_429_holds_other_callers_of_the_same_account() {
    let p = policy(5);
    let script = Script::new(vec![Err(rate_limited(10)), Ok(1)]);
    let a = RateCost::units("a", 1);
    let started = Instant::now();
    let (first, second) = tokio::join!(p.run("op", &a, || script.next()), async {
        // Starts after the 429 has been seen.
        tokio::time::sleep(Duration::from_millis(1)).await;
        p.run("op", &RateCost::units("a", 1), || async { Ok(2) })
            .await
    });
    assert_eq!((first, second), (Ok(1), Ok(2)));
    assert!(started.elapsed() >= Duration::from_secs(10));
    let other = Instant::now();
    p.run("op", &RateCost::units("b", 1), || async { Ok(3) })
        .await
        .unwrap();
    assert_eq!(other.elapsed(), Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn quota_exhaustion_stops_at_once() {
    let p = policy(5);
    let script = Script::new(vec![Err(ConnectorError::QuotaExhausted("DAILY".into()))]);
    let err = p
        .run("op", &RateCost::one(), || script.next())
        .await
        .unwrap_err();
    assert!(matches!(err, ConnectorError::QuotaExhausted(_)));
}

#[tokio::test(start_paused = true)]
async fn an_open_breaker_rejects_without_calling_and_recovers_after_cool_down() {
    let p = policy(1);
    for _ in 0..3 {
        let _ = p
            .run("op", &RateCost::one(), || async {
                Err::<(), _>(ConnectorError::transient("503"))
            })
            .await;
    }
    assert_eq!(p.breaker.state(), BreakerState::Open);
    let calls = AtomicU32::new(0);
    let err = p
        .run("op", &RateCost::one(), || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Ok(())
        })
        .await
        .unwrap_err();
    assert!(matches!(err, ConnectorError::BreakerOpen { .. }));
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    let gauge = &p.metrics.as_ref().unwrap().connector_breaker_state;
    assert_eq!(gauge.with_label_values(&["test"]).get(), 2);

    tokio::time::advance(Duration::from_secs(30)).await;
    p.run("op", &RateCost::one(), || async { Ok(()) })
        .await
        .unwrap();
    assert_eq!(p.breaker.state(), BreakerState::Closed);
    assert_eq!(gauge.with_label_values(&["test"]).get(), 0);
}

#[test]
fn backoff_ceiling_doubles_and_is_capped() {
    let r = RetryPolicy::default();
    assert_eq!(r.ceiling(1), Duration::from_secs(1));
    assert_eq!(r.ceiling(3), Duration::from_secs(4));
    assert_eq!(r.ceiling(40), Duration::from_secs(32));
    let e = ConnectorError::transient("x");
    for attempt in 1..10 {
        assert!(r.delay(attempt, &e) <= r.ceiling(attempt));
    }
    assert!(r.delay(1, &rate_limited(60)) >= Duration::from_secs(60));
}

#[tokio::test(start_paused = true)]
async fn a_non_idempotent_call_is_not_resent_after_a_timeout() {
    let p = policy(5);
    let script = Script::new(vec![Err(ConnectorError::transient("operation timed out"))]);
    let err = p
        .run_with("send", &RateCost::one(), false, || script.next())
        .await
        .unwrap_err();
    assert!(
        matches!(err, ConnectorError::OutcomeUnknown { .. }),
        "{err:?}"
    );
    assert!(!err.is_retryable());
    assert_eq!(script.at.lock().unwrap().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_non_idempotent_call_is_resent_when_it_certainly_had_no_effect() {
    let p = policy(5);
    let script = Script::new(vec![
        Err(ConnectorError::Unreachable("connection refused".into())),
        Err(rate_limited(1)),
        Ok(9),
    ]);
    let value = p
        .run_with("send", &RateCost::one(), false, || script.next())
        .await;
    assert_eq!(value, Ok(9));
}

#[tokio::test(start_paused = true)]
async fn a_retry_after_of_hours_goes_back_to_the_workflow_instead_of_blocking() {
    let p = policy(5);
    let script = Script::new(vec![Err(rate_limited(3 * 3600))]);
    let started = Instant::now();
    let err = p
        .run("send", &RateCost::one(), || script.next())
        .await
        .unwrap_err();
    assert_eq!(err.retry_after(), Some(Duration::from_secs(3 * 3600)));
    assert_eq!(started.elapsed(), Duration::ZERO);
}
