//! What a workflow reaches the world through, one per process and shared: the
//! store, the connector mailboxes, the configuration and the metrics. Each call
//! to a provider goes through its connector (limiter, breaker, retries), priced
//! by the provider's own cost table.

use std::future::Future;
use std::sync::Arc;

use serde_json::Value;

use crate::config::Config;
use crate::connectors::ConnectorError;
use crate::connectors::calendar::{self, Calendar};
use crate::connectors::drive::{self, Drive};
use crate::connectors::gateway::{self, Call, Connectors};
use crate::connectors::gmail::{self, Gmail};
use crate::connectors::http::Endpoint;
use crate::connectors::hubspot::{self, HubSpot};
use crate::connectors::limiter::RateCost;
use crate::connectors::llm::Llm;
use crate::metrics::Metrics;
use crate::store::Store;

/// What steps reach the world through; one per process, shared.
pub struct Services {
    pub store: Store,
    pub connectors: Connectors,
    pub config: Arc<Config>,
    pub metrics: Metrics,
}

impl Services {
    /// Appends an audit entry for an external write the engine made for `workflow_id`.
    pub async fn audit(
        &self,
        workflow_id: &str,
        action: &'static str,
        reason: &'static str,
        detail: Value,
    ) -> Result<(), crate::store::StoreError> {
        let workflow_id = workflow_id.to_string();
        self.store
            .run(move |c| {
                crate::store::audit::append(
                    c,
                    &crate::store::audit::Entry {
                        actor: "engine",
                        action,
                        workflow_id: Some(&workflow_id),
                        reason: Some(reason),
                        detail: detail.clone(),
                    },
                )
            })
            .await
    }

    pub async fn hubspot<T, F, Fut>(
        &self,
        endpoint: &'static Endpoint,
        attempt: F,
    ) -> Result<T, ConnectorError>
    where
        F: Fn(Arc<dyn HubSpot>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, ConnectorError>> + Send + 'static,
        T: Send + 'static,
    {
        gateway::call(
            &self.connectors.hubspot,
            Call::to(endpoint, hubspot::cost(endpoint), attempt),
        )
        .await
    }

    pub async fn gmail<T, F, Fut>(
        &self,
        mailbox: &str,
        endpoint: &'static Endpoint,
        attempt: F,
    ) -> Result<T, ConnectorError>
    where
        F: Fn(Arc<dyn Gmail>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, ConnectorError>> + Send + 'static,
        T: Send + 'static,
    {
        gateway::call(
            &self.connectors.gmail,
            Call::to(endpoint, gmail::cost(mailbox, endpoint), attempt),
        )
        .await
    }

    pub async fn calendar<T, F, Fut>(
        &self,
        account: &str,
        endpoint: &'static Endpoint,
        attempt: F,
    ) -> Result<T, ConnectorError>
    where
        F: Fn(Arc<dyn Calendar>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, ConnectorError>> + Send + 'static,
        T: Send + 'static,
    {
        gateway::call(
            &self.connectors.calendar,
            Call::to(endpoint, calendar::cost(account), attempt),
        )
        .await
    }

    pub async fn drive<T, F, Fut>(
        &self,
        account: &str,
        endpoint: &'static Endpoint,
        attempt: F,
    ) -> Result<T, ConnectorError>
    where
        F: Fn(Arc<dyn Drive>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, ConnectorError>> + Send + 'static,
        T: Send + 'static,
    {
        gateway::call(
            &self.connectors.drive,
            Call::to(endpoint, drive::cost(account), attempt),
        )
        .await
    }

    pub async fn llm<T, F, Fut>(
        &self,
        endpoint: &'static Endpoint,
        attempt: F,
    ) -> Result<T, ConnectorError>
    where
        F: Fn(Arc<dyn Llm>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, ConnectorError>> + Send + 'static,
        T: Send + 'static,
    {
        gateway::call(
            &self.connectors.llm,
            Call::to(endpoint, RateCost::one(), attempt),
        )
        .await
    }
}
