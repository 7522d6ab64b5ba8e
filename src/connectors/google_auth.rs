//! Google OAuth for rep mailboxes: the refresh-token grant (form-encoded POST to the
//! token endpoint), access tokens cached per mailbox until a minute before expiry,
//! one refresh in flight per mailbox, and the account status that a dead grant
//! (`invalid_grant`, or a 403 for a scope the grant no longer has) flips to
//! `NeedsReauth` so later calls fail fast instead of retrying. Once watched
//! ([`GoogleTokens::watch`]), a dead grant is also written to the database
//! (so every process and a restart see it) and to the per-account gauge before
//! the call that found it returns.
//!
//! The refresh grant is a single form POST, so it is written here on the shared
//! reqwest client rather than through the oauth2 crate (whose bundled client pins
//! an older reqwest).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tokio::time::Instant;

use super::error::{ConnectorError, Provider, classify};
use super::http;
use crate::metrics::Metrics;
use crate::store::{Store, grants};

/// The provider name of a rep's Google grant, as stored and as the metric label.
pub const PROVIDER: &str = "google";

/// Why an account needs reconnecting, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trouble {
    /// The token endpoint refused the refresh token (revoked, expired, password changed).
    InvalidGrant,
    /// An API refused the token for a scope it no longer carries.
    ScopeRemoved,
    /// No refresh token is held for the account.
    NoGrant,
}

impl Trouble {
    pub fn as_str(self) -> &'static str {
        match self {
            Trouble::InvalidGrant => "invalid_grant",
            Trouble::ScopeRemoved => "scope_removed",
            Trouble::NoGrant => "no_grant",
        }
    }
}

/// Google's message for a token without the scope a method needs
/// (403, `insufficientPermissions`, `WWW-Authenticate: … error="insufficient_scope"`).
const SCOPE_MESSAGE: &str = "insufficient authentication scopes";

/// Refresh this long before the provider's expiry, so a token never dies in flight.
const EXPIRY_MARGIN: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountStatus {
    Active,
    NeedsReauth,
}

/// Where refresh tokens and account status live. In memory (from configuration)
/// for now; a database-backed store can implement the same trait.
pub trait CredentialStore: Send + Sync {
    fn refresh_token(&self, account: &str) -> Option<SecretString>;
    fn status(&self, account: &str) -> AccountStatus;
    fn mark_needs_reauth(&self, account: &str);
}

#[derive(Default)]
pub struct InMemoryCredentials {
    accounts: Mutex<HashMap<String, (SecretString, AccountStatus)>>,
}

impl InMemoryCredentials {
    pub fn new(tokens: impl IntoIterator<Item = (String, SecretString)>) -> Self {
        let accounts = tokens
            .into_iter()
            .map(|(account, token)| (account.to_ascii_lowercase(), (token, AccountStatus::Active)))
            .collect();
        InMemoryCredentials {
            accounts: Mutex::new(accounts),
        }
    }

    /// Stores a new grant (after re-authorisation) and reactivates the account.
    pub fn set(&self, account: &str, token: SecretString) {
        self.lock()
            .insert(account.to_ascii_lowercase(), (token, AccountStatus::Active));
    }

    /// Forgets the grant of `account` if it is still `token` (a newer grant
    /// stored meanwhile stays); returns whether it did.
    pub fn remove_if(&self, account: &str, token: &SecretString) -> bool {
        let mut accounts = self.lock();
        let key = account.to_ascii_lowercase();
        let same = accounts
            .get(&key)
            .is_some_and(|(t, _)| t.expose_secret() == token.expose_secret());
        if same {
            accounts.remove(&key);
        }
        same
    }

    /// The accounts a grant is held for (lower-case).
    pub fn accounts(&self) -> Vec<String> {
        self.lock().keys().cloned().collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (SecretString, AccountStatus)>> {
        self.accounts.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl CredentialStore for InMemoryCredentials {
    fn refresh_token(&self, account: &str) -> Option<SecretString> {
        self.lock()
            .get(&account.to_ascii_lowercase())
            .map(|(t, _)| t.clone())
    }

    fn status(&self, account: &str) -> AccountStatus {
        self.lock()
            .get(&account.to_ascii_lowercase())
            .map(|(_, s)| *s)
            .unwrap_or(AccountStatus::NeedsReauth)
    }

    fn mark_needs_reauth(&self, account: &str) {
        if let Some(entry) = self.lock().get_mut(&account.to_ascii_lowercase()) {
            entry.1 = AccountStatus::NeedsReauth;
        }
    }
}

#[derive(Clone)]
struct Cached {
    token: SecretString,
    fresh_until: Instant,
}

/// Hands out access tokens per mailbox, refreshing them when needed.
pub struct GoogleTokens {
    http: reqwest::Client,
    token_url: String,
    client_id: SecretString,
    client_secret: SecretString,
    store: Arc<dyn CredentialStore>,
    /// One async lock per mailbox: concurrent callers wait for one refresh.
    slots: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Option<Cached>>>>>,
    /// Where a dead grant is recorded besides memory, once the service is wired.
    watch: std::sync::OnceLock<(Store, Metrics)>,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: Option<u64>,
}

#[derive(Default, Deserialize)]
struct TokenError {
    error: Option<String>,
    error_description: Option<String>,
}

impl GoogleTokens {
    pub fn new(
        http: reqwest::Client,
        token_url: impl Into<String>,
        client_id: SecretString,
        client_secret: SecretString,
        store: Arc<dyn CredentialStore>,
    ) -> Self {
        GoogleTokens {
            http,
            token_url: token_url.into(),
            client_id,
            client_secret,
            store,
            slots: Mutex::new(HashMap::new()),
            watch: std::sync::OnceLock::new(),
        }
    }

    /// Records dead grants in `store` and in the `account_connected` gauge from now on.
    pub fn watch(&self, store: Store, metrics: Metrics) {
        let _ = self.watch.set((store, metrics));
    }

    /// The grant of `account` is dead: fail fast from now on, here and (once
    /// watched) in every process, and say so on the gauge.
    async fn lost(&self, account: &str, trouble: Trouble) -> ConnectorError {
        self.store.mark_needs_reauth(account);
        let account = account.to_ascii_lowercase();
        if let Some((store, metrics)) = self.watch.get() {
            metrics
                .account_connected
                .with_label_values(&[PROVIDER, &account])
                .set(0);
            let (who, why) = (account.clone(), trouble.as_str());
            let stored = store
                .run(move |c| grants::set_status(c, PROVIDER, &who, false, Some(why)))
                .await;
            match stored {
                Ok(true) => tracing::warn!(
                    connector.name = "google_oauth",
                    reason = why,
                    "a mailbox's grant is dead; it needs reconnecting"
                ),
                Ok(false) => {}
                Err(error) => tracing::error!(%error, "the account status could not be stored"),
            }
        }
        ConnectorError::NeedsReauth { account }
    }

    pub fn status(&self, account: &str) -> AccountStatus {
        self.store.status(account)
    }

    /// A valid access token for `account`, from the cache or a refresh.
    pub async fn access_token(&self, account: &str) -> Result<SecretString, ConnectorError> {
        let needs_reauth = || ConnectorError::NeedsReauth {
            account: account.to_string(),
        };
        if self.store.status(account) == AccountStatus::NeedsReauth {
            return Err(needs_reauth());
        }
        let slot = self.slot(account);
        let mut cached = slot.lock().await;
        if let Some(c) = cached.as_ref().filter(|c| Instant::now() < c.fresh_until) {
            return Ok(c.token.clone());
        }
        // Another caller may have found the grant dead while we waited for the lock.
        if self.store.status(account) == AccountStatus::NeedsReauth {
            return Err(needs_reauth());
        }
        let Some(refresh) = self.store.refresh_token(account) else {
            return Err(self.lost(account, Trouble::NoGrant).await);
        };
        let fresh = self.refresh(account, &refresh).await?;
        *cached = Some(fresh.clone());
        Ok(fresh.token)
    }

    /// Sends a request as `account`. A 401 means the cached token went stale early:
    /// drop it, refresh once and send once more (Google's advice); a second 401 stands.
    /// A 403 for a missing scope means the grant lost a scope the steps need: the
    /// account needs reconnecting.
    pub async fn send(
        &self,
        account: &str,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, ConnectorError> {
        let token = self.access_token(account).await?;
        let first = http::send(build().bearer_auth(token.expose_secret()), Provider::Google).await;
        let outcome = match first {
            Err(ConnectorError::Unauthorized(_)) => {
                self.invalidate_stale(account, &token).await;
                let token = self.access_token(account).await?;
                http::send(build().bearer_auth(token.expose_secret()), Provider::Google).await
            }
            other => other,
        };
        match outcome {
            Err(ConnectorError::Permanent {
                status: 403,
                message,
            }) if message.to_ascii_lowercase().contains(SCOPE_MESSAGE) => {
                self.invalidate(account).await;
                Err(self.lost(account, Trouble::ScopeRemoved).await)
            }
            other => other,
        }
    }

    /// [`GoogleTokens::send`], decoding a JSON success body.
    pub async fn send_json<T: serde::de::DeserializeOwned>(
        &self,
        account: &str,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<T, ConnectorError> {
        http::decode(self.send(account, build).await?).await
    }

    /// Forgets the cached token (after a 401), so the next call refreshes.
    pub async fn invalidate(&self, account: &str) {
        *self.slot(account).lock().await = None;
    }

    /// Forgets `stale` only if it is still the cached token: concurrent callers that
    /// all saw a 401 cause one refresh, not one each.
    async fn invalidate_stale(&self, account: &str, stale: &SecretString) {
        let slot = self.slot(account);
        let mut cached = slot.lock().await;
        if cached
            .as_ref()
            .is_some_and(|c| c.token.expose_secret() == stale.expose_secret())
        {
            *cached = None;
        }
    }

    fn slot(&self, account: &str) -> Arc<tokio::sync::Mutex<Option<Cached>>> {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        slots
            .entry(account.to_ascii_lowercase())
            .or_default()
            .clone()
    }

    async fn refresh(
        &self,
        account: &str,
        refresh: &SecretString,
    ) -> Result<Cached, ConnectorError> {
        let form = [
            ("client_id", self.client_id.expose_secret()),
            ("client_secret", self.client_secret.expose_secret()),
            ("refresh_token", refresh.expose_secret()),
            ("grant_type", "refresh_token"),
        ];
        let response = self.http.post(&self.token_url).form(&form).send().await?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await?;
        if status.is_success() {
            let token: TokenResponse =
                serde_json::from_slice(&body).map_err(|e| ConnectorError::Permanent {
                    status: 0,
                    message: format!("unexpected token response: {e}"),
                })?;
            let lifetime = Duration::from_secs(token.expires_in.unwrap_or(3600));
            return Ok(Cached {
                token: SecretString::from(token.access_token),
                fresh_until: Instant::now() + lifetime.saturating_sub(EXPIRY_MARGIN),
            });
        }
        let error: TokenError = serde_json::from_slice(&body).unwrap_or_default();
        if error.error.as_deref() == Some("invalid_grant") {
            tracing::warn!(
                connector.name = "google_oauth",
                "refresh grant rejected; mailbox needs re-authorisation"
            );
            return Err(self.lost(account, Trouble::InvalidGrant).await);
        }
        let message = error
            .error_description
            .or(error.error)
            .unwrap_or_else(|| status.to_string());
        Err(match status.as_u16() {
            // invalid_client and friends: our configuration is wrong, not the grant.
            400 | 401 | 403 => ConnectorError::Permanent {
                status: status.as_u16(),
                message,
            },
            _ => classify(
                Provider::Google,
                status,
                &headers,
                &String::from_utf8_lossy(&body),
            ),
        })
    }
}
