//! How a call reaches an external service: a [`Call`] names the operation, its rate
//! cost and one attempt with the client (the closure may run several times); the
//! [`Connectors`] handle holds one mailbox per service. The connector actors
//! (`actors::connector`) own the other end of those mailboxes and run every call
//! through the service's policy (breaker, rate limiter, retries, metrics). Below the
//! actors, code knows them only as recipients of [`Job`]s, so nothing here or under
//! it imports an actor.
//!
//! ```text
//! let search = Call::to(&hubspot::CONTACTS_SEARCH, hubspot::cost(&hubspot::CONTACTS_SEARCH),
//!     move |c: Arc<dyn HubSpot>| { let email = email.clone(); async move { c.search_contact_by_email(&email).await } });
//! let found = gateway::call(&connectors.hubspot, search).await?;
//! ```
//!
//! The error that comes back is already final for this attempt of the step: a
//! `GaveUp`, `BreakerOpen` or `RateLimited` is retryable later by the workflow, the
//! rest is not.

use std::any::Any;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;

use actix::{Message, Recipient};

use super::ConnectorError;
use super::calendar::Calendar;
use super::drive::Drive;
use super::gmail::Gmail;
use super::http::Endpoint;
use super::hubspot::HubSpot;
use super::limiter::RateCost;
use super::llm::Llm;

/// What one attempt answers, with its type erased so that one mailbox per service
/// carries calls of every result type; [`call`] restores the type.
pub type Answer = Result<Box<dyn Any + Send>, ConnectorError>;
type Attempt<C> = Box<dyn Fn(Arc<C>) -> Pin<Box<dyn Future<Output = Answer> + Send>> + Send>;

/// One request to a connector, answering `T`: `attempt` is called once per try.
pub struct Call<C: ?Sized, T> {
    job: Job<C>,
    answers: PhantomData<fn() -> T>,
}

/// A [`Call`] as its connector's mailbox carries it.
pub struct Job<C: ?Sized> {
    pub operation: &'static str,
    pub cost: RateCost,
    /// False for creates without a natural key: then a timeout is not retried.
    pub idempotent: bool,
    attempt: Attempt<C>,
    /// The caller's span (workflow, step), so the call's logs say whose call it is.
    pub parent: tracing::Span,
}

impl<C: ?Sized + 'static, T: Send + 'static> Call<C, T> {
    pub fn new<F, Fut>(operation: &'static str, cost: RateCost, attempt: F) -> Self
    where
        F: Fn(Arc<C>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, ConnectorError>> + Send + 'static,
    {
        let attempt: Attempt<C> = Box::new(move |client| {
            let answer = attempt(client);
            Box::pin(async move { answer.await.map(|t| Box::new(t) as Box<dyn Any + Send>) })
        });
        Call {
            job: Job {
                operation,
                cost,
                idempotent: true,
                attempt,
                parent: tracing::Span::current(),
            },
            answers: PhantomData,
        }
    }

    /// Marks the call as one that must not be resent after an unknown outcome.
    pub fn non_idempotent(mut self) -> Self {
        self.job.idempotent = false;
        self
    }

    /// A call named after the endpoint it makes (the `operation` metric label).
    pub fn to<F, Fut>(endpoint: &Endpoint, cost: RateCost, attempt: F) -> Self
    where
        F: Fn(Arc<C>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, ConnectorError>> + Send + 'static,
    {
        let mut call = Self::new(endpoint.id, cost, attempt);
        call.job.idempotent = endpoint.idempotent;
        call
    }
}

impl<C: ?Sized> Job<C> {
    /// Makes one attempt with `client`.
    pub fn attempt(&self, client: Arc<C>) -> impl Future<Output = Answer> + Send + use<C> {
        (self.attempt)(client)
    }
}

impl<C: ?Sized + 'static> Message for Job<C> {
    type Result = Answer;
}

/// A connector's mailbox.
pub type Mailbox<C> = Recipient<Job<C>>;

/// The five connector mailboxes of the process.
#[derive(Clone)]
pub struct Connectors {
    pub hubspot: Mailbox<dyn HubSpot>,
    pub gmail: Mailbox<dyn Gmail>,
    pub calendar: Mailbox<dyn Calendar>,
    pub drive: Mailbox<dyn Drive>,
    pub llm: Mailbox<dyn Llm>,
}

/// Sends `call` to its connector and waits for the answer; a lost mailbox is a
/// transient error.
pub async fn call<C, T>(mailbox: &Mailbox<C>, call: Call<C, T>) -> Result<T, ConnectorError>
where
    C: ?Sized + 'static,
    T: Send + 'static,
{
    let answer = mailbox
        .send(call.job)
        .await
        .map_err(|e| ConnectorError::transient(format!("connector mailbox: {e}")))??;
    Ok(*answer
        .downcast::<T>()
        .expect("a job answers with the type its call was built for"))
}
