//! The connector actor: one generic type, one instance per external service
//! (hubspot, gmail, calendar, drive, llm). It is the mailbox through which steps
//! reach a client; every call runs through the instance's [`CallPolicy`] (breaker,
//! rate limiter, retries, metrics). Calls run concurrently: the handler returns a
//! future that the runtime drives while the mailbox takes the next message.
//!
//! A caller sends a [`Call`] naming the operation, its rate cost and a closure
//! that makes one attempt with the client; the closure may be invoked several times:
//!
//! ```text
//! let connectors = Connectors::start(Clients::from_config(&cfg), Policies::from_config(&cfg, &metrics));
//! let search = Call::to(&hubspot::CONTACTS_SEARCH, hubspot::cost(&hubspot::CONTACTS_SEARCH),
//!     move |c: Arc<dyn HubSpot>| { let email = email.clone(); async move { c.search_contact_by_email(&email).await } });
//! let found = connector::call(&connectors.hubspot, search).await?;
//! ```
//!
//! The error that comes back is already final for this attempt of the step: a
//! `GaveUp`, `BreakerOpen` or `RateLimited` is retryable later by the workflow, the
//! rest is not.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use actix::prelude::*;
use tracing::Instrument;

use crate::connectors::ConnectorError;
use crate::connectors::calendar::Calendar;
use crate::connectors::drive::Drive;
use crate::connectors::gmail::Gmail;
use crate::connectors::http::Endpoint;
use crate::connectors::hubspot::HubSpot;
use crate::connectors::limiter::RateCost;
use crate::connectors::llm::Llm;
use crate::connectors::policy::CallPolicy;
use crate::connectors::setup::{Clients, Policies};

type Attempt<C, T> =
    Box<dyn Fn(Arc<C>) -> Pin<Box<dyn Future<Output = Result<T, ConnectorError>> + Send>> + Send>;

/// One request to a connector: `attempt` is called once per try.
pub struct Call<C: ?Sized, T> {
    pub operation: &'static str,
    pub cost: RateCost,
    /// False for creates without a natural key: then a timeout is not retried.
    pub idempotent: bool,
    attempt: Attempt<C, T>,
    /// The caller's span (workflow, step), so the call's logs say whose call it is.
    parent: tracing::Span,
}

impl<C: ?Sized + 'static, T: 'static> Call<C, T> {
    pub fn new<F, Fut>(operation: &'static str, cost: RateCost, attempt: F) -> Self
    where
        F: Fn(Arc<C>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, ConnectorError>> + Send + 'static,
    {
        Call {
            operation,
            cost,
            idempotent: true,
            attempt: Box::new(move |client| Box::pin(attempt(client))),
            parent: tracing::Span::current(),
        }
    }

    /// Marks the call as one that must not be resent after an unknown outcome.
    pub fn non_idempotent(mut self) -> Self {
        self.idempotent = false;
        self
    }

    /// A call named after the endpoint it makes (the `operation` metric label).
    pub fn to<F, Fut>(endpoint: &Endpoint, cost: RateCost, attempt: F) -> Self
    where
        F: Fn(Arc<C>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, ConnectorError>> + Send + 'static,
    {
        let mut call = Self::new(endpoint.id, cost, attempt);
        call.idempotent = endpoint.idempotent;
        call
    }
}

impl<C: ?Sized + 'static, T: 'static> Message for Call<C, T> {
    type Result = Result<T, ConnectorError>;
}

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

impl<C, T> Handler<Call<C, T>> for ConnectorActor<C>
where
    C: ?Sized + Send + Sync + 'static,
    T: Send + 'static,
{
    type Result = ResponseFuture<Result<T, ConnectorError>>;

    fn handle(&mut self, call: Call<C, T>, _ctx: &mut Self::Context) -> Self::Result {
        let client = self.client.clone();
        let policy = self.policy.clone();
        let span = tracing::debug_span!(
            parent: &call.parent,
            "connector.call",
            connector.name = policy.connector,
            operation = call.operation
        );
        Box::pin(
            async move {
                let attempt = &call.attempt;
                policy
                    .run_with(call.operation, &call.cost, call.idempotent, || {
                        attempt(client.clone())
                    })
                    .await
            }
            .instrument(span),
        )
    }
}

/// The five connector instances of the process.
#[derive(Clone)]
pub struct Connectors {
    pub hubspot: Addr<ConnectorActor<dyn HubSpot>>,
    pub gmail: Addr<ConnectorActor<dyn Gmail>>,
    pub calendar: Addr<ConnectorActor<dyn Calendar>>,
    pub drive: Addr<ConnectorActor<dyn Drive>>,
    pub llm: Addr<ConnectorActor<dyn Llm>>,
}

impl Connectors {
    /// Starts one actor per service on the current arbiter.
    pub fn start(clients: Clients, policies: Policies) -> Self {
        Connectors {
            hubspot: ConnectorActor::new(clients.hubspot, policies.hubspot).start(),
            gmail: ConnectorActor::new(clients.gmail, policies.gmail).start(),
            calendar: ConnectorActor::new(clients.calendar, policies.calendar).start(),
            drive: ConnectorActor::new(clients.drive, policies.drive).start(),
            llm: ConnectorActor::new(clients.llm, policies.llm).start(),
        }
    }
}

/// Sends `call` and flattens a lost mailbox into a transient error.
pub async fn call<C, T>(
    addr: &Addr<ConnectorActor<C>>,
    call: Call<C, T>,
) -> Result<T, ConnectorError>
where
    C: ?Sized + Send + Sync + 'static,
    T: Send + 'static,
{
    addr.send(call)
        .await
        .map_err(|e| ConnectorError::transient(format!("connector mailbox: {e}")))?
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::Duration;

    use super::*;
    use crate::connectors::breaker::BreakerConfig;
    use crate::connectors::limiter::{Limiter, quota};
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

    fn actor(fail_first: u32) -> Addr<ConnectorActor<Flaky>> {
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
        ConnectorActor::new(client, policy).start()
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
        let connectors = Connectors::start(
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
