//! Google OAuth for rep mailboxes: the refresh-token grant (form-encoded POST to the
//! token endpoint), access tokens cached per mailbox until a minute before expiry,
//! one refresh in flight per mailbox, and the account status that a dead grant
//! (`invalid_grant`, or a 403 for a scope the grant no longer has) flips to
//! `NeedsReauth` so later calls fail fast instead of retrying. Once watched
//! ([`GoogleTokens::watch`]), a dead grant is also written to the database
//! (so every process and a restart see it) and to the per-account gauge before
//! the call that found it returns.
//!
//! With a service account ([`GoogleTokens::delegate`]) every mailbox's token
//! comes from the JWT-bearer grant instead (domain-wide delegation, no refresh
//! token per rep); a mailbox the Workspace admin has not delegated
//! (`unauthorized_client`, `invalid_grant`) needs reconnecting like a dead grant.
//!
//! Both grants are a single form POST, so they are written here on the shared
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
use super::service_account::{DELEGATED_SCOPES, ServiceAccountKey};
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
    /// The service account may not act for the mailbox (not delegated, or not
    /// for every scope the steps need).
    NotDelegated,
}

impl Trouble {
    pub fn as_str(self) -> &'static str {
        match self {
            Trouble::InvalidGrant => "invalid_grant",
            Trouble::ScopeRemoved => "scope_removed",
            Trouble::NoGrant => "no_grant",
            Trouble::NotDelegated => "not_delegated",
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
    /// A service account acts for every mailbox: an account with no entry is
    /// usable, and one found dead is remembered without a token.
    delegated: std::sync::atomic::AtomicBool,
}

impl InMemoryCredentials {
    pub fn new(tokens: impl IntoIterator<Item = (String, SecretString)>) -> Self {
        let accounts = tokens
            .into_iter()
            .map(|(account, token)| (account.to_ascii_lowercase(), (token, AccountStatus::Active)))
            .collect();
        InMemoryCredentials {
            accounts: Mutex::new(accounts),
            delegated: Default::default(),
        }
    }

    /// From now on every mailbox is usable unless found dead (service account).
    pub fn delegate(&self) {
        self.delegated
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn is_delegated(&self) -> bool {
        self.delegated.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Makes the account usable again without a new grant (a service account
    /// the admin has since delegated); keeps any token held.
    pub fn activate(&self, account: &str) {
        let mut accounts = self.lock();
        let entry = accounts
            .entry(account.to_ascii_lowercase())
            .or_insert_with(|| (SecretString::from(String::new()), AccountStatus::Active));
        entry.1 = AccountStatus::Active;
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
        let unknown = if self.is_delegated() {
            AccountStatus::Active
        } else {
            AccountStatus::NeedsReauth
        };
        self.lock()
            .get(&account.to_ascii_lowercase())
            .map_or(unknown, |(_, s)| *s)
    }

    fn mark_needs_reauth(&self, account: &str) {
        let delegated = self.is_delegated();
        let mut accounts = self.lock();
        let key = account.to_ascii_lowercase();
        match accounts.get_mut(&key) {
            Some(entry) => entry.1 = AccountStatus::NeedsReauth,
            None if delegated => {
                accounts.insert(
                    key,
                    (
                        SecretString::from(String::new()),
                        AccountStatus::NeedsReauth,
                    ),
                );
            }
            None => {}
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
    /// The service account every mailbox's token comes from, when configured.
    delegation: std::sync::OnceLock<ServiceAccountKey>,
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
            delegation: std::sync::OnceLock::new(),
        }
    }

    /// Gets every mailbox's tokens through `key`'s JWT-bearer grant from now
    /// on (the credential store must be told too: [`InMemoryCredentials::delegate`]).
    pub fn delegate(&self, key: ServiceAccountKey) {
        let _ = self.delegation.set(key);
    }

    /// The service account acting for the mailboxes, if any.
    pub fn service_account(&self) -> Option<&ServiceAccountKey> {
        self.delegation.get()
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
        let fresh = match self.delegation.get() {
            Some(key) => self.impersonate(account, key).await?,
            None => {
                let Some(refresh) = self.store.refresh_token(account) else {
                    return Err(self.lost(account, Trouble::NoGrant).await);
                };
                self.refresh(account, &refresh).await?
            }
        };
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
        match read_token(response).await? {
            Ok(fresh) => Ok(fresh),
            Err(refused) if refused.error.error.as_deref() == Some("invalid_grant") => {
                tracing::warn!(
                    connector.name = "google_oauth",
                    "refresh grant rejected; mailbox needs re-authorisation"
                );
                Err(self.lost(account, Trouble::InvalidGrant).await)
            }
            Err(refused) => Err(refused.into_error()),
        }
    }

    /// The JWT-bearer grant (RFC 7523) as the service account, for `account`:
    /// `sub` the mailbox, the delegated scopes, `aud` the key file's token URI.
    async fn impersonate(
        &self,
        account: &str,
        key: &ServiceAccountKey,
    ) -> Result<Cached, ConnectorError> {
        let now = chrono::Utc::now().timestamp();
        let assertion = key.assertion(account, DELEGATED_SCOPES, now).map_err(|e| {
            ConnectorError::Permanent {
                status: 0,
                message: format!("the service-account assertion could not be signed: {e}"),
            }
        })?;
        let form = [
            ("grant_type", JWT_BEARER),
            ("assertion", assertion.expose_secret()),
        ];
        let response = self.http.post(&key.token_uri).form(&form).send().await?;
        let refused = match read_token(response).await? {
            Ok(fresh) => return Ok(fresh),
            Err(refused) => refused,
        };
        // Google's answer for a mailbox outside the delegation (or a scope
        // the admin left out), or a key it does not accept: this mailbox can't
        // be reached until an admin acts, so don't retry — say so.
        let trouble = match refused.error.error.as_deref() {
            Some("unauthorized_client") => Trouble::NotDelegated,
            Some("invalid_grant") => Trouble::InvalidGrant,
            _ => return Err(refused.into_error()),
        };
        tracing::warn!(
            connector.name = "google_oauth",
            reason = trouble.as_str(),
            error = refused.error.error_description.as_deref().unwrap_or(""),
            "the service account may not act for a mailbox; an admin must delegate it"
        );
        Err(self.lost(account, trouble).await)
    }
}

/// The JWT-bearer grant type (RFC 7523 §2.1).
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// A token endpoint's refusal, before it is classified.
struct Refused {
    status: reqwest::StatusCode,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
    error: TokenError,
}

impl Refused {
    /// invalid_client and friends: our configuration is wrong, not the grant.
    fn into_error(self) -> ConnectorError {
        let message = self
            .error
            .error_description
            .or(self.error.error)
            .unwrap_or_else(|| self.status.to_string());
        match self.status.as_u16() {
            400 | 401 | 403 => ConnectorError::Permanent {
                status: self.status.as_u16(),
                message,
            },
            _ => classify(
                Provider::Google,
                self.status,
                &self.headers,
                &String::from_utf8_lossy(&self.body),
            ),
        }
    }
}

/// A fresh access token from a token endpoint's answer, or its refusal.
async fn read_token(
    response: reqwest::Response,
) -> Result<Result<Cached, Refused>, ConnectorError> {
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.bytes().await?.to_vec();
    if status.is_success() {
        let token: TokenResponse =
            serde_json::from_slice(&body).map_err(|e| ConnectorError::Permanent {
                status: 0,
                message: format!("unexpected token response: {e}"),
            })?;
        let lifetime = Duration::from_secs(token.expires_in.unwrap_or(3600));
        return Ok(Ok(Cached {
            token: SecretString::from(token.access_token),
            fresh_until: Instant::now() + lifetime.saturating_sub(EXPIRY_MARGIN),
        }));
    }
    let error: TokenError = serde_json::from_slice(&body).unwrap_or_default();
    Ok(Err(Refused {
        status,
        headers,
        body,
        error,
    }))
}
