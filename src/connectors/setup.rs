//! Builds the five clients and their call policies from configuration: base URLs,
//! timeouts and credentials into the clients; published quotas (or their
//! overrides) into the limiters; one retry and breaker setting for all.

use std::sync::Arc;

use secrecy::SecretString;

use super::breaker::BreakerConfig;
use super::calendar::{self, Calendar, CalendarClient};
use super::drive::{self, Drive, DriveClient};
use super::gmail::{self, Gmail, GmailClient};
use super::google_auth::{GoogleTokens, InMemoryCredentials};
use super::http::{self, Endpoint};
use super::hubspot::{self, HubSpot, HubSpotClient};
use super::hubspot_auth::{HubSpotApp, HubSpotCredential, HubSpotTokens};
use super::limiter::{Limiter, quota};
use super::llm::{self, Llm, LlmClient};
use super::policy::{CallPolicy, RetryPolicy};
use super::service_account::ServiceAccountKey;
use super::shared::SharedBudget;
use crate::config::ConnectorsConfig;
use crate::metrics::Metrics;
use std::time::Duration;

/// One client per service, behind its trait.
pub struct Clients {
    pub hubspot: Arc<dyn HubSpot>,
    pub gmail: Arc<dyn Gmail>,
    pub calendar: Arc<dyn Calendar>,
    pub drive: Arc<dyn Drive>,
    pub llm: Arc<dyn Llm>,
    /// The rep mailboxes' grants and status (re-authorisation updates it).
    pub credentials: Arc<InMemoryCredentials>,
    pub google_tokens: Arc<GoogleTokens>,
    /// HubSpot's bearer token source (private-app or OAuth app, replaceable).
    pub hubspot_tokens: Arc<HubSpotTokens>,
}

/// A base URL as the clients join paths onto it (no trailing slash).
fn base(url: &url::Url) -> String {
    url.as_str().trim_end_matches('/').to_string()
}

fn secret_or_empty(secret: &Option<SecretString>, name: &str) -> SecretString {
    secret.clone().unwrap_or_else(|| {
        tracing::warn!(
            setting = name,
            "not set; the service will refuse these calls"
        );
        SecretString::from(String::new())
    })
}

impl Clients {
    pub fn from_config(config: &ConnectorsConfig) -> Self {
        let api = http::client(config.timeout);
        let credentials = Arc::new(InMemoryCredentials::new(
            config.google_refresh_tokens.iter().cloned(),
        ));
        let google_tokens = Arc::new(GoogleTokens::new(
            api.clone(),
            config.google_token_url.as_str(),
            secret_or_empty(&config.google_client_id, "SALES_AGENT_GOOGLE_CLIENT_ID"),
            secret_or_empty(
                &config.google_client_secret,
                "SALES_AGENT_GOOGLE_CLIENT_SECRET",
            ),
            credentials.clone(),
        ));
        let google_base = base(&config.google_api_base_url);
        let hubspot_app = match (&config.hubspot_client_id, &config.hubspot_client_secret) {
            (Some(id), Some(secret)) => Some(HubSpotApp {
                client_id: secrecy::ExposeSecret::expose_secret(id).to_string(),
                client_secret: secret.clone(),
                token_url: config.hubspot_token_url.to_string(),
            }),
            _ => None,
        };
        // The environment's token until a connection made in the console is loaded.
        let hubspot_tokens = Arc::new(HubSpotTokens::new(
            api.clone(),
            hubspot_app,
            Some(HubSpotCredential::PrivateApp(secret_or_empty(
                &config.hubspot_token,
                "SALES_AGENT_HUBSPOT_TOKEN",
            ))),
        ));
        Clients {
            hubspot: Arc::new(HubSpotClient::with_tokens(
                api.clone(),
                base(&config.hubspot_base_url),
                hubspot_tokens.clone(),
            )),
            hubspot_tokens,
            gmail: Arc::new(GmailClient::new(
                api.clone(),
                base(&config.gmail_base_url),
                google_tokens.clone(),
            )),
            calendar: Arc::new(CalendarClient::new(
                api.clone(),
                google_base.clone(),
                google_tokens.clone(),
            )),
            drive: Arc::new(DriveClient::new(api, google_base, google_tokens.clone())),
            llm: Arc::new(LlmClient::new(
                http::client(config.llm_timeout),
                base(&config.llm_base_url),
                secret_or_empty(&config.llm_api_key, "SALES_AGENT_LLM_API_KEY"),
                config.llm_model.clone(),
            )),
            credentials,
            google_tokens,
        }
    }
}

impl Clients {
    /// Reads the service account's key file, if one is configured, and has
    /// every mailbox's token come from it; a file that cannot be used stops
    /// start-up naming the setting.
    pub fn use_service_account(&self, config: &ConnectorsConfig) -> Result<(), String> {
        let Some(path) = &config.google_service_account_file else {
            return Ok(());
        };
        let key = ServiceAccountKey::from_file(path)
            .map_err(|e| format!("SALES_AGENT_GOOGLE_SERVICE_ACCOUNT_FILE: {e}"))?;
        tracing::info!(
            service_account = %key.client_email,
            "rep mailboxes are reached through the service account's domain-wide delegation"
        );
        self.credentials.delegate();
        self.google_tokens.delegate(key);
        Ok(())
    }
}

/// The policy of each connector, named as the `connector` metric label.
pub struct Policies {
    pub hubspot: CallPolicy,
    pub gmail: CallPolicy,
    pub calendar: CallPolicy,
    pub drive: CallPolicy,
    pub llm: CallPolicy,
}

impl Policies {
    /// Has every limiter also draw from the fleet's shared budgets (PostgreSQL).
    pub fn shared(self, budget: &Arc<SharedBudget>) -> Self {
        let share = |p: CallPolicy| CallPolicy {
            limiter: p.limiter.shared(budget.clone(), p.connector),
            ..p
        };
        Policies {
            hubspot: share(self.hubspot),
            gmail: share(self.gmail),
            calendar: share(self.calendar),
            drive: share(self.drive),
            llm: share(self.llm),
        }
    }

    pub fn from_config(config: &ConnectorsConfig, metrics: &Metrics) -> Self {
        let retry = RetryPolicy {
            max_attempts: config.max_attempts,
            base: Duration::from_secs(1),
            max_backoff: config.max_backoff,
            max_retry_after: config.max_retry_after,
        };
        let breaker = BreakerConfig {
            failure_threshold: config.breaker_failures,
            cool_down: config.breaker_cool_down,
        };
        let minute = Duration::from_secs(60);
        let policy = |name: &'static str, limiter: Limiter, endpoints: &[Endpoint]| {
            // Every operation's series exists from the start, so quiet ones read 0.
            for e in endpoints {
                for status in crate::metrics::WATCHED_CALL_STATUSES {
                    metrics
                        .connector_calls
                        .with_label_values(&[name, e.id, status]);
                }
                metrics
                    .connector_call_duration
                    .with_label_values(&[name, e.id]);
            }
            CallPolicy::new(name, retry, limiter, breaker, Some(metrics.clone()))
        };
        Policies {
            hubspot: policy(
                "hubspot",
                Limiter::new(quota(
                    config.hubspot_requests_per_10s,
                    config.hubspot_window,
                ))
                .with_bucket(
                    hubspot::SEARCH_BUCKET,
                    quota(config.hubspot_searches_per_sec, Duration::from_secs(1)),
                ),
                hubspot::ENDPOINTS,
            ),
            gmail: policy(
                "gmail",
                Limiter::new(quota(config.gmail_units_per_min, minute))
                    .with_max_in_flight(config.gmail_max_in_flight),
                gmail::ENDPOINTS,
            ),
            calendar: policy(
                "calendar",
                Limiter::new(quota(config.calendar_requests_per_min, minute)),
                calendar::ENDPOINTS,
            ),
            drive: policy(
                "drive",
                Limiter::new(quota(config.drive_requests_per_min, minute)),
                drive::ENDPOINTS,
            ),
            llm: policy(
                "llm",
                Limiter::new(quota(config.llm_requests_per_min, minute)),
                llm::ENDPOINTS,
            ),
        }
    }
}
