//! The connector actor: one generic type, one instance per external service
//! (hubspot, gmail, calendar, drive, llm). It owns the other end of the mailbox
//! through which steps reach a client (`connectors::gateway`); every call runs
//! through the instance's [`CallPolicy`] (breaker, rate limiter, retries, metrics).
//! Calls run concurrently: the handler returns a future that the runtime drives
//! while the mailbox takes the next message.

use std::sync::Arc;

use actix::prelude::*;
use tracing::Instrument;

use crate::connectors::gateway::{Answer, Job};
pub use crate::connectors::gateway::{Call, Connectors, call};
use crate::connectors::policy::CallPolicy;
use crate::connectors::setup::{Clients, Policies};

/// Owns one client and the policy its calls go through.
pub struct ConnectorActor<C: ?Sized> {
    client: Arc<C>,
    policy: Arc<CallPolicy>,
}

impl<C: ?Sized> ConnectorActor<C> {
    pub fn new(client: Arc<C>, policy: CallPolicy) -> Self {
        ConnectorActor {
            client,
            policy: Arc::new(policy),
        }
    }
}

impl<C: ?Sized + Send + Sync + 'static> Actor for ConnectorActor<C> {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        // Thousands of steps may wait on one provider; do not push back on them here.
        ctx.set_mailbox_capacity(usize::MAX);
        tracing::debug!(connector.name = self.policy.connector, "connector started");
    }
}

impl<C> Handler<Job<C>> for ConnectorActor<C>
where
    C: ?Sized + Send + Sync + 'static,
{
    type Result = ResponseFuture<Answer>;

    fn handle(&mut self, job: Job<C>, _ctx: &mut Self::Context) -> Self::Result {
        let client = self.client.clone();
        let policy = self.policy.clone();
        let span = tracing::debug_span!(
            parent: &job.parent,
            "connector.call",
            connector.name = policy.connector,
            operation = job.operation
        );
        Box::pin(
            async move {
                policy
                    .run_with(job.operation, &job.cost, job.idempotent, || {
                        job.attempt(client.clone())
                    })
                    .await
            }
            .instrument(span),
        )
    }
}

/// Starts one connector actor per service on the current arbiter and returns
/// their mailboxes.
pub fn start(clients: Clients, policies: Policies) -> Connectors {
    Connectors {
        hubspot: ConnectorActor::new(clients.hubspot, policies.hubspot)
            .start()
            .recipient(),
        gmail: ConnectorActor::new(clients.gmail, policies.gmail)
            .start()
            .recipient(),
        calendar: ConnectorActor::new(clients.calendar, policies.calendar)
            .start()
            .recipient(),
        drive: ConnectorActor::new(clients.drive, policies.drive)
            .start()
            .recipient(),
        llm: ConnectorActor::new(clients.llm, policies.llm)
            .start()
            .recipient(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::Duration;

    use super::*;
    use crate::connectors::ConnectorError;
    use crate::connectors::breaker::BreakerConfig;
    use crate::connectors::limiter::{Limiter, RateCost, quota};
    use crate::connectors::policy::RetryPolicy;

    /// A stand-in service: counts attempts and fails the first `fail_first`.
    struct Flaky {
        attempts: AtomicU32,
        fail_first: u32,
    }

    impl Flaky {
        async fn ping(&self) -> Result<u32, ConnectorError> {
            let n = self.attempts.fetch_add(1, Ordering::SeqCst) + 1;
            tokio::time::sleep(Duration::from_millis(50)).await;
            if n <= self.fail_first {
                Err(ConnectorError::transient("503"))
            } else {
                Ok(n)
            }
        }
    }

    fn actor(fail_first: u32) -> Recipient<Job<Flaky>> {
        let policy = CallPolicy::new(
            "test",
            RetryPolicy {
                max_attempts: 3,
                base: Duration::from_millis(1),
                max_backoff: Duration::from_millis(5),
                max_retry_after: Duration::from_secs(60),
            },
            Limiter::new(quota(100, Duration::from_secs(1))),
            BreakerConfig {
                failure_threshold: 5,
                cool_down: Duration::from_secs(1),
            },
            None,
        );
        let client = Arc::new(Flaky {
            attempts: AtomicU32::new(0),
            fail_first,
        });
        ConnectorActor::new(client, policy).start().recipient()
    }

    fn ping() -> Call<Flaky, u32> {
        Call::new("ping", RateCost::one(), |c: Arc<Flaky>| async move {
            c.ping().await
        })
    }

    #[actix_rt::test]
    async fn a_call_is_retried_inside_the_actor_until_it_succeeds() {
        let addr = actor(2);
        assert_eq!(call(&addr, ping()).await, Ok(3));
    }

    #[actix_rt::test]
    async fn the_five_connectors_start_from_default_configuration() {
        let config = crate::config::Config::defaults().connectors;
        let metrics = crate::metrics::Metrics::new();
        let connectors = start(
            Clients::from_config(&config),
            Policies::from_config(&config, &metrics),
        );
        assert!(connectors.gmail.connected() && connectors.llm.connected());
        let text = metrics.render();
        for name in crate::metrics::CONNECTORS {
            let gauge = format!("sales_agent_connector_breaker_state{{connector=\"{name}\"}} 0");
            assert!(text.contains(&gauge), "missing {gauge}");
        }
        assert!(text.contains(r#"operation="gmail.users.drafts.send""#));
    }

    #[actix_rt::test]
    async fn calls_run_concurrently_not_one_after_another() {
        let addr = actor(0);
        let started = std::time::Instant::now();
        let calls: Vec<_> = (0..20).map(|_| call(&addr, ping())).collect();
        let results = futures_util::future::join_all(calls).await;
        assert!(results.iter().all(Result::is_ok));
        // Twenty 50 ms calls one at a time would take a second.
        assert!(
            started.elapsed() < Duration::from_millis(500),
            "{:?}",
            started.elapsed()
        );
    }
}
